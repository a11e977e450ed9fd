"""crm.contact.company.* and crm.company.contact.* over the wire: the links of contacts and
companies from either end, kept in step with the contact's COMPANY_ID / COMPANY_IDS and with
deletions.

Pages: api-reference/crm/contacts/company/crm-contact-company-{add,delete,fields,items-get,
items-set,items-delete}.md and api-reference/crm/companies/contacts/crm-company-contact-*.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.registry import Role

from .conftest import Portal, error_of, legacy
from .oauth_apps import register, tokens
from .receiver import Receiver
from .test_events import deliveries, rest

pytestmark = pytest.mark.anyio

BAD_ID = "The parameter 'ownerEntityID' is invalid or not defined."
BAD_ITEMS_ID = "The parameter ownerEntityID is invalid or not defined."


async def contact(portal: Portal, contact_id: int | None = None, **fields: Any) -> int:
    """A contact through crm.contact.add, or with the id a page's example names."""
    if contact_id is None:
        return int(await portal.ok("crm.contact.add", {"fields": {"NAME": "C", **fields}}))
    row = await portal.store.default_portal()
    await portal.store.insert_with_id(row.id, "contacts", {"id": contact_id, "name": "C"})
    return contact_id


async def company(portal: Portal, company_id: int | None = None) -> int:
    if company_id is None:
        return int(await portal.ok("crm.company.add", {"fields": {"TITLE": "K"}}))
    row = await portal.store.default_portal()
    await portal.store.insert_with_id(row.id, "companies", {"id": company_id, "title": "K"})
    return company_id


async def companies_of(portal: Portal, contact_id: int) -> list[dict[str, Any]]:
    return list(await portal.ok("crm.contact.company.items.get", {"id": contact_id}))


async def contacts_of(portal: Portal, company_id: int) -> list[dict[str, Any]]:
    return list(await portal.ok("crm.company.contact.items.get", {"id": company_id}))


async def main_company(portal: Portal, contact_id: int) -> Any:
    return (await portal.ok("crm.contact.get", {"id": contact_id}))["COMPANY_ID"]


def link(key: str, item: int, sort: int, primary: bool) -> dict[str, Any]:
    return {key: item, "SORT": sort, "ROLE_ID": 0, "IS_PRIMARY": "Y" if primary else "N"}


class TestFields:
    """crm-contact-company-fields.md, crm-company-contact-fields.md: the answers verbatim."""

    @pytest.mark.parametrize(("method", "key", "title"), [
        ("crm.contact.company.fields", "COMPANY_ID", "Company"),
        ("crm.company.contact.fields", "CONTACT_ID", "Contact"),
    ])  # fmt: skip
    async def test_the_three_fields_as_the_page_prints_them(
        self, portal: Portal, method: str, key: str, title: str
    ) -> None:
        flags = {"isReadOnly": False, "isImmutable": False, "isMultiple": False,
                 "isDynamic": False}  # fmt: skip
        assert await portal.ok(method, {}) == {
            "SORT": {"type": "integer", "isRequired": False, **flags, "title": "Sorting"},
            "IS_PRIMARY": {"type": "char", "isRequired": False, **flags, "title": "Primary"},
            key: {"type": "integer", "isRequired": True, **flags, "title": title},
        }

    async def test_fields_need_the_crm_scope(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE, scopes=("sale",))
        denied = await portal.call("crm.contact.company.fields", {}, hook=hook)
        assert denied.status_code == 401
        assert denied.json()["error"] == "insufficient_scope"


class TestContactCompanyAdd:
    """crm-contact-company-add.md"""

    async def test_the_documented_example_links_company_32_to_contact_54(
        self, portal: Portal
    ) -> None:
        await contact(portal, 54)
        await company(portal, 32)
        params = {"id": 54, "fields": {"COMPANY_ID": 32, "IS_PRIMARY": "Y", "SORT": 1000}}
        assert await portal.ok("crm.contact.company.add", params) is True
        assert await companies_of(portal, 54) == [link("COMPANY_ID", 32, 1000, True)]
        assert await main_company(portal, 54) == "32"
        assert await contacts_of(portal, 32) == [link("CONTACT_ID", 54, 10, True)]

    async def test_a_company_linked_already_answers_false_and_changes_nothing(
        self, portal: Portal
    ) -> None:
        """The page: `false` "most likely the company you are trying to add is already linked";
        the Russian page adds that SORT and IS_PRIMARY stay too."""
        contact_id = await contact(portal)
        first, second = await company(portal), await company(portal)
        await portal.ok("crm.contact.company.add", {"id": contact_id,
                                                    "fields": {"COMPANY_ID": first}})  # fmt: skip
        await portal.ok("crm.contact.company.add", {"id": contact_id,
                                                    "fields": {"COMPANY_ID": second}})  # fmt: skip
        again = {"id": contact_id, "fields": {"COMPANY_ID": second, "IS_PRIMARY": "Y", "SORT": 1}}
        assert await portal.ok("crm.contact.company.add", again) is False
        assert await companies_of(portal, contact_id) == [
            link("COMPANY_ID", first, 10, True),
            link("COMPANY_ID", second, 20, False),
        ]

    async def test_sort_defaults_past_the_largest_and_the_first_is_primary(
        self, portal: Portal
    ) -> None:
        contact_id = await contact(portal)
        ids = [await company(portal) for _ in range(3)]
        await portal.ok("crm.contact.company.add",
                        {"id": contact_id, "fields": {"COMPANY_ID": ids[0], "IS_PRIMARY": "N",
                                                      "SORT": 500}})  # fmt: skip
        for other in ids[1:]:
            await portal.ok("crm.contact.company.add",
                            {"id": contact_id, "fields": {"COMPANY_ID": other}})  # fmt: skip
        assert await companies_of(portal, contact_id) == [
            link("COMPANY_ID", ids[0], 500, True), link("COMPANY_ID", ids[1], 510, False),
            link("COMPANY_ID", ids[2], 520, False)]  # fmt: skip
        assert await main_company(portal, contact_id) == str(ids[0])

    async def test_is_primary_y_overrides_the_primary_link(self, portal: Portal) -> None:
        contact_id = await contact(portal)
        first, second = await company(portal), await company(portal)
        for item, primary in ((first, "N"), (second, "Y")):
            await portal.ok("crm.contact.company.add",
                            {"id": contact_id, "fields": {"COMPANY_ID": item,
                                                          "IS_PRIMARY": primary}})  # fmt: skip
        assert await main_company(portal, contact_id) == str(second)
        got = await companies_of(portal, contact_id)
        assert [(i["COMPANY_ID"], i["IS_PRIMARY"]) for i in got] == [(first, "N"), (second, "Y")]

    async def test_a_company_that_does_not_exist_is_linked(self, portal: Portal) -> None:
        """crm-contact-company-add.md (Russian edition): the method does not check that the
        company exists, and may link one that does not."""
        contact_id = await contact(portal)
        add = {"id": contact_id, "fields": {"COMPANY_ID": 999}}
        assert await portal.ok("crm.contact.company.add", add) is True
        assert await main_company(portal, contact_id) == "999"

    @pytest.mark.parametrize(("params", "text"), [
        ({"fields": {"COMPANY_ID": 1}}, BAD_ID),
        ({"id": 0, "fields": {"COMPANY_ID": 1}}, BAD_ID),
        ({"id": "x", "fields": {"COMPANY_ID": 1}}, BAD_ID),
        ({"id": 1, "fields": "x"}, "The parameter 'fields' must be array."),
        ({"id": 1}, "The parameter 'fields' must be array."),
        ({"id": 999, "fields": {"COMPANY_ID": 1}}, "Not found."),
    ])  # fmt: skip
    async def test_documented_errors(
        self, portal: Portal, params: dict[str, Any], text: str
    ) -> None:
        await contact(portal, 1)
        assert await error_of(portal, "crm.contact.company.add", params) == legacy(text)

    @pytest.mark.parametrize("fields", [{}, {"COMPANY_ID": 0}, {"COMPANY_ID": -3},
                                        {"COMPANY_ID": "x"}, {"SORT": 10}])  # fmt: skip
    async def test_a_missing_or_bad_company_id_is_not_valid(
        self, portal: Portal, fields: dict[str, Any]
    ) -> None:
        contact_id = await contact(portal)
        body = await error_of(portal, "crm.contact.company.add",
                              {"id": contact_id, "fields": fields})  # fmt: skip
        assert body == legacy("The parameter 'fields' is not valid.")
        assert await companies_of(portal, contact_id) == []


class TestContactCompanyDelete:
    """crm-contact-company-delete.md"""

    async def test_the_documented_example_unlinks_and_the_next_becomes_primary(
        self, portal: Portal
    ) -> None:
        await contact(portal, 54)
        await company(portal, 32)
        await company(portal, 33)
        for item in (32, 33):
            await portal.ok("crm.contact.company.add", {"id": 54, "fields": {"COMPANY_ID": item}})
        assert await portal.ok("crm.contact.company.delete",
                               {"id": 54, "fields": {"COMPANY_ID": 32}}) is True  # fmt: skip
        assert await companies_of(portal, 54) == [link("COMPANY_ID", 33, 20, True)]
        assert await main_company(portal, 54) == "33"
        assert await contacts_of(portal, 32) == []

    async def test_a_company_not_linked_answers_false(self, portal: Portal) -> None:
        contact_id = await contact(portal)
        params = {"id": contact_id, "fields": {"COMPANY_ID": 5}}
        assert await portal.ok("crm.contact.company.delete", params) is False

    async def test_the_last_one_leaves_no_company(self, portal: Portal) -> None:
        contact_id = await contact(portal)
        item = await company(portal)
        params = {"id": contact_id, "fields": {"COMPANY_ID": item}}
        await portal.ok("crm.contact.company.add", params)
        await portal.ok("crm.contact.company.delete", params)
        assert await main_company(portal, contact_id) is None

    @pytest.mark.parametrize(("params", "text"), [
        ({"id": -1, "fields": {"COMPANY_ID": 1}}, BAD_ID),
        ({"id": 1, "fields": 5}, "The parameter 'fields' must be array."),
        ({"id": 998, "fields": {"COMPANY_ID": 1}}, "Not found."),
        ({"id": 1, "fields": {"COMPANY_ID": 0}}, "The parameter 'fields' is not valid."),
    ])  # fmt: skip
    async def test_documented_errors(
        self, portal: Portal, params: dict[str, Any], text: str
    ) -> None:
        await contact(portal, 1)
        assert await error_of(portal, "crm.contact.company.delete", params) == legacy(text)


class TestContactCompanyItems:
    """crm-contact-company-items-get.md, -items-set.md, -items-delete.md"""

    async def test_the_items_set_example_then_items_get(self, portal: Portal) -> None:
        await contact(portal, 82)
        items = [{"COMPANY_ID": 8, "IS_PRIMARY": "Y", "SORT": 100},
                 {"COMPANY_ID": 9, "SORT": 200}, {"COMPANY_ID": 10, "SORT": 400}]  # fmt: skip
        assert await portal.ok("crm.contact.company.items.set", {"id": 82, "items": items})
        assert await companies_of(portal, 82) == [
            link("COMPANY_ID", 8, 100, True), link("COMPANY_ID", 9, 200, False),
            link("COMPANY_ID", 10, 400, False)]  # fmt: skip
        assert await main_company(portal, 82) == "8"

    async def test_items_get_answers_the_documented_shape(self, portal: Portal) -> None:
        await contact(portal, 54)
        items = [{"COMPANY_ID": 7, "SORT": 100}, {"COMPANY_ID": 8, "SORT": 110},
                 {"COMPANY_ID": 9, "SORT": 120}]  # fmt: skip
        await portal.ok("crm.contact.company.items.set", {"id": 54, "items": items})
        assert await portal.ok("crm.contact.company.items.get", {"id": 54}) == [
            {"COMPANY_ID": 7, "SORT": 100, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
            {"COMPANY_ID": 8, "SORT": 110, "ROLE_ID": 0, "IS_PRIMARY": "N"},
            {"COMPANY_ID": 9, "SORT": 120, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        ]

    async def test_set_replaces_keeps_a_known_sort_and_numbers_new_ones(
        self, portal: Portal
    ) -> None:
        """items-set.md: SORT left out keeps a linked company's SORT, and is `i + 10` from the
        largest SORT linked or given for a new one; with none marked the first is primary."""
        contact_id = await contact(portal)
        await portal.ok("crm.contact.company.items.set",
                        {"id": contact_id, "items": [{"COMPANY_ID": 1, "SORT": 30},
                                                     {"COMPANY_ID": 2, "SORT": 70}]})  # fmt: skip
        await portal.ok("crm.contact.company.items.set",
                        {"id": contact_id, "items": [{"COMPANY_ID": 3}, {"COMPANY_ID": 1},
                                                     {"COMPANY_ID": 4, "SORT": 50}]})  # fmt: skip
        assert await companies_of(portal, contact_id) == [
            link("COMPANY_ID", 1, 30, False), link("COMPANY_ID", 4, 50, False),
            link("COMPANY_ID", 3, 80, True)]  # fmt: skip
        assert await main_company(portal, contact_id) == "3"

    async def test_set_with_two_marked_primary_takes_the_first(self, portal: Portal) -> None:
        contact_id = await contact(portal)
        items = [{"COMPANY_ID": 1}, {"COMPANY_ID": 2, "IS_PRIMARY": "Y"},
                 {"COMPANY_ID": 3, "IS_PRIMARY": "Y"}]  # fmt: skip
        await portal.ok("crm.contact.company.items.set", {"id": contact_id, "items": items})
        got = await companies_of(portal, contact_id)
        assert [i["IS_PRIMARY"] for i in got] == ["N", "Y", "N"]
        assert await main_company(portal, contact_id) == "2"

    async def test_set_empty_and_items_delete_unlink_everything(self, portal: Portal) -> None:
        contact_id = await contact(portal)
        for params in ({"id": contact_id, "items": []}, {"id": contact_id}):
            await portal.ok("crm.contact.company.items.set",
                            {"id": contact_id, "items": [{"COMPANY_ID": 1}]})  # fmt: skip
            method = "crm.contact.company.items." + ("set" if "items" in params else "delete")
            assert await portal.ok(method, params) is True
            assert await companies_of(portal, contact_id) == []
            assert await main_company(portal, contact_id) is None

    @pytest.mark.parametrize(("method", "params", "text"), [
        ("crm.contact.company.items.get", {}, BAD_ITEMS_ID),
        ("crm.contact.company.items.get", {"id": 0}, BAD_ITEMS_ID),
        ("crm.contact.company.items.get", {"id": 997}, "Not found."),
        ("crm.contact.company.items.set", {"items": []}, BAD_ITEMS_ID),
        ("crm.contact.company.items.set", {"id": 1}, "The parameter items must be array."),
        ("crm.contact.company.items.set", {"id": 1, "items": "x"},
         "The parameter items must be array."),
        ("crm.contact.company.items.set", {"id": 1, "items": ["x"]},
         "The parameter items must be array."),
        ("crm.contact.company.items.set", {"id": 1, "items": [{"SORT": 1}]},
         "The parameter items is not valid."),
        ("crm.contact.company.items.set", {"id": 997, "items": []}, "Not found."),
        ("crm.contact.company.items.delete", {"id": "x"}, BAD_ITEMS_ID),
        ("crm.contact.company.items.delete", {"id": 997}, "Not found."),
    ])  # fmt: skip
    async def test_errors(
        self, portal: Portal, method: str, params: dict[str, Any], text: str
    ) -> None:
        """The pages' texts; an unknown contact is `Not found.` for items.get and items.delete
        too, as crm-deal-contact-items-get.md answers for a deal (their own tables list none)."""
        await contact(portal, 1)
        assert await error_of(portal, method, params) == legacy(text)

    async def test_a_failed_set_changes_nothing(self, portal: Portal) -> None:
        contact_id = await contact(portal)
        await portal.ok("crm.contact.company.items.set",
                        {"id": contact_id, "items": [{"COMPANY_ID": 1}]})  # fmt: skip
        bad = {"id": contact_id, "items": [{"COMPANY_ID": 2}, {"COMPANY_ID": 0}]}
        await error_of(portal, "crm.contact.company.items.set", bad)
        assert [i["COMPANY_ID"] for i in await companies_of(portal, contact_id)] == [1]


class TestCompanyContact:
    """crm-company-contact-{add,delete,items-get,items-set,items-delete}.md: the same links,
    from the company's end."""

    async def test_the_documented_examples_in_turn(self, portal: Portal) -> None:
        await company(portal, 32)
        for contact_id in (54, 8, 9, 10):
            await contact(portal, contact_id)
        add = {"id": 32, "fields": {"CONTACT_ID": 54, "IS_PRIMARY": "Y", "SORT": 1000}}
        assert await portal.ok("crm.company.contact.add", add) is True
        assert await contacts_of(portal, 32) == [link("CONTACT_ID", 54, 1000, True)]
        assert await main_company(portal, 54) == "32"
        assert await companies_of(portal, 54) == [link("COMPANY_ID", 32, 10, True)]
        items = [{"CONTACT_ID": 8, "IS_PRIMARY": "Y", "SORT": 100},
                 {"CONTACT_ID": 9, "SORT": 200}, {"CONTACT_ID": 10, "SORT": 400}]  # fmt: skip
        assert await portal.ok("crm.company.contact.items.set", {"id": 32, "items": items})
        assert await contacts_of(portal, 32) == [
            link("CONTACT_ID", 8, 100, True), link("CONTACT_ID", 9, 200, False),
            link("CONTACT_ID", 10, 400, False)]  # fmt: skip
        assert await main_company(portal, 54) is None
        assert [await main_company(portal, c) for c in (8, 9, 10)] == ["32", "32", "32"]
        delete = {"id": 32, "fields": {"CONTACT_ID": 8}}
        assert await portal.ok("crm.company.contact.delete", delete) is True
        assert await portal.ok("crm.company.contact.delete", delete) is False
        assert [i["IS_PRIMARY"] for i in await contacts_of(portal, 32)] == ["Y", "N"]
        assert await portal.ok("crm.company.contact.items.delete", {"id": 32}) is True
        assert await contacts_of(portal, 32) == []
        assert await main_company(portal, 9) is None

    async def test_a_contact_keeps_its_own_primary_company(self, portal: Portal) -> None:
        """Each end keeps its own SORT and IS_PRIMARY: a company making a contact its primary
        one does not make itself that contact's primary company."""
        contact_id = await contact(portal)
        first, second = await company(portal), await company(portal)
        await portal.ok("crm.contact.company.add", {"id": contact_id,
                                                    "fields": {"COMPANY_ID": first}})  # fmt: skip
        await portal.ok("crm.company.contact.add",
                        {"id": second, "fields": {"CONTACT_ID": contact_id,
                                                  "IS_PRIMARY": "Y"}})  # fmt: skip
        assert await main_company(portal, contact_id) == str(first)
        assert await contacts_of(portal, second) == [link("CONTACT_ID", contact_id, 10, True)]
        assert await companies_of(portal, contact_id) == [
            link("COMPANY_ID", first, 10, True),
            link("COMPANY_ID", second, 20, False),
        ]

    @pytest.mark.parametrize(("method", "params", "text"), [
        ("crm.company.contact.add", {"id": 0, "fields": {"CONTACT_ID": 1}}, BAD_ID),
        ("crm.company.contact.add", {"id": 1, "fields": "x"},
         "The parameter 'fields' must be array."),
        ("crm.company.contact.add", {"id": 996, "fields": {"CONTACT_ID": 1}}, "Not found."),
        ("crm.company.contact.add", {"id": 1, "fields": {"CONTACT_ID": 0}},
         "The parameter 'fields' is not valid."),
        ("crm.company.contact.delete", {"id": 1, "fields": "x"},
         "The parameter 'item' must be array."),
        ("crm.company.contact.delete", {"id": 1, "fields": {}},
         "The parameter 'fields' is not valid."),
        ("crm.company.contact.items.get", {"id": 0}, BAD_ITEMS_ID),
        ("crm.company.contact.items.set", {"id": 1, "items": 3},
         "The parameter items must be array."),
        ("crm.company.contact.items.set", {"id": 996, "items": []}, "Not found."),
        ("crm.company.contact.items.delete", {}, BAD_ITEMS_ID),
    ])  # fmt: skip
    async def test_documented_errors(
        self, portal: Portal, method: str, params: dict[str, Any], text: str
    ) -> None:
        await company(portal, 1)
        assert await error_of(portal, method, params) == legacy(text)


class TestContactAndCompanyFields:
    """crm-contact-add.md / -update.md COMPANY_ID and COMPANY_IDS, crm-company-update.md
    CONTACT_ID: the fields write the same links."""

    async def test_contact_add_with_company_ids_links_them_in_order(self, portal: Portal) -> None:
        first, second = await company(portal), await company(portal)
        contact_id = await contact(portal, COMPANY_IDS=[second, first])
        assert await companies_of(portal, contact_id) == [
            link("COMPANY_ID", second, 10, True),
            link("COMPANY_ID", first, 20, False),
        ]
        assert await contacts_of(portal, first) == [link("CONTACT_ID", contact_id, 10, True)]
        assert await main_company(portal, contact_id) == str(second)

    async def test_the_update_example_joins_company_id_to_company_ids(self, portal: Portal) -> None:
        """crm-contact-update.md's example sends COMPANY_ID 12 and COMPANY_IDS [13, 15]:
        inferred, COMPANY_ID is the main one of the set."""
        await contact(portal, 43)
        fields = {"NAME": "John", "COMPANY_ID": 12, "COMPANY_IDS": [13, 15]}
        assert await portal.ok("crm.contact.update", {"ID": 43, "FIELDS": fields}) is True
        got = await companies_of(portal, 43)
        assert [(i["COMPANY_ID"], i["IS_PRIMARY"]) for i in got] == [
            (12, "Y"), (13, "N"), (15, "N")]  # fmt: skip
        assert await main_company(portal, 43) == "12"

    async def test_company_id_alone_makes_the_main_one_and_keeps_the_rest(
        self, portal: Portal
    ) -> None:
        contact_id = await contact(portal, COMPANY_IDS=[1, 2])
        await portal.ok("crm.contact.update", {"id": contact_id, "fields": {"COMPANY_ID": 3}})
        assert [i["COMPANY_ID"] for i in await companies_of(portal, contact_id)] == [3, 1, 2]
        await portal.ok("crm.contact.update", {"id": contact_id, "fields": {"COMPANY_ID": 0}})
        assert await companies_of(portal, contact_id) == []

    async def test_an_update_naming_no_company_keeps_the_links(self, portal: Portal) -> None:
        contact_id = await contact(portal, COMPANY_IDS=[4])
        await portal.ok("crm.contact.update", {"id": contact_id, "fields": {"NAME": "Z"}})
        assert [i["COMPANY_ID"] for i in await companies_of(portal, contact_id)] == [4]

    async def test_company_update_with_contact_id_replaces_its_contacts(
        self, portal: Portal
    ) -> None:
        company_id = await company(portal)
        first, second = await contact(portal), await contact(portal)
        await portal.ok("crm.company.update",
                        {"id": company_id, "fields": {"CONTACT_ID": [second, first]}})  # fmt: skip
        assert await contacts_of(portal, company_id) == [
            link("CONTACT_ID", second, 10, True),
            link("CONTACT_ID", first, 20, False),
        ]
        assert await main_company(portal, first) == str(company_id)
        await portal.ok("crm.company.update", {"id": company_id, "fields": {"CONTACT_ID": []}})
        assert await main_company(portal, first) is None

    async def test_company_fields_list_contact_id_and_get_leaves_it_out(
        self, portal: Portal
    ) -> None:
        described = await portal.ok("crm.company.fields", {})
        assert described["CONTACT_ID"] == {
            "type": "crm_contact",
            "isRequired": False,
            "isReadOnly": False,
            "isImmutable": False,
            "isMultiple": True,
            "isDynamic": False,
            "title": "Contact",
        }
        names = list(described)
        assert names.index("CONTACT_ID") == names.index("DATE_MODIFY") + 1
        company_id = await company(portal)
        assert "CONTACT_ID" not in await portal.ok("crm.company.get", {"id": company_id})
        rows = await portal.ok("crm.company.list", {"select": ["*"]})
        assert "CONTACT_ID" not in rows[0]

    async def test_contacts_filter_by_their_main_company(self, portal: Portal) -> None:
        company_id = await company(portal)
        linked = await contact(portal)
        await contact(portal)
        await portal.ok("crm.company.contact.add",
                        {"id": company_id, "fields": {"CONTACT_ID": linked}})  # fmt: skip
        rows = await portal.ok("crm.contact.list", {"filter": {"COMPANY_ID": company_id},
                                                    "select": ["ID"]})  # fmt: skip
        assert rows == [{"ID": str(linked)}]


class TestDeletion:
    """crm-contact-delete.md, crm-company-delete.md: the deleted one's links go with it."""

    async def test_deleting_a_contact_unlinks_it_from_companies_and_deals(
        self, portal: Portal
    ) -> None:
        company_id = await company(portal)
        first, second = await contact(portal), await contact(portal)
        await portal.ok("crm.company.contact.items.set",
                        {"id": company_id, "items": [{"CONTACT_ID": first},
                                                     {"CONTACT_ID": second}]})  # fmt: skip
        deal = await portal.ok("crm.deal.add", {"fields": {"CONTACT_IDS": [first, second]}})
        assert await portal.ok("crm.contact.delete", {"id": first}) is True
        assert await contacts_of(portal, company_id) == [link("CONTACT_ID", second, 20, True)]
        assert (await portal.ok("crm.deal.get", {"id": deal}))["CONTACT_ID"] == str(second)
        items = await portal.ok("crm.deal.contact.items.get", {"id": deal})
        assert [i["CONTACT_ID"] for i in items] == [second]

    async def test_deleting_a_company_unlinks_its_contacts_and_clears_deals(
        self, portal: Portal
    ) -> None:
        gone, kept = await company(portal), await company(portal)
        contact_id = await contact(portal, COMPANY_IDS=[gone, kept])
        deal = await portal.ok("crm.deal.add", {"fields": {"COMPANY_ID": gone}})
        assert await portal.ok("crm.company.delete", {"id": gone}) is True
        assert await companies_of(portal, contact_id) == [link("COMPANY_ID", kept, 20, True)]
        assert await main_company(portal, contact_id) == str(kept)
        assert (await portal.ok("crm.deal.get", {"id": deal}))["COMPANY_ID"] == "0"
        # a new company never inherits the deleted one's links
        assert await contacts_of(portal, await company(portal)) == []


class TestBatchAndEvents:
    """batch runs the link methods as any other; a change raises the owner's update event."""

    async def test_link_methods_inside_a_batch(self, portal: Portal) -> None:
        contact_id = await contact(portal)
        cmd = {"a": f"crm.contact.company.add?id={contact_id}&fields[COMPANY_ID]=5",
               "b": f"crm.contact.company.items.get?id={contact_id}"}  # fmt: skip
        result = await portal.ok("batch", {"halt": 1, "cmd": cmd})
        assert result["result"] == {"a": True, "b": [link("COMPANY_ID", 5, 10, True)]}

    async def test_changes_raise_the_owners_update_event(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        contact_id, company_id = await contact(portal), await company(portal)
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        for event in ("ONCRMCONTACTUPDATE", "ONCRMCOMPANYUPDATE"):
            await rest(portal, token, "event.bind", {"event": event, "handler": receiver.url()})
        add = {"id": contact_id, "fields": {"COMPANY_ID": company_id}}
        assert await rest(portal, token, "crm.contact.company.add", add) is True
        assert await rest(portal, token, "crm.contact.company.add", add) is False  # no change
        await rest(portal, token, "crm.company.contact.items.delete", {"id": company_id})
        received = await deliveries(portal, receiver, 3)
        assert sorted((r["event"], r["data"]["FIELDS"]["ID"]) for r in received) == [
            ("ONCRMCOMPANYUPDATE", str(company_id)),
            ("ONCRMCONTACTUPDATE", str(contact_id)),
            ("ONCRMCONTACTUPDATE", str(contact_id)),
        ]  # delivered concurrently: any order


class TestMigration:
    """Migration i14_customers on a database made before it: the contacts' COMPANY_IDS become
    links (the first primary), the deal custom fields move to `crm_userfields` with their ids,
    and new ids come after them."""

    SETUP = (
        "INSERT INTO portals (id, domain, member_id, created_at) VALUES (1, 'p', 'm', 0)",
        "INSERT INTO contacts (id, portal_id, company_id, company_ids) VALUES (3, 1, 5, '[5,7]')",
        "INSERT INTO deal_userfields (id, portal_id, field_name, user_type_id) "
        "VALUES (9, 1, 'UF_CRM_OLD', 'string')",
    )
    LINKS = ("SELECT contact_id, company_id, sort_in_contact, primary_in_contact "
             "FROM contact_companies ORDER BY id")  # fmt: skip
    AFTER = ("INSERT INTO crm_userfields (portal_id, entity_id, field_name, user_type_id) "
             "VALUES (1, 'CRM_CONTACT', 'UF_CRM_NEW', 'string')")  # fmt: skip
    FIELDS = "SELECT id, entity_id, field_name FROM crm_userfields ORDER BY id"
    EXPECTED = (
        [(3, 5, 10, "Y"), (3, 7, 20, "N")],
        [(9, "CRM_DEAL", "UF_CRM_OLD"), (10, "CRM_CONTACT", "UF_CRM_NEW")],
    )

    @staticmethod
    def _split(engine: Any) -> tuple[list[Any], Any]:
        from orderlink.storage import migrations

        steps = migrations.migrations(engine)
        at = next(i for i, step in enumerate(steps) if step.name == "i14_customers")
        return steps[:at], steps[at]

    def test_sqlite(self, tmp_path: Any) -> None:
        import sqlite3

        conn = sqlite3.connect(tmp_path / "old.db")
        before, step = self._split("sqlite")
        for earlier in before:
            conn.executescript(earlier.sql)
        for statement in self.SETUP:
            conn.execute(statement)
        conn.executescript(step.sql)
        conn.execute(self.AFTER)
        found = (conn.execute(self.LINKS).fetchall(), conn.execute(self.FIELDS).fetchall())
        assert found == self.EXPECTED

    def test_postgres(self, postgres_url: str) -> None:
        import secrets

        import asyncpg

        from .conftest import drop_schema, run_aside

        schema = f"t_{secrets.token_hex(6)}"
        before, step = self._split("postgres")

        async def migrate() -> tuple[list[Any], list[Any]]:
            conn = await asyncpg.connect(postgres_url, timeout=3)
            try:
                await conn.execute(f"CREATE SCHEMA {schema}; SET search_path TO {schema}")
                for earlier in before:
                    await conn.execute(earlier.sql)
                for statement in self.SETUP:
                    await conn.execute(statement)
                await conn.execute(step.sql)
                await conn.execute(self.AFTER)
                links = [tuple(r) for r in await conn.fetch(self.LINKS)]
                return links, [tuple(r) for r in await conn.fetch(self.FIELDS)]
            finally:
                await conn.close()

        try:
            assert run_aside(migrate) == self.EXPECTED
        finally:
            drop_schema(schema)
