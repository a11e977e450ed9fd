"""A request's `fields` object -> the column values to store, each read as its field's kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from orderlink import coerce
from orderlink.errors import B24Error
from orderlink.records.custom_fields import parent_type, parents, uf_upper, user_fields
from orderlink.records.days import day
from orderlink.records.values import encode
from orderlink.schema import Field, Schema, fit_text
from orderlink.storage.base import Row


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
