"""userfieldconfig.* over the wire: custom fields of smart processes (CRM_{id}), smart invoices
(CRM_SMART_INVOICE) and deals (CRM_DEAL), and what crm.item.* does with them.

Pages: api-reference/crm/universal/userfieldconfig/{index,userfieldconfig-add,
userfieldconfig-get,userfieldconfig-list,userfieldconfig-update,userfieldconfig-delete,
userfieldconfig-get-types}.md and events/; tutorials/crm/how-to-add-crm-objects/
how-to-add-user-field-to-spa.md. b24pysdk's tests/integration/scopes/test_userfieldconfig.py
runs add, get, update, delete against a real portal.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from orderlink.registry import Role

from .conftest import Portal, error_of
from .oauth_apps import register, tokens
from .receiver import Receiver

pytestmark = pytest.mark.anyio

# userfieldconfig-add.md, cURL (Webhook).
ADD_EXAMPLE: dict[str, Any] = {"moduleId": "crm", "field": {
    "entityId": "CRM_7", "fieldName": "UF_CRM_7_NEW_REST_LIST_2026", "userTypeId": "enumeration",
    "multiple": "Y", "editFormLabel": {"en": "List of characteristics"},
    "enum": [{"value": "Characteristic 1", "def": "N", "sort": 100},
             {"value": "Characteristic 2", "def": "Y", "sort": 200}],
}}  # fmt: skip


def _enum(field_id: str) -> list[dict[str, Any]]:
    return [
        {"id": "1", "userFieldId": field_id, "value": "Characteristic 1", "def": "N",
         "sort": "100"},
        {"id": "2", "userFieldId": field_id, "value": "Characteristic 2", "def": "Y",
         "sort": "200"},
    ]  # fmt: skip


def _labels(**given: str) -> dict[str, Any]:
    """The five label maps for the portal's one language (`en`), as the pages print them."""
    names = ("editFormLabel", "listColumnLabel", "listFilterLabel", "errorMessage", "helpMessage")
    return {name: {"en": given.get(name)} for name in names}


# userfieldconfig-add.md's answer; its `id` 6953 is the first here, its enum ids 3363/3365 are
# the field's own 1 and 2, and its portal's second language (`ru`) is not this portal's.
ADD_ANSWER: dict[str, Any] = {
    "id": "1", "entityId": "CRM_7", "fieldName": "UF_CRM_7_NEW_REST_LIST_2026",
    "userTypeId": "enumeration", "xmlId": None, "sort": "100", "multiple": "Y",
    "mandatory": "N", "showFilter": "N", "showInList": "Y", "editInList": "Y",
    "isSearchable": "N",
    "settings": {"DISPLAY": "LIST", "LIST_HEIGHT": 1, "CAPTION_NO_VALUE": "",
                 "SHOW_NO_VALUE": "Y"},
    "languageId": {"en": "en"}, **_labels(editFormLabel="List of characteristics"),
}  # fmt: skip
GET_KEYS = [*ADD_ANSWER, "enum"]


async def smart_processes(portal: Portal, count: int) -> None:
    """Smart processes with ids 1 .. `count` (CRM_1 .. CRM_{count})."""
    for number in range(count):
        await portal.ok("crm.type.add", {"fields": {"title": f"SPA {number + 1}"}})


def without_xml_ids(field: dict[str, Any]) -> dict[str, Any]:
    items = [{k: v for k, v in i.items() if k != "xmlId"} for i in field.get("enum", [])]
    return {**field, "enum": items} if "enum" in field else field


class TestAdd:
    """userfieldconfig-add.md, how-to-add-user-field-to-spa.md"""

    async def test_the_documented_example(self, portal: Portal) -> None:
        await smart_processes(portal, 7)
        response = await portal.call("userfieldconfig.add", ADD_EXAMPLE)
        assert response.status_code == 200, response.text
        field = response.json()["result"]["field"]
        assert list(field) == GET_KEYS
        assert without_xml_ids(field) == {**ADD_ANSWER, "enum": _enum("1")}
        # No xmlId given: 32 hex digits, as the page's md5 sums.
        assert all(re.fullmatch(r"[0-9a-f]{32}", i["xmlId"]) for i in field["enum"])

    async def test_a_smart_invoice_field_and_its_defaults(self, portal: Portal) -> None:
        field = {"entityId": "CRM_SMART_INVOICE", "fieldName": "UF_CRM_SMART_INVOICE_NOTE",
                 "userTypeId": "string", "editFormLabel": "Note", "sort": 5,
                 "mandatory": "Y", "showFilter": "Y", "isSearchable": "Y",
                 "settings": {"ROWS": 2}, "showInList": "N",
                 "listColumnLabel": "not processed"}  # fmt: skip
        added = (await portal.ok("userfieldconfig.add", {"moduleId": "crm", "field": field}))[
            "field"]  # fmt: skip
        assert "enum" not in added
        assert (added["sort"], added["mandatory"], added["isSearchable"]) == ("5", "Y", "Y")
        # showFilter Y is a mask filter (the list page's N/I/E/S); showInList and the list
        # labels are not processed by add (the page).
        assert (added["showFilter"], added["showInList"]) == ("E", "Y")
        assert (added["editFormLabel"], added["listColumnLabel"]) == ({"en": "Note"}, {"en": None})
        assert added["settings"] == {"ROWS": 2}

    @pytest.mark.parametrize(
        ("field", "text"),
        [
            ({"entityId": "CRM_1", "userTypeId": "string"}, "The 'FIELD_NAME' field is not found."),
            ({"entityId": "CRM_1", "fieldName": "UF_CRM_1_A"},
             "The 'USER_TYPE_ID' field is not found."),
            ({"entityId": "CRM_1", "fieldName": "UF_CRM_A", "userTypeId": "string"},
             "You cannot create custom fields"),
            ({"entityId": "CRM_128", "fieldName": "UF_CRM_128_A", "userTypeId": "string"},
             "You cannot create custom fields"),
            ({"entityId": "CRM_LEAD", "fieldName": "UF_CRM_LEAD_A", "userTypeId": "string"},
             "You cannot create custom fields"),
            ({"entityId": "CRM_1", "fieldName": "UF_CRM_1_A", "userTypeId": "nope"},
             "Fail to create new user field"),
            ({"entityId": "CRM_1", "fieldName": "UF_CRM_1_a-b", "userTypeId": "string"},
             "Field code: allowed characters are A-Z, 0-9 and _, at most 50 of them."),
            ({"entityId": "CRM_1", "fieldName": "UF_CRM_1_" + "X" * 50, "userTypeId": "string"},
             "Field code: allowed characters are A-Z, 0-9 and _, at most 50 of them."),
        ],
    )  # fmt: skip
    async def test_refusals(self, portal: Portal, field: dict[str, Any], text: str) -> None:
        """The page's texts, with an empty code; how-to-add-user-field-to-spa.md: an
        entityTypeId in place of the type's `id` is "You cannot create custom fields" (and
        leads are no object of this server). The invalid-name text is ours."""
        await smart_processes(portal, 1)
        assert await error_of(portal, "userfieldconfig.add", {"moduleId": "crm",
                                                              "field": field}) == {
            "error": "", "error_description": text}  # fmt: skip
        assert (await portal.ok("userfieldconfig.list", {"moduleId": "crm"}))["fields"] == []

    async def test_a_name_defined_twice(self, portal: Portal) -> None:
        await smart_processes(portal, 7)
        await portal.ok("userfieldconfig.add", ADD_EXAMPLE)
        assert await error_of(portal, "userfieldconfig.add", ADD_EXAMPLE) == {
            "error": "",
            "error_description": "Field UF_CRM_7_NEW_REST_LIST_2026 already exists",
        }

    async def test_missing_parameters(self, portal: Portal) -> None:
        assert await error_of(portal, "userfieldconfig.add", {"field": {}}) == {
            "error": "100",
            "error_description": "Could not find value for parameter {moduleId}",
        }
        assert (await error_of(portal, "userfieldconfig.add", {"moduleId": "crm"}))[
            "error_description"] == "Could not find value for parameter {field}"  # fmt: skip


class TestGetListUpdateDelete:
    """userfieldconfig-get.md, -list.md, -update.md, -delete.md"""

    async def test_get_answers_what_add_did(self, portal: Portal) -> None:
        await smart_processes(portal, 7)
        added = (await portal.ok("userfieldconfig.add", ADD_EXAMPLE))["field"]
        got = await portal.ok("userfieldconfig.get", {"moduleId": "crm", "id": 1})
        assert got == {"field": added}

    async def test_the_list_example_labels_in_one_language(self, portal: Portal) -> None:
        """userfieldconfig-list.md: `select.language` prints the labels in that language only
        (null when it has none) and no `enum`."""
        await smart_processes(portal, 7)
        example = {**ADD_EXAMPLE["field"],
                   "editFormLabel": {"en": "List of characteristics",
                                     "de": "List of Characteristics"}}  # fmt: skip
        await portal.ok("userfieldconfig.add", {"moduleId": "crm", "field": example})
        single = {"entityId": "CRM_7", "fieldName": "UF_CRM_7_SINGLE", "userTypeId": "string"}
        await portal.ok("userfieldconfig.add", {"moduleId": "crm", "field": single})
        params = {"moduleId": "crm", "select": {"0": "*", "language": "de"},
                  "order": {"id": "DESC"}, "filter": {"multiple": "Y"}, "start": 0}  # fmt: skip
        body = (await portal.call("userfieldconfig.list", params)).json()
        assert body["total"] == 1
        (row,) = body["result"]["fields"]
        assert row == {
            **{k: v for k, v in ADD_ANSWER.items() if k not in ("languageId",)},
            "languageId": {"de": "de"}, "editFormLabel": {"de": "List of Characteristics"},
            "listColumnLabel": None, "listFilterLabel": None, "errorMessage": None,
            "helpMessage": None,
        }  # fmt: skip

    async def test_list_order_filter_select_and_paging(self, portal: Portal) -> None:
        await smart_processes(portal, 2)
        for number in range(52):
            field = {
                "entityId": f"CRM_{1 + number % 2}",
                "userTypeId": "string",
                "fieldName": f"UF_CRM_{1 + number % 2}_F{number}",
                "sort": 100 - number,
            }
            await portal.ok("userfieldconfig.add", {"moduleId": "crm", "field": field})
        first = (await portal.call("userfieldconfig.list", {"moduleId": "crm"})).json()
        # By sort, then id (the page's default order).
        assert [f["fieldName"] for f in first["result"]["fields"][:2]] == [
            "UF_CRM_2_F51", "UF_CRM_1_F50"]  # fmt: skip
        assert (len(first["result"]["fields"]), first["total"], first["next"]) == (50, 52, 50)
        selected = await portal.ok("userfieldconfig.list", {
            "moduleId": "crm", "filter": {"entityId": "CRM_1", "%fieldName": "F1"},
            "select": ["id", "fieldName", "enum"], "order": {"fieldName": "ASC"}})  # fmt: skip
        assert [list(f) for f in selected["fields"]] == [["id", "fieldName"]] * 5
        assert [f["fieldName"] for f in selected["fields"]][:2] == ["UF_CRM_1_F10", "UF_CRM_1_F12"]
        body = await error_of(portal, "userfieldconfig.list",
                              {"moduleId": "crm", "filter": {"nope": 1}})  # fmt: skip
        assert body["error"] == ""

    async def test_the_update_example(self, portal: Portal) -> None:
        await smart_processes(portal, 7)
        await portal.ok("userfieldconfig.add", ADD_EXAMPLE)
        params = {"moduleId": "crm", "id": 1, "field": {
            "mandatory": "Y", "editFormLabel": {"en": "List of characteristics (updated)"},
            "multiple": "N", "fieldName": "UF_CRM_7_OTHER"}}  # fmt: skip
        updated = (await portal.ok("userfieldconfig.update", params))["field"]
        assert without_xml_ids(updated) == {
            **ADD_ANSWER, "mandatory": "Y",
            **_labels(editFormLabel="List of characteristics (updated)"), "enum": _enum("1"),
        }  # fmt: skip

    async def test_enum_items_change_by_id(self, portal: Portal) -> None:
        """userfieldconfig-update.md: `enum` applies with `userTypeId` enumeration; an item with
        an `id` changes (`del: Y` deletes it), one without is added; others stay."""
        await smart_processes(portal, 7)
        await portal.ok("userfieldconfig.add", ADD_EXAMPLE)
        change = [{"id": 1, "del": "Y"}, {"id": 2, "value": "Two", "def": "N"},
                  {"value": "Three", "xmlId": "three"}]  # fmt: skip
        ignored = await portal.ok("userfieldconfig.update", {
            "moduleId": "crm", "id": 1, "field": {"enum": change}})  # fmt: skip
        assert [i["value"] for i in ignored["field"]["enum"]] == [
            "Characteristic 1", "Characteristic 2"]  # fmt: skip
        updated = await portal.ok("userfieldconfig.update", {"moduleId": "crm", "id": 1, "field": {
            "userTypeId": "enumeration", "enum": change}})  # fmt: skip
        assert without_xml_ids(updated["field"])["enum"] == [
            {"id": "2", "userFieldId": "1", "value": "Two", "def": "N", "sort": "200"},
            {"id": "3", "userFieldId": "1", "value": "Three", "def": "N", "sort": "500"},
        ]
        assert updated["field"]["enum"][1]["xmlId"] == "three"

    async def test_delete_answers_null_and_the_field_is_gone(self, portal: Portal) -> None:
        await smart_processes(portal, 7)
        await portal.ok("userfieldconfig.add", ADD_EXAMPLE)
        response = await portal.call("userfieldconfig.delete", {"moduleId": "crm", "id": 1})
        assert response.status_code == 200
        assert response.json()["result"] is None
        assert await error_of(portal, "userfieldconfig.get", {"moduleId": "crm", "id": 1}) == {
            "error": "",
            "error_description": "You do not have permission to view user field settings",
        }

    async def test_a_missing_field(self, portal: Portal) -> None:
        """Each page words a field that is not there as its refusal."""
        for method, text in (
            ("userfieldconfig.get", "You do not have permission to view user field settings"),
            ("userfieldconfig.update", "You cannot change the settings of the user field"),
            ("userfieldconfig.delete", "You cannot delete the user field"),
        ):
            assert await error_of(portal, method, {"moduleId": "crm", "id": 9, "field": {}}) == {
                "error": "",
                "error_description": text,
            }
            assert (await error_of(portal, method, {"moduleId": "crm"}))["error_description"] == (
                "Could not find value for parameter {id}")  # fmt: skip


class TestScopesAndRights:
    """userfieldconfig/index.md: scope `userfieldconfig` and the module's; writes need the
    right to change CRM settings (here: a portal administrator)."""

    async def test_the_module_and_its_scope(self, portal: Portal) -> None:
        assert await error_of(portal, "userfieldconfig.getTypes", {"moduleId": "rpa"}) == {
            "error": "",
            "error_description": "No settings for UserFieldAccess",
        }
        hook = await portal.webhook_for(Role.NONE, scopes=("userfieldconfig",))
        assert await error_of(portal, "userfieldconfig.list", {"moduleId": "crm"}, hook=hook) == {
            "error": "",
            "error_description": "The current method required more scopes. (crm)",
        }
        crm_only = await portal.webhook_for(Role.NONE, scopes=("crm",))
        denied = await portal.call("userfieldconfig.list", {"moduleId": "crm"}, hook=crm_only)
        assert (denied.status_code, denied.json()["error"]) == (401, "insufficient_scope")

    async def test_writes_are_for_administrators(self, portal: Portal) -> None:
        await smart_processes(portal, 7)
        hook = await portal.webhook_for(Role.STORE_ADMIN, scopes=("crm", "userfieldconfig"))
        assert await error_of(portal, "userfieldconfig.add", ADD_EXAMPLE, hook=hook) == {
            "error": "",
            "error_description": "Access denied",
        }
        await portal.ok("userfieldconfig.add", ADD_EXAMPLE)
        assert (await portal.ok("userfieldconfig.get", {"moduleId": "crm", "id": 1},
                                hook=hook))["field"]["id"] == "1"  # fmt: skip
        for method, text in (
            ("userfieldconfig.update", "You cannot change the settings of the user field"),
            ("userfieldconfig.delete", "You cannot delete the user field"),
        ):
            assert await error_of(portal, method, {"moduleId": "crm", "id": 1}, hook=hook) == {
                "error": "",
                "error_description": text,
            }

    async def test_get_types(self, portal: Portal) -> None:
        """userfieldconfig-get-types.md's answer (without its application's own type)."""
        types = (await portal.ok("userfieldconfig.getTypes", {"moduleId": "crm"}))["types"]
        assert list(types) == [
            "crm", "crm_status", "money", "employee", "string", "integer", "double", "datetime",
            "date", "boolean", "address", "url", "file", "enumeration", "iblock_section",
            "iblock_element",
        ]  # fmt: skip
        assert types["enumeration"] == {"userTypeId": "enumeration", "description": "List"}


class TestCrmItem:
    """A field defined here is one of its type's crm.item fields: crm.item.fields lists it, an
    item stores, returns and filters its value."""

    async def test_a_smart_process_field(self, portal: Portal) -> None:
        await smart_processes(portal, 7)
        await portal.ok("userfieldconfig.add", ADD_EXAMPLE)
        type_id = 140  # the seventh smart process
        fields = (await portal.ok("crm.item.fields", {"entityTypeId": type_id}))["fields"]
        described = fields["ufCrm_7_NEW_REST_LIST_2026"]
        assert (described["type"], described["isMultiple"], described["isDynamic"]) == (
            "enumeration", True, True)  # fmt: skip
        assert described["upperName"] == "UF_CRM_7_NEW_REST_LIST_2026"
        assert described["title"] == "List of characteristics"
        assert described["items"] == [{"ID": "1", "VALUE": "Characteristic 1"},
                                      {"ID": "2", "VALUE": "Characteristic 2"}]  # fmt: skip
        original = await portal.ok("crm.item.fields", {"entityTypeId": type_id,
                                                       "useOriginalUfNames": "Y"})  # fmt: skip
        assert "UF_CRM_7_NEW_REST_LIST_2026" in original["fields"]
        # Other types do not list it.
        other = (await portal.ok("crm.item.fields", {"entityTypeId": 138}))["fields"]
        assert not any(name.startswith("ufCrm") for name in other)
        first = await portal.ok("crm.item.add", {"entityTypeId": type_id, "fields": {
            "ufCrm_7_NEW_REST_LIST_2026": [1, 2]}})  # fmt: skip
        await portal.ok("crm.item.add", {"entityTypeId": type_id, "fields": {
            "ufCrm_7_NEW_REST_LIST_2026": [1]}})  # fmt: skip
        assert first["item"]["ufCrm_7_NEW_REST_LIST_2026"] == [1, 2]
        found = await portal.ok("crm.item.list", {
            "entityTypeId": type_id, "filter": {"ufCrm_7_NEW_REST_LIST_2026": 2},
            "select": ["id", "ufCrm_7_NEW_REST_LIST_2026"]})  # fmt: skip
        assert found["items"] == [{"id": first["item"]["id"],
                                   "ufCrm_7_NEW_REST_LIST_2026": [1, 2]}]  # fmt: skip

    async def test_a_smart_invoice_field(self, portal: Portal) -> None:
        field = {"entityId": "CRM_SMART_INVOICE", "fieldName": "UF_CRM_SMART_INVOICE_1721",
                 "userTypeId": "double", "editFormLabel": "Weight"}  # fmt: skip
        await portal.ok("userfieldconfig.add", {"moduleId": "crm", "field": field})
        fields = (await portal.ok("crm.item.fields", {"entityTypeId": 31}))["fields"]
        assert fields["ufCrm_SMART_INVOICE_1721"]["title"] == "Weight"
        added = await portal.ok("crm.item.add", {"entityTypeId": 31, "fields": {
            "ufCrm_SMART_INVOICE_1721": 2.5}})  # fmt: skip
        assert added["item"]["ufCrm_SMART_INVOICE_1721"] == 2.5

    async def test_deal_fields_are_crm_deal_userfield_s(self, portal: Portal) -> None:
        """CRM_DEAL's fields are the same definitions crm.deal.userfield.* keeps, both ways;
        b24pysdk's add/get/update/delete sequence (its CRM_LEAD is no object here)."""
        legacy_id = await portal.ok("crm.deal.userfield.add", {"fields": {
            "FIELD_NAME": "OLD", "USER_TYPE_ID": "string", "LABEL": "Old"}})  # fmt: skip
        name = "UF_CRM_DEAL_B24PYSDK_1719315806000000"
        added = await portal.ok("userfieldconfig.add", {"moduleId": "crm", "field": {
            "entityId": "CRM_DEAL", "fieldName": name, "userTypeId": "string",
            "mandatory": "N", "showFilter": "N", "editInList": "Y"}})  # fmt: skip
        field_id = added["field"]["id"]
        assert isinstance(field_id, str)
        assert int(field_id) > 0
        got = (await portal.ok("userfieldconfig.get", {"moduleId": "crm", "id": field_id}))[
            "field"]  # fmt: skip
        assert (got["entityId"], got["fieldName"], got["userTypeId"]) == ("CRM_DEAL", name,
                                                                          "string")  # fmt: skip
        updated = await portal.ok(
            "userfieldconfig.update",
            {
                "moduleId": "crm",
                "id": field_id,
                "field": {"mandatory": "Y", "editFormLabel": {"ru": "Label"}},
            },
        )
        assert (updated["field"]["id"], updated["field"]["mandatory"]) == (field_id, "Y")
        assert updated["field"]["editFormLabel"] == {"en": None, "ru": "Label"}
        legacy_names = [f["FIELD_NAME"] for f in await portal.ok("crm.deal.userfield.list")]
        assert legacy_names == ["UF_CRM_OLD", name]
        listed = await portal.ok(
            "userfieldconfig.list", {"moduleId": "crm", "filter": {"entityId": "CRM_DEAL"}}
        )
        assert [f["id"] for f in listed["fields"]] == [str(legacy_id), field_id]
        assert (
            await portal.ok("userfieldconfig.delete", {"moduleId": "crm", "id": field_id}) is None
        )
        assert len(await portal.ok("crm.deal.userfield.list")) == 1

    async def test_contact_and_company_fields_are_crm_contact_userfield_s(
        self, portal: Portal
    ) -> None:
        field = {"entityId": "CRM_CONTACT", "fieldName": "UF_CRM_CONTACT_SHOE",
                 "userTypeId": "integer", "editFormLabel": "Shoe size"}  # fmt: skip
        await portal.ok("userfieldconfig.add", {"moduleId": "crm", "field": field})
        (listed,) = await portal.ok("crm.contact.userfield.list")
        assert (listed["FIELD_NAME"], listed["ENTITY_ID"]) == ("UF_CRM_CONTACT_SHOE", "CRM_CONTACT")
        fields = (await portal.ok("crm.item.fields", {"entityTypeId": 3}))["fields"]
        assert fields["ufCrm_CONTACT_SHOE"]["title"] == "Shoe size"
        assert await portal.ok("crm.company.userfield.list") == []

    async def test_crm_deal_userfield_sees_no_other_object_s_fields(self, portal: Portal) -> None:
        await smart_processes(portal, 7)
        await portal.ok("userfieldconfig.add", ADD_EXAMPLE)
        assert await portal.ok("crm.deal.userfield.list") == []
        # Another object's field, as crm.contact.userfield.get answers for a deal's.
        assert await error_of(portal, "crm.deal.userfield.get", {"id": 1}) == {
            "error": "",
            "error_description": "Access denied.",
        }
        deal_fields = await portal.ok("crm.deal.fields")
        assert "UF_CRM_7_NEW_REST_LIST_2026" not in deal_fields


class TestEvents:
    """events/index.md "Which Events Arrive Together": a list field added with values raises
    ADD and SETENUMVALUES; an update that gives `enum` UPDATE and SETENUMVALUES; a deal's
    field raises the deal's own events."""

    async def test_the_events(self, portal: Portal, receiver: Receiver) -> None:
        token = (await tokens(portal, await register(portal)))["access_token"]
        names = ("ONCRMTYPEUSERFIELDADD", "ONCRMTYPEUSERFIELDUPDATE",
                 "ONCRMTYPEUSERFIELDDELETE", "ONCRMTYPEUSERFIELDSETENUMVALUES",
                 "ONCRMDEALUSERFIELDADD")  # fmt: skip
        for event in names:
            response = await portal.client.post("/rest/event.bind", json={
                "auth": token, "event": event, "handler": receiver.url()})  # fmt: skip
            assert response.status_code == 200, response.text
        await smart_processes(portal, 7)
        await portal.ok("userfieldconfig.add", ADD_EXAMPLE)
        await portal.ok("userfieldconfig.update", {"moduleId": "crm", "id": 1,
                                                   "field": {"sort": 5}})  # fmt: skip
        await portal.ok("userfieldconfig.update", {"moduleId": "crm", "id": 1, "field": {
            "userTypeId": "enumeration", "enum": [{"value": "3"}]}})  # fmt: skip
        await portal.ok("userfieldconfig.delete", {"moduleId": "crm", "id": 1})
        await portal.ok(
            "userfieldconfig.add",
            {
                "moduleId": "crm",
                "field": {
                    "entityId": "CRM_DEAL",
                    "fieldName": "UF_CRM_DEAL_X",
                    "userTypeId": "string",
                },
            },
        )
        queued = [(d.event, d.data) for d in reversed(await portal.store.deliveries(None, 20))]
        spa = {"FIELDS": {"ID": "1", "ENTITY_ID": "CRM_7",
                          "FIELD_NAME": "UF_CRM_7_NEW_REST_LIST_2026"}}  # fmt: skip
        assert queued == [
            ("ONCRMTYPEUSERFIELDADD", spa), ("ONCRMTYPEUSERFIELDSETENUMVALUES", spa),
            ("ONCRMTYPEUSERFIELDUPDATE", spa),
            ("ONCRMTYPEUSERFIELDUPDATE", spa), ("ONCRMTYPEUSERFIELDSETENUMVALUES", spa),
            ("ONCRMTYPEUSERFIELDDELETE", spa),
            ("ONCRMDEALUSERFIELDADD", {"FIELDS": {"ID": "2", "ENTITY_ID": "CRM_DEAL",
                                                  "FIELD_NAME": "UF_CRM_DEAL_X"}}),
        ]  # fmt: skip
