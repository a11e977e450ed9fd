"""The `batch` method: up to 50 commands in one request (settings/how-to-call-rest-api/batch.md).

`cmd` maps ids to `method?query` strings (or is a list of them); each query is decoded with the
same PHP bracket rules as a request, `$result[id][field]...` references to earlier commands are
resolved, and each command runs through the same dispatch as an HTTP call, as the same caller.
The answer is always HTTP 200 once the batch itself is accepted; each failed command lands in
`result_error`. The five maps are PHP arrays: `[]` when empty, a JSON list when their keys are
0..n-1 (a list `cmd` whose commands all succeeded), an object otherwise.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from orderlink import coerce, errors, params
from orderlink.registry import Call, MethodTable

if TYPE_CHECKING:
    from orderlink.dispatch import Reply

table = MethodTable()

MAX_COMMANDS = 50
# Past this many commands the request is refused whole instead of per command (see decisions).
MAX_ACCEPTED = 1000

_REFERENCE = re.compile(
    r"\$(result|result_error|result_total|result_next|result_time)((?:\[[^\[\]]*\])+)"
)
_WHOLE_REFERENCE = re.compile(_REFERENCE.pattern + r"\Z")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class _Missing:
    """A reference whose command failed or whose path does not exist: substitutes as ""."""


MISSING = _Missing()


def commands(cmd: Any) -> list[tuple[str, Any]]:
    """(id, value) pairs in order; ids of a list are its indexes."""
    if cmd is None or cmd == "":
        return []
    if isinstance(cmd, dict):
        return [(str(key), value) for key, value in cmd.items()]
    if isinstance(cmd, list):
        return [(str(index), value) for index, value in enumerate(cmd)]
    raise errors.ArgumentError(
        "Parameter 'cmd' must be an object or an array of 'method?query' strings"
    )


def split_command(value: Any) -> tuple[str, dict[str, Any]]:
    """`crm.orderentity.list?filter[>orderId]=5` -> (method, decoded parameters)."""
    if not isinstance(value, str) or not value.strip():
        raise errors.ArgumentError("A batch command must be a 'method?query' string")
    method, _, query = value.strip().partition("?")
    method = method.strip().strip("/")
    if method.lower().endswith(".json"):
        method = method[: -len(".json")]
    if not method:
        raise errors.ArgumentError("A batch command must name a method")
    return method, params.parse_query(query)


def resolve(value: Any, maps: dict[str, dict[str, Any]], earlier: set[str]) -> Any:
    """Replace `$result[...]` references in every string of `value` (recursively).

    A string that is exactly one reference takes the referenced value itself (numbers stay
    numbers, arrays stay arrays); references inside longer strings become text. A reference to
    an id that is not an earlier command is an error; one to a failed command or a missing path
    becomes "" (docs/decisions.md).
    """
    if isinstance(value, dict):
        return {key: resolve(item, maps, earlier) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, maps, earlier) for item in value]
    if not isinstance(value, str) or "$result" not in value:
        return value
    if _WHOLE_REFERENCE.match(value):
        found = _lookup(_REFERENCE.match(value), maps, earlier)  # type: ignore[arg-type]
        return "" if found is MISSING else found
    return _REFERENCE.sub(lambda m: _text(_lookup(m, maps, earlier)), value)


def _lookup(match: re.Match[str], maps: dict[str, dict[str, Any]], earlier: set[str]) -> Any:
    path = _SEGMENT.findall(match.group(2))
    command = path[0]
    if command not in earlier:
        raise errors.ArgumentError(
            f"Batch reference {match.group(0)} does not name an earlier command"
        )
    node: Any = maps[match.group(1)].get(command, MISSING)
    for segment in path[1:]:
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif (
            isinstance(node, list)
            and segment.isascii()
            and segment.isdigit()
            and int(segment) < len(node)
        ):
            node = node[int(segment)]
        else:
            return MISSING
    return node


def _text(found: Any) -> str:
    if found is MISSING or found is None or isinstance(found, dict | list):
        return ""
    if isinstance(found, bool):
        return "1" if found else ""  # PHP's string form of true/false
    return str(found)


def php_array(entries: dict[str, Any]) -> Any:
    """A PHP array as json_encode writes it: `[]` if empty, a list if keyed 0..n-1 in order."""
    if all(key == str(index) for index, key in enumerate(entries)):
        return list(entries.values())
    return entries


@table.method(
    "batch",
    scope="basic",
    doc="settings/how-to-call-rest-api/batch.md",
    batchable=False,
    charged=False,
)
async def batch(call: Call) -> Any:
    """Run up to 50 methods in one request, passing results forward with $result[...]."""
    assert call.run is not None
    pairs = commands(call.params.get("cmd"))
    if len(pairs) > MAX_ACCEPTED:
        raise errors.BatchLengthExceeded()
    halt = coerce.to_flag(call.params.get("halt")) or False
    maps: dict[str, dict[str, Any]] = {
        "result": {}, "result_error": {}, "result_total": {}, "result_next": {}, "result_time": {},
    }  # fmt: skip
    earlier: set[str] = set()
    trace = call.trace
    # One store transaction for the whole batch, a savepoint per command: a failed command
    # leaves nothing behind, and the answer is sent only after everything is committed.
    async with call.store.group() as group:
        for index, (key, value) in enumerate(pairs):
            earlier.add(key)
            # The journal's view of the command: its parameters once references are resolved.
            traced = trace.command(key, str(value), {}) if trace is not None else None
            try:
                async with group.step():
                    if index >= MAX_COMMANDS:
                        raise errors.BatchLengthExceeded()
                    method, sub_params = split_command(value)
                    sub_params = resolve(sub_params, maps, earlier - {key})
                    if traced is not None:
                        traced.method, traced.params = method, sub_params
                    reply: Reply = await call.run(method, sub_params, started=call.ctx.clock.now())
            except errors.B24Error as exc:
                maps["result_error"][key] = errors.body(exc)
                if trace is not None and traced is not None:
                    trace.done(traced, error=maps["result_error"][key], status=exc.status)
                if halt:
                    break
                continue
            if trace is not None and traced is not None:
                trace.done(traced, result=reply.result)
            maps["result"][key] = reply.result
            if reply.total is not None:
                maps["result_total"][key] = reply.total
            if reply.next is not None:
                maps["result_next"][key] = reply.next
            maps["result_time"][key] = reply.time
    return {name: php_array(entries) for name, entries in maps.items()}
