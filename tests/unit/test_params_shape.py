"""The JSON body's shape rule: the fast scan of the text (`_plainly_within`) may only skip the
walk (`check_shape`) where the walk would pass. Inferred rather than read: the limits are our
own (params.py: PHP's max_input_nesting_level and max_input_vars, see docs/decisions.md)."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderlink import params
from orderlink.errors import InvalidRequest

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=6))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=40,
)


def _passes(value: dict[str, Any]) -> bool:
    try:
        params.check_shape(value)
    except InvalidRequest:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=4), _VALUES, max_size=5))
def test_the_scan_skips_only_what_the_walk_passes(value: dict[str, Any]) -> None:
    body = orjson.dumps(value)
    walked = _passes(value)
    if params._plainly_within(body):
        assert walked
    try:
        params.parse_json(body)
    except InvalidRequest:
        assert not walked
    else:
        assert walked


def _deep(levels: int) -> bytes:
    return b'{"a":' + b"[" * levels + b"1" + b"]" * levels + b"}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_deep(params.MAX_DEPTH + 1), "nested deeper than"),
        (b'{"fields":{"TITLE":"a\\u0000b"}}', params.NUL_REFUSED),
        (b'{"fields":{"TI\\u0000TLE":"x"}}', params.NUL_REFUSED),
        (b'{"ids":[' + b",".join([b"1"] * (params.MAX_VARS + 1)) + b"]}", "Too many parameters"),
    ],
)
def test_what_the_walk_refuses_still_refused(body: bytes, message: str) -> None:
    assert not params._plainly_within(body)
    with pytest.raises(InvalidRequest, match=re.escape(message)):
        params.parse_json(body)


def test_an_ordinary_body_is_scanned_not_walked() -> None:
    body = b'{"filter":{"=ownerTypeId":2,"@ownerId":[5,6,7]},"order":{"orderId":"asc"}}'
    assert params._plainly_within(body)
    assert not params._plainly_within(_deep(params.MAX_DEPTH))  # many brackets: walked
    assert _passes(orjson.loads(_deep(params.MAX_DEPTH - 1)))
