"""crm.deal.contact.* over the wire: a deal's CONTACT_IDS as bindings.

Pages: api-reference/crm/deals/contacts/crm-deal-contact-{items-get,items-set,add,delete,
fields}.md.
"""

from __future__ import annotations

import pytest

from .conftest import Portal, error_of, legacy

pytestmark = pytest.mark.anyio


class TestItems:
    """crm-deal-contact-items-set.md's example, read back with items.get."""

    async def test_items_set_then_get_primary_first(self, portal: Portal) -> None:
        deal = await portal.ok("crm.deal.add", {"fields": {}})
        items = [{"CONTACT_ID": 55, "IS_PRIMARY": "Y", "SORT": 100},
                 {"CONTACT_ID": 54, "SORT": 200}, {"CONTACT_ID": 56, "SORT": 400}]  # fmt: skip
        assert await portal.ok("crm.deal.contact.items.set", {"id": deal, "items": items}) is True
        got = await portal.ok("crm.deal.contact.items.get", {"id": deal})
        assert [(i["CONTACT_ID"], i["IS_PRIMARY"], i["ROLE_ID"]) for i in got] == [
            (55, "Y", 0), (54, "N", 0), (56, "N", 0)]  # fmt: skip
        assert (await portal.ok("crm.deal.get", {"id": deal}))["CONTACT_ID"] == "55"

    async def test_without_a_primary_the_first_by_sort_is(self, portal: Portal) -> None:
        deal = await portal.ok("crm.deal.add", {"fields": {}})
        items = [{"CONTACT_ID": 5, "SORT": 20}, {"CONTACT_ID": 6, "SORT": 10}]
        await portal.ok("crm.deal.contact.items.set", {"id": deal, "items": items})
        got = await portal.ok("crm.deal.contact.items.get", {"id": deal})
        assert [i["CONTACT_ID"] for i in got] == [6, 5]

    async def test_a_missing_deal_is_not_found(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.deal.contact.items.get", {"id": 999})
        assert body == legacy("Not found.")

    async def test_a_bad_id_is_refused(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.deal.contact.items.get", {"id": 0})
        assert body == legacy("The parameter 'ownerEntityID' is invalid or not defined.")

    async def test_items_must_be_an_array(self, portal: Portal) -> None:
        deal = await portal.ok("crm.deal.add", {"fields": {}})
        body = await error_of(portal, "crm.deal.contact.items.set", {"id": deal})
        assert body == legacy("The parameter items must be array.")


class TestAddDelete:
    """crm-deal-contact-add.md / crm-deal-contact-delete.md."""

    async def test_add_primary_goes_first_delete_promotes_the_next(self, portal: Portal) -> None:
        deal = await portal.ok("crm.deal.add", {"fields": {"CONTACT_IDS": [1, 2]}})
        fields = {"CONTACT_ID": 55, "IS_PRIMARY": "Y", "SORT": 1000}
        assert await portal.ok("crm.deal.contact.add", {"id": deal, "fields": fields}) is True
        got = await portal.ok("crm.deal.contact.items.get", {"id": deal})
        assert [i["CONTACT_ID"] for i in got] == [55, 1, 2]
        await portal.ok("crm.deal.contact.delete", {"id": deal, "fields": {"CONTACT_ID": 55}})
        assert (await portal.ok("crm.deal.get", {"id": deal}))["CONTACT_ID"] == "1"

    async def test_delete_on_a_missing_deal_is_not_found(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.deal.contact.delete",
                              {"id": 999, "fields": {"CONTACT_ID": 55}})  # fmt: skip
        assert body == legacy("Not found.")

    async def test_fields_as_the_page_prints_them(self, portal: Portal) -> None:
        described = await portal.ok("crm.deal.contact.fields")
        assert list(described) == ["SORT", "IS_PRIMARY", "CONTACT_ID"]
        assert described["CONTACT_ID"]["isRequired"] is True
