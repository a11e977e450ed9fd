"""Stored rows of orders, deals and invoices <-> the wire values of the families that read them.

sale.order.* and crm.item.* print typed values (numbers, "Y"/"N", ISO dates with offset, null);
legacy crm.deal.* prints every scalar as a string, money with two decimals
(api-reference/crm/deals/crm-deal-get.md: `"OPPORTUNITY": "1000000.00"`). A request's `fields`
object goes the other way: each value is read as its field's stored kind, and the family raises
its own error for a value that cannot be one. Dates are unix seconds; a `date` field holds the
midnight of its day in the portal zone.

Dynamic fields live in two JSON columns: custom fields (`user_fields`, by their original
`UF_CRM_...` name) and parent links (`parents`, `{"1220": 22}` for `PARENT_ID_1220`/`parentId1220`).
Listing schemas carry them as the pseudo fields `@uf` and `@parents`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import orjson

from orderlink import coerce
from orderlink.errors import B24Error
from orderlink.listing import CustomFields
from orderlink.schema import Field, Schema, fit_text
from orderlink.storage.base import Row

UF, PARENTS = "@uf", "@parents"
DYNAMIC = (
    Field(UF, "user_fields", "json", "uf", read_only=True, filterable=False, sortable=False),
    Field(PARENTS, "parents", "json", "parents", read_only=True, filterable=False, sortable=False),
)


# Custom fields in list filters, by either spelling (`UF_CRM_1721244482250`, `ufCrm_...`), and
# in lower case where a legacy family accepts field names in any case.
CUSTOM_FIELDS = CustomFields("user_fields", lambda name: uf_upper(name) or uf_upper(name.upper()))


def listing_schema(schema: Schema) -> Schema:
    """The schema a list method hands the listing engine: its fields plus the dynamic columns."""
    return Schema(
        schema.table,
        [*schema.fields, *DYNAMIC],
        case_insensitive=schema.case_insensitive,
        filter_ops=schema.filter_ops,
    )


# -- stored -> wire ----------------------------------------------------------------------------

Renderer = Callable[[Field, Any, tzinfo], Any]


def number(value: float) -> int | float:
    """`100.0` prints as `100`, as the docs' examples print whole amounts (within the range
    where a JSON reader keeps every integer exact)."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def decode(text: Any) -> Any:
    return orjson.loads(text) if isinstance(text, str | bytes) else text


def encode(value: Any) -> str:
    return orjson.dumps(value).decode()


def typed(field: Field, value: Any, zone: tzinfo) -> Any:
    """sale.order / crm.item: numbers as numbers, flags "Y"/"N", dates ISO, null stays null."""
    if value is None:
        return None
    if field.kind == "datetime":
        return coerce.iso(float(value), zone)
    if field.kind == "float":
        return number(float(value))
    if field.kind == "json":
        return decode(value)
    return value


def strings(field: Field, value: Any, zone: tzinfo) -> Any:
    """Legacy crm.deal: every scalar a string, money with two decimals, null stays null."""
    if value is None:
        return None
    if field.kind == "datetime":
        return coerce.iso(float(value), zone)
    if field.kind == "float":
        return f"{float(value):.2f}"
    if field.kind == "json":
        return decode(value)
    return str(value)


def as_text(value: Any) -> Any:
    """A custom-field value the legacy way: scalars as strings, lists item by item."""
    if isinstance(value, list):
        return [as_text(item) for item in value]
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(number(value))
    if isinstance(value, int):
        return str(value)
    return value


def user_fields(row: Row) -> dict[str, Any]:
    found = decode(row.get("user_fields") or "{}")
    return found if isinstance(found, dict) else {}


def parents(row: Row) -> dict[int, int]:
    found = decode(row.get("parents") or "{}")
    if not isinstance(found, dict):
        return {}
    return {int(key): int(value) for key, value in sorted(found.items(), key=lambda kv: int(kv[0]))}


@dataclass(frozen=True, slots=True)
class Selection:
    """What a list's `select` asks for; `None` in `uf`/`parents` means "all of them"."""

    all_fields: bool
    names: tuple[str, ...] = ()
    uf: frozenset[str] | None = None
    parents: frozenset[int] | None = None

    def wants(self, name: str) -> bool:
        return self.all_fields or name in self.names

    def wants_uf(self, name: str) -> bool:
        return self.uf is None or name in self.uf

    def wants_parent(self, type_id: int) -> bool:
        return self.parents is None or type_id in self.parents


ALL = Selection(all_fields=True)


@dataclass(frozen=True, slots=True)
class View:
    """How one family prints one entity: key order, value style, names of dynamic fields.

    `layout` names the wire keys in answer order: a schema field, `@uf`/`@parents` (expanded from
    the JSON columns), or any other key, printed from `constants` (null for a disabled field).
    """

    schema: Schema
    layout: tuple[str, ...]
    value: Renderer
    uf_name: Callable[[str], str]
    parent_name: Callable[[int], str]
    constants: Mapping[str, Any] = field(default_factory=dict)
    dynamic_value: Callable[[Any], Any] = lambda value: value
    # crm-deal-list.md answers the selected fields in `select` order; crm-item-list.md in the
    # entity's own order.
    select_order: bool = False

    def render(self, row: Row, zone: tzinfo, selection: Selection = ALL) -> dict[str, Any]:
        out: dict[str, Any] = {}
        layout = self.layout
        if self.select_order and not selection.all_fields:
            layout = (*(n for n in selection.names if n in self.layout), PARENTS, UF)
        for key in layout:
            if key == UF:
                if selection.uf is None or selection.uf:
                    for name, value in user_fields(row).items():
                        if selection.wants_uf(name):
                            out[self.uf_name(name)] = self.dynamic_value(value)
            elif key == PARENTS:
                if selection.parents is None or selection.parents:
                    for type_id, value in parents(row).items():
                        if selection.wants_parent(type_id):
                            out[self.parent_name(type_id)] = self.dynamic_value(value)
            elif selection.wants(key):
                found = self.schema.get(key)
                if found is not None and found.column in row:
                    out[key] = self.value(found, row[found.column], zone)
                elif found is None:
                    out[key] = self.constants.get(key)
        return out

    def selection(self, raw: Any, *, uf_mask: str | None = None) -> Selection:
        """A list's `select`: field names, `*`, custom and parent field names, and `uf_mask`
        (crm-deal-list.md: `*` is every non-custom field, `UF_*` every custom one, both by
        default). Missing, empty or naming nothing known selects everything."""
        requested = names(raw)
        if not requested:
            return ALL
        fields: dict[str, None] = {}
        uf: set[str] = set()
        links: set[int] = set()
        all_uf = uf_mask is None and "*" in requested
        for name in requested:
            known = self.schema.get(name)
            if known is not None:
                fields[known.name] = None
            elif name in self.layout:
                fields[name] = None
            elif uf_mask is not None and name.upper() == uf_mask:
                all_uf = True
            elif (upper := uf_upper(name)) is not None:
                uf.add(upper)
            elif (type_id := parent_type(name)) is not None:
                links.add(type_id)
        custom = None if all_uf else frozenset(uf)
        if "*" in requested:
            return Selection(all_fields=True, uf=custom, parents=None)
        if not (fields or uf or links or all_uf):
            return ALL
        return Selection(False, tuple(fields), custom, frozenset(links))

    def engine_select(self, selection: Selection) -> list[str]:
        """The names to hand `listing.parse` as `select`: stored fields and dynamic columns."""
        if selection.all_fields:
            return ["*"]
        picked = [f.name for f in self.schema if f.name in selection.names]
        if selection.uf is None or selection.uf:
            picked.append(UF)
        if selection.parents:
            picked.append(PARENTS)
        return picked or [self.schema.fields[0].name]


def names(raw: Any) -> list[str]:
    """`select` as a list of names, however it was encoded (list, PHP-keyed object, string)."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [raw]
    values = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    return [v for v in values if isinstance(v, str)]


# -- dynamic field names -----------------------------------------------------------------------

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


def parent_type(name: str) -> int | None:
    found = _PARENT.match(name)
    return int(found.group(1)) if found else None


# -- wire -> stored ----------------------------------------------------------------------------


class Unreadable(Exception):
    """A wire value its field's kind cannot hold."""

    def __init__(self, value: Any) -> None:
        super().__init__(repr(value)[:100])
        self.value = value


class NotMultiple(Unreadable):
    """A single value where the field takes a list."""


def empty(f: Field) -> Any:
    """What `""`/null stores: the column's empty value when it is NOT NULL, else null."""
    return f.extra.get("empty")


def read(f: Field, value: Any, zone: tzinfo) -> Any:
    """A wire value as `f`'s stored value; raises `Unreadable`."""
    if f.multiple:
        return encode(_ids(value))
    if value is None or (value == "" and f.kind != "text"):
        return empty(f)
    stored: Any
    if f.kind == "int":
        stored = coerce.to_int(value)
    elif f.kind == "float":
        stored = coerce.to_float(value)
    elif f.kind == "flag":
        flag = coerce.to_flag(value)
        stored = None if flag is None else "Y" if flag else "N"
    elif f.kind == "datetime":
        stored = day(value, zone) if f.type == "date" else _moment(value, zone)
    elif f.kind == "json":
        stored = encode(value)
    else:
        text = coerce.to_text(value)
        stored = None if text is None else fit_text(f.column, text)
    if stored is None:
        raise Unreadable(value)
    return stored


def _ids(value: Any) -> list[int]:
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        raise NotMultiple(value)
    ids = [coerce.to_int(item) for item in value if item not in (None, "")]
    if any(item is None for item in ids):
        raise Unreadable(value)
    return [item for item in ids if item is not None]


def _moment(value: Any, zone: tzinfo) -> int | None:
    moment = coerce.to_datetime(value, zone)
    return None if moment is None else int(moment.timestamp())


def day(value: Any, zone: tzinfo) -> int | None:
    """A `date` field takes the calendar day written in the value, whatever its offset
    (crm-deal-add.md sends `$(date --iso-8601=seconds)`; crm-deal-get.md prints that day)."""
    if not isinstance(value, str):
        return None
    try:
        of = date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
    if not coerce.EARLIEST.date() <= of <= coerce.LATEST.date():
        return None
    return midnight(of, zone)


def midnight(of: date, zone: tzinfo) -> int:
    return int(datetime.combine(of, time.min, tzinfo=zone).timestamp())


def today(now: float, zone: tzinfo, *, plus_days: int = 0) -> int:
    return midnight(datetime.fromtimestamp(now, zone).date() + timedelta(days=plus_days), zone)


ErrorFactory = Callable[[str, Unreadable], B24Error]


@dataclass(slots=True)
class Changes:
    """A `fields` object read: column values, custom-field values and parent links."""

    columns: Row = field(default_factory=dict)
    user_fields: dict[str, Any] = field(default_factory=dict)
    parents: dict[str, int | None] = field(default_factory=dict)

    def merged(self, row: Row) -> Row:
        """The column values to store, with the JSON columns merged into `row`'s."""
        values = dict(self.columns)
        if self.user_fields:
            values["user_fields"] = encode({**user_fields(row), **self.user_fields})
        if self.parents:
            links = {str(k): v for k, v in parents(row).items()}
            for key, value in self.parents.items():
                if value:
                    links[key] = value
                else:
                    links.pop(key, None)
            values["parents"] = encode(links)
        return values


def read_fields(
    raw: Mapping[str, Any],
    schema: Schema,
    zone: tzinfo,
    *,
    accept: Callable[[Field], bool],
    error: ErrorFactory,
    dynamic: bool = False,
) -> Changes:
    """Read a `fields` object: unknown keys and fields `accept` refuses are ignored (every
    family's add/update page says so); a value that cannot be stored raises `error(name, exc)`."""
    changes = Changes()
    for key, value in raw.items():
        name = str(key)
        found = schema.get(name)
        if found is not None:
            if accept(found):
                try:
                    changes.columns[found.column] = read(found, value, zone)
                except Unreadable as exc:
                    raise error(found.name, exc) from None
            continue
        if not dynamic:
            continue
        if (upper := uf_upper(name)) is not None:
            changes.user_fields[upper] = value
        elif (type_id := parent_type(name)) is not None:
            link = None if value in (None, "", 0, "0") else coerce.to_int(value)
            if link is not None and link <= 0:
                link = None
            if link is None and value not in (None, "", 0, "0"):
                raise error(name, Unreadable(value))
            changes.parents[str(type_id)] = link
    return changes


def fields_object(raw: Any) -> dict[str, Any] | None:
    """A `fields` parameter as an object; `[]` (PHP's empty array) is an empty one; None for
    anything else."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, list):
        return {str(i): v for i, v in enumerate(raw)}
    return None
