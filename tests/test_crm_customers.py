"""crm.contact.* and crm.company.* over the wire: UPPER_SNAKE fields, every value a string,
multi-fields, `"error": ""` errors.

Pages: api-reference/crm/contacts/crm-contact-{add,get,list,update,delete,fields}.md and
api-reference/crm/companies/crm-company-{add,get,list,update,delete,fields}.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink import events
from orderlink.settings import Settings

from .conftest import Portal, error_of, legacy

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A portal two hours east of UTC, as the docs' examples are."""
    return Settings(database=database_url, rate_limit=False, timezone="+02:00")


# crm-contact-add.md, cURL (Webhook); the photo's placeholder kept as the page sends it.
CONTACT_EXAMPLE: dict[str, Any] = {"FIELDS": {
    "HONORIFIC": "HNR_RU_1", "NAME": "John", "SECOND_NAME": "Doe", "LAST_NAME": "Smith",
    "PHOTO": {"fileData": "**put_photo_data_here**"}, "BIRTHDATE": "11.11.2001",
    "TYPE_ID": "PARTNER", "SOURCE_ID": "WEB",
    "SOURCE_DESCRIPTION": "*Additional information about the source*", "POST": "Administrator",
    "COMMENTS": "**put_comment_here**", "OPENED": "Y", "EXPORT": "N", "ASSIGNED_BY_ID": 6,
    "COMPANY_ID": 12, "COMPANY_IDS": [12, 13, 15], "UTM_SOURCE": "google", "UTM_MEDIUM": "CPC",
    "UTM_CAMPAIGN": "summer_sale", "UTM_CONTENT": "header_banner", "UTM_TERM": "discount",
    "PHONE": [{"VALUE": "+1333333555", "VALUE_TYPE": "WORK"},
              {"VALUE": "+15599888666", "VALUE_TYPE": "HOME"}],
    "EMAIL": [{"VALUE": "john.smith@example.mailing", "VALUE_TYPE": "MAILING"},
              {"VALUE": "john.smith@example.work", "VALUE_TYPE": "WORK"}],
    "UF_CRM_1720697698689": 'Example value of a custom field with type "String"',
    "PARENT_ID_1224": 12,
}}  # fmt: skip

# crm-contact-get.md's answer keys, in its order.
CONTACT_GET_KEYS = [
    "ID", "POST", "COMMENTS", "HONORIFIC", "NAME", "SECOND_NAME", "LAST_NAME", "PHOTO",
    "LEAD_ID", "TYPE_ID", "SOURCE_ID", "SOURCE_DESCRIPTION", "COMPANY_ID", "BIRTHDATE", "EXPORT",
    "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL", "DATE_CREATE", "DATE_MODIFY", "ASSIGNED_BY_ID",
    "CREATED_BY_ID", "MODIFY_BY_ID", "OPENED", "ORIGINATOR_ID", "ORIGIN_ID", "ORIGIN_VERSION",
    "FACE_ID", "LAST_ACTIVITY_TIME", "ADDRESS", "ADDRESS_2", "ADDRESS_CITY",
    "ADDRESS_POSTAL_CODE", "ADDRESS_REGION", "ADDRESS_PROVINCE", "ADDRESS_COUNTRY",
    "ADDRESS_LOC_ADDR_ID", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM",
    "PARENT_ID_1224", "LAST_ACTIVITY_BY", "UF_CRM_1720697698689", "PHONE", "EMAIL",
]  # fmt: skip


class TestContactAddGet:
    """crm-contact-add.md / crm-contact-get.md."""

    async def test_the_documented_example_answers_an_id_and_reads_back_as_the_page_shows(
        self, portal: Portal
    ) -> None:
        contact_id = await portal.ok("crm.contact.add", CONTACT_EXAMPLE)
        assert isinstance(contact_id, int)
        got = await portal.ok("crm.contact.get", {"id": contact_id})
        assert list(got) == CONTACT_GET_KEYS
        assert got["ID"] == str(contact_id)
        assert got["NAME"] == "John"
        assert got["COMPANY_ID"] == "12"
        assert got["BIRTHDATE"] == "2001-11-11T00:00:00+02:00"
        assert (got["EXPORT"], got["HAS_PHONE"], got["HAS_EMAIL"], got["HAS_IMOL"]) == (
            "N", "Y", "Y", "N")  # fmt: skip
        assert got["PHOTO"] is None
        assert got["LEAD_ID"] is None
        assert got["FACE_ID"] is None
        assert got["ASSIGNED_BY_ID"] == "6"
        assert got["CREATED_BY_ID"] == "1"
        assert got["PARENT_ID_1224"] == "12"
        assert got["PHONE"] == [
            {"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+1333333555", "TYPE_ID": "PHONE"},
            {"ID": "2", "VALUE_TYPE": "HOME", "VALUE": "+15599888666", "TYPE_ID": "PHONE"},
        ]
        assert [e["TYPE_ID"] for e in got["EMAIL"]] == ["EMAIL", "EMAIL"]
        assert [e["ID"] for e in got["EMAIL"]] == ["3", "4"]

    async def test_a_value_added_without_a_type_is_typed_work(self, portal: Portal) -> None:
        contact_id = await portal.ok("crm.contact.add", {"fields": {"PHONE": [{"VALUE": "1"}]}})
        got = await portal.ok("crm.contact.get", {"id": contact_id})
        assert got["PHONE"][0]["VALUE_TYPE"] == "WORK"

    async def test_a_missing_contact_is_not_found(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.contact.get", {"id": 999}) == legacy("Not found")

    async def test_a_bad_id_is_refused(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.contact.get", {"id": "x"})
        assert body == legacy("ID is not defined or invalid.")

    async def test_fields_must_be_an_object(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.contact.add", {"fields": "x"})
        assert body == legacy("Parameter 'fields' must be array.")


class TestContactUpdate:
    """crm-contact-update.md, "Working with Multiple Fields"."""

    async def _with_phones(self, portal: Portal) -> int:
        phones = [{"VALUE": v, "VALUE_TYPE": "WORK"} for v in ("111111", "222222", "333333",
                                                              "44444")]  # fmt: skip
        return int(await portal.ok("crm.contact.add", {"fields": {"PHONE": phones}}))

    async def test_an_item_with_an_id_changes_that_value(self, portal: Portal) -> None:
        contact_id = await self._with_phones(portal)
        change = {"PHONE": [{"ID": 2, "VALUE": "444444", "VALUE_TYPE": "MOBILE"}]}
        assert await portal.ok("crm.contact.update", {"id": contact_id, "fields": change}) is True
        phones = (await portal.ok("crm.contact.get", {"id": contact_id}))["PHONE"]
        assert phones[1] == {"ID": "2", "VALUE_TYPE": "MOBILE", "VALUE": "444444",
                             "TYPE_ID": "PHONE"}  # fmt: skip
        assert [p["VALUE"] for p in phones] == ["111111", "444444", "333333", "44444"]

    async def test_delete_y_an_empty_value_or_no_value_deletes_and_the_rest_stays(
        self, portal: Portal
    ) -> None:
        contact_id = await self._with_phones(portal)
        change = {"PHONE": [{"ID": 1, "DELETE": "Y"}, {"ID": 2, "VALUE": ""}, {"ID": 3}]}
        await portal.ok("crm.contact.update", {"id": contact_id, "fields": change})
        got = await portal.ok("crm.contact.get", {"id": contact_id})
        assert got["PHONE"] == [{"ID": "4", "VALUE_TYPE": "WORK", "VALUE": "44444",
                                 "TYPE_ID": "PHONE"}]  # fmt: skip

    async def test_an_item_without_an_id_is_added_after_the_others(self, portal: Portal) -> None:
        contact_id = await self._with_phones(portal)
        change = {"PHONE": [{"VALUE": "555", "VALUE_TYPE": "HOME"}]}
        await portal.ok("crm.contact.update", {"id": contact_id, "fields": change})
        phones = (await portal.ok("crm.contact.get", {"id": contact_id}))["PHONE"]
        assert phones[-1] == {"ID": "5", "VALUE_TYPE": "HOME", "VALUE": "555", "TYPE_ID": "PHONE"}

    async def test_deleting_every_phone_clears_has_phone_and_the_key(self, portal: Portal) -> None:
        contact_id = await portal.ok("crm.contact.add", {"fields": {"PHONE": [{"VALUE": "1"}]}})
        await portal.ok(
            "crm.contact.update", {"id": contact_id, "fields": {"PHONE": [{"ID": 1, "VALUE": ""}]}}
        )
        got = await portal.ok("crm.contact.get", {"id": contact_id})
        assert got["HAS_PHONE"] == "N"
        assert "PHONE" not in got

    async def test_plain_fields_change_and_modify_stamps_move(self, portal: Portal) -> None:
        contact_id = await portal.ok("crm.contact.add", {"fields": {"NAME": "A"}})
        await portal.ok("crm.contact.update", {"ID": contact_id, "FIELDS": {"NAME": "B"}})
        assert (await portal.ok("crm.contact.get", {"id": contact_id}))["NAME"] == "B"

    async def test_a_missing_contact_is_not_found(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.contact.update", {"id": 999, "fields": {"NAME": "B"}})
        assert body == legacy("Not found")


class TestContactList:
    """crm-contact-list.md: `*` leaves multi-fields out; naming them selects them."""

    async def test_default_select_has_no_multifields(self, portal: Portal) -> None:
        await portal.ok("crm.contact.add", {"fields": {"NAME": "A", "PHONE": [{"VALUE": "1"}]}})
        (row,) = await portal.ok("crm.contact.list", {})
        assert "PHONE" not in row
        assert row["NAME"] == "A"
        assert row["HAS_PHONE"] == "Y"

    async def test_naming_phone_selects_it_in_select_order(self, portal: Portal) -> None:
        await portal.ok("crm.contact.add", {"fields": {"NAME": "A", "PHONE": [{"VALUE": "1"}]}})
        (row,) = await portal.ok("crm.contact.list", {"select": ["PHONE", "ID", "NAME"]})
        assert list(row) == ["PHONE", "ID", "NAME"]
        assert row["PHONE"][0]["VALUE"] == "1"

    async def test_filter_and_order_by_plain_fields(self, portal: Portal) -> None:
        for name in ("B", "A", "C"):
            await portal.ok("crm.contact.add", {"fields": {"NAME": name}})
        rows = await portal.ok("crm.contact.list", {"order": {"NAME": "ASC"},
                                                    "filter": {"!NAME": "C"},
                                                    "select": ["NAME"]})  # fmt: skip
        assert rows == [{"NAME": "A"}, {"NAME": "B"}]


class TestContactDelete:
    """crm-contact-delete.md: `true`; the deals that named the contact forget it."""

    async def test_delete_answers_true_and_unlinks_deals(self, portal: Portal) -> None:
        first = await portal.ok("crm.contact.add", {"fields": {"NAME": "A"}})
        second = await portal.ok("crm.contact.add", {"fields": {"NAME": "B"}})
        deal = await portal.ok("crm.deal.add", {"fields": {"CONTACT_IDS": [first, second]}})
        assert await portal.ok("crm.contact.delete", {"id": first}) is True
        assert (await portal.ok("crm.deal.get", {"id": deal}))["CONTACT_ID"] == str(second)
        await portal.ok("crm.contact.delete", {"id": second})
        assert (await portal.ok("crm.deal.get", {"id": deal}))["CONTACT_ID"] == "0"
        assert await error_of(portal, "crm.contact.get", {"id": first}) == legacy("Not found")

    async def test_deleting_a_missing_contact_is_not_found(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.contact.delete", {"id": 999}) == legacy("Not found")


class TestContactFields:
    """crm-contact-fields.md."""

    async def test_fields_in_the_page_order_with_descriptors(self, portal: Portal) -> None:
        described = await portal.ok("crm.contact.fields")
        names = list(described)
        assert names[:3] == ["ID", "HONORIFIC", "NAME"]
        assert names[-5:] == ["PHONE", "EMAIL", "WEB", "IM", "LINK"]
        assert described["PHONE"] == {"type": "crm_multifield", "isRequired": False,
                                      "isReadOnly": False, "isImmutable": False,
                                      "isMultiple": True, "isDynamic": False,
                                      "title": "Phone"}  # fmt: skip
        assert described["COMPANY_ID"]["isDeprecated"] is True
        assert described["HONORIFIC"]["statusType"] == "HONORIFIC"
        assert described["LEAD_ID"]["settings"] == {"parentEntityTypeId": 1}


# crm-company-add.md's example fields (the parts this store keeps).
COMPANY_EXAMPLE: dict[str, Any] = {"fields": {
    "TITLE": "GAZPROM", "COMPANY_TYPE": "CUSTOMER", "INDUSTRY": "IT", "EMPLOYEES": "EMPLOYEES_1",
    "CURRENCY_ID": "EUR", "REVENUE": 0, "OPENED": "N", "BANKING_DETAILS": "7736050003",
    "PHONE": [{"VALUE": "555888", "VALUE_TYPE": "WORK"}],
}}  # fmt: skip


class TestCompany:
    """crm-company-{add,get,update,list,delete,fields}.md."""

    async def test_add_then_get_prints_strings_in_the_page_order(self, portal: Portal) -> None:
        company_id = await portal.ok("crm.company.add", COMPANY_EXAMPLE)
        got = await portal.ok("crm.company.get", {"id": company_id})
        assert list(got)[:5] == ["ID", "COMPANY_TYPE", "TITLE", "LOGO", "LEAD_ID"]
        assert got["TITLE"] == "GAZPROM"
        assert got["REVENUE"] == "0.00"
        assert got["OPENED"] == "N"
        assert got["IS_MY_COMPANY"] == "N"
        assert got["HAS_PHONE"] == "Y"
        assert got["PHONE"][0]["VALUE"] == "555888"

    async def test_an_unknown_currency_is_refused(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.company.add", {"fields": {"CURRENCY_ID": "XXX"}})
        assert body == legacy('Invalid value for the "Currency" field')

    async def test_update_list_delete(self, portal: Portal) -> None:
        company_id = await portal.ok("crm.company.add", {"fields": {"TITLE": "A"}})
        assert (
            await portal.ok("crm.company.update", {"id": company_id, "fields": {"TITLE": "B"}})
            is True
        )
        rows = await portal.ok("crm.company.list", {"select": ["ID", "TITLE"]})
        assert rows == [{"ID": str(company_id), "TITLE": "B"}]
        assert await portal.ok("crm.company.delete", {"id": company_id}) is True
        assert await portal.ok("crm.company.list", {}) == []

    async def test_deleting_a_company_clears_it_on_deals_and_contacts(self, portal: Portal) -> None:
        company_id = await portal.ok("crm.company.add", {"fields": {"TITLE": "A"}})
        deal = await portal.ok("crm.deal.add", {"fields": {"COMPANY_ID": company_id}})
        contact = await portal.ok("crm.contact.add", {"fields": {"COMPANY_IDS": [company_id]}})
        await portal.ok("crm.company.delete", {"id": company_id})
        assert (await portal.ok("crm.deal.get", {"id": deal}))["COMPANY_ID"] == "0"
        assert (await portal.ok("crm.contact.get", {"id": contact}))["COMPANY_ID"] is None

    async def test_fields_in_the_page_order(self, portal: Portal) -> None:
        described = await portal.ok("crm.company.fields")
        assert list(described)[:3] == ["ID", "TITLE", "COMPANY_TYPE"]
        assert described["TITLE"]["isRequired"] is True
        assert described["REVENUE"]["type"] == "double"


class TestEvents:
    """contacts/events/on-crm-contact-*.md, companies/events/on-crm-company-*.md."""

    def test_the_events_are_in_the_catalog_under_crm(self) -> None:
        for kind in ("CONTACT", "COMPANY"):
            for action in ("ADD", "UPDATE", "DELETE"):
                assert events.CATALOG[f"ONCRM{kind}{action}"] == "crm"

    def test_the_payload_carries_the_id_as_a_string(self) -> None:
        emit = events.customer("CONTACT", "ADD", 1, 0.0, 89)
        assert (emit.event, emit.data) == ("ONCRMCONTACTADD", {"FIELDS": {"ID": "89"}})
