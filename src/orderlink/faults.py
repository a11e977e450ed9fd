"""Faults: a portal that answers some calls the way real portals fail, for tests to meet.

A fault (`orderlink fault add`, `POST /_orderlink/api/portals/{id}/faults`) hits one method
(every method when none is named) of one portal, for the next `times` calls (until removed when
not given), each with `probability` (drawn from `seed`, so a run repeats). A hit call gets:

- a system error of `_includes/system-errors.md` (and the other cross-cutting ones of
  protocol.md 4.6) in its exact envelope and HTTP status: `QUERY_LIMIT_EXCEEDED` 503,
  `OPERATION_TIME_LIMIT` 429, `expired_token` 401, `PORTAL_DELETED` 500, ...;
- `HTML_502` (`HTML_500`, `HTML_503`, `HTML_504`): the front proxy's HTML error page instead
  of JSON, as a portal's nginx answers when the application behind it is down;
- `drop`: the connection closed without an answer;
- `delay`: that many seconds first (alone, or before any of the above).

A fault naming a method also hits that method inside a `batch`, as that command's entry in
`result_error` while the other commands run; HTML pages and drops are about an HTTP request, so
they hit only the method a URL names, and a fault naming no method only whole requests. Faults
are tried oldest first; delays add up, and the first error or drop that fires is the answer.

A server holds every portal's faults in memory and reloads them when the store's auth version
moves (adding or removing a fault moves it, from any process), so a fault added by the CLI hits
the running server's next call without a query per call. Firings are counted in memory for the
decision and written to the store after (so a batch command's rolled-back savepoint cannot undo
one); several workers share the count through the store, give or take the calls in flight.

`serve --fault-header` also honours `X-Orderlink-Fault: CODE`, `delay=SECONDS` or `drop` (comma
separated to combine) on a single request: off by default, a production server never fails
because a client asked.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orderlink import errors
from orderlink.journal import Trace
from orderlink.registry import Registry
from orderlink.storage.base import Fault, Store

log = logging.getLogger("orderlink")

# The errors a fault may answer with: every code of _includes/system-errors.md, and the
# cross-cutting ones of protocol.md 4.6 (ACCESS_DENIED is the system table's plan refusal).
SYSTEM_ERRORS: tuple[type[errors.B24Error], ...] = (
    errors.InternalServerError,
    errors.UnexpectedAnswer,
    errors.QueryLimitExceeded,
    errors.BatchMethodNotAllowed,
    errors.BatchLengthExceeded,
    errors.NoAuthFound,
    errors.HttpsRequired,
    errors.OverloadLimit,
    errors.RestNotOnPlan,
    errors.InvalidCredentials,
    errors.ManifestNotAvailable,
    errors.InsufficientScope,
    errors.ExpiredToken,
    errors.UserAccessError,
    errors.PortalDeleted,
    errors.OperationTimeLimit,
    errors.MethodNotFound,
    errors.MethodConfirmWaiting,
    errors.WrongAuthType,
    errors.InvalidToken,
)
_BY_CODE: dict[str, type[errors.B24Error]] = {cls.code.lower(): cls for cls in SYSTEM_ERRORS}
# nginx's own pages (and phrases) for the statuses a proxy answers when its upstream fails.
HTML_PAGES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
MAX_DELAY = 600.0
MAX_METHOD = 200
HEADER = b"x-orderlink-fault"


class ProxyPage(Exception):
    """The answer is the front proxy's HTML page, not the application's JSON."""

    def __init__(self, status: int) -> None:
        title = f"{status} {HTML_PAGES[status]}"
        super().__init__(title)
        self.status = status
        self.body = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        ).encode()
        self.headers = [(b"content-type", b"text/html")]


class Dropped(Exception):
    """The connection is to be closed without an answer."""


def canonical(code: str) -> str | None:
    """An error code as documented (`expired_token`, `QUERY_LIMIT_EXCEEDED`, `HTML_502`) from
    any spelling, or None if faults cannot answer it."""
    upper = code.strip().upper()
    if upper.startswith("HTML_") and upper[5:].isdigit() and int(upper[5:]) in HTML_PAGES:
        return upper
    found = _BY_CODE.get(code.strip().lower())
    return found.code if found else None


def status_of(error: str) -> int | None:
    if error.startswith("HTML_"):
        return int(error[5:])
    found = _BY_CODE.get(error.lower())
    return found.status if found else None


def known_codes() -> list[str]:
    return [cls.code for cls in SYSTEM_ERRORS] + [f"HTML_{status}" for status in HTML_PAGES]


@dataclass(frozen=True, slots=True)
class Spec:
    """A fault as asked for, checked."""

    method: str = ""
    error: str = ""
    dropped: bool = False
    delay: float = 0.0
    times: int | None = None
    probability: float = 1.0
    seed: int | None = None


def spec(
    *,
    method: str | None = None,
    error: str | None = None,
    dropped: bool = False,
    delay: float | None = None,
    times: int | None = None,
    probability: float | None = None,
    seed: int | None = None,
) -> Spec:
    """A checked fault; ValueError says what is wrong (the CLI and the admin API show it)."""
    name = (method or "").strip().strip("/")
    if name.lower().endswith(".json"):
        name = name[: -len(".json")]
    if len(name) > MAX_METHOD or any(c.isspace() or c in "?&#" for c in name):
        raise ValueError(f"`method` must be a method name of at most {MAX_METHOD} characters")
    code = ""
    if error:
        found = canonical(error)
        if found is None:
            raise ValueError(f"unknown error {error!r}: one of {', '.join(known_codes())}")
        code = found
    if code and dropped:
        raise ValueError("a fault answers an error or drops the connection, not both")
    wait = 0.0 if delay is None else float(delay)
    if not 0 <= wait <= MAX_DELAY:
        raise ValueError(f"`delay` must be from 0 to {MAX_DELAY:.0f} seconds")
    if not code and not dropped and wait == 0:
        raise ValueError("a fault needs an error, a drop or a delay")
    if times is not None and times < 1:
        raise ValueError("`times` must be at least 1")
    chance = 1.0 if probability is None else float(probability)
    if not 0 < chance <= 1:
        raise ValueError("`probability` must be above 0 and at most 1")
    return Spec(name.lower(), code, dropped, wait, times, chance, seed)


def from_json(body: dict[str, Any]) -> Spec:
    """The admin API's POST body: {"method", "error", "drop", "delay", "times",
    "probability", "seed"}, each optional."""
    unknown = set(body) - {"method", "error", "drop", "delay", "times", "probability", "seed"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")

    def typed(key: str, kinds: tuple[type, ...], what: str) -> Any:
        value = body.get(key)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise ValueError(f"`{key}` must be {what}")
        return value

    dropped = body.get("drop", False)
    if not isinstance(dropped, bool):
        raise ValueError("`drop` must be true or false")
    return spec(
        method=typed("method", (str,), "a string"),
        error=typed("error", (str,), "a string"),
        dropped=dropped,
        delay=typed("delay", (int, float), "a number of seconds"),
        times=typed("times", (int,), "an integer"),
        probability=typed("probability", (int, float), "a number"),
        seed=typed("seed", (int,), "an integer"),
    )


def from_header(value: str) -> Spec:
    """`X-Orderlink-Fault: QUERY_LIMIT_EXCEEDED`, `delay=1.5`, `drop`, or several of them
    separated by commas."""
    error, dropped, delay = None, False, None
    for part in (p.strip() for p in value.split(",")):
        if part.lower() == "drop":
            dropped = True
        elif part.lower().startswith("delay="):
            try:
                delay = float(part[len("delay=") :])
            except ValueError:
                raise ValueError("delay=SECONDS takes a number") from None
        elif part:
            error = part
    return spec(error=error, dropped=dropped, delay=delay)


async def act(error: str, dropped: bool, delay: float) -> None:
    """What a fired fault does to the call: wait, then raise its answer."""
    if delay:
        await asyncio.sleep(delay)
    if dropped:
        raise Dropped()
    if error.startswith("HTML_"):
        raise ProxyPage(int(error[5:]))
    if error:
        raise _BY_CODE[error.lower()]()


def view(fault: Fault) -> dict[str, Any]:
    """A fault as the admin API and `orderlink fault list --json` show it."""
    return {
        "id": fault.id,
        "portal_id": fault.portal_id,
        "method": fault.method or None,
        "error": fault.error or None,
        "status": status_of(fault.error) if fault.error else None,
        "drop": fault.dropped,
        "delay": fault.delay,
        "times": fault.times,
        "fired": fault.fired,
        "probability": fault.probability,
        "seed": fault.seed,
        "created_at": fault.created_at,
    }


def _fired(fault: Fault | None, error: str, dropped: bool, delay: float) -> dict[str, Any]:
    return {"id": fault.id if fault else None, "source": "fault" if fault else "header",
            "error": error or None, "drop": dropped, "delay": delay}  # fmt: skip


class Faults:
    """Every portal's faults, as this process last read them (see the module docstring)."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry
        self._version: object = None
        self._by_portal: dict[int, list[Fault]] = {}
        # Firings since the faults were read, and those not yet written to the store.
        self._count: collections.Counter[int] = collections.Counter()
        self._unwritten: collections.Counter[int] = collections.Counter()
        self._draws: dict[int, random.Random] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def _of(self, portal_id: int) -> list[Fault]:
        version = await self.store.auth_version()
        if version != self._version:
            in_flight = collections.Counter(self._unwritten)
            faults = await self.store.faults(None)
            by_portal: dict[int, list[Fault]] = {}
            for fault in faults:
                by_portal.setdefault(fault.portal_id, []).append(fault)
            self._by_portal, self._version, self._count = by_portal, version, in_flight
            kept = {fault.id for fault in faults}
            self._draws = {i: draw for i, draw in self._draws.items() if i in kept}
        return self._by_portal.get(portal_id, [])

    async def before(
        self, portal_id: int, name: str, *, in_batch: bool, trace: Trace | None
    ) -> None:
        """Called before `name` runs (dispatch): a fault of the portal that hits the call
        waits and raises its answer here."""
        faults = await self._of(portal_id)
        if not faults:
            return
        names = {name.lower()}
        method = self.registry.get(name)
        if method is not None:
            names.add(method.name.lower())
        delay, answer = 0.0, None
        for fault in self._hitting(faults, names, in_batch):
            if not self._fires(fault):
                continue
            if trace is not None:
                trace.fired(_fired(fault, fault.error, fault.dropped, fault.delay))
            delay += fault.delay
            if fault.error or fault.dropped:
                answer = fault
                break
        if delay or answer:
            await act(answer.error if answer else "", bool(answer and answer.dropped), delay)

    @staticmethod
    def _hitting(faults: list[Fault], names: set[str], in_batch: bool) -> Iterable[Fault]:
        for fault in faults:
            if in_batch and (not fault.method or fault.dropped or fault.error.startswith("HTML_")):
                continue
            if not fault.method or fault.method in names:
                yield fault

    def _fires(self, fault: Fault) -> bool:
        if fault.times is not None and fault.fired + self._count[fault.id] >= fault.times:
            return False
        if fault.probability < 1:
            draw = self._draws.get(fault.id)
            if draw is None:
                draw = self._draws[fault.id] = random.Random(fault.seed)
            if draw.random() >= fault.probability:
                return False
        self._count[fault.id] += 1
        self._unwritten[fault.id] += 1
        task = asyncio.get_running_loop().create_task(self._write(fault.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _write(self, fault_id: int) -> None:
        """Count the firing in the store, outside the call's transaction (a batch command's
        savepoint may roll back; this task waits for the batch to end)."""
        try:
            await self.store.fire_fault(fault_id)
        except Exception as exc:
            log.warning("fault %d: firing not counted in the store: %s", fault_id, exc)
        finally:
            self._unwritten[fault_id] -= 1

    async def asked(self, value: str, trace: Trace | None) -> None:
        """`X-Orderlink-Fault` on a request (`serve --fault-header`)."""
        try:
            wanted = from_header(value)
        except ValueError as exc:
            raise errors.InvalidRequest(f"X-Orderlink-Fault: {exc}") from None
        if trace is not None:
            trace.fired(_fired(None, wanted.error, wanted.dropped, wanted.delay))
        await act(wanted.error, wanted.dropped, wanted.delay)

    async def close(self) -> None:
        """Let the firings in flight reach the store."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
