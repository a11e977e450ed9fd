"""crm.type.*: smart processes, added at run time; each one's items are crm.item.* of its
entityTypeId (`families.smart_processes`), its custom fields userfieldconfig.* of `CRM_{id}`.

Pages: api-reference/crm/universal/user-defined-object-types/{crm-type-add,crm-type-get,
crm-type-get-by-entity-type-id,crm-type-list,crm-type-update,crm-type-delete,crm-type-fields,
index}.md, api-reference/crm/data-types.md#type, api-reference/crm/universal/events/type/.
Writes are for portal administrators (the pages: "administrative access to the CRM section");
every user reads. The pages print code 0 as a JSON number (`"error": 0`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from orderlink import coerce, errors, events
from orderlink.families import handlers
from orderlink.families.crm_fields import universal
from orderlink.families.family import Created, Family, Params
from orderlink.families.handlers import crud, serve
from orderlink.families.items import universal_family
from orderlink.families.readers import object_param, positive_id
from orderlink.families.smart_processes import type_row, user_field_entity
from orderlink.records import values as wire
from orderlink.records.custom_fields import parent_camel, unchanged
from orderlink.records.projection import View
from orderlink.records.reading import Unreadable, read_fields
from orderlink.registry import Call, MethodTable
from orderlink.rules import smart_processes as rules
from orderlink.schema import Field, Schema
from orderlink.storage.base import Condition, Emit, ListQuery, Row

table = MethodTable(scope="crm", docs="api-reference/crm/universal/user-defined-object-types/")

# crm-type-fields.md's titles of the settings (isPaymentsEnabled and isCountersEnabled are
# system settings the fields answer leaves out).
_TITLES = {
    "isCategoriesEnabled": "Use custom funnels and sales tunnels in the smart process",
    "isStagesEnabled": "Use custom stages and Kanban in the smart process",
    "isBeginCloseDatesEnabled": "Fields 'Start Date' and 'End Date'",
    "isClientEnabled": "Field 'Client'",
    "isUseInUserfieldEnabled": "Use in user field",
    "isLinkWithProductsEnabled": "Link with catalog products",
    "isMycompanyEnabled": "Field 'Your Company Details'",
    "isDocumentsEnabled": "Document Printing",
    "isSourceEnabled": "Fields 'Source' and 'Additional Information about Source'",
    "isObserversEnabled": "Field 'Observers'",
    "isRecyclebinEnabled": "Use Recycle Bin",
    "isAutomationEnabled": "Use Automation rules and triggers in the smart process",
    "isBizProcEnabled": "Use business process designer in the smart process",
    "isSetOpenPermissions": "Make new funnels available to everyone",
}


def _setting(name: str, column: str, default: str) -> Field:
    return universal(name, column, "flag", "boolean", _TITLES.get(name, name),
                     "" if name in _TITLES else "O", default)  # fmt: skip


_SETTINGS = [_setting(*s) for s in rules.SETTINGS]
# crm-type-fields.md, in its order, with its titles and flags (createdTime and updatedTime are
# printed writable; a request's values for them are ignored, as the ids are).
SCHEMA = Schema("crm_types", [
    universal("id", "id", "int", "integer", "ID", "O"),
    universal("title", "title", "text", "string", "Title", "R"),
    universal("code", "code", "text", "string", "Symbolic Code", "", ""),
    universal("createdBy", "created_by", "int", "user", "Created By", "O"),
    universal("entityTypeId", "entity_type_id", "int", "integer", "Type Identifier", "RI"),
    universal("customSectionId", "custom_section_id", "int", "integer", "Digital Workspace", "I"),
    *(f for f in _SETTINGS if f.name in _TITLES),
    universal("createdTime", "created_time", "datetime", "datetime", "Creation Date"),
    universal("updatedTime", "updated_time", "datetime", "datetime", "Modification Date"),
    universal("updatedBy", "updated_by", "int", "user", "Modified By", "O"),
])  # fmt: skip
_SHOWN = Schema("crm_types", [*SCHEMA.fields, *(f for f in _SETTINGS if f.name not in _TITLES)])
_STAMPS = frozenset({"created_time", "updated_time"})

# crm-type-get.md's answer, key by key; crm-type-list.md's rows end at `updatedBy`.
_LIST_LAYOUT = (
    "id", "title", "code", "createdBy", "entityTypeId", "customSectionId",
    *(name for name, _, _ in rules.SETTINGS), "createdTime", "updatedTime", "updatedBy",
)  # fmt: skip
VIEW = View(
    _SHOWN, (*_LIST_LAYOUT, "relations", "linkedUserFields", "customSections"), wire.typed,
    uf_name=unchanged, parent_name=parent_camel, constants={"customSections": []},
    computed={"relations": lambda row, zone: rules.relations(row),
              "linkedUserFields": lambda row, zone: rules.linked_user_fields(row)},
)  # fmt: skip
LIST_VIEW = dataclasses.replace(VIEW, layout=_LIST_LAYOUT)


def _invalid(name: str, exc: Unreadable) -> errors.B24Error:
    if name == "entityTypeId":
        return _out_of_range()
    return errors.FieldValueNotValid(name)


def _out_of_range() -> errors.B24Error:
    return errors.InvalidArgValue("entityTypeId is out of allowed range")


def _flag(columns: Row, old: Row | None, column: str) -> bool:
    return (columns[column] if column in columns else (old or {}).get(column)) == "Y"


async def _read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
    """The columns `fields` sets: the schema's writable fields (entityTypeId only on add),
    the relations and linked user fields crm-type-add.md describes."""
    changes = read_fields(
        fields, SCHEMA, call.ctx.zone, error=family.invalid,
        accept=lambda f: not (f.read_only or f.column in _STAMPS
                              or (old is not None and f.immutable)),
    )  # fmt: skip
    columns = changes.columns
    if (old is None or "title" in columns) and not str(columns.get("title") or "").strip():
        raise errors.EmptyRequired("Title")
    type_id = columns.get("entity_type_id")
    if type_id is not None and not rules.allowed_entity_type_id(type_id):
        raise _out_of_range()
    if coerce.to_flag(fields.get("isExternal")) and not (
        columns.get("custom_section_id") or (old or {}).get("custom_section_id")
    ):
        raise errors.SmartProcessError("Select a workplace where the SPA will be located")
    if "relations" in fields:
        client = _flag(columns, old, "is_client_enabled")
        columns["relations"] = rules.read_relations(fields["relations"], client)
    if "linkedUserFields" in fields or old is None:
        enabled = _flag(columns, old, "is_use_in_userfield_enabled")
        columns["linked_user_fields"] = rules.read_linked_user_fields(
            fields.get("linkedUserFields"), enabled
        )
    return columns


async def _taken(call: Call) -> list[int]:
    query = ListQuery("crm_types", call.portal, ["entity_type_id"], limit=None, count=False)
    return [int(r["entity_type_id"]) for r in (await call.store.list(query)).rows]


async def _create(call: Call, columns: Row, now: float) -> Created:
    """A new type: the entityTypeId given (once per portal) or the next free one."""
    taken = await _taken(call)
    type_id = columns.get("entity_type_id")
    if type_id is None:
        type_id = rules.next_entity_type_id(taken)
    elif type_id in taken:
        # Not documented: the id is unique (crm-type-add.md); the text is ours.
        raise errors.InvalidArgValue(f"entityTypeId {type_id} is already used by another SPA")
    user, stamp = call.principal.user_id, int(now)
    values = {**{k: v for k, v in columns.items() if v is not None}, "entity_type_id": type_id,
              "created_by": user, "updated_by": user, "created_time": stamp,
              "updated_time": stamp}  # fmt: skip
    return Created(values, {})


async def _change(call: Call, old: Row, columns: Row, now: float) -> Row:
    return {**columns, "updated_by": call.principal.user_id, "updated_time": int(now)}


async def _deleting(call: Call, row: Row) -> None:
    """crm-type-delete.md: a type with items is not deleted. Its custom fields go with it (the
    userfieldconfig events page: "When an entire smart process is deleted, its custom fields
    disappear as well"), in the delete's transaction."""
    items = ListQuery("crm_items", call.portal, ["id"],
                      [Condition("entity_type_id", "=", row["entity_type_id"])],
                      limit=1, count=False)  # fmt: skip
    if (await call.store.list(items)).rows:
        raise errors.TypeHasItems()
    own = ListQuery("crm_userfields", call.portal, ["id"],
                    [Condition("entity_id", "=", user_field_entity(row))],
                    limit=None, count=False)  # fmt: skip
    for found in (await call.store.list(own)).rows:
        await call.store.delete(call.portal, "crm_userfields", found["id"])


def _events(action: str, user: int, at: float, type_id: int | str, row: Row) -> tuple[Emit, ...]:
    return (events.crm_type(action, user, at, type_id),)


TYPES = universal_family(
    schema=SCHEMA,
    view=VIEW,
    list_schema=_SHOWN,  # the type object's fields, the system settings too
    list_view=LIST_VIEW,
    not_found=errors.TypeNotFound,
    invalid=_invalid,
    events=_events,
    envelope="type",
    filter_groups=True,
    read=_read,
    create=_create,
    change=_change,
    deleting=_deleting,
)


def _smart_process_not_found() -> errors.B24Error:
    return errors.TypeNotFound("Smart process not found")


# crm-type-delete.md words a missing type "Smart process not found".
_DELETED = dataclasses.replace(TYPES, read_id=positive_id(_smart_process_not_found),
                               not_found=_smart_process_not_found)  # fmt: skip


def _administrator(call: Call) -> None:
    if not call.principal.is_admin:
        raise errors.ItemAccessDenied()


# crm-type-update.md marks `fields` optional: without it nothing changes.
_UPDATED = dataclasses.replace(TYPES, read_fields=object_param("fields", optional=True))


def _administered(family: Family) -> handlers.Resolve:
    """`family`, for portal administrators only."""

    async def resolve(call: Call) -> Family:
        _administrator(call)
        return family

    return resolve


serve(
    table,
    {"add": _administered(TYPES), "update": _administered(_UPDATED), "get": TYPES,
     "list": TYPES, "fields": TYPES},
    crud(
        "crm.type",
        "crm-type",
        add="Add a smart process; answers it in `type`, its entityTypeId given or the next.",
        update="Change a smart process's settings; relations given replace the old ones.",
        get="One smart process, by its `id`.",
        list="Smart processes matching a filter, 50 per page, in `types`.",
        fields="The fields of a smart process's settings, `upperName` included.",
    ),
    numeric_codes=True,
)  # fmt: skip


@table.method("crm.type.getByEntityTypeId", numeric_codes=True,
              page="crm-type-get-by-entity-type-id.md")  # fmt: skip
async def get_by_entity_type_id(call: Call) -> Any:
    """One smart process, by its entityTypeId."""
    raw = call.params.get("entityTypeId")
    if raw is None or raw == "":
        raise errors.MissingParameter("entityTypeId")
    type_id = coerce.to_int(raw)
    row = await type_row(call, type_id) if type_id is not None and type_id > 0 else None
    if row is None:
        raise _smart_process_not_found()
    return TYPES.entity(call, row, "get")


@table.method("crm.type.delete", numeric_codes=True, page="crm-type-delete.md")
async def delete(call: Call) -> Any:
    """Delete a smart process that has no items, and its custom fields; answers `[]`."""
    params: Params = call.params
    if params.get("id") is None or params.get("id") == "":
        # crm-type-delete.md: without `id` the answer is null and nothing is deleted.
        return None
    _administrator(call)
    return await handlers.delete(_DELETED, call)
