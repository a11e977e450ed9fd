"""crm.type.* (smart processes) over the wire, and the items of a smart process through
crm.item.*.

Pages: api-reference/crm/universal/user-defined-object-types/crm-type-{add,get,
get-by-entity-type-id,list,update,delete,fields}.md, api-reference/crm/data-types.md#type,
api-reference/crm/universal/{crm-item-add,crm-item-fields,object-fields}.md (the SPA parts),
api-reference/crm/universal/events/type/. b24phpsdk's tests/Integration/Services/CRM/Item/
Service/ItemTest.php and Type/Service/TypeTest.php, b24pysdk's
tests/integration/scopes/crm/test_crm_type.py drive the same sequences against real portals.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.registry import Role
from orderlink.settings import Settings

from .conftest import Portal, error_of
from .oauth_apps import register, tokens
from .receiver import Receiver
from .test_crm_item import SPA_FIELDS

pytestmark = pytest.mark.anyio

NOW = "2024-06-25T13:43:26+02:00"  # the frozen clock in the portal zone


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A portal two hours east of UTC, as the docs' examples are."""
    return Settings(database=database_url, rate_limit=False, timezone="+02:00")


_ALL_ON = {name: "Y" for name in (
    "isAutomationEnabled", "isBeginCloseDatesEnabled", "isBizProcEnabled", "isCategoriesEnabled",
    "isClientEnabled", "isDocumentsEnabled", "isLinkWithProductsEnabled", "isMycompanyEnabled",
    "isObserversEnabled", "isRecyclebinEnabled", "isSetOpenPermissions", "isSourceEnabled",
    "isStagesEnabled", "isUseInUserfieldEnabled")}  # fmt: skip
# crm-type-add.md, cURL (Webhook).
ADD_EXAMPLE: dict[str, Any] = {"fields": {
    "title": "SPA", "entityTypeId": 2024, **_ALL_ON,
    "linkedUserFields": {"CALENDAR_EVENT|UF_CRM_CAL_EVENT": "true",
                         "TASKS_TASK|UF_CRM_TASK": "true"},
    "relations": {
        "parent": [{"entityTypeId": 1, "isChildrenListEnabled": "true"},
                   {"entityTypeId": 2, "isChildrenListEnabled": "true"},
                   {"entityTypeId": 31, "isChildrenListEnabled": "true"}],
        "child": [{"entityTypeId": 3, "isChildrenListEnabled": "true"}, {"entityTypeId": 4}],
    },
}}  # fmt: skip


def _relation(type_id: int, listed: str, predefined: str = "N") -> dict[str, Any]:
    return {"entityTypeId": type_id, "isChildrenListEnabled": listed, "isPredefined": predefined}


# crm-type-get.md's answer (the type crm-type-add.md made), key by key; `id` 16 there.
GET_ANSWER: dict[str, Any] = {
    "id": 1, "title": "SPA", "code": "", "createdBy": 1, "entityTypeId": 2024,
    "customSectionId": None, **_ALL_ON, "isPaymentsEnabled": "N", "isCountersEnabled": "N",
    "createdTime": NOW, "updatedTime": NOW, "updatedBy": 1,
    "relations": {
        "parent": [_relation(3, "Y", "Y"), _relation(4, "Y", "Y"), _relation(1, "Y"),
                   _relation(2, "Y"), _relation(31, "Y")],
        "child": [_relation(3, "Y"), _relation(4, "N")],
    },
    "linkedUserFields": {"CALENDAR_EVENT|UF_CRM_CAL_EVENT": "Y", "TASKS_TASK|UF_CRM_TASK": "Y",
                         "TASKS_TASK_TEMPLATE|UF_CRM_TASK": "N"},
    "customSections": [],
}  # fmt: skip
GET_KEYS = [
    "id", "title", "code", "createdBy", "entityTypeId", "customSectionId", "isCategoriesEnabled",
    "isStagesEnabled", "isBeginCloseDatesEnabled", "isClientEnabled", "isUseInUserfieldEnabled",
    "isLinkWithProductsEnabled", "isMycompanyEnabled", "isDocumentsEnabled", "isSourceEnabled",
    "isObserversEnabled", "isRecyclebinEnabled", "isAutomationEnabled", "isBizProcEnabled",
    "isSetOpenPermissions", "isPaymentsEnabled", "isCountersEnabled", "createdTime",
    "updatedTime", "updatedBy", "relations", "linkedUserFields", "customSections",
]  # fmt: skip
LIST_KEYS = GET_KEYS[:-3]  # crm-type-list.md's rows
# crm-type-fields.md's fields, in its order (b24pysdk's test names the same ones).
FIELD_NAMES = [k for k in LIST_KEYS if k not in ("isPaymentsEnabled", "isCountersEnabled")]


async def new_type(portal: Portal, **fields: Any) -> dict[str, Any]:
    result = await portal.ok("crm.type.add", {"fields": {"title": "SPA", **fields}})
    return dict(result["type"])


class TestAdd:
    """crm-type-add.md"""

    async def test_the_documented_example_answers_the_documented_type(self, portal: Portal) -> None:
        """Its answer as crm-type-get.md prints it (crm-type-add.md's prints the same values in
        another order and without `code`)."""
        response = await portal.call("crm.type.add", ADD_EXAMPLE)
        assert response.status_code == 200
        body = response.json()
        assert body["result"] == {"type": GET_ANSWER}
        assert list(body["result"]["type"]) == GET_KEYS
        assert set(body["time"]) >= {"start", "finish", "duration", "operating"}

    async def test_entity_type_ids_are_the_next_even_ones_from_128(self, portal: Portal) -> None:
        assert [(await new_type(portal))["entityTypeId"] for _ in range(3)] == [128, 130, 132]
        assert (await new_type(portal, entityTypeId=177))["entityTypeId"] == 177
        assert (await new_type(portal))["entityTypeId"] == 178
        assert (await new_type(portal, entityTypeId=1030))["entityTypeId"] == 1030
        assert (await new_type(portal))["entityTypeId"] == 1032

    async def test_past_192_the_ids_go_on_from_1030(self, portal: Portal) -> None:
        """crm-type-add.md's two ranges: 128 to 192, then even ids from 1030."""
        await new_type(portal, entityTypeId=192)
        assert (await new_type(portal))["entityTypeId"] == 1030

    @pytest.mark.parametrize("type_id", [127, 193, 1029, 1031, 2, "x"])
    async def test_an_id_outside_both_ranges_is_refused(self, portal: Portal, type_id: Any) -> None:
        assert await error_of(portal, "crm.type.add",
                              {"fields": {"title": "A", "entityTypeId": type_id}}) == {
            "error": "INVALID_ARG_VALUE", "error_description": "entityTypeId is out of allowed range",
        }  # fmt: skip

    async def test_an_id_a_type_has_is_refused(self, portal: Portal) -> None:
        """The id is unique (crm-type-add.md); the text is ours."""
        await new_type(portal, entityTypeId=2024)
        body = await error_of(portal, "crm.type.add", {"fields": {"title": "B",
                                                                  "entityTypeId": 2024}})  # fmt: skip
        assert body["error"] == "INVALID_ARG_VALUE"
        assert (await portal.call("crm.type.list")).json()["total"] == 1

    async def test_defaults(self, portal: Portal) -> None:
        added = await new_type(portal)
        flags = {k: v for k, v in added.items() if k.startswith("is")}
        assert flags == {**dict.fromkeys(flags, "N"), "isSetOpenPermissions": "Y"}
        assert added["relations"] == {"parent": [], "child": []}
        assert set(added["linkedUserFields"].values()) == {"N"}

    async def test_linked_user_fields_need_the_use_in_userfield_setting(
        self, portal: Portal
    ) -> None:
        linked = {"TASKS_TASK|UF_CRM_TASK": "true"}
        assert (await new_type(portal, linkedUserFields=linked))["linkedUserFields"][
            "TASKS_TASK|UF_CRM_TASK"] == "N"  # fmt: skip
        on = await new_type(portal, linkedUserFields=linked, isUseInUserfieldEnabled="Y")
        assert on["linkedUserFields"]["TASKS_TASK|UF_CRM_TASK"] == "Y"

    async def test_relations_take_true_not_y(self, portal: Portal) -> None:
        """crm-type-add.md: "Values Y and N do not work. You must pass "true" or "false"";
        crm-type-update.md: an entry that cannot be saved is left out silently."""
        relations = {"parent": [{"entityTypeId": 2, "isChildrenListEnabled": "Y"},
                                {"entityTypeId": "x"}],
                     "child": [{"entityTypeId": 4, "isChildrenListEnabled": True}]}  # fmt: skip
        added = await new_type(portal, relations=relations)
        assert added["relations"] == {"parent": [_relation(2, "N")], "child": [_relation(4, "Y")]}

    async def test_errors(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.type.add", {}) == {
            "error": 100,
            "error_description": "Could not find value for parameter {fields}",
        }
        assert await error_of(portal, "crm.type.add", {"fields": {"code": "x"}}) == {
            "error": "BX_EMPTY_REQUIRED",
            "error_description": 'Field "Title" is required',
        }
        assert await error_of(
            portal, "crm.type.add", {"fields": {"title": "A", "isExternal": "true"}}
        ) == {"error": 0, "error_description": "Select a workplace where the SPA will be located"}
        assert (await portal.call("crm.type.list")).json()["total"] == 0

    async def test_only_administrators_write_types(self, portal: Portal) -> None:
        """The pages: "any user with administrative access to the CRM section"."""
        hook = await portal.webhook_for(Role.STORE_ADMIN)
        assert await error_of(portal, "crm.type.add", {"fields": {"title": "A"}}, hook=hook) == {
            "error": "ACCESS_DENIED",
            "error_description": "Access denied",
        }
        added = await new_type(portal)
        assert (await portal.ok("crm.type.get", {"id": added["id"]}, hook=hook))["type"] == added
        update = {"id": added["id"], "fields": {"title": "B"}}
        assert (await error_of(portal, "crm.type.update", update, hook=hook))["error"] == (
            "ACCESS_DENIED")  # fmt: skip
        delete = await error_of(portal, "crm.type.delete", {"id": added["id"]}, hook=hook)
        assert delete["error"] == "ACCESS_DENIED"


class TestGet:
    """crm-type-get.md, crm-type-get-by-entity-type-id.md"""

    async def test_by_id_and_by_entity_type_id(self, portal: Portal) -> None:
        await portal.ok("crm.type.add", ADD_EXAMPLE)
        assert (await portal.ok("crm.type.get", {"id": 1}))["type"] == GET_ANSWER
        by_type = await portal.ok("crm.type.getByEntityTypeId", {"entityTypeId": 2024})
        assert by_type["type"] == GET_ANSWER
        assert list(by_type["type"]) == GET_KEYS

    async def test_not_found(self, portal: Portal) -> None:
        """crm-type-get.md prints `"error": 0` "SPA not found"; getByEntityTypeId's page words it
        "Smart process not found"."""
        for params in ({"id": 5}, {"id": "x"}, {}):
            assert await error_of(portal, "crm.type.get", params) == {
                "error": 0,
                "error_description": "SPA not found",
            }
        assert await error_of(portal, "crm.type.getByEntityTypeId", {"entityTypeId": 128}) == {
            "error": 0,
            "error_description": "Smart process not found",
        }
        assert (await error_of(portal, "crm.type.getByEntityTypeId", {}))["error"] == 100


class TestList:
    """crm-type-list.md"""

    async def test_example_one_an_or_filter_by_title_newest_first(self, portal: Portal) -> None:
        for number in (3, 5, 10, 15, 20):
            await new_type(portal, title=f"Smart Process #{number}")
        # The page's JS form of its filter (the cURL body is no valid JSON).
        params = {"filter": {"0": {"logic": "OR", "0": {"%title": "5"}, "1": {"%title": "0"}}},
                  "order": {"id": "DESC"}, "start": 0}  # fmt: skip
        response = await portal.call("crm.type.list", params)
        body = response.json()
        assert [t["title"] for t in body["result"]["types"]] == [
            "Smart Process #20",
            "Smart Process #15",
            "Smart Process #10",
            "Smart Process #5",
        ]
        assert body["total"] == 4
        assert all(list(t) == LIST_KEYS for t in body["result"]["types"])

    async def test_example_two_by_settings(self, portal: Portal) -> None:
        on = {"isAutomationEnabled": "Y", "isBizProcEnabled": "Y", "isCategoriesEnabled": "Y",
              "isClientEnabled": "Y"}  # fmt: skip
        wanted = await new_type(portal, **on)
        await new_type(portal, **{**on, "isBizProcEnabled": "N"})
        result = await portal.ok("crm.type.list", {"filter": on})
        assert [t["id"] for t in result["types"]] == [wanted["id"]]

    async def test_b24phpsdk_s_filter_by_id_and_paging(self, portal: Portal) -> None:
        ids = [(await new_type(portal, title=f"T{n}"))["id"] for n in range(52)]
        result = await portal.ok("crm.type.list", {"order": [], "filter": {"id": ids[3]},
                                                   "start": 0})  # fmt: skip
        assert [t["title"] for t in result["types"]] == ["T3"]
        first = (await portal.call("crm.type.list")).json()
        assert (len(first["result"]["types"]), first["total"], first["next"]) == (50, 52, 50)
        second = await portal.ok("crm.type.list", {"start": 50})
        assert [t["id"] for t in second["types"]] == ids[50:]

    async def test_bad_filters_and_orders(self, portal: Portal) -> None:
        for params in ({"filter": {"nope": 1}}, {"order": {"nope": "ASC"}},
                       {"order": {"id": "UP"}}):  # fmt: skip
            assert (await error_of(portal, "crm.type.list", params))["error"] == (
                "INVALID_ARG_VALUE")  # fmt: skip


class TestUpdate:
    """crm-type-update.md"""

    async def test_the_documented_example(self, portal: Portal) -> None:
        """The page's request on a type whose earlier settings its answer shows."""
        before = {
            "isCategoriesEnabled": "Y",
            "isMycompanyEnabled": "Y",
            "isAutomationEnabled": "Y",
            "isClientEnabled": "Y",
            "isObserversEnabled": "Y",
            "isUseInUserfieldEnabled": "Y",
            "linkedUserFields": {"CALENDAR_EVENT|UF_CRM_CAL_EVENT": "true"},
            "relations": {
                "child": [
                    {"entityTypeId": 1, "isChildrenListEnabled": "true"},
                    {"entityTypeId": 2, "isChildrenListEnabled": "true"},
                ]
            },
        }
        added = await new_type(portal, title="SPA #3", entityTypeId=1222, **before)  # fmt: skip
        fields = {"isAutomationEnabled": "N", "isBeginCloseDatesEnabled": "N",
                  "isClientEnabled": "N", "isObserversEnabled": "N", "isSourceEnabled": "Y",
                  "isStagesEnabled": "Y", "isUseInUserfieldEnabled": "Y",
                  "linkedUserFields": {"TASKS_TASK|UF_CRM_TASK": "true"}}  # fmt: skip
        result = await portal.ok("crm.type.update", {"id": added["id"], "fields": fields})
        settings = {k: "N" for k in _ALL_ON} | {
            "isCategoriesEnabled": "Y",
            "isStagesEnabled": "Y",
            "isUseInUserfieldEnabled": "Y",
            "isMycompanyEnabled": "Y",
            "isSourceEnabled": "Y",
            "isSetOpenPermissions": "Y",
        }
        assert result["type"] == {
            **GET_ANSWER, **settings, "title": "SPA #3", "entityTypeId": 1222,
            "relations": {"parent": [], "child": [_relation(1, "Y"), _relation(2, "Y")]},
            "linkedUserFields": {"CALENDAR_EVENT|UF_CRM_CAL_EVENT": "N",
                                 "TASKS_TASK|UF_CRM_TASK": "Y",
                                 "TASKS_TASK_TEMPLATE|UF_CRM_TASK": "N"},
        }  # fmt: skip

    async def test_relations_are_replaced_whole_and_predefined_ones_stay(
        self, portal: Portal
    ) -> None:
        added = await new_type(portal, isClientEnabled="Y", relations={
            "parent": [{"entityTypeId": 2}], "child": [{"entityTypeId": 1}]})  # fmt: skip
        relations = {"parent": [{"entityTypeId": 3}, {"entityTypeId": 31}]}
        result = await portal.ok(
            "crm.type.update", {"id": added["id"], "fields": {"relations": relations}}
        )
        assert result["type"]["relations"] == {
            "parent": [_relation(3, "Y", "Y"), _relation(4, "Y", "Y"), _relation(31, "N")],
            "child": [],
        }

    async def test_the_entity_type_id_stays_and_the_stamps_move(
        self, portal: Portal, clock: Any
    ) -> None:
        added = await new_type(portal)
        clock.advance(60)
        result = await portal.ok("crm.type.update", {"id": added["id"], "fields": {
            "title": "Renamed", "entityTypeId": 1030, "code": "hr"}})  # fmt: skip
        assert (result["type"]["title"], result["type"]["code"]) == ("Renamed", "hr")
        assert result["type"]["entityTypeId"] == 128
        assert result["type"]["updatedTime"] == "2024-06-25T13:44:26+02:00"
        assert result["type"]["createdTime"] == NOW

    async def test_without_fields_nothing_changes(self, portal: Portal) -> None:
        """crm-type-update.md lists `fields` without the required mark."""
        added = await new_type(portal)
        assert (await portal.ok("crm.type.update", {"id": added["id"]}))["type"] == added

    async def test_errors(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.type.update", {"id": 9, "fields": {"title": "A"}}) == {
            "error": 0,
            "error_description": "SPA not found",
        }
        added = await new_type(portal)
        assert (
            await error_of(portal, "crm.type.update", {"id": added["id"], "fields": {"title": " "}})
        )["error"] == "BX_EMPTY_REQUIRED"


class TestDelete:
    """crm-type-delete.md"""

    async def test_delete_answers_an_empty_array(self, portal: Portal) -> None:
        added = await new_type(portal)
        assert await portal.ok("crm.type.delete", {"id": added["id"]}) == []
        assert (await error_of(portal, "crm.type.get", {"id": added["id"]}))["error"] == 0
        assert (await error_of(portal, "crm.item.list", {"entityTypeId": 128}))["error"] == (
            "NOT_FOUND")  # fmt: skip

    async def test_a_type_with_items_is_not_deleted(self, portal: Portal) -> None:
        added = await new_type(portal)
        await portal.ok("crm.item.add", {"entityTypeId": 128, "fields": {"title": "i"}})
        assert await error_of(portal, "crm.type.delete", {"id": added["id"]}) == {
            "error": "BX_ERROR",
            "error_description": "You cannot delete an entity type that has elements",
        }
        assert (await portal.ok("crm.type.get", {"id": added["id"]}))["type"] == added

    async def test_without_id_the_answer_is_null_and_nothing_goes(self, portal: Portal) -> None:
        """crm-type-delete.md: "If `result` returns `null`, it is likely that the required
        parameter `id` was not provided". b24phpsdk's Type::delete sends `entityTypeId`."""
        added = await new_type(portal)
        assert await portal.ok("crm.type.delete", {"entityTypeId": 128}) is None
        assert (await portal.ok("crm.type.get", {"id": added["id"]}))["type"] == added

    async def test_a_missing_type(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.type.delete", {"id": 3}) == {
            "error": 0,
            "error_description": "Smart process not found",
        }

    async def test_its_custom_fields_go_with_it(self, portal: Portal) -> None:
        """userfieldconfig/events/index.md: "When an entire smart process is deleted, its custom
        fields disappear as well"."""
        added = await new_type(portal)
        field = {"entityId": "CRM_1", "fieldName": "UF_CRM_1_NOTE", "userTypeId": "string"}
        await portal.ok("userfieldconfig.add", {"moduleId": "crm", "field": field})
        await portal.ok("crm.type.delete", {"id": added["id"]})
        listed = await portal.ok("userfieldconfig.list", {"moduleId": "crm"})
        assert listed["fields"] == []


class TestFields:
    """crm-type-fields.md"""

    async def test_the_fields_in_the_page_order(self, portal: Portal) -> None:
        fields = (await portal.ok("crm.type.fields"))["fields"]
        assert list(fields) == FIELD_NAMES
        assert fields["entityTypeId"] == {
            "type": "integer", "isRequired": True, "isReadOnly": False, "isImmutable": True,
            "isMultiple": False, "isDynamic": False, "title": "Type Identifier",
            "upperName": "ENTITY_TYPE_ID",
        }  # fmt: skip
        assert fields["title"]["isRequired"] is True
        assert fields["isBizProcEnabled"] == {
            "type": "boolean", "isRequired": False, "isReadOnly": False, "isImmutable": False,
            "isMultiple": False, "isDynamic": False,
            "title": "Use business process designer in the smart process",
            "upperName": "IS_BIZ_PROC_ENABLED",
        }  # fmt: skip
        assert (fields["createdTime"]["isReadOnly"], fields["updatedBy"]["isReadOnly"]) == (
            False, True)  # fmt: skip


# crm-item-fields.md (smart process 1268, every setting on, parents lead, deal and smart process
# 1248 "Smart Process #16"): what test_crm_item's SPA_FIELDS leaves out.
_MORE_SPA_FIELDS: dict[str, tuple[Any, ...]] = {
    "contacts": ("crm_contact", False, False, True, "CONTACTS", "CONTACTS"),
    "stageId": ("crm_status", False, False, False, "Stage", "STAGE_ID"),
    "previousStageId": ("crm_status", False, True, False, "Previous stage", "PREVIOUS_STAGE_ID"),
    "parentId1": ("crm_entity", False, False, False, "Lead", "PARENT_ID_1",
                  {"settings": {"parentEntityTypeId": 1}}),
    "parentId1248": ("crm_entity", False, False, False, "Smart Process #16", "PARENT_ID_1248",
                     {"settings": {"parentEntityTypeId": 1248}}),
}  # fmt: skip
SPA_FIELD_ORDER = [
    "id", "title", "xmlId", "createdTime", "updatedTime", "createdBy", "updatedBy",
    "assignedById", "opened", "webformId", "begindate", "closedate", "companyId", "contactId",
    "contactIds", "contacts", "observers", "categoryId", "movedTime", "movedBy", "stageId",
    "previousStageId", "sourceId", "sourceDescription", "currencyId", "isManualOpportunity",
    "opportunity", "taxValue", "mycompanyId", "lastActivityBy", "lastActivityTime", "parentId1",
    "parentId2", "parentId1248",
]  # fmt: skip


def _described(spec: tuple[Any, ...]) -> dict[str, Any]:
    type_, required, read_only, multiple, title, upper, *extra = spec
    out: dict[str, Any] = {
        "type": type_,
        "isRequired": required,
        "isReadOnly": read_only,
        "isImmutable": False,
        "isMultiple": multiple,
        "isDynamic": False,
    }
    if extra and "isDeprecated" in extra[0]:
        out["isDeprecated"] = True
    if extra and "statusType" in extra[0]:
        out["statusType"] = extra[0]["statusType"]
    out["title"] = title
    if extra and "settings" in extra[0]:
        out["settings"] = extra[0]["settings"]
    return {**out, "upperName": upper}  # fmt: skip


class TestItems:
    """crm.item.* for a smart process's items (crm-item-*.md, object-fields.md#spa)."""

    async def test_b24phpsdk_s_item_test_sequence(self, portal: Portal) -> None:
        """ItemTest.php: add a type, add items (title, xmlId), update, get, list, delete one,
        then delete the type by entityTypeId (an answer of null: nothing is deleted)."""
        added = await portal.ok("crm.type.add", {"fields": {"title": "1719315806 test SPA type"}})
        type_id = added["type"]["entityTypeId"]
        first = await portal.ok("crm.item.add", {"entityTypeId": type_id, "fields": {
            "title": "test sp item 1", "xmlId": "b24-php-sdk-test-item-1"}})  # fmt: skip
        item_id = first["item"]["id"]
        assert (first["item"]["title"], first["item"]["xmlId"]) == (
            "test sp item 1", "b24-php-sdk-test-item-1")  # fmt: skip
        updated = await portal.ok("crm.item.update", {"entityTypeId": type_id, "id": item_id,
                                                      "fields": {"title": "updated"}})  # fmt: skip
        assert updated["item"]["title"] == "updated"
        got = await portal.ok("crm.item.get", {"entityTypeId": type_id, "id": item_id})
        assert (got["item"]["title"], got["item"]["xmlId"]) == (
            "updated",
            "b24-php-sdk-test-item-1",
        )
        await portal.ok("crm.item.add", {"entityTypeId": type_id, "fields": {"title": "two"}})
        listed = await portal.ok("crm.item.list", {"entityTypeId": type_id, "order": [],
                                                   "filter": [], "select": []})  # fmt: skip
        assert len(listed["items"]) == 2
        assert await portal.ok("crm.item.delete", {"entityTypeId": type_id, "id": item_id}) == []
        assert (await error_of(portal, "crm.item.get", {"entityTypeId": type_id, "id": item_id}))[
            "error"] == "NOT_FOUND"  # fmt: skip
        assert await portal.ok("crm.type.delete", {"entityTypeId": type_id}) is None

    async def test_a_contact_names_an_item_as_parent(self, portal: Portal) -> None:
        """ItemTest::testGetSmartProcessItem: a contact's PARENT_ID_{entityTypeId}."""
        type_id = (await new_type(portal, relations={"child": [{"entityTypeId": 3}]}))[
            "entityTypeId"]  # fmt: skip
        item = await portal.ok("crm.item.add", {"entityTypeId": type_id, "fields": {"title": "x"}})
        contact = await portal.ok("crm.contact.add", {"fields": {
            "NAME": "A", f"PARENT_ID_{type_id}": item["item"]["id"]}})  # fmt: skip
        got = await portal.ok("crm.contact.get", {"id": contact})
        assert got[f"PARENT_ID_{type_id}"] == str(item["item"]["id"])

    async def test_an_item_with_every_setting_on(self, portal: Portal) -> None:
        """crm-item-add.md (SPA): `{SPA name} #{id}` for an untitled item, the first stage of
        funnel 0 (`DT{entityTypeId}_0:NEW`), begins today and closes in a week."""
        await portal.ok("crm.type.add", ADD_EXAMPLE)
        added = (await portal.ok("crm.item.add", {"entityTypeId": 2024, "fields": {
            "companyId": 4, "contactIds": [5, 6], "observers": [2], "opportunity": 99.5,
            "currencyId": "EUR", "sourceId": "WEB", "parentId2": 7}}))["item"]  # fmt: skip
        assert added["title"] == f"SPA #{added['id']}"
        assert (added["stageId"], added["previousStageId"], added["movedBy"]) == (
            "DT2024_0:NEW", None, 1)  # fmt: skip
        assert (added["begindate"], added["closedate"]) == (
            "2024-06-25T00:00:00+02:00", "2024-07-02T00:00:00+02:00")  # fmt: skip
        assert (added["contactId"], added["contactIds"], added["observers"]) == (5, [5, 6], [2])
        assert (added["opportunity"], added["currencyId"], added["parentId2"]) == (99.5, "EUR", 7)
        assert list(added)[-2:] == ["parentId2", "entityTypeId"]
        moved = await portal.ok(
            "crm.item.update",
            {"entityTypeId": 2024, "id": added["id"], "fields": {"stageId": "DT2024_0:CLIENT"}},
        )
        assert (moved["item"]["stageId"], moved["item"]["previousStageId"]) == (
            "DT2024_0:CLIENT", "DT2024_0:NEW")  # fmt: skip

    async def test_settings_that_are_off_leave_their_fields_out(self, portal: Portal) -> None:
        """object-fields.md#spa: "Available only when the ... setting is enabled"."""
        await new_type(portal)
        added = (await portal.ok("crm.item.add", {"entityTypeId": 128, "fields": {
            "title": "t", "opportunity": 5, "stageId": "X"}}))["item"]  # fmt: skip
        assert list(added) == [
            "id", "title", "xmlId", "createdTime", "updatedTime", "createdBy", "updatedBy",
            "assignedById", "opened", "webformId", "categoryId", "lastActivityBy",
            "lastActivityTime", "entityTypeId",
        ]  # fmt: skip
        fields = (await portal.ok("crm.item.fields", {"entityTypeId": 128}))["fields"]
        assert list(fields) == [k for k in list(added) if k != "entityTypeId"]

    async def test_fields_are_the_documented_smart_process_s(self, portal: Portal) -> None:
        """crm-item-fields.md's example, for a type with its settings and parents (the stage
        list is named after our funnel 0)."""
        await new_type(portal, entityTypeId=1248, title="Smart Process #16")
        relations = {"parent": [{"entityTypeId": 1}, {"entityTypeId": 2},
                                {"entityTypeId": 1248}]}  # fmt: skip
        await portal.ok("crm.type.add", {"fields": {**ADD_EXAMPLE["fields"], "entityTypeId": 1268,
                                                    "relations": relations}})  # fmt: skip
        fields = (await portal.ok("crm.item.fields", {"entityTypeId": 1268}))["fields"]
        assert list(fields) == SPA_FIELD_ORDER
        expected = {
            name: _described(spec) for name, spec in {**SPA_FIELDS, **_MORE_SPA_FIELDS}.items()
        }
        for name in ("stageId", "previousStageId"):
            expected[name] = {**expected[name], "statusType": "DYNAMIC_1268_STAGE_0"}
            expected[name] = {k: expected[name][k] for k in
                              ("type", "isRequired", "isReadOnly", "isImmutable", "isMultiple",
                               "isDynamic", "statusType", "title", "upperName")}  # fmt: skip
        assert fields == {name: expected[name] for name in SPA_FIELD_ORDER}

    async def test_items_of_two_types_are_kept_apart(self, portal: Portal) -> None:
        await new_type(portal)
        await new_type(portal)
        one = await portal.ok("crm.item.add", {"entityTypeId": 128, "fields": {"title": "a"}})
        two = await portal.ok("crm.item.add", {"entityTypeId": 130, "fields": {"title": "b"}})
        assert [i["title"] for i in (await portal.ok(
            "crm.item.list", {"entityTypeId": 130}))["items"]] == ["b"]  # fmt: skip
        for params in ({"entityTypeId": 128, "id": two["item"]["id"]},
                       {"entityTypeId": 130, "id": one["item"]["id"]}):  # fmt: skip
            assert (await error_of(portal, "crm.item.get", params))["error"] == "NOT_FOUND"
        assert (
            await error_of(
                portal, "crm.item.delete", {"entityTypeId": 130, "id": one["item"]["id"]}
            )
        )["error"] == "NOT_FOUND"
        assert (await error_of(portal, "crm.item.add", {"entityTypeId": 132, "fields": {}}))[
            "error"
        ] == "NOT_FOUND"

    async def test_a_title_with_braces(self, portal: Portal) -> None:
        await new_type(portal, title="Orders {EU}")
        added = await portal.ok("crm.item.add", {"entityTypeId": 128, "fields": {}})
        assert added["item"]["title"] == f"Orders {{EU}} #{added['item']['id']}"


class TestEvents:
    """events/type/on-crm-type-{add,update,delete}.md, events/on-crm-dynamic-item-add.md"""

    async def test_type_and_item_events(self, portal: Portal, receiver: Receiver) -> None:
        token = (await tokens(portal, await register(portal)))["access_token"]
        for event in ("ONCRMTYPEADD", "ONCRMTYPEUPDATE", "ONCRMTYPEDELETE",
                      "ONCRMDYNAMICITEMADD"):  # fmt: skip
            response = await portal.client.post("/rest/event.bind", json={
                "auth": token, "event": event, "handler": receiver.url()})  # fmt: skip
            assert response.status_code == 200, response.text
        added = await new_type(portal)
        await portal.ok("crm.type.update", {"id": added["id"], "fields": {"title": "B"}})
        item = await portal.ok("crm.item.add", {"entityTypeId": 128, "fields": {}})
        await portal.ok("crm.item.delete", {"entityTypeId": 128, "id": item["item"]["id"]})
        await portal.ok("crm.type.delete", {"id": added["id"]})
        queued = sorted((d.event, d.data) for d in await portal.store.deliveries(None, 10))
        assert queued == [
            ("ONCRMDYNAMICITEMADD", {"FIELDS": {"ID": str(item["item"]["id"]),
                                                "ENTITY_TYPE_ID": "128"}}),
            ("ONCRMTYPEADD", {"FIELDS": {"ID": "1"}}),
            ("ONCRMTYPEDELETE", {"FIELDS": {"ID": "1"}}),
            ("ONCRMTYPEUPDATE", {"FIELDS": {"ID": "1"}}),
        ]  # fmt: skip
