"""crm.deal.userfield.* over the wire, and the fields it defines in crm.deal.fields and
crm.item.fields (entityTypeId 2).

Pages: api-reference/crm/deals/user-defined-fields/{crm-deal-userfield-add,
crm-deal-userfield-get,crm-deal-userfield-list,crm-deal-userfield-update,
crm-deal-userfield-delete}.md, api-reference/crm/deals/crm-deal-fields.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.entity_types import DEAL

from .conftest import Portal, error_of
from .oauth_apps import register, tokens
from .receiver import Receiver
from .test_events import deliveries, rest

pytestmark = pytest.mark.anyio

# crm-deal-userfield-add.md, "Example of Creating a String Type Custom Field", cURL (Webhook)
STRING_EXAMPLE: dict[str, Any] = {"fields": {
    "LABEL": "Field 'Hello, world!'", "USER_TYPE_ID": "string", "FIELD_NAME": "HELLO_WORLD",
    "MULTIPLE": "Y", "MANDATORY": "Y", "SHOW_FILTER": "Y",
    "SETTINGS": {"DEFAULT_VALUE": "Hello, world! Default value", "ROWS": 3}, "SORT": 1000,
    "EDIT_IN_LIST": "Y", "LIST_FILTER_LABEL": "Hello, world! Filter",
    "LIST_COLUMN_LABEL": {"en": "Hello, World! Column", "ru": "Hello, world! Column",
                          "de": "Hallo, Welt! Spalte"},
    "EDIT_FORM_LABEL": {"en": "Hello, World! Edit", "ru": "Hello, world! Edit",
                        "de": "Hallo, Welt! Bearbeiten"},
    "ERROR_MESSAGE": {"en": "Hello, World! Error", "ru": "Hello, world! Error",
                      "de": "Hallo, Welt! Fehler"},
    "HELP_MESSAGE": {"en": "Hello, World! Help", "ru": "Hello, world! Help",
                     "de": "Hallo, Welt! Hilfe"},
}}  # fmt: skip
# The same page, "Example of Creating a List Type Custom Field"
LIST_EXAMPLE: dict[str, Any] = {"fields": {
    "LABEL": "Custom field (list)", "USER_TYPE_ID": "enumeration",
    "FIELD_NAME": "ENUMERATION_EXAMPLE", "MULTIPLE": "N", "MANDATORY": "N", "SHOW_FILTER": "Y",
    "LIST": [{"VALUE": "List item #1", "DEF": "Y", "XML_ID": "XML_ID_1", "SORT": 100},
             {"VALUE": "List item #2", "XML_ID": "XML_ID_2", "SORT": 200},
             {"VALUE": "List item #3", "XML_ID": "XML_ID_3", "SORT": 300},
             {"VALUE": "List item #4", "XML_ID": "XML_ID_4", "SORT": 400}],
    "SETTINGS": {"DISPLAY": "UI", "LIST_HEIGHT": 2}, "SORT": 2000,
}}  # fmt: skip
GET_KEYS = [
    "ID", "ENTITY_ID", "FIELD_NAME", "USER_TYPE_ID", "XML_ID", "SORT", "MULTIPLE", "MANDATORY",
    "SHOW_FILTER", "SHOW_IN_LIST", "EDIT_IN_LIST", "IS_SEARCHABLE", "SETTINGS",
    "EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL", "ERROR_MESSAGE", "HELP_MESSAGE",
]  # fmt: skip


class TestAddAndGet:
    """crm-deal-userfield-add.md, crm-deal-userfield-get.md"""

    async def test_string_example_answers_an_id_and_reads_back(self, portal: Portal) -> None:
        field_id = await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        assert isinstance(field_id, int)
        got = await portal.ok("crm.deal.userfield.get", {"id": field_id})
        assert list(got) == GET_KEYS
        assert got["ID"] == str(field_id)
        assert (got["ENTITY_ID"], got["FIELD_NAME"], got["USER_TYPE_ID"]) == (
            "CRM_DEAL", "UF_CRM_HELLO_WORLD", "string")  # fmt: skip
        assert (got["SORT"], got["MULTIPLE"], got["MANDATORY"], got["XML_ID"]) == (
            "1000", "Y", "Y", None)  # fmt: skip
        assert got["SETTINGS"] == {"DEFAULT_VALUE": "Hello, world! Default value", "ROWS": 3}
        labels = got["EDIT_FORM_LABEL"]
        assert (labels["en"], labels["de"], labels["fr"]) == (
            "Hello, World! Edit", "Hallo, Welt! Bearbeiten", "Field 'Hello, world!'")  # fmt: skip
        assert len(labels) == 21
        assert set(got["LIST_FILTER_LABEL"].values()) == {"Hello, world! Filter"}

    async def test_list_example_numbers_its_items(self, portal: Portal) -> None:
        field_id = await portal.ok("crm.deal.userfield.add", LIST_EXAMPLE)
        got = await portal.ok("crm.deal.userfield.get", {"id": field_id})
        assert [(i["ID"], i["VALUE"], i["DEF"], i["SORT"]) for i in got["LIST"]] == [
            ("1", "List item #1", "Y", "100"), ("2", "List item #2", "N", "200"),
            ("3", "List item #3", "N", "300"), ("4", "List item #4", "N", "400"),
        ]  # fmt: skip

    async def test_lowercase_name_is_upper_cased(self, portal: Portal) -> None:
        fields = {"FIELD_NAME": "my_field", "USER_TYPE_ID": "integer"}
        field_id = await portal.ok("crm.deal.userfield.add", {"fields": fields})
        got = await portal.ok("crm.deal.userfield.get", {"id": field_id})
        assert got["FIELD_NAME"] == "UF_CRM_MY_FIELD"
        assert (got["SORT"], got["MULTIPLE"], got["EDIT_IN_LIST"], got["SHOW_FILTER"]) == (
            "100", "N", "Y", "N")  # fmt: skip

    @pytest.mark.parametrize(
        ("fields", "code", "text"),
        [
            ({"USER_TYPE_ID": "string"}, "", "The 'FIELD_NAME' field is not found."),
            ({"FIELD_NAME": "X"}, "", "The 'USER_TYPE_ID' field is not found."),
            ({"FIELD_NAME": "X", "USER_TYPE_ID": "nope"}, "ERROR_CORE",
             "Incorrect custom type specified."),
            ({"FIELD_NAME": "A" * 44, "USER_TYPE_ID": "string"}, "ERROR_CORE",
             "Field name is too long (more than 50 characters)."),
            ({"FIELD_NAME": "BAD-NAME", "USER_TYPE_ID": "string"}, "ERROR_CORE",
             "Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _."),
        ],
    )  # fmt: skip
    async def test_documented_add_errors(
        self, portal: Portal, fields: dict[str, Any], code: str, text: str
    ) -> None:
        body = await error_of(portal, "crm.deal.userfield.add", {"fields": fields})
        assert body == {"error": code, "error_description": text}
        assert await portal.ok("crm.deal.userfield.list", {}) == []

    async def test_a_name_is_defined_once(self, portal: Portal) -> None:
        """Inferred: FIELD_NAME is "Unique within deals"; a second definition is refused."""
        await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        body = await error_of(portal, "crm.deal.userfield.add", STRING_EXAMPLE)
        assert body["error"] == "ERROR_CORE"

    async def test_get_errors(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.deal.userfield.get", {"id": 0})
        assert body == {"error": "", "error_description": "ID is not defined or invalid."}
        body = await error_of(portal, "crm.deal.userfield.get", {"id": 77})
        assert body["error"] == "ERROR_NOT_FOUND"


class TestListUpdateDelete:
    """crm-deal-userfield-list.md, crm-deal-userfield-update.md, crm-deal-userfield-delete.md"""

    async def test_list_example_with_lang(self, portal: Portal) -> None:
        await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        await portal.ok("crm.deal.userfield.add", LIST_EXAMPLE)
        params = {"filter": {"MULTIPLE": "Y", "MANDATORY": "Y", "LANG": "de"},
                  "order": {"USER_TYPE_ID": "ASC", "SORT": "ASC"}}  # fmt: skip
        rows = await portal.ok("crm.deal.userfield.list", params)
        assert [r["FIELD_NAME"] for r in rows] == ["UF_CRM_HELLO_WORLD"]
        assert list(rows[0]) == GET_KEYS
        assert rows[0]["EDIT_FORM_LABEL"] == "Hallo, Welt! Bearbeiten"
        assert rows[0]["LIST_FILTER_LABEL"] == "Hello, world! Filter"

    async def test_list_without_lang_has_no_labels(self, portal: Portal) -> None:
        await portal.ok("crm.deal.userfield.add", LIST_EXAMPLE)
        rows = await portal.ok("crm.deal.userfield.list", {})
        assert list(rows[0]) == [k for k in GET_KEYS if "LABEL" not in k and "MESSAGE" not in k] + [
            "LIST"
        ]
        assert rows[0]["SHOW_FILTER"] == "E"

    async def test_list_filter_must_be_an_object(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.deal.userfield.list", {"filter": "x"})
        assert body == {"error": "", "error_description": "Parameter 'filter' must be array."}

    async def test_update_keeps_name_and_type(self, portal: Portal) -> None:
        field_id = await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        fields = {"FIELD_NAME": "OTHER", "USER_TYPE_ID": "integer", "SORT": 5,
                  "EDIT_FORM_LABEL": {"en": "Changed"}, "MANDATORY": "N"}  # fmt: skip
        assert await portal.ok("crm.deal.userfield.update", {"id": field_id, "fields": fields})
        got = await portal.ok("crm.deal.userfield.get", {"id": field_id})
        assert (got["FIELD_NAME"], got["USER_TYPE_ID"], got["SORT"]) == (
            "UF_CRM_HELLO_WORLD", "string", "5")  # fmt: skip
        assert got["EDIT_FORM_LABEL"]["en"] == "Changed"
        assert got["LIST_COLUMN_LABEL"]["en"] == "Hello, World! Column"

    async def test_delete(self, portal: Portal) -> None:
        field_id = await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        assert await portal.ok("crm.deal.userfield.delete", {"id": field_id}) is True
        body = await error_of(portal, "crm.deal.userfield.delete", {"id": field_id})
        assert body["error"] == "ERROR_NOT_FOUND"


class TestDefinedFieldsOnDeals:
    """crm-deal-fields.md (custom fields: `isDynamic` true), crm-item-fields.md"""

    async def test_crm_deal_fields_lists_them(self, portal: Portal) -> None:
        await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        described = await portal.ok("crm.deal.fields", {})
        assert described["UF_CRM_HELLO_WORLD"] == {
            "type": "string", "isRequired": True, "isReadOnly": False, "isImmutable": False,
            "isMultiple": True, "isDynamic": True, "title": "UF_CRM_HELLO_WORLD",
            "listLabel": "Hello, World! Column", "formLabel": "Hello, World! Edit",
            "filterLabel": "Hello, world! Filter",
            "settings": {"DEFAULT_VALUE": "Hello, world! Default value", "ROWS": 3},
        }  # fmt: skip

    async def test_crm_item_fields_names_them_in_camel_case(self, portal: Portal) -> None:
        await portal.ok("crm.deal.userfield.add", LIST_EXAMPLE)
        result = await portal.ok("crm.item.fields", {"entityTypeId": DEAL})
        found = result["fields"]["ufCrm_ENUMERATION_EXAMPLE"]
        assert (found["type"], found["title"], found["upperName"]) == (
            "enumeration", "Custom field (list)", "UF_CRM_ENUMERATION_EXAMPLE")  # fmt: skip
        assert found["items"][0] == {"ID": "1", "VALUE": "List item #1"}
        original = await portal.ok("crm.item.fields",
                                   {"entityTypeId": DEAL, "useOriginalUfNames": "Y"})  # fmt: skip
        assert "UF_CRM_ENUMERATION_EXAMPLE" in original["fields"]

    async def test_values_are_stored_and_filterable(self, portal: Portal) -> None:
        await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        deal = await portal.ok("crm.deal.add", {"fields": {"TITLE": "A",
                                                           "UF_CRM_HELLO_WORLD": ["x", "y"]}})  # fmt: skip
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "B"}})
        got = await portal.ok("crm.deal.get", {"id": deal})
        assert got["UF_CRM_HELLO_WORLD"] == ["x", "y"]
        rows = await portal.ok("crm.deal.list", {"filter": {"UF_CRM_HELLO_WORLD": "y"},
                                                 "select": ["ID"]})  # fmt: skip
        assert [r["ID"] for r in rows] == [str(deal)]


class TestEvents:
    """events/on-crm-deal-user-field-{add,update,delete}.md"""

    async def test_add_update_delete_are_posted(self, portal: Portal, receiver: Receiver) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        names = ("ONCRMDEALUSERFIELDADD", "ONCRMDEALUSERFIELDUPDATE", "ONCRMDEALUSERFIELDDELETE")
        for event in names:
            await rest(portal, token, "event.bind", {"event": event, "handler": receiver.url()})
        field_id = await rest(portal, token, "crm.deal.userfield.add", STRING_EXAMPLE)
        await rest(portal, token, "crm.deal.userfield.update",
                   {"id": field_id, "fields": {"SORT": 1}})  # fmt: skip
        await rest(portal, token, "crm.deal.userfield.delete", {"id": field_id})
        received = await deliveries(portal, receiver, 3)
        assert sorted(r["event"] for r in received) == sorted(names)
        fields = {"ID": str(field_id), "ENTITY_ID": "CRM_DEAL", "FIELD_NAME": "UF_CRM_HELLO_WORLD"}
        assert all(r["data"] == {"FIELDS": fields} for r in received)
