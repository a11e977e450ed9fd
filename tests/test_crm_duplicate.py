"""crm.duplicate.findbycomm over the wire, and the exact multi-field filters of crm.contact.list
and crm.company.list: finding customers by a phone or an e-mail.

Pages: api-reference/crm/duplicates/crm-duplicate-find-by-comm.md, tutorials/crm/
how-to-get-lists/search-by-phone-and-email.md, api-reference/crm/contacts/crm-contact-list.md
and api-reference/crm/companies/crm-company-list.md ("Filters for these fields only work on
exact matches").
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.registry import Role
from orderlink.rules.customers import comm_code

from .conftest import Portal, error_of, legacy

pytestmark = pytest.mark.anyio


def values(*given: str) -> list[dict[str, str]]:
    return [{"VALUE": value, "VALUE_TYPE": "WORK"} for value in given]


async def contact(portal: Portal, *, phone: tuple[str, ...] = (), email: tuple[str, ...] = (),
                  **fields: Any) -> int:  # fmt: skip
    fields = {"NAME": "C", "PHONE": values(*phone), "EMAIL": values(*email), **fields}
    return int(await portal.ok("crm.contact.add", {"fields": fields}))


async def company(portal: Portal, *, phone: tuple[str, ...] = (), email: tuple[str, ...] = (),
                  **fields: Any) -> int:  # fmt: skip
    fields = {"TITLE": "K", "PHONE": values(*phone), "EMAIL": values(*email), **fields}
    return int(await portal.ok("crm.company.add", {"fields": fields}))


async def find(portal: Portal, **params: Any) -> Any:
    return await portal.ok("crm.duplicate.findbycomm", params)


class TestCommCode:
    """What a phone or an e-mail is matched by."""

    @pytest.mark.parametrize(("value", "code"), [
        ("+7 (999) 123-45-67", "79991234567"),
        ("8976543", "8976543"),
        ("8976543;123", "8976543"),
        ("8976543#55", "8976543"),
        ("8976543,12", "8976543"),
        ("+49 170 1234567", "491701234567"),
        ("no digits", ""),
    ])  # fmt: skip
    def test_a_phone_is_its_digits_without_the_extension(self, value: str, code: str) -> None:
        """The page: "The search does not consider the phone extension"; what separates one
        (`;`, `#`, `,`) is the dialling convention the CRM's match codes follow."""
        assert comm_code("PHONE", value) == code

    def test_an_email_is_trimmed_and_lower_cased(self) -> None:
        assert comm_code("EMAIL", "  Special-For@Example.COM ") == "special-for@example.com"


class TestFindByComm:
    """crm-duplicate-find-by-comm.md"""

    async def test_the_documented_example_answers_contact_ids_as_numbers(
        self, portal: Portal
    ) -> None:
        first = await contact(portal, phone=("8976543",))
        await contact(portal, phone=("5550000",))
        second = await contact(portal, phone=("+1 122 33 55", "11223355"))
        params = {"entity_type": "CONTACT", "type": "PHONE", "values": ["8976543", "11223355"]}
        assert await find(portal, **params) == {"CONTACT": [first, second]}

    async def test_nothing_found_is_an_empty_array(self, portal: Portal) -> None:
        """tutorials/.../search-by-phone-and-email.md: `result` is `[]`, not an object with
        empty keys."""
        await contact(portal, phone=("1",))
        assert await find(portal, type="PHONE", values=["2"]) == []
        assert await find(portal, type="EMAIL", values=["a@b.c"]) == []

    async def test_without_entity_type_contacts_then_companies(self, portal: Portal) -> None:
        """The tutorial: the same address on a contact and its company returns both, keyed by
        type (a portal without leads has no LEAD key)."""
        company_id = await company(portal, email=("duplicate@example.com",))
        contact_id = await contact(portal, email=("Duplicate@Example.com",))
        found = await find(portal, type="EMAIL", values=["duplicate@example.com"])
        assert found == {"CONTACT": [contact_id], "COMPANY": [company_id]}
        assert list(found) == ["CONTACT", "COMPANY"]

    @pytest.mark.parametrize(("entity_type", "keys"), [
        ("CONTACT", ["CONTACT"]), ("company", ["COMPANY"]), ("3", ["CONTACT"]),
        (4, ["COMPANY"]), ("LEAD", []), ("NOT_A_TYPE", ["CONTACT", "COMPANY"]),
        ("", ["CONTACT", "COMPANY"]),
    ])  # fmt: skip
    async def test_entity_type_narrows_the_search(
        self, portal: Portal, entity_type: Any, keys: list[str]
    ) -> None:
        """entity_type by name (any case) or entityTypeId; LEAD finds nothing here, a name the
        CRM does not know searches every type (its owner-type lookup answers "undefined")."""
        await company(portal, phone=("100",))
        await contact(portal, phone=("100",))
        found = await find(portal, type="PHONE", values=["100"], entity_type=entity_type)
        assert (list(found) if found else []) == keys

    async def test_entity_type_also_reads_camel_case(self, portal: Portal) -> None:
        await company(portal, phone=("100",))
        await contact(portal, phone=("100",))
        assert list(await find(portal, type="PHONE", values=["100"], entityType="COMPANY")) == [
            "COMPANY"
        ]

    async def test_phones_match_without_formatting_or_extension(self, portal: Portal) -> None:
        contact_id = await contact(portal, phone=("+7 (999) 123-45-67",))
        for asked in ("79991234567", "+7-999-123-45-67;101", "7 999 1234567#2"):
            assert await find(portal, type="phone", values=[asked]) == {"CONTACT": [contact_id]}

    async def test_any_value_of_the_multi_field_matches(self, portal: Portal) -> None:
        contact_id = await contact(portal, email=("a@x.io", "b@x.io"))
        assert await find(portal, type="EMAIL", values=["b@x.io"]) == {"CONTACT": [contact_id]}

    async def test_an_id_found_by_two_values_is_listed_once(self, portal: Portal) -> None:
        contact_id = await contact(portal, phone=("1", "2"))
        assert await find(portal, type="PHONE", values=["1", "2"]) == {"CONTACT": [contact_id]}

    async def test_only_the_first_20_values_are_searched(self, portal: Portal) -> None:
        """The page's limit of 20 values: the CRM's REST proxy stops after the 20th distinct
        value rather than refusing the call (inferred from its behaviour, not the page)."""
        last = await contact(portal, phone=("9999",))
        first = await contact(portal, phone=("1000",))
        asked = ["1000", *(str(2000 + n) for n in range(19)), "9999"]
        assert await find(portal, type="PHONE", values=asked) == {"CONTACT": [first]}
        # a repeated value counts once; ids come in the order of the values that found them
        assert await find(portal, type="PHONE", values=["1000", "1000", "9999"]) == {
            "CONTACT": [first, last]
        }

    async def test_twenty_contacts_for_one_value_leave_companies_out(self, portal: Portal) -> None:
        """The page: "If 20 or more duplicates are found for one object, the other types are
        not returned"."""
        ids = [await contact(portal, phone=("777",)) for _ in range(20)]
        await company(portal, phone=("777",))
        assert await find(portal, type="PHONE", values=["777"]) == {"CONTACT": ids}
        company_id = await company(portal, phone=("778",))
        found = await find(portal, type="PHONE", values=["777", "778"])
        assert found == {"CONTACT": ids, "COMPANY": [company_id]}

    async def test_values_that_are_not_strings_are_skipped(self, portal: Portal) -> None:
        """Inferred from the CRM's REST proxy, which skips a value that is no string (a JSON
        number) or is empty."""
        await contact(portal, phone=("8976543",))
        assert await find(portal, type="PHONE", values=[8976543, ""]) == []

    async def test_values_may_be_form_encoded(self, portal: Portal) -> None:
        contact_id = await contact(portal, email=("a@x.io",))
        response = await portal.call("crm.duplicate.findbycomm",
                                     form="type=EMAIL&values[]=a@x.io")  # fmt: skip
        assert response.status_code == 200
        assert response.json()["result"] == {"CONTACT": [contact_id]}

    async def test_deleted_customers_are_not_found(self, portal: Portal) -> None:
        contact_id = await contact(portal, phone=("321",))
        await portal.ok("crm.contact.delete", {"id": contact_id})
        assert await find(portal, type="PHONE", values=["321"]) == []

    @pytest.mark.parametrize(("params", "text"), [
        ({"values": ["1"]}, "Communication type is not defined."),
        ({"type": "", "values": ["1"]}, "Communication type is not defined."),
        ({"type": "web", "values": ["1"]},
         "Communication type 'WEB' is not supported in current context."),
        ({"type": "PHONE"}, "Communication values is not defined."),
        ({"type": "PHONE", "values": []}, "Communication values is not defined."),
        ({"type": "PHONE", "values": "8976543"}, "Communication values is not defined."),
        ({"type": "PHONE", "values": ["1"], "entity_type": "DEAL"},
         "Deal is not supported in current context."),
    ])  # fmt: skip
    async def test_errors(self, portal: Portal, params: dict[str, Any], text: str) -> None:
        """The page's table, with the period the CRM's REST proxy ends each text with; the code
        is empty as on every legacy crm.* method (the page's example puts the text in `error`,
        its table gives the HTTP status as the code)."""
        assert await error_of(portal, "crm.duplicate.findbycomm", params) == legacy(text)

    async def test_needs_the_crm_scope(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE, scopes=("sale",))
        denied = await portal.call("crm.duplicate.findbycomm",
                                   {"type": "PHONE", "values": ["1"]}, hook=hook)  # fmt: skip
        assert denied.status_code == 401
        assert denied.json()["error"] == "insufficient_scope"

    async def test_answers_carry_the_time_block(self, portal: Portal) -> None:
        response = await portal.call("crm.duplicate.findbycomm",
                                     {"type": "PHONE", "values": ["1"]})  # fmt: skip
        assert set(response.json()["time"]) >= {"start", "finish", "duration", "processing",
                                                 "date_start", "date_finish"}  # fmt: skip


class TestMultiFieldFilters:
    """crm-contact-list.md / crm-company-list.md: PHONE, EMAIL, WEB, IM and LINK filter by
    exact match on any one of their values."""

    async def test_the_contact_list_example_filter_on_email(self, portal: Portal) -> None:
        """crm-contact-list.md's example, with its `IMPORT` (no such field) read as the EXPORT
        its text describes, and its placeholder date a real one."""
        wanted: dict[str, Any] = {"SOURCE_ID": "CRM_FORM", "NAME": "Ivan", "LAST_NAME": "Ilyin", "EXPORT": "Y",
                  "ASSIGNED_BY_ID": 6}  # fmt: skip
        first = await contact(portal, email=("special-for@example.com",), **wanted)
        await contact(portal, email=("other@example.com",), **wanted)
        params = {"FILTER": {"SOURCE_ID": "CRM_FORM", "!=NAME": "", "!=LAST_NAME": "",
                             "=%NAME": "I%", "=%LAST_NAME": "I%",
                             "EMAIL": "special-for@example.com", "@ASSIGNED_BY_ID": [1, 6],
                             "EXPORT": "Y", ">=DATE_CREATE": "2000-01-01"},
                  "ORDER": {"LAST_NAME": "ASC", "NAME": "ASC"},
                  "SELECT": ["ID", "NAME", "LAST_NAME", "EMAIL", "EXPORT", "ASSIGNED_BY_ID",
                             "DATE_CREATE"]}  # fmt: skip
        (row,) = await portal.ok("crm.contact.list", params)
        assert list(row) == ["ID", "NAME", "LAST_NAME", "EMAIL", "EXPORT", "ASSIGNED_BY_ID",
                             "DATE_CREATE"]  # fmt: skip
        assert row["ID"] == str(first)
        assert row["EMAIL"] == [
            {
                "ID": "1",
                "VALUE_TYPE": "WORK",
                "VALUE": "special-for@example.com",
                "TYPE_ID": "EMAIL",
            }
        ]

    async def test_a_phone_matches_any_of_the_values(self, portal: Portal) -> None:
        both = await contact(portal, phone=("+71111111111", "+72222222222"))
        one = await contact(portal, phone=("+72222222222",))
        await contact(portal)
        for asked, found in (("+71111111111", [both]), ("+72222222222", [both, one]),
                             ("72222222222", [])):  # fmt: skip
            rows = await portal.ok("crm.contact.list", {"filter": {"PHONE": asked},
                                                        "select": ["ID"]})  # fmt: skip
            assert [int(r["ID"]) for r in rows] == found

    async def test_in_and_not_on_a_multi_field(self, portal: Portal) -> None:
        first = await company(portal, email=("a@x.io",))
        second = await company(portal, email=("b@x.io", "c@x.io"))
        third = await company(portal)
        rows = await portal.ok("crm.company.list", {"filter": {"@EMAIL": ["c@x.io", "a@x.io"]},
                                                    "select": ["ID"]})  # fmt: skip
        assert [int(r["ID"]) for r in rows] == [first, second]
        rows = await portal.ok("crm.company.list", {"filter": {"!EMAIL": "b@x.io"},
                                                    "select": ["ID"]})  # fmt: skip
        assert [int(r["ID"]) for r in rows] == [first, third]
        rows = await portal.ok("crm.company.list", {"filter": {"!@EMAIL": ["a@x.io", "c@x.io"]},
                                                    "select": ["ID"]})  # fmt: skip
        assert [int(r["ID"]) for r in rows] == [third]

    async def test_the_company_list_filters_a_phone(self, portal: Portal) -> None:
        await company(portal, phone=("555888",))
        await company(portal, phone=("555889",))
        rows = await portal.ok("crm.company.list", {"filter": {"PHONE": "555888"},
                                                    "select": ["TITLE", "PHONE"]})  # fmt: skip
        assert rows == [
            {
                "TITLE": "K",
                "PHONE": [{"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "555888", "TYPE_ID": "PHONE"}],
            }
        ]

    async def test_web_im_and_link_filter_too(self, portal: Portal) -> None:
        contact_id = await portal.ok("crm.contact.add", {"fields": {
            "WEB": [{"VALUE": "https://x.io"}], "IM": [{"VALUE": "tg-user", "VALUE_TYPE": "TELEGRAM"}],
        }})  # fmt: skip
        for key, value in (("WEB", "https://x.io"), ("IM", "tg-user")):
            rows = await portal.ok("crm.contact.list", {"filter": {key: value}, "select": ["ID"]})
            assert rows == [{"ID": str(contact_id)}]

    @pytest.mark.parametrize("key", ["%PHONE", ">PHONE", "=%EMAIL"])
    async def test_only_exact_filters_are_served(self, portal: Portal, key: str) -> None:
        """crm-contact-list.md: "Filters for these fields only work on exact matches"; a LIKE or
        a comparison is refused rather than read as something else (our text)."""
        body = await error_of(portal, "crm.contact.list", {"filter": {key: "1"}})
        name = key.lstrip("%>=")
        assert body == legacy(f"Invalid filter: field '{name}' takes exact values only")

    async def test_a_value_that_is_no_text_is_refused(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.contact.list", {"filter": {"PHONE": {"a": 1}}})
        assert body == legacy("Invalid filter: field 'PHONE' has invalid value")

    async def test_multi_fields_still_do_not_sort(self, portal: Portal) -> None:
        first = await contact(portal, phone=("2",))
        second = await contact(portal, phone=("1",))
        rows = await portal.ok("crm.contact.list", {"order": {"PHONE": "ASC"}, "select": ["ID"]})
        assert [int(r["ID"]) for r in rows] == [first, second]
