"""Request parameters: query string + JSON / form / multipart body, decoded like PHP does.

Bitrix24 is PHP: form and query keys carry structure in brackets and are decoded by `parse_str`
rules (`settings/how-to-call-rest-api/data-encoding.md`): `fields[orderId]=1`, `select[]=a`,
`filter[@ownerId][]=1`. Values that arrive this way are strings; handlers coerce them
(`coerce.py`). Parameters are the union of the query string and the body, the body winning
(PHP's GET-then-POST order; protocol.md open point 1).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

import orjson
from python_multipart import FormParser
from python_multipart.multipart import Field, File, parse_options_header

from orderlink.errors import InvalidRequest

# PHP's max_input_nesting_level is 64; anything deeper than this is refused as absurd.
MAX_DEPTH = 32
# PHP's max_input_vars is 1000 by default; we allow more but refuse floods.
MAX_VARS = 20_000

# PostgreSQL text cannot hold U+0000 and SQLite's LIKE stops at it (a `%` filter with a NUL
# matched every row): refused in every parameter, on both stores (docs/decisions.md).
NUL_REFUSED = "Parameters must not contain the NUL character (U+0000)"

_INT_KEY = re.compile(r"-?(?:0|[1-9][0-9]{0,17})\Z")
_NAME_CHARS = str.maketrans({" ": "_", ".": "_"})

Params = dict[str, Any]


def parse_query(raw: str | bytes) -> Params:
    """Decode a query string or form body exactly as PHP's `parse_str` would."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    root: dict[Any, Any] = {}
    if not raw:
        return root
    pairs = raw.split("&")
    if len(pairs) > MAX_VARS:
        raise InvalidRequest(f"Too many parameters (more than {MAX_VARS})")
    encoded = "%" in raw or "+" in raw
    for pair in pairs:
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if encoded:
            key, value = unquote_plus(key), unquote_plus(value)
        if "\x00" in key or "\x00" in value:
            raise InvalidRequest(NUL_REFUSED)
        _assign(root, key, value if sep else "")
    return _top(root)


def parse_pairs(pairs: list[tuple[str, str]]) -> Params:
    """The same decoding for (key, value) pairs that are already percent-decoded (multipart)."""
    if len(pairs) > MAX_VARS:
        raise InvalidRequest(f"Too many parameters (more than {MAX_VARS})")
    root: dict[Any, Any] = {}
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise InvalidRequest(NUL_REFUSED)
        _assign(root, key, value)
    return _top(root)


def _assign(root: dict[Any, Any], key: str, value: str) -> None:
    key = key.lstrip(" ")
    if not key:
        return
    open_at = key.find("[")
    if open_at < 0:
        root[key.translate(_NAME_CHARS)] = value
        return
    close_at = key.find("]", open_at)
    if open_at == 0:
        return  # PHP drops a variable with an empty base name: `[a]=1`
    base = key[:open_at].translate(_NAME_CHARS)
    if close_at < 0:
        # An unmatched `[` becomes `_` and the rest of the key is taken literally.
        root[base + "_" + key[open_at + 1 :]] = value
        return
    segments: list[str | None] = []
    pos = open_at
    while pos < len(key) and key[pos] == "[":
        close_at = key.find("]", pos)
        if close_at < 0:
            break  # PHP ignores a trailing unmatched `[...`
        inner = key[pos + 1 : close_at]
        segments.append(inner if inner else None)
        pos = close_at + 1
        if len(segments) > MAX_DEPTH:
            raise InvalidRequest(f"Parameter '{base}' is nested deeper than {MAX_DEPTH} levels")
    container = root
    name: Any = base
    for segment in segments:
        child = container.get(name)
        if not isinstance(child, dict):
            child = {}
            container[name] = child
        container = child
        name = _next_index(container) if segment is None else _php_key(segment)
    container[name] = value


def _php_key(segment: str) -> int | str:
    return int(segment) if _INT_KEY.match(segment) else segment


def _next_index(container: dict[Any, Any]) -> int:
    ints = [k for k in container if isinstance(k, int)]
    return max(ints) + 1 if ints and max(ints) >= 0 else 0


def _top(root: dict[Any, Any]) -> Params:
    """The top level stays a map even when keyed 0..n-1 (positional parameters)."""
    return {str(key): _listify(value) for key, value in root.items()}


def _listify(node: Any) -> Any:
    """PHP arrays whose keys are exactly 0..n-1 in order become lists; other keys become strings."""
    if not isinstance(node, dict):
        return node
    items = [(k, _listify(v)) for k, v in node.items()]
    if items and all(k == i for i, (k, _) in enumerate(items)):
        return [v for _, v in items]
    return {str(k): v for k, v in items}


def parse_json(body: bytes) -> Params:
    if not body.strip():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"Malformed JSON body: {exc}") from None
    if isinstance(value, list):
        # PHP clients encode "no parameters" as `[]` (b24phpsdk does for every such call); PHP
        # decodes a JSON array as a 0..n-1 keyed array, so a non-empty one gives positional
        # parameters "0", "1", ... as a form would (docs/decisions.md).
        value = {str(index): item for index, item in enumerate(value)}
    elif not isinstance(value, dict):
        raise InvalidRequest("JSON body must be an object")
    if not _plainly_within(body):
        check_shape(value)
    return value


def _plainly_within(body: bytes) -> bool:
    """Whether the JSON text alone shows `check_shape` would pass: no deeper nesting than
    brackets, no more scalars than half its bytes, and no NUL but as an escape (JSON strings
    cannot hold a raw one). Three C-speed scans instead of a walk of every value."""
    return (
        len(body) <= 2 * MAX_VARS
        and body.count(b"[") + body.count(b"{") <= MAX_DEPTH
        and b"\\u0000" not in body
    )


def check_shape(params: Params) -> None:
    """The one depth and size rule, for JSON as for forms and query strings: at most MAX_DEPTH
    levels of nesting below a top-level parameter, and at most MAX_VARS values in all."""
    if any("\x00" in key for key in params):
        raise InvalidRequest(NUL_REFUSED)
    values = 0
    stack: list[tuple[Any, int, str]] = [(value, 0, str(key)) for key, value in params.items()]
    while stack:
        node, depth, base = stack.pop()
        if isinstance(node, dict | list):
            if depth >= MAX_DEPTH and node:
                raise InvalidRequest(f"Parameter '{base}' is nested deeper than {MAX_DEPTH} levels")
            if isinstance(node, dict) and any("\x00" in key for key in node):
                raise InvalidRequest(NUL_REFUSED)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1, base) for child in children)
            continue
        if isinstance(node, str) and "\x00" in node:
            raise InvalidRequest(NUL_REFUSED)
        values += 1
        if values > MAX_VARS:
            raise InvalidRequest(f"Too many parameters (more than {MAX_VARS})")


def parse_multipart(body: bytes, content_type: str) -> Params:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidRequest("multipart/form-data body without a boundary")
    pairs: list[tuple[str, str]] = []

    def on_field(field: Field) -> None:
        name = (field.field_name or b"").decode("utf-8", "replace")
        pairs.append((name, (field.value or b"").decode("utf-8", "replace")))

    def on_file(file: File) -> None:
        file.close()  # files are not parameters of any method orderlink serves

    parser = FormParser("multipart/form-data", on_field, on_file, boundary=boundary)
    try:
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # python-multipart raises its own hierarchy: all mean a bad body
        raise InvalidRequest(f"Malformed multipart body: {exc}") from None
    return parse_pairs(pairs)


def parse_body(body: bytes, content_type: str) -> Params:
    """Decode a body by its content type. Without a usable type, a body that looks like JSON is
    JSON and anything else is a form (clients such as CRest send no Content-Type)."""
    if not body:
        return {}
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/json" or mime.endswith("+json"):
        return parse_json(body)
    if mime == "application/x-www-form-urlencoded":
        return parse_query(body)
    if mime == "multipart/form-data":
        return parse_multipart(body, content_type)
    if body.lstrip()[:1] in (b"{", b"["):
        return parse_json(body)
    return parse_query(body)


def merge(query: Params, body: Params) -> Params:
    if not query:
        return body
    if not body:
        return query
    merged = dict(query)
    merged.update(body)
    return merged
