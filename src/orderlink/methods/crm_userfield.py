"""crm.deal.userfield.*, crm.contact.userfield.*, crm.company.userfield.*: the definitions of
custom fields (`UF_CRM_*`), one family declared once and served for each entity.

Pages: api-reference/crm/deals/user-defined-fields/crm-deal-userfield-{add,get,list,update,
delete}.md, api-reference/crm/contacts/userfield/crm-contact-userfield-*.md and
api-reference/crm/companies/userfields/crm-company-userfield-*.md: the same five methods, the
same answers, but for ENTITY_ID (CRM_DEAL, CRM_CONTACT, CRM_COMPANY). The definitions share one
table (`crm_userfields`); the entities keep the values (`user_fields`); a definition makes the
field appear in crm.deal.fields / crm.contact.fields / crm.company.fields (and crm.item.fields,
families/crm_fields.py `uf_descriptor`). Legacy crm.*: UPPER_SNAKE names, strings, errors with
the documented texts.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from orderlink import coerce, errors, events
from orderlink.families.crm_fields import LANGUAGES, definition_fields
from orderlink.families.family import Created, Family, plural
from orderlink.families.handlers import crud, serve
from orderlink.families.legacy import legacy_family
from orderlink.families.readers import top_level
from orderlink.records import reading
from orderlink.records import values as wire
from orderlink.records.custom_fields import parent_upper, unchanged
from orderlink.records.projection import View
from orderlink.registry import Call, MethodTable
from orderlink.schema import Field, Schema, named
from orderlink.storage.base import Condition, Emit, ListQuery, Row

table = MethodTable(scope="crm")


@dataclass(frozen=True, slots=True)
class Owner:
    """An entity whose custom fields a set of crm.*.userfield.* methods defines."""

    entity_id: str  # ENTITY_ID: CRM_DEAL
    noun: str  # in the method and page names: crm.deal.userfield.add, crm-deal-userfield-add.md
    docs: str  # the pages' folder


OWNERS = (
    Owner("CRM_DEAL", "deal", "api-reference/crm/deals/user-defined-fields/"),
    Owner("CRM_CONTACT", "contact", "api-reference/crm/contacts/userfield/"),
    Owner("CRM_COMPANY", "company", "api-reference/crm/companies/userfields/"),
)

_LABELS = ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL", "ERROR_MESSAGE",
           "HELP_MESSAGE")  # fmt: skip
# crm-deal-userfield-get.md's answer, in its order (ENTITY_ID follows ID on every page).
SCHEMA = Schema(
    "crm_userfields",
    [
        # The deal page prints ENTITY_ID read-only, SHOW_IN_LIST writable and N by default.
        *definition_fields(str.upper, "char", entity_id=("O", None), show_in_list=("", "N")),
        *(named(name, "json", "lang_map", empty="{}") for name in _LABELS),
        named("LIST", "json", "uf_enum_element"),
    ],
    case_insensitive=True,
)
_LAYOUT = tuple(f.name for f in SCHEMA)
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


def _flag(raw: Any) -> str:
    return "Y" if coerce.to_flag(raw) is True else "N"


def _enum_items(raw: Any, multiple: bool, old: list[dict[str, Any]]) -> str:
    """LIST after a write (crm-contact-userfield-update.md, "uf_enum_element"): an item with a
    known ID changes it, or deletes it with `DEL: Y`; an item without ID is added (one without a
    VALUE is dropped) under the next id; items not named stay. Listed by SORT, then id; a single
    field keeps one default, the first marked, else the first item (crm-deal-userfield-add.md)."""
    given = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    items = {str(i["ID"]): dict(i) for i in old}
    next_id = max((int(i) for i in items), default=0) + 1
    for item in (top_level(i) for i in given if isinstance(i, dict)):
        known = items.get(str(item.get("id", "")).strip())
        if known is not None:
            if _flag(item.get("del")) == "Y":
                del items[known["ID"]]
                continue
            if item.get("value") not in (None, ""):
                known["VALUE"] = str(item["value"])
        elif item.get("value") not in (None, ""):
            known = items[str(next_id)] = {"ID": str(next_id), "VALUE": str(item["value"]),
                                           "SORT": "0", "DEF": "N", "XML_ID": None}  # fmt: skip
            next_id += 1
        else:
            continue
        if "sort" in item:
            known["SORT"] = str(coerce.to_int(item["sort"]) or 0)
        if "def" in item:
            known["DEF"] = _flag(item["def"])
        if item.get("xml_id") not in (None, ""):
            known["XML_ID"] = str(item["xml_id"])
    out = sorted(items.values(), key=lambda i: (int(i["SORT"]), int(i["ID"])))
    xml_ids = [i["XML_ID"] for i in out if i["XML_ID"]]
    for xml_id in xml_ids:
        if xml_ids.count(xml_id) > 1:
            raise errors.UserFieldError(f"List item with value XML_ID={xml_id} already exists.")
    if out and not multiple:
        default = next((i for i in out if i["DEF"] == "Y"), out[0])
        for i in out:
            i["DEF"] = "Y" if i is default else "N"
    return wire.encode(out)


async def _taken(call: Call, entity_id: str, name: str) -> bool:
    conditions = [Condition("entity_id", "=", entity_id), Condition("field_name", "=", name)]
    query = ListQuery("crm_userfields", call.portal, ["id"], conditions, limit=1, count=False)
    return bool((await call.store.list(query)).rows)


async def _read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
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
        entity_id = family.share[1] if family.share else ""
        if await _taken(call, entity_id, columns["field_name"]):
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
        before = wire.decode((old or {}).get("list") or "[]")
        columns["list"] = _enum_items(upper.get("LIST"), multiple, before)
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


async def _create(call: Call, columns: Row, now: float) -> Created:
    return Created({k: v for k, v in columns.items() if v is not None}, {})


VIEW = View(SCHEMA, _LAYOUT, wire.strings, uf_name=unchanged, parent_name=parent_upper,
            optional=frozenset({"LIST"}))  # fmt: skip
_LIST_LAYOUT = tuple(name for name in _LAYOUT if name not in _LABELS)
LIST_VIEW = dataclasses.replace(VIEW, layout=_LIST_LAYOUT)


def user_field_family(owner: Owner) -> Family:
    """The definitions of `owner`'s custom fields: the rows of `crm_userfields` it owns."""

    def raised(action: str, user: int, at: float, field_id: int | str, row: Row) -> tuple[Emit]:
        name = str(row["field_name"])
        return (events.user_field(owner.entity_id, action, user, at, field_id, name),)

    return legacy_family(
        schema=SCHEMA,
        view=VIEW,
        list_view=LIST_VIEW,
        params=_params,
        viewed=_viewed,
        not_found=lambda: errors.UserFieldNotFound("The entity is not found."),
        events=raised,
        descriptor=lambda f: {"type": f.type},
        custom=None,
        share=("entity_id", owner.entity_id),
        foreign=errors.UserFieldForeign,
        read=_read,
        create=_create,
    )


for _owner in OWNERS:
    serve(
        table,
        user_field_family(_owner),
        crud(
            f"crm.{_owner.noun}.userfield",
            f"crm-{_owner.noun}-userfield",
            add=f"Define a {_owner.noun} custom field `UF_CRM_<FIELD_NAME>`; answers its id.",
            get=f"One {_owner.noun} custom field's definition, labels in every language.",
            list=f"{_owner.noun.capitalize()} custom field definitions matching a filter, a "
            "bare array.",
            update="Change a definition; FIELD_NAME, USER_TYPE_ID and MULTIPLE stay, LIST items "
            "merge by ID.",
            delete=f"Delete a definition (the values {plural(_owner.noun)} hold stay).",
        ),
        docs=_owner.docs,
    )
