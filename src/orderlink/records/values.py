"""One stored value -> its wire value: typed (sale.order, crm.item) or strings (legacy crm.*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Any

import orjson

from orderlink import coerce
from orderlink.schema import Field

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
