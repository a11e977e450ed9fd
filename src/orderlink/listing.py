"""One listing engine for every `*.list`: select, filter prefix operators, order, start paging.

Rules (settings/how-to-call-rest-api/list-methods-pecularities.md and each family's list page):
- `select` missing or empty selects every field; `*` too; unknown names are ignored.
- `filter` keys are `<prefix><field>`; the longest prefix wins (`!%=` before `!`); conditions
  are AND-ed. Unknown fields are refused with the family's error: a SQL-looking key is just an
  unknown field and never reaches SQL. Custom fields (`UF_CRM_*`), where a family has them, are
  filtered by their stored values as text (see `CustomFields`).
- `order` maps fields to `asc`/`desc` in any case; unknown fields are ignored (fast-bitrix24's
  `get_all` always sends `ID: ASC`); the primary key breaks ties so pages never overlap.
- `start` pages by 50; `next` only when more rows remain; `start=-1` (see docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Literal

from orderlink import coerce
from orderlink.errors import B24Error
from orderlink.schema import Field, Schema
from orderlink.storage.base import (
    Condition,
    ConditionGroup,
    ListQuery,
    ListResult,
    Op,
    entity_table,
)

PAGE_SIZE = 50
# Cap on IN-list length and filter size: far above any real client, far below a DoS.
MAX_IN_VALUES = 1000
MAX_CONDITIONS = 100
MAX_GROUP_DEPTH = 5

StartMinusOne = Literal["page", "all"]

_SIMPLE_OPS: dict[str, Op] = {
    "": "=", "=": "=", "!=": "!=", "!": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=",
}  # fmt: skip
_LIKE_OPS: dict[str, tuple[Op, bool]] = {
    # prefix -> (operator, value carries its own % wildcards)
    "%": ("like", False),
    "=%": ("like", True),
    "%=": ("like", True),
    "!%": ("not like", False),
    "!=%": ("not like", True),
    "!%=": ("not like", True),
}


@dataclass(frozen=True, slots=True)
class Listing:
    """A parsed list request: the storage query plus what the handler needs to render it."""

    query: ListQuery
    select: tuple[Field, ...]
    start: int

    def page(self, result: ListResult) -> tuple[int, int | None]:
        """(total, next) for the envelope."""
        total = result.total if result.total is not None else 0
        if self.query.limit is None or not self.query.count:
            return total, None
        following = self.start + PAGE_SIZE
        return total, following if total > following else None


ErrorFactory = Callable[[str], B24Error]


@dataclass(frozen=True, slots=True)
class CustomFields:
    """A family's custom fields: kept in the JSON object `column` under their original names;
    `resolve` maps a filter's field name to that name (None: not a custom field).

    No user-field types are kept (`crm.*.userfield.*` is not served), so values compare as text:
    `=`, `@`, LIKE on the text; `<`/`>` as numbers when the filter value is one (then text that
    is not a number never matches); a multiple field matches when any of its values does."""

    column: str
    resolve: Callable[[str], str | None]


def parse(
    params: Mapping[str, Any],
    schema: Schema,
    *,
    portal_id: int,
    error: ErrorFactory,
    zone: tzinfo,
    default_order: tuple[tuple[str, bool], ...],
    tie_breaker: str,
    start_minus_one: StartMinusOne = "page",
    base_conditions: tuple[Condition, ...] = (),
    refuse_unknown_order: bool = False,
    filter_groups: bool = False,
    custom: CustomFields | None = None,
    fields: tuple[Field, ...] | None = None,
) -> Listing:
    """Turn `select`/`filter`/`order`/`start` into a query; raise `error(text)` on bad input.
    A family that read `select` itself (`projection.View.selection`) passes the `fields` it
    reads instead, and `select` is not read again."""
    select = _select(params.get("select"), schema) if fields is None else fields
    found = _filter(params.get("filter"), _Filtering(schema, error, zone, filter_groups, custom))
    conditions = (*base_conditions, *found)
    order = _order(
        params.get("order"), schema, error, default_order, tie_breaker, refuse_unknown_order
    )
    start = coerce.to_int(params.get("start")) or 0
    columns = list(dict.fromkeys([f.column for f in select]))
    limit: int | None = PAGE_SIZE
    count = True
    if start == -1:
        # settings/performance/huge-data.md: up to 50 rows, no count. The orderentity page says
        # "all records"; `start_minus_one = "all"` follows that page instead.
        count = start_minus_one == "all"
        limit = None if count else PAGE_SIZE
    start = max(start, 0)
    query = ListQuery(
        table=entity_table(schema.table),
        portal_id=portal_id,
        columns=columns,
        conditions=conditions,
        order=order,
        offset=start,
        limit=limit,
        count=count,
    )
    return Listing(query, select, start)


def names(raw: Any) -> list[str]:
    """`select` as a list of names, however it was encoded (list, PHP-keyed object, string)."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [raw]
    values = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    return [v for v in values if isinstance(v, str)]


def _select(raw: Any, schema: Schema) -> tuple[Field, ...]:
    requested = names(raw)
    if not requested or "*" in requested:
        return tuple(schema.fields)
    picked: dict[str, Field] = {}
    for name in requested:
        found = schema.get(name)
        if found is not None:
            picked.setdefault(found.name, found)
    return tuple(picked.values()) if picked else tuple(schema.fields)


def split_key(key: str, schema: Schema) -> tuple[str, str]:
    """`>=orderId` -> (">=", "orderId"): the longest known prefix wins."""
    for prefix in schema.filter_ops:
        if key.startswith(prefix) and len(key) > len(prefix):
            return prefix, key[len(prefix) :]
    return "", key


@dataclass(frozen=True, slots=True)
class _Filtering:
    """What reading one `filter` needs."""

    schema: Schema
    error: ErrorFactory
    zone: tzinfo
    groups: bool = False  # numeric keys hold nested filters (crm-item-list.md)
    custom: CustomFields | None = None


def _filter(raw: Any, how: _Filtering, depth: int = 0) -> list[Condition | ConditionGroup]:
    """The conditions of a filter. With `groups` (crm-item-list.md), a numeric key holds a nested
    filter whose `logic` is AND (default) or OR: `{"0": {"logic": "OR", "0": {...}, ...}}`."""
    if raw is None or raw == "" or raw == []:
        return []
    if how.groups and isinstance(raw, list):  # `{"0": ..., "1": ...}` arrives as a list
        raw = {str(index): item for index, item in enumerate(raw)}
    if not isinstance(raw, dict):
        raise how.error("Parameter 'filter' must be array.")
    if len(raw) > MAX_CONDITIONS:
        raise how.error(f"Invalid filter: more than {MAX_CONDITIONS} conditions")
    conditions: list[Condition | ConditionGroup] = []
    for key, value in raw.items():
        text = str(key)
        if how.groups and text.lower() == "logic":
            continue
        if how.groups and text.isascii() and text.isdigit() and isinstance(value, dict | list):
            conditions.append(_group(value, how, depth + 1))
            continue
        prefix, name = split_key(text, how.schema)
        found = how.schema.get(name)
        if found is not None and found.filterable and "item" in found.extra:
            conditions.append(_item_condition(prefix, found, value, how.error))
            continue
        if found is not None and found.filterable:
            conditions.append(_condition(prefix, found, value, how.error, how.zone))
            continue
        custom = how.custom if found is None else None
        stored = custom.resolve(name) if custom is not None else None
        if custom is None or stored is None:
            raise how.error(f"Invalid filter: field '{_clip(name)}' is not allowed in filter")
        conditions.append(_custom_condition(prefix, name, custom.column, stored, value, how))
    return conditions


def _group(raw: Any, how: _Filtering, depth: int) -> ConditionGroup:
    if depth > MAX_GROUP_DEPTH:
        raise how.error(f"Invalid filter: groups nested deeper than {MAX_GROUP_DEPTH} levels")
    logic = "and"
    if isinstance(raw, dict):
        found = next((v for k, v in raw.items() if str(k).lower() == "logic"), "AND")
        logic = str(found).strip().lower()
        if logic not in ("and", "or"):
            raise how.error(f"Invalid filter: logic must be AND or OR, got '{_clip(str(found))}'")
    items = _filter(raw, how, depth)
    return ConditionGroup("or" if logic == "or" else "and", tuple(items))


def _custom_condition(
    prefix: str, name: str, column: str, key: str, value: Any, how: _Filtering
) -> Condition:
    """A condition on a custom field's stored values (CustomFields)."""
    invalid = f"Invalid filter: field '{_clip(name)}' has invalid value"
    prefix = _as_in(prefix, value)
    if prefix in ("@", "!@"):
        texts = _in_list(value, _clip(name), how.error, coerce.to_text)
        return Condition(column, "in" if prefix == "@" else "not in", texts, key=key)
    text = None if isinstance(value, list | dict) else coerce.to_text(value)
    if text is None:
        raise how.error(invalid)
    if prefix in _LIKE_OPS:
        op, own_wildcards = _LIKE_OPS[prefix]
        return Condition(column, op, like_pattern(text, own_wildcards), key=key)
    if prefix in ("", "=", "!=", "!"):
        return Condition(column, _SIMPLE_OPS[prefix], text or None, key=key)
    number = coerce.to_float(text)
    return Condition(column, _SIMPLE_OPS[prefix], text if number is None else number, key=key)


def _item_condition(prefix: str, field: Field, value: Any, error: ErrorFactory) -> Condition:
    """A multi-field (`crm_multifield`, its values under `extra["item"]`): crm-contact-list.md,
    "Filters for these fields only work on exact matches": `=` / `@` hold when one of its values
    is the one given, `!` / `!@` when none is."""
    invalid = f"Invalid filter: field '{field.name}' has invalid value"
    prefix = _as_in(prefix, value)
    key = field.extra["item"]
    if prefix in ("@", "!@"):
        texts = _in_list(value, field.name, error, coerce.to_text)
        return Condition(field.column, "in" if prefix == "@" else "not in", texts, item=key)
    if prefix not in ("", "=", "!", "!="):
        raise error(f"Invalid filter: field '{field.name}' takes exact values only")
    text = None if isinstance(value, list | dict) else coerce.to_text(value)
    if text is None:
        raise error(invalid)
    return Condition(field.column, _SIMPLE_OPS[prefix], text, item=key)


def _as_in(prefix: str, value: Any) -> str:
    """A list under an equality key means "any of" (`{"ID": [7058, 7059]}`; with `!`, "none
    of"), as the portals' filter engines read PHP arrays; b24phpsdk's batch paging relies on it
    (docs/decisions.md)."""
    if isinstance(value, list):
        if prefix in ("", "="):
            return "@"
        if prefix in ("!", "!="):
            return "!@"
    return prefix


def _in_list(
    value: Any, name: str, error: ErrorFactory, convert: Callable[[Any], Any]
) -> tuple[Any, ...]:
    """The values of an `@` / `!@` filter on `name`, each `convert`ed: at most MAX_IN_VALUES,
    none empty (None) or `_INVALID`."""
    values = _in_values(value)
    if len(values) > MAX_IN_VALUES:
        raise error(f"Invalid filter: more than {MAX_IN_VALUES} values for '{name}'")
    converted = tuple(convert(item) for item in values)
    if any(item is None or item is _INVALID for item in converted):
        raise error(f"Invalid filter: field '{name}' has invalid value")
    return converted


def _in_values(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [value]


def _condition(
    prefix: str, field: Field, value: Any, error: ErrorFactory, zone: tzinfo
) -> Condition:
    invalid = f"Invalid filter: field '{field.name}' has invalid value"
    prefix = _as_in(prefix, value)
    if prefix in ("@", "!@"):
        typed = _in_list(value, field.name, error, lambda item: filter_value(field, item, zone))
        return Condition(field.column, "in" if prefix == "@" else "not in", typed)
    if prefix in _LIKE_OPS:
        op, own_wildcards = _LIKE_OPS[prefix]
        text = coerce.to_text(value)
        if text is None:
            raise error(invalid)
        return Condition(
            field.column,
            op,
            like_pattern(text, own_wildcards),
            as_text=field.kind not in ("text", "flag"),
        )
    if isinstance(value, list | dict):
        raise error(invalid)
    converted = filter_value(field, value, zone)
    if converted is _INVALID:
        raise error(invalid)
    return Condition(field.column, _SIMPLE_OPS[prefix], converted)


_INVALID: Any = object()


def filter_value(field: Field, value: Any, zone: tzinfo) -> Any:
    """A filter value in the field's stored kind; None means "empty" (IS NULL); `_INVALID`."""
    if value is None or (isinstance(value, str) and value == "" and field.kind != "text"):
        return None
    if field.kind == "int":
        number = coerce.to_int(value)
        return _INVALID if number is None else number
    if field.kind == "float":
        real = coerce.to_float(value)
        return _INVALID if real is None else real
    if field.kind == "flag":
        flag = coerce.to_flag(value)
        return _INVALID if flag is None else ("Y" if flag else "N")
    if field.kind == "datetime":
        moment = coerce.to_datetime(value, zone)
        return _INVALID if moment is None else int(moment.timestamp())
    text = coerce.to_text(value)
    return _INVALID if text is None else text


def like_pattern(text: str, own_wildcards: bool) -> str:
    """A LIKE pattern with `\\` as escape: `_` is always literal; `%` is a wildcard only where
    the prefix says the value carries its own (`=%`, `%=`, `!=%`, `!%=`)."""
    escaped = text.replace("\\", "\\\\").replace("_", "\\_")
    if own_wildcards:
        return escaped
    return "%" + escaped.replace("%", "\\%") + "%"


def _order(
    raw: Any,
    schema: Schema,
    error: ErrorFactory,
    default: tuple[tuple[str, bool], ...],
    tie_breaker: str,
    refuse_unknown: bool = False,
) -> tuple[tuple[str, bool], ...]:
    if raw is None or raw == "" or raw == []:
        raw = {}
    if not isinstance(raw, dict):
        raise error("Parameter 'order' must be array.")
    order: list[tuple[str, bool]] = []
    for name, direction in raw.items():
        found = schema.get(str(name))
        if found is None or not found.sortable:
            if refuse_unknown:
                # crm-item-list.md documents this error; other families ignore the field.
                raise error(f"Invalid order: field '{_clip(str(name))}' is not allowed in order")
            continue
        text = direction.strip().upper() if isinstance(direction, str) else None
        if text not in ("ASC", "DESC"):
            raise error(
                "Invalid order: allowed sort directions are ASC, DESC. "
                f"But got '{_clip(str(direction))}' for field '{found.name}'"
            )
        order.append((found.column, text == "DESC"))
    if not order:
        order = list(default)
    if tie_breaker not in (col for col, _ in order):
        order.append((tie_breaker, False))
    return tuple(dict.fromkeys(order))


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
