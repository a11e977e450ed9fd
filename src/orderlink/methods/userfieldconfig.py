"""userfieldconfig.*: custom-field definitions of CRM objects by `entityId` (CRM_DEAL,
CRM_CONTACT, CRM_COMPANY, CRM_SMART_INVOICE, CRM_{id} of a smart process), in camelCase with
string values.

Pages: api-reference/crm/universal/userfieldconfig/{index,userfieldconfig-add,userfieldconfig-get,
userfieldconfig-list,userfieldconfig-update,userfieldconfig-delete,userfieldconfig-get-types}.md
and events/. The definitions share crm.*.userfield.*'s table (`crm_userfields`, `entity_id` the
object); the values stay on the items (`user_fields`), so a field defined here is listed by
crm.item.fields of its type (`families.items.custom_fields`), stored, returned and filtered as
every custom field is. Scope `userfieldconfig`, and the `crm` scope for `moduleId` crm (the only
module served); errors carry an empty code. Writes are for portal administrators.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from orderlink import coerce, errors, events
from orderlink.families.crm_fields import DEAL_USER_FIELDS, LANGUAGE, camel, definition_fields
from orderlink.families.family import Created, Family, Params
from orderlink.families.handlers import crud, serve
from orderlink.families.readers import object_param, positive_id
from orderlink.families.smart_processes import SMART_INVOICE_FIELDS
from orderlink.records import values as wire
from orderlink.records.custom_fields import parent_camel, unchanged
from orderlink.records.projection import View
from orderlink.records.reading import Unreadable, fields_object, read_fields
from orderlink.registry import Call, MethodTable
from orderlink.schema import Field, Schema
from orderlink.storage.base import Condition, Emit, ListQuery, Row

table = MethodTable(scope="userfieldconfig", docs="api-reference/crm/universal/userfieldconfig/")

# userfieldconfig-get-types.md's answer for moduleId crm (without its example's application
# type `rest_219_test`): (userTypeId, description).
TYPES = (
    ("crm", "Linked to CRM entities"), ("crm_status", "Linked to CRM directories"),
    ("money", "Money"), ("employee", "Linked to employee"), ("string", "String"),
    ("integer", "Integer"), ("double", "Number"), ("datetime", "Date with time"),
    ("date", "Date"), ("boolean", "Yes/No"), ("address", "Address"), ("url", "Link"),
    ("file", "File"), ("enumeration", "List"),
    ("iblock_section", "Linked to information block sections"),
    ("iblock_element", "Linked to information block elements"),
)  # fmt: skip
_TYPE_IDS = frozenset(t for t, _ in TYPES)

# The definition's fields (userfieldconfig-get.md's `field`, in its order); the labels, their
# languages and `enum` are printed from the row (`_COMPUTED`).
SCHEMA = Schema("crm_userfields", definition_fields(camel, "boolean"))
# What add reads (userfieldconfig-add.md: showInList and the list labels are not processed)
# and what update may change (userfieldconfig-update.md; the rest "cannot be changed").
_ADDED = frozenset({
    "entityId", "fieldName", "userTypeId", "xmlId", "sort", "multiple", "mandatory",
    "showFilter", "editInList", "isSearchable", "settings",
})  # fmt: skip
_UPDATED = frozenset({"xmlId", "sort", "mandatory", "showFilter", "isSearchable", "settings"})
_LABELS = {"editFormLabel": "edit_form_label", "listColumnLabel": "list_column_label",
           "listFilterLabel": "list_filter_label", "errorMessage": "error_message",
           "helpMessage": "help_message"}  # fmt: skip
_WRITTEN_LABELS = ("editFormLabel", "helpMessage")  # the only ones add and update take
# The settings a new field of a type gets unless given (userfieldconfig-add.md's answer for
# its enumeration field; no other type's are printed).
_SETTINGS = {"enumeration": {"DISPLAY": "LIST", "LIST_HEIGHT": 1, "CAPTION_NO_VALUE": "",
                             "SHOW_NO_VALUE": "Y"}}  # fmt: skip
_LANG = re.compile(r"[a-z]{2}\Z")
_NAME = re.compile(r"[A-Z0-9_]+\Z")
_SMART_PROCESS = re.compile(r"CRM_([1-9][0-9]{0,9})\Z")
# The objects whose custom fields crm.*.userfield.* also define, and which raise their own
# ONCRM{DEAL,CONTACT,COMPANY}USERFIELD* events.
_OWN_EVENTS = (DEAL_USER_FIELDS, "CRM_CONTACT", "CRM_COMPANY")

# -- answers ---------------------------------------------------------------------------------


def _maps(row: Row) -> dict[str, dict[str, str]]:
    found = {name: wire.decode(row.get(column) or "{}") for name, column in _LABELS.items()}
    return {name: value if isinstance(value, dict) else {} for name, value in found.items()}


def _languages(row: Row) -> list[str]:
    """The languages the field's labels are given in, the portal's own (`en`) first."""
    seen = dict.fromkeys([LANGUAGE])
    for labels in _maps(row).values():
        seen.update(dict.fromkeys(labels))
    return list(seen)


def _label(name: str, language: str | None) -> Callable[[Row, tzinfo], Any]:
    def shown(row: Row, zone: tzinfo) -> Any:
        labels = _maps(row)[name]
        if language is None:  # userfieldconfig-get.md: every language, null where unset
            return {lang: labels.get(lang) or None for lang in _languages(row)}
        text = labels.get(language)  # userfieldconfig-list.md with `select.language`
        return {language: text} if text else None

    return shown


def _language_ids(language: str | None) -> Callable[[Row, tzinfo], Any]:
    def shown(row: Row, zone: tzinfo) -> Any:
        return {lang: lang for lang in ([language] if language else _languages(row))}

    return shown


def _enum(row: Row, zone: tzinfo) -> Any:
    """`enum`, for a list field only: each item with its field's id, every value a string."""
    if row.get("user_type_id") != "enumeration":
        return None
    return [{"id": str(i["ID"]), "userFieldId": str(row["id"]), "value": i["VALUE"],
             "def": i["DEF"], "sort": str(i["SORT"]), "xmlId": i.get("XML_ID")}
            for i in wire.decode(row.get("list") or "[]")]  # fmt: skip


def _computed(language: str | None) -> dict[str, Callable[[Row, tzinfo], Any]]:
    return {"languageId": _language_ids(language),
            **{name: _label(name, language) for name in _LABELS}, "enum": _enum}  # fmt: skip


_LAYOUT = (*(f.name for f in SCHEMA), "languageId", *_LABELS, "enum")
# What a list filters and orders by, and reads: the computed keys' columns under names no
# request can give.
LIST_SCHEMA = Schema("crm_userfields", [
    *SCHEMA.fields,
    *(Field("@" + column, column, "json", "lang_map", read_only=True, filterable=False,
            sortable=False) for column in (*_LABELS.values(), "list")),
])  # fmt: skip
# userfieldconfig-list.md's example prints no `enum` for its list field: a list prints it only
# when `select` names it (View.explicit), get, add and update always do.
VIEW = View(SCHEMA, _LAYOUT, wire.strings, uf_name=unchanged, parent_name=parent_camel,
            computed=_computed(None), explicit=frozenset({"enum"}),
            optional=frozenset({"enum"}))  # fmt: skip


def _language(params: Params) -> str | None:
    """userfieldconfig-list.md: `select` may carry `language` (or `languageId`): the labels in
    that language only."""
    raw = params.get("select")
    if not isinstance(raw, dict):
        return None
    found = raw.get("language") or raw.get("languageId")
    return str(found) if isinstance(found, str) and found else None


def _params(params: Params) -> Params:
    raw = params.get("select")
    if isinstance(raw, dict):
        kept = {k: v for k, v in raw.items() if k not in ("language", "languageId")}
        return {**params, "select": kept}
    return params


def _viewed(view: View, params: Params) -> View:
    language = _language(params)
    return view if language is None else dataclasses.replace(view, computed=_computed(language))


# -- reading a request -----------------------------------------------------------------------


_field = object_param("field")


def _labels_written(fields: dict[str, Any], old: Row | None) -> Row:
    """editFormLabel / helpMessage: a string is the portal language's label, a language map sets
    the languages it names (userfieldconfig-add.md)."""
    out: Row = {}
    for name in _WRITTEN_LABELS:
        if name not in fields:
            continue
        raw = fields[name]
        if isinstance(raw, dict):
            given = {str(k): "" if v is None else str(v) for k, v in raw.items()
                     if _LANG.match(str(k))}  # fmt: skip
        else:
            given = {LANGUAGE: "" if raw is None else str(raw)}
        column = _LABELS[name]
        stored = wire.decode((old or {}).get(column) or "{}")
        out[column] = wire.encode({**(stored if isinstance(stored, dict) else {}), **given})
    return out


def _enum_written(raw: Any, stored: str | None) -> str:
    """`enum` items (uf_enum_element): one with a known `id` changes that item (`del: Y`
    deletes it), one without adds an item with the next id; items not named stay."""
    items: list[dict[str, Any]] = [dict(i) for i in wire.decode(stored or "[]")]
    next_id = max((int(i["ID"]) for i in items), default=0) + 1
    given = fields_object(raw) or {}
    for entry in given.values():
        if not isinstance(entry, dict):
            continue
        known = next((i for i in items if str(i["ID"]) == str(entry.get("id"))), None)
        if known is not None:
            if coerce.to_flag(entry.get("del")):
                items.remove(known)
                continue
            _enum_values(known, entry)
        elif entry.get("value") not in (None, ""):
            # No xmlId given: one is made up, 32 hex digits as the examples' md5 sums.
            added = {"ID": str(next_id), "VALUE": "", "SORT": "500", "DEF": "N",
                     "XML_ID": secrets.token_hex(16)}  # fmt: skip
            _enum_values(added, entry)
            items.append(added)
            next_id += 1
    return wire.encode(items)


def _enum_values(item: dict[str, Any], entry: dict[str, Any]) -> None:
    if entry.get("value") not in (None, ""):
        item["VALUE"] = str(entry["value"])
    if "sort" in entry and coerce.to_int(entry["sort"]) is not None:
        item["SORT"] = str(coerce.to_int(entry["sort"]))
    if "def" in entry:
        item["DEF"] = "Y" if coerce.to_flag(entry["def"]) else "N"
    if entry.get("xmlId") not in (None, ""):
        item["XML_ID"] = str(entry["xmlId"])


def _show_filter(raw: Any) -> str:
    """userfieldconfig-list.md: N, I (exact), E (mask) or S (substring); add takes Y/N, and Y
    is a mask filter, as crm.deal.userfield reads it."""
    text = str(raw or "").strip().upper()
    return text if text in ("N", "I", "E", "S") else "E" if text == "Y" else "N"


def _invalid(name: str, exc: Unreadable) -> errors.B24Error:
    return errors.UserFieldConfigError(f'Invalid value for field "{name}"')


async def _known_entity(call: Call, entity: str) -> bool:
    """An object this server keeps custom fields for (userfieldconfig/index.md's entityId)."""
    if entity in (*_OWN_EVENTS, SMART_INVOICE_FIELDS):
        return True
    found = _SMART_PROCESS.match(entity)
    if found is None:
        return False
    return await call.store.get(call.portal, "crm_types", int(found[1])) is not None


async def _taken(call: Call, entity: str, name: str) -> bool:
    """A name is unique per object (crm_userfields' key), as on a portal."""
    conditions = [Condition("entity_id", "=", entity), Condition("field_name", "=", name)]
    query = ListQuery("crm_userfields", call.portal, ["id"], conditions, limit=1, count=False)
    return bool((await call.store.list(query)).rows)


def _cannot_create() -> errors.B24Error:
    return errors.UserFieldConfigError("You cannot create custom fields")


async def _read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
    accepted = _ADDED if old is None else _UPDATED
    columns = read_fields(fields, SCHEMA, call.ctx.zone, accept=lambda f: f.name in accepted,
                          error=family.invalid).columns  # fmt: skip
    if old is None:
        for name, text in (("fieldName", "FIELD_NAME"), ("userTypeId", "USER_TYPE_ID")):
            if not columns.get(SCHEMA[name].column):
                raise errors.UserFieldConfigError(f"The '{text}' field is not found.")
        entity = str(columns.get("entity_id") or "")
        name = str(columns["field_name"])
        # userfieldconfig-add.md: "You cannot create custom fields" for a name without the
        # `UF_{entityId}_` prefix; the how-to page gives it for an unknown entityId too.
        if not name.startswith(f"UF_{entity}_") or not await _known_entity(call, entity):
            raise _cannot_create()
        if len(name) > 50 or not _NAME.match(name):
            raise errors.UserFieldConfigError(
                "Field code: allowed characters are A-Z, 0-9 and _, at most 50 of them."
            )
        if columns["user_type_id"] not in _TYPE_IDS:
            raise errors.UserFieldConfigError("Fail to create new user field")
        if await _taken(call, entity, name):
            raise errors.UserFieldConfigError(f"Field {name} already exists")
        columns["show_in_list"] = "Y"  # the add example's answer, not sent
        defaults = _SETTINGS.get(columns["user_type_id"])
        if defaults:
            given = wire.decode(columns.get("settings") or "{}")
            columns["settings"] = wire.encode(
                {**defaults, **(given if isinstance(given, dict) else {})}
            )
    if "show_filter" in columns:
        columns["show_filter"] = _show_filter(columns["show_filter"])
    columns.update(_labels_written(fields, old))
    kind = (old or columns).get("user_type_id")
    # userfieldconfig-update.md: `enum` applies when `userTypeId` is `enumeration` too.
    if (
        kind == "enumeration"
        and "enum" in fields
        and (old is None or fields.get("userTypeId") == kind)
    ):
        columns["list"] = _enum_written(fields["enum"], (old or {}).get("list"))
    elif kind == "enumeration" and old is None:
        columns["list"] = "[]"
    return columns


async def _create(call: Call, columns: Row, now: float) -> Created:
    return Created({k: v for k, v in columns.items() if v is not None}, {})


def _events(enum_set: bool) -> Callable[[str, int, float, int | str, Row], tuple[Emit, ...]]:
    """A deal's, contact's or company's fields raise their own events (ONCRMDEALUSERFIELD*, ...);
    a smart process's or smart
    invoice's the ONCRMTYPEUSERFIELD* ones, with ONCRMTYPEUSERFIELDSETENUMVALUES when a write
    sets list values (events/index.md "Which Events Arrive Together")."""

    def raised(
        action: str, user: int, at: float, field_id: int | str, row: Row
    ) -> tuple[Emit, ...]:
        entity, name = str(row["entity_id"]), str(row["field_name"])
        if entity in _OWN_EVENTS:
            return (events.user_field(entity, action, user, at, field_id, name),)
        emits = [events.type_user_field(action, user, at, field_id, entity, name)]
        listed = action == "ADD" and wire.decode(row.get("list") or "[]")
        if enum_set or listed:
            emits.append(events.type_user_field("SETENUMVALUES", user, at, field_id, entity, name))
        return tuple(emits)

    return raised


def _refused(text: str) -> Callable[[], errors.B24Error]:
    return lambda: errors.UserFieldConfigError(text)


FIELDS = Family(
    schema=SCHEMA,
    view=VIEW,
    list_schema=LIST_SCHEMA,
    list_view=VIEW,
    params=_params,
    viewed=_viewed,
    read_id=positive_id(
        _refused("You do not have permission to view user field settings"),
        missing=lambda: errors.MissingParameter("id"),
    ),
    read_fields=_field,
    not_found=_refused("You do not have permission to view user field settings"),
    invalid=_invalid,
    list_error=errors.UserFieldConfigError,
    events=_events(False),
    descriptor=lambda f: {"type": f.type},
    envelope="field",
    list_envelope="fields",
    fields_envelope=None,
    answers=("entity", "entity", "null"),
    default_order=(("sort", False), ("id", False)),
    read=_read,
    create=_create,
)


def _refusing(text: str, **changes: Any) -> Family:
    """FIELDS with the not-found text of a write (userfieldconfig-update.md, -delete.md: the
    same text as for a refusal)."""
    return dataclasses.replace(
        FIELDS, not_found=_refused(text),
        read_id=positive_id(_refused(text), missing=lambda: errors.MissingParameter("id")),
        **changes,
    )  # fmt: skip


_CHANGE = "You cannot change the settings of the user field"
_DELETE = "You cannot delete the user field"
# update's `field` may be left out (userfieldconfig-update.md): nothing changes.
_CHANGED = _refusing(_CHANGE, read_fields=object_param("field", optional=True))


def _module(call: Call) -> None:
    """userfieldconfig/index.md: `moduleId` names the module, whose scope the caller needs too."""
    module = call.params.get("moduleId")
    if module is None or module == "":
        raise errors.MissingParameter("moduleId")
    if module != "crm":
        raise errors.UserFieldConfigError("No settings for UserFieldAccess")
    if not call.principal.has_scope("crm"):
        raise errors.UserFieldConfigError("The current method required more scopes. (crm)")


def _resolver(family: Family, denied: str | None = None, *, sets_enum: bool = False) -> Any:
    """The family a call is served by, once its module, scope and rights are checked; an
    update that gives `enum` raises ONCRMTYPEUSERFIELDSETENUMVALUES too (`sets_enum`)."""

    async def resolve(call: Call) -> Family:
        _module(call)
        if denied is not None and not call.principal.is_admin:
            raise errors.UserFieldConfigError(denied)
        given = call.params.get("field")
        if sets_enum and isinstance(given, dict) and "enum" in given:
            return dataclasses.replace(family, events=_events(True))
        return family

    return resolve


_READ = _resolver(FIELDS)
serve(
    table,
    {"add": _resolver(FIELDS, "Access denied"),
     "update": _resolver(_CHANGED, _CHANGE, sets_enum=True),
     "delete": _resolver(_refusing(_DELETE), _DELETE), "get": _READ, "list": _READ},
    crud(
        "userfieldconfig",
        "userfieldconfig",
        add="Create a custom field of a CRM object (`UF_{entityId}_...`); answers it in `field`.",
        update="Change a custom field's settings, labels and list values; answers it in `field`.",
        delete="Delete a custom field (the values items hold stay); answers null.",
        get="One custom field's settings, labels in every language, list values.",
        list="Custom field settings matching a filter, 50 per page, by sort then id.",
    ),
)  # fmt: skip


@table.method("userfieldconfig.getTypes", page="userfieldconfig-get-types.md")
async def get_types(call: Call) -> Any:
    """The custom field types of the module, by userTypeId."""
    _module(call)
    return {"types": {t: {"userTypeId": t, "description": d} for t, d in TYPES}}
