"""listing.parse: the errors a bad `filter`/`order` gets, and what `select` picks."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest

from orderlink import listing
from orderlink.errors import B24Error, SaveError
from orderlink.schema import Field, Schema

SCHEMA = Schema(
    "orders",
    [Field("id", "id", "int", "integer"), Field("title", "title", "text", "string"),
     Field("price", "price", "float", "double")],
)  # fmt: skip


def _parse(params: dict[str, Any], **options: Any) -> listing.Listing:
    return listing.parse(
        params, SCHEMA, portal_id=1, error=SaveError, zone=UTC,
        default_order=(("id", False),), tie_breaker="id", **options,
    )  # fmt: skip


def _message(params: dict[str, Any], **options: Any) -> str:
    with pytest.raises(B24Error) as caught:
        _parse(params, **options)
    return caught.value.text


def test_unknown_filter_field() -> None:
    assert _message({"filter": {">=nope": 1}}) == (
        "Invalid filter: field 'nope' is not allowed in filter"
    )


def test_filter_must_be_an_object() -> None:
    assert _message({"filter": "x"}) == "Parameter 'filter' must be array."


def test_bad_filter_value() -> None:
    assert _message({"filter": {"id": "abc"}}) == "Invalid filter: field 'id' has invalid value"


def test_bad_order_direction_and_unknown_order_field() -> None:
    assert _message({"order": {"id": "up"}}).startswith("Invalid order: allowed sort directions")
    assert _parse({"order": {"nope": "asc"}}).query.order == (("id", False),)
    assert _message({"order": {"nope": "asc"}}, refuse_unknown_order=True) == (
        "Invalid order: field 'nope' is not allowed in order"
    )


def test_too_many_in_values() -> None:
    assert _message({"filter": {"@id": list(range(listing.MAX_IN_VALUES + 1))}}).startswith(
        "Invalid filter: more than"
    )


def test_select_and_given_fields() -> None:
    assert [f.name for f in _parse({"select": ["price", "nope"]}).select] == ["price"]
    assert len(_parse({"select": ["*"]}).select) == 3
    given = (SCHEMA["title"],)
    assert _parse({"select": ["price"]}, fields=given).select == given


def test_names_reads_every_encoding() -> None:
    assert listing.names(None) == []
    assert listing.names("id") == ["id"]
    assert listing.names({"0": "id", "1": 5}) == ["id"]
    assert listing.names(["id", None]) == ["id"]
