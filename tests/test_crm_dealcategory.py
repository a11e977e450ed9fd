"""crm.dealcategory.* (deprecated deal directions) over the funnels crm.category.* serves, in
the legacy crm dialect.

Pages: api-reference/crm/outdated/category-old/crm-deal-category-{add,get,list,update,delete,
fields,status,default-get,default-set,stage-list}.md. The pages print requests only: the
answers' shapes follow b24phpsdk's DealCategory service, its results and its integration test
(tests/Integration/Services/CRM/Deal/Service/DealCategoryTest.php), which run on real portals.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.settings import Settings

from .conftest import Portal, error_of, legacy

pytestmark = pytest.mark.anyio

TODAY = "2024-06-25T00:00:00+02:00"  # the frozen clock's day in the portal zone


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A portal two hours east of UTC, as the docs' examples are."""
    return Settings(database=database_url, rate_limit=False, timezone="+02:00")


# crm-deal-category-add.md, cURL (Webhook).
ADD_EXAMPLE = {"fields": {"NAME": "New Direction", "SORT": "20"}}


async def direction(portal: Portal, name: str = "D", sort: int = 500) -> int:
    return int(await portal.ok("crm.dealcategory.add", {"fields": {"NAME": name, "SORT": sort}}))


class TestAddGet:
    """crm-deal-category-add.md, crm-deal-category-get.md"""

    async def test_the_example_answers_an_id_and_reads_back(self, portal: Portal) -> None:
        category = await portal.ok("crm.dealcategory.add", ADD_EXAMPLE)
        assert category == 1
        assert await portal.ok("crm.dealcategory.get", {"id": category}) == {
            "ID": "1", "CREATED_DATE": TODAY, "NAME": "New Direction", "IS_LOCKED": "N",
            "SORT": "20",
        }  # fmt: skip

    async def test_it_is_a_funnel_with_the_default_stages(self, portal: Portal) -> None:
        """crm.category.* serve the same rows; a new direction gets the general funnel's stages
        under its `C{id}:` prefix, as crm.category.add gives a funnel."""
        category = await portal.ok("crm.dealcategory.add", ADD_EXAMPLE)
        got = await portal.ok("crm.category.get", {"entityTypeId": 2, "id": category})
        assert (got["category"]["name"], got["category"]["sort"]) == ("New Direction", 20)
        stages = await portal.ok("crm.dealcategory.stage.list", {"id": category})
        assert [s["STATUS_ID"] for s in stages][:2] == ["C1:NEW", "C1:PREPARATION"]
        added = await portal.ok("crm.category.add", {"entityTypeId": 2, "fields": {"name": "F"}})
        shown = await portal.ok("crm.dealcategory.get", {"id": added["category"]["id"]})
        assert (shown["NAME"], shown["CREATED_DATE"]) == ("F", TODAY)

    async def test_names_in_any_case_and_defaults(self, portal: Portal) -> None:
        category = await portal.ok("crm.dealcategory.add", {"FIELDS": {"name": "x", "SORT": -5}})
        assert (await portal.ok("crm.dealcategory.get", {"ID": category}))["SORT"] == "0"
        other = await portal.ok("crm.dealcategory.add", {"fields": {"NAME": "y", "IS_LOCKED": "Y"}})
        shown = await portal.ok("crm.dealcategory.get", {"id": other})
        assert (shown["SORT"], shown["IS_LOCKED"]) == ("500", "N")

    async def test_errors(self, portal: Portal) -> None:
        """A NAME is required (crm.dealcategory.fields); the legacy family's texts otherwise."""
        assert await error_of(portal, "crm.dealcategory.add", {"fields": {"SORT": 1}}) == legacy(
            "The field NAME is required."
        )
        assert await error_of(portal, "crm.dealcategory.add", {"fields": "x"}) == legacy(
            "Parameter 'fields' must be array."
        )
        assert await error_of(portal, "crm.dealcategory.get", {"id": 7}) == legacy("Not found")
        for bad in ({"id": "x"}, {}):
            assert await error_of(portal, "crm.dealcategory.get", bad) == legacy(
                "ID is not defined or invalid."
            )

    async def test_the_general_funnel_is_no_direction(self, portal: Portal) -> None:
        """Row 0 is the general funnel: default.get's, not get's."""
        assert await error_of(portal, "crm.dealcategory.get", {"id": 0}) == legacy(
            "ID is not defined or invalid."
        )
        assert await portal.ok("crm.dealcategory.list") == []


class TestList:
    """crm-deal-category-list.md (its example: order by SORT, filter IS_LOCKED, select)."""

    async def test_the_example(self, portal: Portal) -> None:
        await direction(portal, "B", 30)
        await direction(portal, "A", 10)
        params = {"order": {"SORT": "ASC"}, "filter": {"IS_LOCKED": "N"},
                  "select": ["ID", "NAME", "SORT"]}  # fmt: skip
        response = await portal.call("crm.dealcategory.list", params)
        body = response.json()
        assert body["result"] == [{"ID": "2", "NAME": "A", "SORT": "10"},
                                  {"ID": "1", "NAME": "B", "SORT": "30"}]  # fmt: skip
        assert body["total"] == 2

    async def test_b24phpsdk_counts_one_more_after_an_add(self, portal: Portal) -> None:
        params: dict[str, Any] = {"order": [], "filter": [], "select": [], "start": 0}
        before = (await portal.call("crm.dealcategory.list", params)).json()["total"]
        assert await direction(portal, "test", 20) >= 1
        assert (await portal.call("crm.dealcategory.list", params)).json()["total"] == before + 1

    async def test_paging_and_bad_filters(self, portal: Portal) -> None:
        for number in range(51):
            await direction(portal, f"D{number}")
        first = (await portal.call("crm.dealcategory.list")).json()
        assert (len(first["result"]), first["total"], first["next"]) == (50, 51, 50)
        assert await error_of(portal, "crm.dealcategory.list", {"filter": {"NOPE": 1}}) == legacy(
            "Invalid filter: field 'NOPE' is not allowed in filter"
        )


class TestUpdateDelete:
    """crm-deal-category-update.md, crm-deal-category-delete.md"""

    async def test_update_answers_true(self, portal: Portal) -> None:
        category = await direction(portal, "test new deal category", 300)
        assert (
            await portal.ok(
                "crm.dealcategory.update", {"id": category, "fields": {"NAME": "updated"}}
            )
            is True
        )
        shown = await portal.ok("crm.dealcategory.get", {"id": category})
        assert (shown["NAME"], shown["SORT"]) == ("updated", "300")
        assert await error_of(portal, "crm.dealcategory.update",
                              {"id": category, "fields": {"NAME": " "}}) == legacy(
            "The field NAME is required.")  # fmt: skip
        assert await error_of(
            portal, "crm.dealcategory.update", {"id": 9, "fields": {"NAME": "x"}}
        ) == legacy("Not found")

    async def test_delete_answers_true_and_takes_the_stages(self, portal: Portal) -> None:
        category = await direction(portal, "test_name")
        assert await portal.ok("crm.dealcategory.delete", {"id": category}) is True
        assert await error_of(portal, "crm.dealcategory.get", {"id": category}) == legacy(
            "Not found"
        )
        stages = await portal.ok(
            "crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{category}"}}
        )
        assert stages == []
        assert await error_of(portal, "crm.dealcategory.delete", {"id": category}) == legacy(
            "Not found"
        )

    async def test_a_direction_with_deals_is_not_deleted(self, portal: Portal) -> None:
        category = await direction(portal, "Busy")
        await portal.ok("crm.deal.add", {"fields": {"CATEGORY_ID": category}})
        assert await error_of(portal, "crm.dealcategory.delete", {"id": category}) == legacy(
            "Deals related to the funnel Busy found"
        )
        assert (await portal.ok("crm.dealcategory.get", {"id": category}))["NAME"] == "Busy"


class TestFieldsStatusDefault:
    """crm-deal-category-fields.md, -status.md, -default-get.md, -default-set.md"""

    async def test_fields(self, portal: Portal) -> None:
        fields = await portal.ok("crm.dealcategory.fields")
        assert list(fields) == ["ID", "CREATED_DATE", "NAME", "IS_LOCKED", "SORT"]
        assert fields["NAME"] == {
            "type": "string", "isRequired": True, "isReadOnly": False, "isImmutable": False,
            "isMultiple": False, "isDynamic": False, "title": "Name",
        }  # fmt: skip
        assert (fields["ID"]["isReadOnly"], fields["CREATED_DATE"]["type"]) == (True, "date")

    async def test_status_is_the_stage_list_s_entity_id(self, portal: Portal) -> None:
        """crm-deal-category-status.md: `DEAL_STAGE_1` for direction 1, for crm.status.*."""
        category = await portal.ok("crm.dealcategory.add", ADD_EXAMPLE)
        assert await portal.ok("crm.dealcategory.status", {"id": str(category)}) == "DEAL_STAGE_1"
        assert await portal.ok("crm.dealcategory.status", {"id": 0}) == "DEAL_STAGE"
        stage = {"ENTITY_ID": "DEAL_STAGE_1", "STATUS_ID": "EXTRA", "NAME": "Extra", "SORT": 15}
        assert await portal.ok("crm.status.add", {"fields": stage}) > 0
        assert await error_of(portal, "crm.dealcategory.status", {"id": 5}) == legacy("Not found")
        assert await error_of(portal, "crm.dealcategory.status", {"id": -1}) == legacy(
            "ID is not defined or invalid."
        )

    async def test_default_get_and_set(self, portal: Portal) -> None:
        """b24phpsdk's DealCategoryTest: default.get's ID is at least 0 and default.set
        (sent as `NAME`) changes the NAME it reads; the page sends `name`."""
        assert await portal.ok("crm.dealcategory.default.get") == {
            "ID": 0,
            "NAME": "General",
            "SORT": 300,
        }
        assert await portal.ok("crm.dealcategory.default.set", {"NAME": "1719315806"}) is True
        assert (await portal.ok("crm.dealcategory.default.get"))["NAME"] == "1719315806"
        got = await portal.ok("crm.category.get", {"entityTypeId": 2, "id": 0})
        assert got["category"]["name"] == "1719315806"
        # The page's example resets the name: an empty one is the default name again.
        assert await portal.ok("crm.dealcategory.default.set", {"name": ""}) is True
        assert await portal.ok("crm.dealcategory.default.get") == {
            "ID": 0,
            "NAME": "General",
            "SORT": 300,
        }
        assert await portal.ok("crm.dealcategory.default.set", {"sort": 7}) is True
        assert (await portal.ok("crm.dealcategory.default.get"))["SORT"] == 7
