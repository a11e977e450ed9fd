"""crm.contact.userfield.* and crm.company.userfield.* over the wire (the deal's family,
declared once for three entities), and the fields they define on contacts and companies.

Pages: api-reference/crm/contacts/userfield/crm-contact-userfield-{add,get,list,update,
delete}.md, api-reference/crm/companies/userfields/crm-company-userfield-*.md, their events/
pages, api-reference/crm/contacts/crm-contact-fields.md and crm-contact-list.md (`UF_*`).
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.registry import Role

from .conftest import Portal, error_of, legacy
from .oauth_apps import register, tokens
from .receiver import Receiver
from .test_crm_deal_userfield import GET_KEYS, LIST_EXAMPLE, STRING_EXAMPLE
from .test_events import deliveries, rest

pytestmark = pytest.mark.anyio

OWNERS = [("contact", "CRM_CONTACT"), ("company", "CRM_COMPANY")]


@pytest.fixture(params=OWNERS, ids=[noun for noun, _ in OWNERS])
def owner(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The entity a test defines fields of: (noun in the method names, ENTITY_ID)."""
    return request.param  # type: ignore[no-any-return]


def method(owner: tuple[str, str], name: str) -> str:
    return f"crm.{owner[0]}.userfield.{name}"


async def entity(portal: Portal, noun: str, **fields: Any) -> int:
    """A contact or company with the given fields."""
    base = {"NAME": "C"} if noun == "contact" else {"TITLE": "K"}
    return int(await portal.ok(f"crm.{noun}.add", {"fields": {**base, **fields}}))


class TestDefinitions:
    """crm-contact-userfield-add.md / -get.md / -list.md / -update.md / -delete.md and the
    company pages: the deal pages' shapes with the entity's ENTITY_ID."""

    async def test_the_string_example_answers_an_id_and_reads_back(
        self, portal: Portal, owner: tuple[str, str]
    ) -> None:
        field_id = await portal.ok(method(owner, "add"), STRING_EXAMPLE)
        assert isinstance(field_id, int)
        got = await portal.ok(method(owner, "get"), {"id": field_id})
        assert list(got) == GET_KEYS
        assert (got["ID"], got["ENTITY_ID"], got["FIELD_NAME"], got["SHOW_FILTER"]) == (
            str(field_id), owner[1], "UF_CRM_HELLO_WORLD", "E")  # fmt: skip
        assert got["EDIT_FORM_LABEL"]["de"] == "Hallo, Welt! Bearbeiten"

    async def test_the_list_example_with_lang(self, portal: Portal, owner: tuple[str, str]) -> None:
        await portal.ok(method(owner, "add"), STRING_EXAMPLE)
        await portal.ok(method(owner, "add"), LIST_EXAMPLE)
        params = {"filter": {"MULTIPLE": "Y", "MANDATORY": "Y", "LANG": "de"},
                  "order": {"USER_TYPE_ID": "ASC", "SORT": "ASC"}}  # fmt: skip
        rows = await portal.ok(method(owner, "list"), params)
        assert [(r["FIELD_NAME"], r["ENTITY_ID"]) for r in rows] == [
            ("UF_CRM_HELLO_WORLD", owner[1])]  # fmt: skip
        assert list(rows[0]) == GET_KEYS
        assert rows[0]["LIST_COLUMN_LABEL"] == "Hallo, Welt! Spalte"

    async def test_the_update_example_then_get(
        self, portal: Portal, owner: tuple[str, str]
    ) -> None:
        field_id = await portal.ok(method(owner, "add"), STRING_EXAMPLE)
        fields = {"MANDATORY": "N", "SHOW_FILTER": "N", "SORT": 2000, "EDIT_IN_LIST": "N",
                  "SETTINGS": {"DEFAULT_VALUE": "Hello, world! Default value (changed)",
                               "ROWS": 10},
                  "LIST_FILTER_LABEL": "Hello, world! Filter (changed)",
                  "EDIT_FORM_LABEL": {"en": "Hello, World! Edit (changed)",
                                      "de": "Hallo, Welt! Bearbeiten (geändert)"}}  # fmt: skip
        assert await portal.ok(method(owner, "update"), {"id": field_id, "fields": fields})
        got = await portal.ok(method(owner, "get"), {"id": field_id})
        assert (got["MANDATORY"], got["SHOW_FILTER"], got["SORT"], got["EDIT_IN_LIST"]) == (
            "N", "N", "2000", "N")  # fmt: skip
        assert got["SETTINGS"]["ROWS"] == 10
        assert got["EDIT_FORM_LABEL"]["de"] == "Hallo, Welt! Bearbeiten (geändert)"
        assert set(got["LIST_FILTER_LABEL"].values()) == {"Hello, world! Filter (changed)"}

    async def test_the_list_update_example_merges_items_by_id(
        self, portal: Portal, owner: tuple[str, str]
    ) -> None:
        """crm-contact-userfield-update.md, "Example of Modifying a List Type Custom Field":
        items 1 and 2 deleted (`DEL: Y`), 3 changed, a new one added; 4 stays. Items list by
        SORT (inferred: as a portal's list items are ordered)."""
        field_id = await portal.ok(method(owner, "add"), LIST_EXAMPLE)
        items = [{"ID": 1, "DEL": "Y"}, {"ID": 2, "DEL": "Y"},
                 {"ID": 3, "VALUE": "List item #3 (changed)", "SORT": 50},
                 {"VALUE": "List item #5", "XML_ID": "XML_ID_5", "SORT": 500}]  # fmt: skip
        fields = {"MANDATORY": "N", "SHOW_FILTER": "Y", "LIST": items,
                  "SETTINGS": {"DISPLAY": "DIALOG", "LIST_HEIGHT": 3}, "SORT": 1000}  # fmt: skip
        assert await portal.ok(method(owner, "update"), {"id": field_id, "fields": fields})
        got = await portal.ok(method(owner, "get"), {"id": field_id})
        assert [(i["ID"], i["VALUE"], i["SORT"], i["DEF"], i["XML_ID"]) for i in got["LIST"]] == [
            ("3", "List item #3 (changed)", "50", "Y", "XML_ID_3"),
            ("4", "List item #4", "400", "N", "XML_ID_4"),
            ("5", "List item #5", "500", "N", "XML_ID_5"),
        ]  # fmt: skip

    async def test_a_repeated_xml_id_is_refused(
        self, portal: Portal, owner: tuple[str, str]
    ) -> None:
        field_id = await portal.ok(method(owner, "add"), LIST_EXAMPLE)
        fields = {"LIST": [{"VALUE": "again", "XML_ID": "XML_ID_2"}]}
        body = await error_of(portal, method(owner, "update"), {"id": field_id, "fields": fields})
        assert body == {"error": "ERROR_CORE",
                        "error_description": "List item with value XML_ID=XML_ID_2 already "
                                             "exists."}  # fmt: skip

    async def test_the_delete_example(self, portal: Portal, owner: tuple[str, str]) -> None:
        field_id = await portal.ok(method(owner, "add"), STRING_EXAMPLE)
        assert await portal.ok(method(owner, "delete"), {"id": field_id}) is True
        body = await error_of(portal, method(owner, "get"), {"id": field_id})
        assert body["error"] == "ERROR_NOT_FOUND"

    @pytest.mark.parametrize(("name", "params", "text"), [
        ("add", {"fields": {"USER_TYPE_ID": "string"}}, "The 'FIELD_NAME' field is not found."),
        ("add", {"fields": {"FIELD_NAME": "X"}}, "The 'USER_TYPE_ID' field is not found."),
        ("add", {"fields": "x"}, "Parameter 'fields' must be array."),
        ("get", {"id": 0}, "ID is not defined or invalid."),
        ("update", {"id": "x", "fields": {}}, "ID is not defined or invalid."),
        ("delete", {}, "ID is not defined or invalid."),
        ("list", {"filter": "x"}, "Parameter 'filter' must be array."),
        ("list", {"order": "x"}, "Parameter 'order' must be array."),
    ])  # fmt: skip
    async def test_documented_errors_with_an_empty_code(
        self, portal: Portal, owner: tuple[str, str], name: str, params: dict[str, Any],
        text: str,
    ) -> None:  # fmt: skip
        assert await error_of(portal, method(owner, name), params) == legacy(text)

    @pytest.mark.parametrize(("fields", "text"), [
        ({"FIELD_NAME": "X", "USER_TYPE_ID": "nope"}, "Incorrect custom type specified."),
        ({"FIELD_NAME": "A" * 44, "USER_TYPE_ID": "string"},
         "Field name is too long (more than 50 characters)."),
        ({"FIELD_NAME": "BAD-NAME", "USER_TYPE_ID": "string"},
         "Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _."),
    ])  # fmt: skip
    async def test_documented_core_errors(
        self, portal: Portal, owner: tuple[str, str], fields: dict[str, Any], text: str
    ) -> None:
        body = await error_of(portal, method(owner, "add"), {"fields": fields})
        assert body == {"error": "ERROR_CORE", "error_description": text}

    async def test_an_unknown_id_is_not_found(self, portal: Portal, owner: tuple[str, str]) -> None:
        for name in ("get", "update", "delete"):
            body = await error_of(portal, method(owner, name), {"id": 555, "fields": {}})
            assert body == {"error": "ERROR_NOT_FOUND",
                            "error_description": "The entity is not found."}  # fmt: skip

    async def test_the_methods_need_the_crm_scope(
        self, portal: Portal, owner: tuple[str, str]
    ) -> None:
        hook = await portal.webhook_for(Role.NONE, scopes=("sale",))
        denied = await portal.call(method(owner, "list"), {}, hook=hook)
        assert denied.status_code == 401
        assert denied.json()["error"] == "insufficient_scope"


class TestOneTableThreeEntities:
    """The definitions of deals, contacts and companies share one table, each family seeing
    only its own."""

    async def test_another_entitys_field_is_access_denied(self, portal: Portal) -> None:
        """crm-contact-userfield-get.md / -update.md / -delete.md: `Access denied.` when "the
        user attempts to access a custom field not linked to contacts"."""
        deal_field = await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        for name in ("get", "update", "delete"):
            params = {"id": deal_field, "fields": {"SORT": 1}}
            for noun in ("contact", "company"):
                body = await error_of(portal, f"crm.{noun}.userfield.{name}", params)
                assert body == legacy("Access denied.")
        assert (await portal.ok("crm.deal.userfield.get", {"id": deal_field}))["SORT"] == "1000"

    async def test_lists_see_only_their_entitys_fields(self, portal: Portal) -> None:
        await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        await portal.ok("crm.contact.userfield.add", LIST_EXAMPLE)
        assert [r["ENTITY_ID"] for r in await portal.ok("crm.deal.userfield.list", {})] == [
            "CRM_DEAL"
        ]
        contact_rows = await portal.ok("crm.contact.userfield.list", {})
        assert [r["FIELD_NAME"] for r in contact_rows] == ["UF_CRM_ENUMERATION_EXAMPLE"]
        assert await portal.ok("crm.company.userfield.list", {}) == []
        rows = await portal.ok("crm.contact.userfield.list",
                               {"filter": {"ENTITY_ID": "CRM_DEAL"}})  # fmt: skip
        assert rows == []

    async def test_a_name_is_unique_per_entity(self, portal: Portal) -> None:
        """Inferred: a portal keeps names unique per ENTITY_ID, so a contact may have the field
        name a deal has; a second one for the same entity is ERROR_CORE."""
        await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        await portal.ok("crm.contact.userfield.add", STRING_EXAMPLE)
        body = await error_of(portal, "crm.contact.userfield.add", STRING_EXAMPLE)
        assert body == {
            "error": "ERROR_CORE",
            "error_description": "Field UF_CRM_HELLO_WORLD already exists.",
        }

    async def test_entity_id_cannot_be_written(self, portal: Portal) -> None:
        fields = {**STRING_EXAMPLE["fields"], "ENTITY_ID": "CRM_DEAL"}
        field_id = await portal.ok("crm.contact.userfield.add", {"fields": fields})
        got = await portal.ok("crm.contact.userfield.get", {"id": field_id})
        assert got["ENTITY_ID"] == "CRM_CONTACT"
        await portal.ok("crm.contact.userfield.update",
                        {"id": field_id, "fields": {"ENTITY_ID": "CRM_DEAL"}})  # fmt: skip
        assert await portal.ok("crm.deal.userfield.list", {}) == []


class TestDefinedFieldsOnCustomers:
    """crm-contact-fields.md / crm-company-fields.md (custom fields after the own ones,
    `isDynamic` true), crm-contact-list.md (`*` without, `UF_*` with custom fields)."""

    async def test_fields_list_them_after_the_own_fields(
        self, portal: Portal, owner: tuple[str, str]
    ) -> None:
        await portal.ok(method(owner, "add"), STRING_EXAMPLE)
        described = await portal.ok(f"crm.{owner[0]}.fields", {})
        assert list(described)[-1] == "UF_CRM_HELLO_WORLD"
        assert described["UF_CRM_HELLO_WORLD"] == {
            "type": "string", "isRequired": True, "isReadOnly": False, "isImmutable": False,
            "isMultiple": True, "isDynamic": True, "title": "UF_CRM_HELLO_WORLD",
            "listLabel": "Hello, World! Column", "formLabel": "Hello, World! Edit",
            "filterLabel": "Hello, world! Filter",
            "settings": {"DEFAULT_VALUE": "Hello, world! Default value", "ROWS": 3},
        }  # fmt: skip

    async def test_an_enumeration_field_lists_its_items(self, portal: Portal) -> None:
        await portal.ok("crm.company.userfield.add", LIST_EXAMPLE)
        described = (await portal.ok("crm.company.fields", {}))["UF_CRM_ENUMERATION_EXAMPLE"]
        assert described["type"] == "enumeration"
        assert described["items"][:2] == [{"ID": "1", "VALUE": "List item #1"},
                                          {"ID": "2", "VALUE": "List item #2"}]  # fmt: skip

    async def test_a_deal_field_is_no_contact_field(self, portal: Portal) -> None:
        await portal.ok("crm.deal.userfield.add", STRING_EXAMPLE)
        assert "UF_CRM_HELLO_WORLD" not in await portal.ok("crm.contact.fields", {})
        assert "UF_CRM_HELLO_WORLD" in await portal.ok("crm.deal.fields", {})

    async def test_values_are_stored_returned_and_filterable(
        self, portal: Portal, owner: tuple[str, str]
    ) -> None:
        noun = owner[0]
        await portal.ok(method(owner, "add"), STRING_EXAMPLE)
        first = await entity(portal, noun, UF_CRM_HELLO_WORLD=["x", "y"])
        second = await entity(portal, noun, UF_CRM_HELLO_WORLD=["z"])
        got = await portal.ok(f"crm.{noun}.get", {"id": first})
        assert got["UF_CRM_HELLO_WORLD"] == ["x", "y"]
        rows = await portal.ok(f"crm.{noun}.list", {"filter": {"UF_CRM_HELLO_WORLD": "y"},
                                                    "select": ["ID"]})  # fmt: skip
        assert rows == [{"ID": str(first)}]
        await portal.ok(f"crm.{noun}.update",
                        {"id": second, "fields": {"UF_CRM_HELLO_WORLD": ["y"]}})  # fmt: skip
        rows = await portal.ok(f"crm.{noun}.list", {"filter": {"UF_CRM_HELLO_WORLD": "y"},
                                                    "select": ["ID"]})  # fmt: skip
        assert rows == [{"ID": str(first)}, {"ID": str(second)}]

    async def test_select_star_leaves_custom_fields_out_and_uf_star_brings_them(
        self, portal: Portal, owner: tuple[str, str]
    ) -> None:
        noun = owner[0]
        await portal.ok(method(owner, "add"), STRING_EXAMPLE)
        await entity(portal, noun, UF_CRM_HELLO_WORLD=["x"])
        (default,) = await portal.ok(f"crm.{noun}.list", {})
        (star,) = await portal.ok(f"crm.{noun}.list", {"select": ["*"]})
        (both,) = await portal.ok(f"crm.{noun}.list", {"select": ["*", "UF_*"]})
        (named,) = await portal.ok(f"crm.{noun}.list", {"select": ["ID", "UF_CRM_HELLO_WORLD"]})
        assert default["UF_CRM_HELLO_WORLD"] == ["x"]
        assert "UF_CRM_HELLO_WORLD" not in star
        assert both["UF_CRM_HELLO_WORLD"] == ["x"]
        assert list(named) == ["ID", "UF_CRM_HELLO_WORLD"]


class TestEvents:
    """contacts/userfield/events/on-crm-contact-user-field-{add,update,delete}.md and the
    company pages: `{"FIELDS": {"ID", "ENTITY_ID", "FIELD_NAME"}}`."""

    async def test_add_update_delete_are_posted(
        self, portal: Portal, receiver: Receiver, owner: tuple[str, str]
    ) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        kind = owner[0].upper()
        names = tuple(f"ONCRM{kind}USERFIELD{action}" for action in ("ADD", "UPDATE", "DELETE"))
        for event in names:
            await rest(portal, token, "event.bind", {"event": event, "handler": receiver.url()})
        await rest(portal, token, "crm.deal.userfield.add", LIST_EXAMPLE)  # not bound
        field_id = await rest(portal, token, method(owner, "add"), STRING_EXAMPLE)
        await rest(portal, token, method(owner, "update"), {"id": field_id, "fields": {"SORT": 1}})
        await rest(portal, token, method(owner, "delete"), {"id": field_id})
        received = await deliveries(portal, receiver, 3)
        assert sorted(r["event"] for r in received) == sorted(names)  # delivered concurrently
        fields = {"ID": str(field_id), "ENTITY_ID": owner[1], "FIELD_NAME": "UF_CRM_HELLO_WORLD"}
        assert all(r["data"] == {"FIELDS": fields} for r in received)
