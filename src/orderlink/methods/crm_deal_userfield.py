"""crm.deal.userfield.*: the definitions of deal custom fields (`UF_CRM_*`).

Pages: api-reference/crm/deals/user-defined-fields/{crm-deal-userfield-add,
crm-deal-userfield-get,crm-deal-userfield-list,crm-deal-userfield-update,
crm-deal-userfield-delete}.md. Deals keep the values (`user_fields`); a definition makes the
field appear in crm.deal.fields and crm.item.fields (families/crm_fields.py `uf_descriptor`).
Legacy crm.*: UPPER_SNAKE names, strings, errors with the documented texts.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import tzinfo
from typing import Any

from orderlink import errors, events
from orderlink.families.family import Created, Family
from orderlink.families.handlers import Served, exists, serve
from orderlink.families.readers import legacy_fields, legacy_invalid, positive_id, top_level
from orderlink.records import reading
from orderlink.records import values as wire
from orderlink.records.custom_fields import parent_upper, unchanged
from orderlink.records.projection import View
from orderlink.registry import Call, MethodTable
from orderlink.schema import Field, Schema, field
from orderlink.storage.base import Condition, Emit, Row

table = MethodTable()

DOCS = "api-reference/crm/deals/user-defined-fields/"

_LABELS = ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL", "ERROR_MESSAGE",
           "HELP_MESSAGE")  # fmt: skip
# crm-deal-userfield-get.md's answer, in its order.
SCHEMA = Schema(
    "deal_userfields",
    [
        field("ID", "id", "int", "integer", flags="O"),
        field("FIELD_NAME", "field_name", "text", "string", flags="RI"),
        field("USER_TYPE_ID", "user_type_id", "text", "string", flags="RI"),
        field("XML_ID", "xml_id", "text", "string"),
        field("SORT", "sort", "int", "integer", empty=100),
        field("MULTIPLE", "multiple", "flag", "char", flags="I", empty="N"),
        field("MANDATORY", "mandatory", "flag", "char", empty="N"),
        field("SHOW_FILTER", "show_filter", "text", "char", empty="N"),
        field("SHOW_IN_LIST", "show_in_list", "flag", "char", empty="N"),
        field("EDIT_IN_LIST", "edit_in_list", "flag", "char", empty="Y"),
        field("IS_SEARCHABLE", "is_searchable", "flag", "char", empty="N"),
        field("SETTINGS", "settings", "json", "object", empty="{}"),
        *(field(name, name.lower(), "json", "lang_map", empty="{}") for name in _LABELS),
        field("LIST", "list", "json", "uf_enum_element"),
    ],
    case_insensitive=True,
)
# crm-deal-userfield-get.md: ENTITY_ID follows ID; it is always CRM_DEAL here.
_LAYOUT = ("ID", "ENTITY_ID", *(f.name for f in SCHEMA if f.name != "ID"))
# The languages crm-deal-userfield-get.md's labels are given in.
LANGUAGES = ("ar", "br", "de", "en", "fr", "hi", "id", "in", "it", "ja", "kz", "la", "ms", "pl",
             "ru", "sc", "tc", "th", "tr", "ua", "vn")  # fmt: skip
# crm-deal-userfield-add.md's USER_TYPE_ID values.
USER_TYPES = frozenset({
    "string", "integer", "double", "boolean", "datetime", "date", "enumeration", "employee",
    "file", "url", "address", "money", "crm", "crm_status", "iblock_section", "iblock_element",
    "resourcebooking",
})  # fmt: skip
_NAME = re.compile(r"[A-Z0-9_]+\Z")
PREFIX = "UF_CRM_"


def _labels(fields: dict[str, Any]) -> dict[str, str]:
    """The five label columns: a string for every language, a language map completed with
    LABEL (crm-deal-userfield-add.md), LABEL where nothing is given."""
    default = fields.get("LABEL")
    default = "" if default is None else str(default)
    out = {}
    for name in _LABELS:
        given = fields.get(name)
        if isinstance(given, dict):
            texts = {lang: str(given.get(lang, default)) for lang in LANGUAGES}
        else:
            text = default if given in (None, "") else str(given)
            texts = dict.fromkeys(LANGUAGES, text)
        out[name.lower()] = wire.encode(texts)
    return out


def _field_name(raw: Any) -> str:
    code = "" if raw is None else str(raw).strip().upper()
    if not code:
        raise errors.LegacyCrmError("The 'FIELD_NAME' field is not found.")
    # crm-deal-userfield-add.md: the prefix is always added (orderlink: unless it is given).
    name = code if code.startswith(PREFIX) else PREFIX + code
    if len(name) > 50:
        raise errors.UserFieldError("Field name is too long (more than 50 characters).")
    if not _NAME.match(name):
        raise errors.UserFieldError(
            "Field name contains invalid characters. Allowed characters are: A-Z, 0-9 and _."
        )
    return name


def _enum_items(raw: Any, multiple: bool) -> str:
    """LIST: items without a VALUE are dropped; each gets an ID (its position); a single field's
    first item is the default unless one is marked."""
    items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    kept = [i for i in items if isinstance(i, dict) and i.get("VALUE") not in (None, "")]
    xml_ids = [i.get("XML_ID") for i in kept if i.get("XML_ID")]
    for xml_id in xml_ids:
        if xml_ids.count(xml_id) > 1:
            raise errors.UserFieldError(f"List item with value XML_ID={xml_id} already exists.")
    out = [{"ID": str(n), "VALUE": str(i["VALUE"]), "SORT": str(i.get("SORT") or 0),
            "DEF": "Y" if str(i.get("DEF", "N")).upper() == "Y" else "N",
            "XML_ID": i.get("XML_ID")} for n, i in enumerate(kept, start=1)]  # fmt: skip
    if out and not multiple and not any(i["DEF"] == "Y" for i in out):
        out[0]["DEF"] = "Y"
    return wire.encode(out)


async def _read(family: Family, call: Call, fields: dict[str, Any], old: Any) -> Any:
    upper = {str(k).upper(): v for k, v in fields.items()}
    changes = reading.read_fields(
        upper, SCHEMA, call.ctx.zone,
        accept=(lambda f: not (f.read_only or (old is not None and f.immutable))),
        error=family.invalid,
    )  # fmt: skip
    columns = changes.columns
    multiple = (columns.get("multiple") or (old or {}).get("multiple")) == "Y"
    if old is None:
        columns["field_name"] = _field_name(upper.get("FIELD_NAME"))
        kind = columns.get("user_type_id")
        if not kind:
            raise errors.LegacyCrmError("The 'USER_TYPE_ID' field is not found.")
        if kind not in USER_TYPES:
            raise errors.UserFieldError("Incorrect custom type specified.")
        if await exists(call, "deal_userfields", "field_name", columns["field_name"]):
            raise errors.UserFieldError(f"Field {columns['field_name']} already exists.")
        columns.update(_labels(upper))
    else:
        given = {name.lower() for name in _LABELS if name in upper} | (
            {n.lower() for n in _LABELS} if "LABEL" in upper else set()
        )
        columns.update({k: v for k, v in _labels(upper).items() if k in given})
    if "show_filter" in columns:
        columns["show_filter"] = _show_filter(columns["show_filter"])
    columns.pop("list", None)
    kind = columns.get("user_type_id") or (old or {}).get("user_type_id")
    if kind == "enumeration" and ("LIST" in upper or old is None):
        # An update's LIST replaces the items (the portal merges them by ID).
        columns["list"] = _enum_items(upper.get("LIST"), multiple)
    return columns


def _show_filter(raw: str) -> str:
    """crm-deal-userfield-list.md: SHOW_FILTER is N, I (exact), E (mask) or S (substring); the
    add page sends Y/N, and Y is a mask filter (the list example's enumeration field: "E")."""
    text = raw.strip().upper()
    if text in ("N", "I", "E", "S"):
        return text
    return "E" if text == "Y" else "N"


def _params(params: dict[str, Any]) -> dict[str, Any]:
    """Top-level names in any case; `filter[LANG]` is no field but the labels' language."""
    out = top_level(params)
    raw = out.get("filter")
    if isinstance(raw, dict):
        out["filter"] = {k: v for k, v in raw.items() if str(k).upper() != "LANG"}
    return out


def _language(params: dict[str, Any]) -> str | None:
    raw = top_level(params).get("filter")
    if not isinstance(raw, dict):
        return None
    found = [v for k, v in raw.items() if str(k).upper() == "LANG"]
    return str(found[0]) if found else None


def _viewed(view: View, params: dict[str, Any]) -> View:
    """crm-deal-userfield-list.md: the labels come only with `filter[LANG]`, as strings in that
    language (null when empty); get prints each as a map of every language."""
    if view is not LIST_VIEW:
        return view
    lang = _language(params)
    if lang is None:
        return view
    labels = tuple(name for name in _LAYOUT if name in _LABELS)
    at = _LIST_LAYOUT.index("IS_SEARCHABLE") + 2  # after SETTINGS
    layout = (*_LIST_LAYOUT[:at], *labels, *_LIST_LAYOUT[at:])

    def value(f: Field, stored: Any, zone: tzinfo) -> Any:
        if f.type == "lang_map":
            return wire.decode(stored or "{}").get(lang) or None
        return wire.strings(f, stored, zone)

    return dataclasses.replace(view, layout=layout, value=value)


async def _create(call: Call, columns: Any, now: float) -> Created:
    return Created({k: v for k, v in columns.items() if v is not None}, {})


def _events(action: str, user: int, at: float, field_id: int | str, row: Row) -> tuple[Emit, ...]:
    return (events.deal_user_field(action, user, at, field_id, str(row["field_name"])),)


VIEW = View(SCHEMA, _LAYOUT, wire.strings, uf_name=unchanged, parent_name=parent_upper,
            constants={"ENTITY_ID": "CRM_DEAL"}, optional=frozenset({"LIST"}))  # fmt: skip
_LIST_LAYOUT = tuple(name for name in _LAYOUT if name not in _LABELS)
LIST_VIEW = dataclasses.replace(VIEW, layout=_LIST_LAYOUT)

VIEW = View(SCHEMA, _LAYOUT, wire.strings, uf_name=unchanged, parent_name=parent_upper,
            constants={"ENTITY_ID": "CRM_DEAL"}, optional=frozenset({"LIST"}))  # fmt: skip
_LIST_LAYOUT = tuple(name for name in _LAYOUT if name not in _LABELS)
LIST_VIEW = dataclasses.replace(VIEW, layout=_LIST_LAYOUT)

USER_FIELDS = Family(
    table="deal_userfields",
    schema=SCHEMA,
    view=VIEW,
    list_schema=SCHEMA,
    list_view=LIST_VIEW,
    params=_params,
    viewed=_viewed,
    read_id=positive_id(errors.LegacyBadId),
    read_fields=legacy_fields,
    not_found=lambda: errors.UserFieldNotFound("The entity is not found."),
    invalid=legacy_invalid(SCHEMA),
    list_error=errors.LegacyCrmError,
    events=_events,
    descriptor=lambda f: {"type": f.type},
    envelope=None,
    list_envelope=None,
    fields_envelope=None,
    answers=("id", "true", "true"),
    read=_read,
    create=_create,
    # deal_userfields holds every CRM object's definitions (userfieldconfig.*); these are a deal's.
    scope=(Condition("entity_id", "=", "CRM_DEAL"),),
)

serve(
    table,
    USER_FIELDS,
    (
        Served("add", "crm.deal.userfield.add", "crm-deal-userfield-add.md",
               "Define a deal custom field `UF_CRM_<FIELD_NAME>`; answers its id."),
        Served("get", "crm.deal.userfield.get", "crm-deal-userfield-get.md",
               "One deal custom field's definition, labels in every language."),
        Served("list", "crm.deal.userfield.list", "crm-deal-userfield-list.md",
               "Deal custom field definitions matching a filter, a bare array."),
        Served("update", "crm.deal.userfield.update", "crm-deal-userfield-update.md",
               "Change a definition; FIELD_NAME, USER_TYPE_ID and MULTIPLE stay."),
        Served("delete", "crm.deal.userfield.delete", "crm-deal-userfield-delete.md",
               "Delete a definition (the values deals hold stay)."),
    ),
    scope="crm",
    docs=DOCS,
)  # fmt: skip
