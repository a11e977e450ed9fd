"""Request parameters decode like PHP's parse_str (settings/how-to-call-rest-api/data-encoding.md)."""

from __future__ import annotations

import pytest

from orderlink import errors
from orderlink.params import MAX_DEPTH, merge, parse_body, parse_json, parse_query


class TestBrackets:
    def test_nested_object(self) -> None:
        assert parse_query("fields[orderId]=5125&fields[ownerTypeId]=2") == {
            "fields": {"orderId": "5125", "ownerTypeId": "2"}
        }

    def test_appended_list(self) -> None:
        assert parse_query("select[]=ID&select[]=NAME") == {"select": ["ID", "NAME"]}

    def test_operator_inside_key_with_list_value(self) -> None:
        assert parse_query("filter[@ownerId][]=1&filter[@ownerId][]=2&filter[>ID]=15") == {
            "filter": {"@ownerId": ["1", "2"], ">ID": "15"}
        }

    def test_percent_encoded_brackets_and_plus_as_space(self) -> None:
        assert parse_query("fields%5BTITLE%5D=New+deal%20%231") == {
            "fields": {"TITLE": "New deal #1"}
        }

    def test_explicit_indexes_become_a_list(self) -> None:
        # CRest's http_build_query writes select%5B0%5D=ID.
        assert parse_query("select%5B0%5D=ID&select%5B1%5D=TITLE") == {"select": ["ID", "TITLE"]}

    def test_deep_structure(self) -> None:
        assert parse_query("fields[PHONE][0][VALUE]=112233&fields[PHONE][0][VALUE_TYPE]=WORK") == {
            "fields": {"PHONE": [{"VALUE": "112233", "VALUE_TYPE": "WORK"}]}
        }

    def test_non_sequential_keys_stay_a_map(self) -> None:
        assert parse_query("a[1]=x&a[3]=y") == {"a": {"1": "x", "3": "y"}}

    def test_later_value_wins(self) -> None:
        assert parse_query("start=0&start=50") == {"start": "50"}

    def test_array_replaces_scalar_like_php(self) -> None:
        assert parse_query("a=1&a[b]=2") == {"a": {"b": "2"}}

    def test_empty_value_and_key_without_equals(self) -> None:
        assert parse_query("a=&b") == {"a": "", "b": ""}

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("[a]=1", {}),  # empty base name is dropped
            ("a[b=1", {"a_b": "1"}),  # unmatched bracket becomes an underscore
            ("a[b]c=1", {"a": {"b": "1"}}),  # trailing garbage after ] is ignored
            ("a.b=1", {"a_b": "1"}),  # PHP turns dots in the base name into underscores
            ("&&&", {}),
            ("a[][b]=1&a[][b]=2", {"a": [{"b": "1"}, {"b": "2"}]}),
        ],
    )
    def test_php_garbage_is_decoded_not_refused(self, raw: str, expected: object) -> None:
        assert parse_query(raw) == expected

    def test_absurd_nesting_is_refused(self) -> None:
        with pytest.raises(errors.InvalidRequest):
            parse_query("a" + "[x]" * (MAX_DEPTH + 1) + "=1")


class TestBodies:
    def test_json_keeps_native_types(self) -> None:
        assert parse_body(b'{"fields":{"orderId":5125}}', "application/json") == {
            "fields": {"orderId": 5125}
        }

    def test_form(self) -> None:
        body = b"fields%5BorderId%5D=1"
        assert parse_body(body, "application/x-www-form-urlencoded; charset=UTF-8") == {
            "fields": {"orderId": "1"}
        }

    def test_multipart(self) -> None:
        body = (
            b'--xx\r\nContent-Disposition: form-data; name="fields[orderId]"\r\n\r\n5125\r\n'
            b'--xx\r\nContent-Disposition: form-data; name="select[]"\r\n\r\norderId\r\n--xx--\r\n'
        )
        assert parse_body(body, "multipart/form-data; boundary=xx") == {
            "fields": {"orderId": "5125"},
            "select": ["orderId"],
        }

    def test_json_array_is_positional_parameters(self) -> None:
        """PHP decodes a JSON array as a 0..n-1 keyed array (b24phpsdk sends `[]` for no
        parameters): docs/decisions.md."""
        assert parse_body(b"[]", "application/json") == {}
        assert parse_body(b"[1, 2]", "application/json") == {"0": 1, "1": 2}

    def test_without_content_type_json_is_sniffed(self) -> None:
        assert parse_body(b' {"a": 1}', "") == {"a": 1}
        assert parse_body(b"a=1", "") == {"a": "1"}

    @pytest.mark.parametrize("body", [b"{", b'{"a":}', b'"text"', b"\xff\xfe"])
    def test_malformed_or_non_object_json_is_refused(self, body: bytes) -> None:
        with pytest.raises(errors.InvalidRequest):
            parse_json(body)

    def test_body_wins_over_query(self) -> None:
        assert merge({"auth": "q", "start": "0"}, {"start": 50}) == {"auth": "q", "start": 50}
