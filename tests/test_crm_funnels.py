"""crm.category.* (deals), crm.status.* (deal stages), crm.dealcategory.stage.list, and the
STAGE_ID checks of crm.deal.* and crm.item.* that read them."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Portal, deal_funnel, error_of, legacy

pytestmark = pytest.mark.anyio

DEAL_STAGES = ["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "FINAL_INVOICE", "WON",
               "LOSE", "APOLOGY"]  # fmt: skip
CATEGORY_KEYS = ["id", "name", "sort", "entityTypeId", "isDefault", "originId", "originatorId"]


class TestCategory:
    """api-reference/crm/universal/category/"""

    async def test_list_has_the_general_funnel(self, portal: Portal) -> None:
        """crm-category-list.md: the general funnel is listed as id 0, without origin keys."""
        body = (await portal.call("crm.category.list", {"entityTypeId": 2})).json()
        assert body["result"] == {"categories": [
            {"id": 0, "name": "General", "sort": 300, "entityTypeId": 2, "isDefault": "Y"},
        ]}  # fmt: skip
        assert body["total"] == 1

    async def test_add_get_update_delete(self, portal: Portal) -> None:
        fields = {"name": "Funnel with Original Name", "sort": 200}
        added = await portal.ok("crm.category.add", {"entityTypeId": 2, "fields": fields})
        category = added["category"]
        assert list(category) == CATEGORY_KEYS
        assert category == {"id": 1, "name": "Funnel with Original Name", "sort": 200,
                            "entityTypeId": 2, "isDefault": "N", "originId": "",
                            "originatorId": ""}  # fmt: skip
        got = await portal.ok("crm.category.get", {"entityTypeId": 2, "id": 1})
        assert got == {"category": category}
        listed = await portal.ok("crm.category.list", {"entityTypeId": 2})
        assert [c["id"] for c in listed["categories"]] == [1, 0]  # by sort: 200, then 300
        changed = await portal.ok(
            "crm.category.update",
            {"entityTypeId": 2, "id": 1, "fields": {"name": "Lead Route", "sort": -5,
                                                     "isDefault": "Y"}},
        )  # fmt: skip
        assert (changed["category"]["name"], changed["category"]["sort"]) == ("Lead Route", 0)
        assert changed["category"]["isDefault"] == "N"  # deals: isDefault cannot change
        response = await portal.call("crm.category.delete", {"entityTypeId": 2, "id": 1})
        assert response.json()["result"] is None
        assert await error_of(portal, "crm.category.get", {"entityTypeId": 2, "id": 1}) == {
            "error": "NOT_FOUND", "error_description": "Element not found"}  # fmt: skip
        assert await portal.ok("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE_1"}}) == []

    async def test_fields(self, portal: Portal) -> None:
        fields = (await portal.ok("crm.category.fields", {"entityTypeId": 2}))["fields"]
        assert list(fields) == CATEGORY_KEYS
        assert fields["entityTypeId"] == {
            "type": "integer", "isRequired": True, "isReadOnly": True, "isImmutable": False,
            "isMultiple": False, "isDynamic": False, "title": "ENTITY_TYPE_ID",
            "upperName": "ENTITY_TYPE_ID"}  # fmt: skip

    async def test_refusals(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.category.list", {"entityTypeId": 1052}) == {
            "error": "NOT_FOUND", "error_description": "Smart process not found"}  # fmt: skip
        assert (await error_of(portal, "crm.category.list", {"entityTypeId": 1}))["error"] == (
            "ENTITY_TYPE_NOT_SUPPORTED")  # fmt: skip
        assert await error_of(portal, "crm.category.add", {"entityTypeId": 2, "fields": {}}) == {
            "error": "0", "error_description": "Field 'NAME' is required"}  # fmt: skip
        assert await error_of(portal, "crm.category.delete", {"entityTypeId": 2, "id": 0}) == {
            "error": "0",
            "error_description": "Default deal category cannot be deleted",
        }
        await deal_funnel(portal, 1)
        await portal.ok("crm.deal.add", {"FIELDS": {"CATEGORY_ID": 1}})
        refused = await error_of(portal, "crm.category.delete", {"entityTypeId": 2, "id": 1})
        assert refused == {
            "error": "0",
            "error_description": "Deals related to the funnel Funnel found",
        }

    async def test_a_new_funnel_has_the_default_stages_prefixed(self, portal: Portal) -> None:
        await deal_funnel(portal, 1)
        stages = await portal.ok("crm.dealcategory.stage.list", {"id": 1})
        assert [s["STATUS_ID"] for s in stages] == [f"C1:{s}" for s in DEAL_STAGES]
        assert stages[0] == {"NAME": "New", "SORT": "10", "STATUS_ID": "C1:NEW"}
        assert await portal.ok("crm.dealcategory.stage.list", {"id": 10}) == []
        general = await portal.ok("crm.dealcategory.stage.list", {})
        assert [s["STATUS_ID"] for s in general] == DEAL_STAGES


class TestFunnelWritesAreWhole:
    """A funnel and its stages are written and deleted in one transaction, also as a `batch`
    command (the method's own transaction joins the batch's)."""

    async def test_add_and_delete_inside_a_batch(self, portal: Portal) -> None:
        cmd = {
            "a": "crm.category.add?entityTypeId=2&fields[name]=Wholesale",
            "s": "crm.status.list?filter[ENTITY_ID]=DEAL_STAGE_$result[a][category][id]",
            "d": "crm.category.delete?entityTypeId=2&id=$result[a][category][id]",
        }
        answer = await portal.ok("batch", {"halt": 0, "cmd": cmd})
        assert answer["result_error"] == []
        assert len(answer["result"]["s"]) == len(DEAL_STAGES)
        listed = await portal.ok("crm.category.list", {"entityTypeId": 2})
        assert [c["id"] for c in listed["categories"]] == [0]

    async def test_a_second_start_on_the_same_database_keeps_the_funnel(
        self, portal: Portal
    ) -> None:
        from orderlink.bootstrap import ensure_funnels

        before = await portal.ok("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
        portal_row = await portal.store.default_portal()
        await ensure_funnels(portal.store, portal_row.id)
        after = await portal.ok("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
        assert after == before


class TestStatus:
    """api-reference/crm/status/"""

    async def test_list_docs_example(self, portal: Portal) -> None:
        """crm-status-list.md's request and answer (ids are this store's own)."""
        params = {"order": {"SORT": "ASC"}, "filter": {"ENTITY_ID": "DEAL_STAGE"}}
        body = (await portal.call("crm.status.list", params)).json()
        assert body["total"] == 8
        rows = body["result"]
        assert [r["STATUS_ID"] for r in rows] == DEAL_STAGES
        first = {k: v for k, v in rows[0].items() if k != "ID"}
        assert first == {
            "ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "NEW", "NAME": "New", "NAME_INIT": "New",
            "SORT": "10", "SYSTEM": "Y", "CATEGORY_ID": None, "COLOR": "#39A8EF",
            "SEMANTICS": None, "EXTRA": {"SEMANTICS": "process", "COLOR": "#39A8EF"},
        }  # fmt: skip
        assert isinstance(rows[0]["ID"], str)
        assert [r["EXTRA"]["SEMANTICS"] for r in rows[5:]] == ["success", "failure", "apology"]
        assert [r["SEMANTICS"] for r in rows[5:]] == ["S", "F", "F"]

    async def test_entity_items_docs_example(self, portal: Portal) -> None:
        items = await portal.ok("crm.status.entity.items", {"entityId": "DEAL_STAGE"})
        assert items[1] == {"NAME": "Document preparation", "SORT": 20, "STATUS_ID": "PREPARATION"}
        assert [i["STATUS_ID"] for i in items] == DEAL_STAGES
        assert await error_of(portal, "crm.status.entity.items", {"entityId": "NOPE"}) == legacy(
            "The parameter entityId is not defined or invalid.")  # fmt: skip

    async def test_entity_types(self, portal: Portal) -> None:
        await portal.ok("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Newest"}})
        types = await portal.ok("crm.status.entity.types")
        assert types == [
            {"ID": "DEAL_STAGE", "NAME": "General deal stages",
             "SEMANTIC_INFO": {"START_FIELD": "NEW", "FINAL_SUCCESS_FIELD": "WON",
                               "FINAL_UNSUCCESS_FIELD": "LOSE", "FINAL_SORT": 0},
             "FIELD_ATTRIBUTE_SCOPE": "", "ENTITY_TYPE_ID": 2, "CATEGORY_ID": 0},
            {"ID": "DEAL_STAGE_1", "NAME": "Newest deal stages", "PARENT_ID": "DEAL_STAGE",
             "SEMANTIC_INFO": {"START_FIELD": "C1:NEW", "FINAL_SUCCESS_FIELD": "C1:WON",
                               "FINAL_UNSUCCESS_FIELD": "C1:LOSE", "FINAL_SORT": 0},
             "PREFIX": "C1", "FIELD_ATTRIBUTE_SCOPE": "category_1", "ENTITY_TYPE_ID": 2,
             "CATEGORY_ID": "1"},
        ]  # fmt: skip

    async def test_add_docs_example_prefixes_the_code(self, portal: Portal) -> None:
        await deal_funnel(portal, 1)
        fields: dict[str, Any] = {
            "ENTITY_ID": "DEAL_STAGE_1",
            "STATUS_ID": "DECISION",
            "NAME": "Decision making",
            "SORT": 55,
            "COLOR": "#FFA900",
        }
        new_id = await portal.ok("crm.status.add", {"fields": fields})
        assert isinstance(new_id, int)
        got = await portal.ok("crm.status.get", {"id": new_id})
        assert got == {"ID": str(new_id), "ENTITY_ID": "DEAL_STAGE_1",
                       "STATUS_ID": "C1:DECISION", "NAME": "Decision making", "NAME_INIT": "",
                       "SORT": "55", "SYSTEM": "N", "CATEGORY_ID": "1", "COLOR": "#FFA900",
                       "SEMANTICS": None}  # fmt: skip
        again = await error_of(portal, "crm.status.add", {"fields": fields})
        assert again == {
            "error": "ERROR_CORE",
            "error_description": "The specified status ID already exists.",
        }
        late = await error_of(
            portal, "crm.status.add", {"fields": {**fields, "STATUS_ID": "LATE", "SORT": 70}}
        )
        assert late["error_description"].startswith("Cannot create more stages after the final")

    async def test_add_refusals(self, portal: Portal) -> None:
        both = await error_of(portal, "crm.status.add", {"fields": {"NAME": "x"}})
        assert both == legacy(
            "The field ENTITY_ID is required.<br>The field STATUS_ID is required."
        )
        unknown = {"ENTITY_ID": "DEAL_STAGE_7", "STATUS_ID": "X", "NAME": "x"}
        assert await error_of(portal, "crm.status.add", {"fields": unknown}) == legacy(
            "Specified entity type is not supported.")  # fmt: skip
        nameless = {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "X"}
        assert await error_of(portal, "crm.status.add", {"fields": nameless}) == legacy(
            "The field Title is required.")  # fmt: skip
        assert await error_of(portal, "crm.status.add", {"fields": "x"}) == legacy(
            "Parameter 'fields' must be array.")  # fmt: skip

    async def test_update_and_delete(self, portal: Portal) -> None:
        rows = await portal.ok("crm.status.list", {"filter": {"STATUS_ID": "PREPARATION"}})
        stage = rows[0]["ID"]
        params = {"id": stage, "fields": {"NAME": "New name", "COLOR": "#00A9F4"}}
        assert await portal.ok("crm.status.update", params) is True
        got = await portal.ok("crm.status.get", {"id": stage})
        assert (got["NAME"], got["COLOR"], got["SORT"]) == ("New name", "#00A9F4", "20")
        deal = await portal.ok("crm.deal.add", {"FIELDS": {"STAGE_ID": "PREPARATION"}})
        assert await error_of(portal, "crm.status.delete", {"id": stage}) == legacy(
            "There are active items in this status.")  # fmt: skip
        await portal.ok("crm.deal.delete", {"ID": deal})
        assert await portal.ok("crm.status.delete", {"id": stage}) is True
        assert await error_of(portal, "crm.status.get", {"id": stage}) == legacy(
            "Status is not found.")  # fmt: skip
        assert await error_of(portal, "crm.status.get", {"id": "x"}) == legacy(
            "Invalid identifier.")  # fmt: skip

    async def test_system_stages_need_forced(self, portal: Portal) -> None:
        rows = await portal.ok("crm.status.list", {"filter": {"STATUS_ID": "APOLOGY"}})
        apology = rows[0]["ID"]
        await portal.ok("crm.status.delete", {"id": apology})  # not a system stage
        rows = await portal.ok("crm.status.list", {"filter": {"STATUS_ID": "LOSE"}})
        refused = await error_of(portal, "crm.status.delete", {"id": rows[0]["ID"]})
        assert refused["error_description"].startswith("CRM System Status can be deleted only")
        forced = {"id": rows[0]["ID"], "params": {"FORCED": "Y"}}
        assert await portal.ok("crm.status.delete", forced) is True

    async def test_fields(self, portal: Portal) -> None:
        fields = await portal.ok("crm.status.fields")
        assert list(fields) == [
            "ID",
            "ENTITY_ID",
            "STATUS_ID",
            "SORT",
            "NAME",
            "NAME_INIT",
            "SYSTEM",
            "CATEGORY_ID",
            "COLOR",
            "SEMANTICS",
            "EXTRA",
        ]
        assert fields["STATUS_ID"] == {
            "type": "string", "isRequired": True, "isReadOnly": False, "isImmutable": True,
            "isMultiple": False, "isDynamic": False, "title": "Status"}  # fmt: skip


class TestDealStages:
    """A deal's STAGE_ID must be a stage of its funnel (crm-deal-add.md: the DEAL_STAGE or
    DEAL_STAGE_{categoryId} list). The refusal texts are not documented: each family words them
    as its other invalid values (docs/decisions.md)."""

    async def test_a_stage_of_another_funnel_is_refused(self, portal: Portal) -> None:
        await deal_funnel(portal, 1)
        refused = await error_of(portal, "crm.deal.add", {"FIELDS": {"STAGE_ID": "C1:NEW"}})
        assert refused == legacy('Invalid value for the "Deal Stage" field')
        item = {"entityTypeId": 2, "fields": {"categoryId": 1, "stageId": "WON"}}
        assert await error_of(portal, "crm.item.add", item) == {
            "error": "CRM_FIELD_ERROR_VALUE_NOT_VALID",
            "error_description": 'Invalid value for field "stageId"'}  # fmt: skip
        deal = await portal.ok("crm.deal.add", {"FIELDS": {}})
        assert (
            await error_of(portal, "crm.deal.update", {"ID": deal, "FIELDS": {"STAGE_ID": "NOPE"}})
            == refused
        )

    async def test_an_unknown_funnel_is_refused(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.deal.add", {"FIELDS": {"CATEGORY_ID": 4}}) == legacy(
            'Invalid value for the "Sales Funnel" field')  # fmt: skip

    async def test_semantics_come_from_the_store(self, portal: Portal) -> None:
        """A stage added as a failure (SEMANTICS F) closes the deal like LOSE does."""
        fields = {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "GAVE_UP", "NAME": "Gave up",
                  "SORT": 90, "SEMANTICS": "F"}  # fmt: skip
        await portal.ok("crm.status.add", {"fields": fields})
        deal = await portal.ok("crm.deal.add", {"FIELDS": {"STAGE_ID": "GAVE_UP"}})
        got = await portal.ok("crm.deal.get", {"ID": deal})
        assert (got["STAGE_SEMANTIC_ID"], got["CLOSED"]) == ("F", "Y")
