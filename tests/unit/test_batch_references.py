"""`batch` commands and `$result[...]` references, without a store or HTTP
(settings/how-to-call-rest-api/batch.md; the rules for missing paths in docs/decisions.md)."""

from __future__ import annotations

from typing import Any

import pytest

from orderlink import errors
from orderlink.batch import commands, php_array, resolve, split_command


def maps(**result: Any) -> dict[str, dict[str, Any]]:
    names = ("result", "result_error", "result_total", "result_next", "result_time")
    return {name: dict(result) if name == "result" else {} for name in names}


def test_commands_keep_their_order_and_a_list_is_keyed_by_index() -> None:
    assert commands({"b": "x", "a": "y"}) == [("b", "x"), ("a", "y")]
    assert commands(["x", "y"]) == [("0", "x"), ("1", "y")]
    assert commands(None) == [] == commands("")
    with pytest.raises(errors.ArgumentError):
        commands(5)


def test_a_command_is_a_method_and_its_query() -> None:
    assert split_command(" crm.orderentity.list.json?filter[>orderId]=5 ") == (
        "crm.orderentity.list",
        {"filter": {">orderId": "5"}},
    )
    for bad in ("", "  ", "?a=1", 7):
        with pytest.raises(errors.ArgumentError):
            split_command(bad)


def test_a_whole_reference_keeps_the_value_and_a_partial_one_becomes_text() -> None:
    found = maps(a={"dealOrder": {"orderId": 5125, "ids": [1, 2]}})
    assert resolve("$result[a][dealOrder][orderId]", found, {"a"}) == 5125
    assert resolve("$result[a][dealOrder][ids]", found, {"a"}) == [1, 2]
    assert resolve("id=$result[a][dealOrder][ids][1]", found, {"a"}) == "id=2"
    assert resolve({"x": ["$result[a][dealOrder][orderId]"]}, found, {"a"}) == {"x": [5125]}


def test_a_missing_path_or_failed_command_is_empty_and_a_later_command_is_an_error() -> None:
    found = maps(a={"n": 1})
    assert resolve("$result[a][nope]", found, {"a", "b"}) == ""
    assert resolve("$result[b]", found, {"a", "b"}) == ""  # b failed: nothing in result
    assert resolve("v$result[a][n][0]", found, {"a"}) == "v"
    with pytest.raises(errors.ArgumentError):
        resolve("$result[c][n]", found, {"a"})


def test_text_forms_follow_php() -> None:
    found = maps(a={"t": True, "f": False, "none": None, "list": [1]})
    assert resolve("[$result[a][t]][$result[a][f]][$result[a][none]][$result[a][list]]",
                   found, {"a"}) == "[1][][][]"  # fmt: skip


def test_php_arrays_are_lists_only_when_keyed_in_order() -> None:
    assert php_array({}) == []
    assert php_array({"0": "a", "1": "b"}) == ["a", "b"]
    assert php_array({"1": "a"}) == {"1": "a"}
