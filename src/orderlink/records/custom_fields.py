"""Custom fields and parent links: their two spellings, and the JSON columns that hold them.

Dynamic fields live in two JSON columns: custom fields (`user_fields`, by their original
`UF_CRM_...` name) and parent links (`parents`, `{"1220": 22}` for `PARENT_ID_1220`/`parentId1220`).
Listing schemas carry them as the pseudo fields `@uf` and `@parents`.
"""

from __future__ import annotations

import re
from typing import Any

from orderlink.listing import CustomFields
from orderlink.records.values import decode
from orderlink.schema import Field, Schema
from orderlink.storage.base import Row

UF, PARENTS = "@uf", "@parents"
DYNAMIC = (
    Field(UF, "user_fields", "json", "uf", read_only=True, filterable=False, sortable=False),
    Field(PARENTS, "parents", "json", "parents", read_only=True, filterable=False, sortable=False),
)


def listing_schema(schema: Schema, dynamic: tuple[Field, ...] = DYNAMIC) -> Schema:
    """The schema a list method hands the listing engine: its fields plus the dynamic columns."""
    return Schema(
        schema.table,
        [*schema.fields, *dynamic],
        case_insensitive=schema.case_insensitive,
        filter_ops=schema.filter_ops,
    )


def user_fields(row: Row) -> dict[str, Any]:
    found = decode(row.get("user_fields") or "{}")
    return found if isinstance(found, dict) else {}


def parents(row: Row) -> dict[int, int]:
    found = decode(row.get("parents") or "{}")
    if not isinstance(found, dict):
        return {}
    return {int(key): int(value) for key, value in sorted(found.items(), key=lambda kv: int(kv[0]))}


_UF_UPPER = re.compile(r"UF_CRM_[A-Z0-9_]+\Z")
_UF_REGULAR = re.compile(r"([0-9]+)((?:_[0-9]+)+|(?:_[A-Z]+)+)\Z")
_UF_CAMEL = re.compile(r"ufCrm([0-9]+)((?:_[0-9]+)+|(?:[A-Z][a-z]+)+)\Z")
_UF_SIMPLE = re.compile(r"ufCrm_([A-Z0-9_]+)\Z")
_PARENT = re.compile(r"(?:PARENT_ID_|parentId)([1-9][0-9]{0,9})\Z")


def uf_upper(name: str) -> str | None:
    """The original `UF_CRM_...` name of a custom field given either way, else None."""
    if _UF_UPPER.match(name):
        return name
    simple = _UF_SIMPLE.match(name)
    if simple:
        return "UF_CRM_" + simple.group(1)
    regular = _UF_CAMEL.match(name)
    if regular is None:
        return None
    number_, tail = regular.groups()
    if tail.startswith("_"):
        return f"UF_CRM_{number_}{tail}"
    return f"UF_CRM_{number_}_" + "_".join(p.upper() for p in re.findall(r"[A-Z][a-z]+", tail))


def uf_camel(upper: str) -> str:
    """api-reference/crm/universal/index.md "Field Naming Conventions": `UF_CRM_3_DIGIT` ->
    `ufCrm3Digit`, `UF_CRM_3_1747309727` -> `ufCrm3_1747309727`; names mixing letters and
    digits, or without an object number, only swap the prefix: `UF_CRM_1747309879` ->
    `ufCrm_1747309879`."""
    rest = upper[len("UF_CRM_") :]
    regular = _UF_REGULAR.match(rest)
    if regular is None:
        return "ufCrm_" + rest
    number_, tail = regular.groups()
    if tail[1].isascii() and tail[1].isdigit():
        return f"ufCrm{number_}{tail}"
    return f"ufCrm{number_}" + "".join(part.capitalize() for part in tail.split("_")[1:])


def unchanged(name: str) -> str:
    """A custom field under its original `UF_CRM_...` name (legacy families,
    `useOriginalUfNames=Y`)."""
    return name


def parent_type(name: str) -> int | None:
    found = _PARENT.match(name)
    return int(found.group(1)) if found else None


def parent_camel(type_id: int) -> str:
    return f"parentId{type_id}"


def parent_upper(type_id: int) -> str:
    return f"PARENT_ID_{type_id}"


# Custom fields in list filters, by either spelling (`UF_CRM_1721244482250`, `ufCrm_...`), and
# in lower case where a legacy family accepts field names in any case.
CUSTOM_FIELDS = CustomFields("user_fields", lambda name: uf_upper(name) or uf_upper(name.upper()))
