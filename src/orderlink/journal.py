"""The journal: every call a portal gets, as it was answered, kept per portal for tests to read.

A call is traced while it runs (`Trace`: the caller, the parameters, the limit and scope
decisions dispatch takes, faults that fired, a near miss, and each `batch` command with its
`$result[...]` references resolved and its own answer); as its answer goes out, the HTTP layer
hands the trace over (`Journal.record`), which turns it into its row at once (strings and
numbers: a waiting call holds no object the garbage collector must walk, which cost more than
the row). Nothing is written then: rows wait in memory and are written some milliseconds later,
many in one transaction, the portal's oldest rows beyond `journal_limit` dropped in the same
one (calls that would be dropped at once are never written). So another process (`orderlink
journal`) sees a call within milliseconds of its answer, within a quarter of a second under
load (the writer then waits longer, so that it takes about WRITER_SHARE of the time), and this
process's admin API flushes first. Secrets never reach the table: tokens, codes, passwords and
client secrets are masked, also inside a batch command's query string and in webhook URLs.

Read back with `entries()`: one JSON object per call, newest first (docs/admin-api.md).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from orderlink.principal import Principal
from orderlink.storage.base import JournalQuery, Row, Store

log = logging.getLogger("orderlink")

# What is kept of an answer and of the parameters (bytes of their JSON); longer ones are cut and
# marked truncated. A batch's commands past ANSWER_LIMIT keep each result to its own limit.
ANSWER_LIMIT = 64 * 1024
PARAMS_LIMIT = 64 * 1024
COMMAND_RESULT_LIMIT = 8 * 1024
# Seconds traces wait to be written together, and how many may wait (past it, the oldest go).
FLUSH_DELAY = 0.02
MAX_PENDING = 10_000
# Under load the writer waits longer, so that writing takes at most this share of the time: the
# wait after a write is the write's own duration / WRITER_SHARE, up to MAX_FLUSH_DELAY.
WRITER_SHARE = 0.025
MAX_FLUSH_DELAY = 0.25  # another process's `orderlink journal` sees a call this soon

MASK = "***"
# Parameter names whose values are secrets at any depth, in any case; `code` only at the top
# (an OAuth authorization code), since entity fields are called CODE too.
SECRET_KEYS = frozenset(
    {"auth", "access_token", "refresh_token", "client_secret", "application_token", "password"}
)
TOP_SECRET_KEYS = SECRET_KEYS | {"code"}
_IN_QUERY = re.compile(
    r"(?i)((?:^|[?&])(?:" + "|".join(sorted(TOP_SECRET_KEYS)) + r")(?:\[[^\]=&]*\])*=)[^&]*"
)
_WEBHOOK_URL = re.compile(r"(/rest/\d+/)[^/?#\s]+")
_MASKED = r"\1" + MASK
# Every secret key, query-string secret and webhook URL contains one of these words (a substring
# test each: a regular expression of them is a hundred times slower).
_TELLTALES = (b"auth", b"token", b"secret", b"password", b"code", b"/rest/")


@dataclass(slots=True)
class Command:
    """One `batch` command as the journal shows it."""

    id: str
    method: str
    params: Any
    decisions: dict[str, Any] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    did_you_mean: str = ""
    status: int = 200
    result: Any = None
    error: dict[str, Any] | None = None


@dataclass(slots=True)
class Trace:
    """What the journal records of one HTTP call while it runs. The HTTP layer fills in the
    caller; dispatch, faults and `batch` note what they decide (`note`, `fired`, `missed`),
    into the batch command running when there is one."""

    started: float  # unix time
    begun: float  # the clock's monotonic time, for the duration
    principal: Principal | None = None
    method: str = ""
    params: dict[str, Any] | None = None
    decisions: dict[str, Any] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    did_you_mean: str = ""
    commands: list[Command] | None = None
    current: Command | None = None

    def note(self, key: str, value: Any) -> None:
        (self.current.decisions if self.current else self.decisions)[key] = value

    def fired(self, fault: dict[str, Any]) -> None:
        (self.current.faults if self.current else self.faults).append(fault)

    def missed(self, suggestion: str) -> None:
        if self.current:
            self.current.did_you_mean = suggestion
        else:
            self.did_you_mean = suggestion

    def command(self, key: str, method: str, params: Any) -> Command:
        """A batch command starts: what is noted from now on is its own."""
        if self.commands is None:
            self.commands = []
        self.current = Command(key, method, params)
        self.commands.append(self.current)
        return self.current

    def done(
        self, command: Command, *, result: Any = None, error: dict[str, Any] | None = None,
        status: int = 200,
    ) -> None:  # fmt: skip
        command.result, command.error, command.status = result, error, status
        self.current = None


class Journal:
    """Traces waiting to be written, and the writer (see the module docstring)."""

    def __init__(self, store: Store, *, limit: int) -> None:
        self.store = store
        self.limit = limit
        # Rows in JOURNAL_COLUMNS order (portal id first), oldest first.
        self._pending: collections.deque[Sequence[Any]] = collections.deque(maxlen=MAX_PENDING)
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._delay = FLUSH_DELAY

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def record(self, trace: Trace, status: int, payload: bytes, finished: float) -> None:
        """As the answer goes out (`status` 0: the connection was dropped, nothing was
        answered): keep the call's row, to be written shortly. A call whose row cannot be made
        is logged and left out: the journal never fails a call."""
        try:
            row = _row(trace, status, payload, max(finished - trace.begun, 0.0))
        except Exception:
            log.exception("journal: a call of %s not recorded", trace.method)
            return
        self._pending.append(row)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._soon(), name="orderlink-journal"
            )

    async def _soon(self) -> None:
        try:
            await asyncio.sleep(self._delay)
            began = time.perf_counter()
            await self.flush()
            spent = time.perf_counter() - began
            self._delay = min(max(FLUSH_DELAY, spent / WRITER_SHARE), MAX_FLUSH_DELAY)
        finally:
            self._task = None

    async def flush(self) -> None:
        """Write every waiting trace now (before an admin read, and at shutdown). A store
        failure loses them, logged: the journal never holds up or fails a call."""
        async with self._lock:
            while self._pending:
                rows = _newest(self._pending, self.limit)
                self._pending.clear()
                try:
                    await self.store.write_journal(rows, self.limit)
                except Exception as exc:
                    log.warning("journal: %d call(s) not recorded: %s", len(rows), exc)

    async def close(self) -> None:
        """Write what waits (the pending write finishes first: it takes milliseconds)."""
        if self._task is not None:
            await self._task
        await self.flush()

    async def entries(self, query: JournalQuery) -> list[dict[str, Any]]:
        await self.flush()
        return [entry(row) for row in await self.store.journal(query)]


# -- rows in and out ---------------------------------------------------------------------------


def _newest(pending: Sequence[Sequence[Any]], keep: int) -> list[Sequence[Any]]:
    """The waiting rows, without those of a portal older than its newest `keep`: the write
    would delete them again at once (its trim keeps `keep` rows per portal)."""
    counts: collections.Counter[int] = collections.Counter()
    kept: list[Sequence[Any]] = []
    for row in reversed(pending):
        counts[row[0]] += 1
        if counts[row[0]] <= keep:
            kept.append(row)
    kept.reverse()
    return kept


def _row(trace: Trace, status: int, payload: bytes, duration: float) -> tuple[Any, ...]:
    """The stored row, in JOURNAL_COLUMNS order."""
    principal = trace.principal
    assert principal is not None
    answer, truncated = _cut(payload, ANSWER_LIMIT)
    params, _ = _cut(masked_json(trace.params) if trace.params else b"{}", PARAMS_LIMIT)
    detail: dict[str, Any] = {"decisions": trace.decisions}
    if trace.faults:
        detail["faults"] = trace.faults
    if trace.did_you_mean:
        detail["did_you_mean"] = trace.did_you_mean
    if status == 0:
        detail["dropped"] = True
    batch = _batch(trace.commands) if trace.commands is not None else None
    return (
        principal.portal_id, float(trace.started), trace.method, principal.kind,
        principal.user_id, principal.credential, params, status, answer,
        int(truncated), float(duration), orjson.dumps(detail).decode(), batch,
    )  # fmt: skip


def _batch(commands: list[Command]) -> str:
    """The commands as JSON, serialised once in the common case: parameters are masked only
    when the whole names a secret's telltale word, results cut only when the whole is over
    ANSWER_LIMIT."""
    shown = [_command(command) for command in commands]
    data = orjson.dumps(shown)
    if _telltale(data):
        for item, command in zip(shown, commands, strict=True):
            item["params"] = mask(command.params)
        data = orjson.dumps(shown)
    if len(data) > ANSWER_LIMIT:
        for item in shown:
            if "result" in item:
                text = orjson.dumps(item["result"])
                if len(text) > COMMAND_RESULT_LIMIT:
                    item["result"] = _cut(text, COMMAND_RESULT_LIMIT)[0]
                    item["truncated"] = True
        data = orjson.dumps(shown)
    return data.decode()


def _command(command: Command) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": command.id, "method": command.method,
                             "params": command.params, "status": command.status}  # fmt: skip
    if command.error is not None:
        shown["error"] = command.error
    else:
        shown["result"] = command.result
    if command.decisions:
        shown["decisions"] = command.decisions
    if command.faults:
        shown["faults"] = command.faults
    if command.did_you_mean:
        shown["did_you_mean"] = command.did_you_mean
    return shown


def _cut(data: bytes, limit: int) -> tuple[str, bool]:
    """At most `limit` bytes as text (a character cut in two is left out), and whether cut."""
    if len(data) <= limit:
        return data.decode("utf-8", "replace"), False
    return data[:limit].decode("utf-8", "ignore"), True


def masked_json(value: Any) -> bytes:
    """`mask(value)` as JSON. Most parameters hold no secret: the value is masked only when its
    JSON names one of the secrets' telltale words at all (a few C-speed scans)."""
    data = orjson.dumps(value)
    return orjson.dumps(mask(value)) if _telltale(data) else data


def _telltale(data: bytes) -> bool:
    lowered = data.lower()
    return any(word in lowered for word in _TELLTALES)


def mask(value: Any, *, top: bool = True) -> Any:
    """`value` with every secret replaced by `***` (see SECRET_KEYS); a copy."""
    if isinstance(value, dict):
        secret = TOP_SECRET_KEYS if top else SECRET_KEYS
        return {
            key: MASK if str(key).lower() in secret else mask(item, top=False)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask(item, top=False) for item in value]
    if isinstance(value, str):
        if "=" in value:
            value = _IN_QUERY.sub(_MASKED, value)
        if "/rest/" in value:
            value = _WEBHOOK_URL.sub(_MASKED, value)
    return value


def entry(row: Row) -> dict[str, Any]:
    """A stored row as the admin API and `orderlink journal --json` show it."""
    detail = _json(row["detail"]) or {}
    answer: Any = row["answer"]
    if not row["truncated"]:
        answer = _json(answer, answer)
    return {
        "id": int(row["id"]),
        "portal_id": int(row["portal_id"]),
        "time": float(row["at"]),
        "method": row["method"],
        "transport": row["transport"],
        "user_id": int(row["user_id"]),
        "credential": row["credential"],
        "params": _json(row["params"], row["params"]),
        "status": int(row["status"]),
        "answer": answer,
        "truncated": bool(row["truncated"]),
        "duration": float(row["duration"]),
        "decisions": detail.get("decisions", {}),
        "faults": detail.get("faults", []),
        "did_you_mean": detail.get("did_you_mean"),
        "dropped": bool(detail.get("dropped", False)),
        "batch": _json(row["batch"]) if row["batch"] is not None else None,
    }


def _json(text: str, otherwise: Any = None) -> Any:
    """Stored JSON text as a value; text that is not JSON (an HTML page, a cut answer) as is."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return otherwise
