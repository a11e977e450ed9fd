"""The admin API, `/_orderlink/api/...`: JSON for the tools that drive a test portal
(docs/admin-api.md). Every request carries `Authorization: Bearer <admin token>`; without the
right one, every path, known or not and with any verb, answers the same 401, so nothing shows.

The token: the first `serve` on a database makes one and prints it once; `serve --admin-token`
(`ORDERLINK_ADMIN_TOKEN`) sets one. Only its SHA-256 digest is stored (`server_info`, as
webhook codes are kept: auth.py), and it is read on each admin request, so a token another
process set counts at once.

Routes are data (`ROUTES`, `@route(verb, pattern)`): a handler takes the API and the request
and answers (status, JSON body). The HTTP layer (app.py) reads the body and renders errors.
"""

from __future__ import annotations

import hmac
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from orderlink import admin_portals, errors, faults
from orderlink.auth import hash_secret
from orderlink.clock import MAX_CLOCK_ADVANCE, AdjustableClock, Clock
from orderlink.coerce import to_float
from orderlink.faults import Faults
from orderlink.journal import Journal
from orderlink.settings import Settings
from orderlink.storage.base import JournalQuery, Store

PREFIX = "/_orderlink/api"
TOKEN_KEY = "admin_token_sha256"  # the server_info key of the token's digest
MAX_JOURNAL_ROWS = 1000


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def set_token(store: Store, token: str, now: float) -> None:
    await store.set_info(TOKEN_KEY, hash_secret(token), now)


async def ensure_token(store: Store, given: str, now: float) -> str | None:
    """What `serve` does: a given token replaces the stored one; with none given and none
    stored, a new one is made and returned, to be printed once; otherwise None."""
    if given:
        await set_token(store, given, now)
        return None
    if await store.info(TOKEN_KEY):
        return None
    token = new_token()
    await set_token(store, token, now)
    return token


@dataclass(frozen=True, slots=True)
class Request:
    verb: str
    path: dict[str, str]  # the route pattern's named groups
    query: dict[str, str]
    body: Callable[[], Awaitable[dict[str, Any]]]  # the JSON body (Content-Type checked)


Answer = tuple[int, Any]
Handler = Callable[["AdminApi", Request], Awaitable[Answer]]


@dataclass(frozen=True, slots=True)
class Route:
    verb: str
    pattern: re.Pattern[str]
    handler: Handler


ROUTES: list[Route] = []


def route(verb: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register a handler for `verb` on the path below /_orderlink/api matching `pattern`."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(verb, re.compile(pattern + r"\Z"), handler))
        return handler

    return register


class AdminApi:
    def __init__(
        self, store: Store, clock: Clock, faults: Faults, journal: Journal, settings: Settings
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.faults = faults
        self.journal = journal

    async def handle(
        self,
        verb: str,
        path: str,
        authorization: str,
        query: bytes,
        body: Callable[[], Awaitable[dict[str, Any]]],
    ) -> Answer:
        await self._authorized(authorization)
        tail = path[len(PREFIX) :].rstrip("/")
        allowed: list[str] = []
        for candidate in ROUTES:
            match = candidate.pattern.match(tail)
            if match is None:
                continue
            if candidate.verb != verb:
                allowed.append(candidate.verb)
                continue
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            request = Request(verb, match.groupdict(), dict(pairs), body)
            return await candidate.handler(self, request)
        if allowed:
            raise errors.HttpMethodNotAllowed(
                f"HTTP method {verb[:32]} not allowed here: use {', '.join(allowed)}",
                allow=", ".join(allowed),
            )
        raise errors.AdminNotFound()

    async def _authorized(self, authorization: str) -> None:
        scheme, _, token = authorization.strip().partition(" ")
        stored = await self.store.info(TOKEN_KEY)
        offered = hash_secret(token.strip()) if scheme.lower() == "bearer" else ""
        if not stored or not offered or not hmac.compare_digest(offered, stored):
            raise errors.AdminAuthRequired()

    async def portal(self, request: Request) -> int:
        """The path's portal id, once that portal exists."""
        portal_id = int(request.path["portal"])
        if not await self.store.portal(portal_id) is not None:
            raise errors.AdminNotFound(f"No portal {portal_id}")
        return portal_id


# -- portals (admin_portals.py: the same operations as `orderlink portal ...`) ------------------

_PORTAL = r"/portals/(?P<portal>\d{1,18})"


def _portals(verb: str, *tail: str) -> Handler:
    async def handler(api: AdminApi, request: Request) -> Answer:
        parts = [request.path["portal"], *tail] if "portal" in request.path else [*tail]
        body = await request.body() if verb == "POST" else None
        return await admin_portals.answer(verb, parts, body, api.store, api.settings, api.clock)

    return handler


for _verb, _pattern, _tail in (
    ("GET", "/portals", ()),
    ("POST", "/portals", ()),
    ("POST", "/portals/import", ("import",)),
    ("GET", _PORTAL, ()),
    ("DELETE", _PORTAL, ()),
    ("POST", _PORTAL + "/reset", ("reset",)),
    ("GET", _PORTAL + "/snapshots", ("snapshots",)),
    ("POST", _PORTAL + "/snapshots", ("snapshots",)),
    ("POST", _PORTAL + "/restore", ("restore",)),
    ("GET", _PORTAL + "/export", ("export",)),
):
    route(_verb, _pattern)(_portals(_verb, *_tail))


# -- faults ------------------------------------------------------------------------------------

_FAULTS = r"/portals/(?P<portal>\d{1,18})/faults"


@route("GET", _FAULTS)
async def list_faults(api: AdminApi, request: Request) -> Answer:
    portal_id = await api.portal(request)
    return 200, {"faults": [faults.view(f) for f in await api.store.faults(portal_id)]}


@route("POST", _FAULTS)
async def add_fault(api: AdminApi, request: Request) -> Answer:
    portal_id = await api.portal(request)
    try:
        wanted = faults.from_json(await request.body())
    except ValueError as exc:
        raise errors.InvalidRequest(str(exc)) from None
    added = await api.store.add_fault(
        portal_id, method=wanted.method, error=wanted.error, dropped=wanted.dropped,
        delay=wanted.delay, times=wanted.times, probability=wanted.probability,
        seed=wanted.seed, now=api.clock.now(),
    )  # fmt: skip
    return 201, {"fault": faults.view(added)}


@route("DELETE", _FAULTS)
async def clear_faults(api: AdminApi, request: Request) -> Answer:
    portal_id = await api.portal(request)
    return 200, {"deleted": await api.store.clear_faults(portal_id)}


@route("DELETE", _FAULTS + r"/(?P<fault>\d{1,18})")
async def remove_fault(api: AdminApi, request: Request) -> Answer:
    portal_id = await api.portal(request)
    fault_id = int(request.path["fault"])
    if not await api.store.remove_fault(fault_id, portal_id):
        raise errors.AdminNotFound(f"No fault {fault_id} on portal {portal_id}")
    return 200, {"deleted": 1}


# -- the journal -------------------------------------------------------------------------------


@route("GET", r"/portals/(?P<portal>\d{1,18})/journal")
async def read_journal(api: AdminApi, request: Request) -> Answer:
    """?method=&status=&since=&after=&limit=: the portal's calls, newest first."""
    portal_id = await api.portal(request)
    query = request.query
    try:
        limit = _integer(query, "limit")
        wanted = JournalQuery(
            portal_id,
            method=query.get("method", "").strip(),
            status=_integer(query, "status"),
            since=_since(query.get("since", "")),
            after=_integer(query, "after"),
            limit=100 if limit is None else limit,
        )
    except ValueError as exc:
        raise errors.InvalidRequest(str(exc)) from None
    if not 1 <= wanted.limit <= MAX_JOURNAL_ROWS:
        raise errors.InvalidRequest(f"`limit` must be from 1 to {MAX_JOURNAL_ROWS}")
    return 200, {"journal": await api.journal.entries(wanted)}


# -- a portal's own clock (with `serve --test-clock`) ------------------------------------------


@route("GET", _PORTAL + "/clock")
async def read_clock(api: AdminApi, request: Request) -> Answer:
    portal_id = await api.portal(request)
    return 200, _clock_view(_adjustable(api), portal_id)


@route("POST", _PORTAL + "/clock")
async def advance_clock(api: AdminApi, request: Request) -> Answer:
    """`{"advance": SECONDS}`: this portal's time moves on (its `time` blocks, token expiry,
    limits and date stamps); other portals and the server keep theirs."""
    portal_id = await api.portal(request)
    clock = _adjustable(api)
    body = await request.body()
    seconds = to_float(body.get("advance", 0))
    if seconds is None or not 0 <= seconds <= MAX_CLOCK_ADVANCE:
        raise errors.InvalidRequest(
            f"`advance` must be a number of seconds from 0 to {MAX_CLOCK_ADVANCE:.0f}"
        )
    clock.advance(seconds, portal_id)
    return 200, _clock_view(clock, portal_id)


def _adjustable(api: AdminApi) -> AdjustableClock:
    if not isinstance(api.clock, AdjustableClock):
        raise errors.InvalidRequest("the server runs without --test-clock: its clock is real")
    return api.clock


def _clock_view(clock: AdjustableClock, portal_id: int) -> dict[str, Any]:
    return {"now": clock.now_of(portal_id), "offset": clock.offset_of(portal_id)}


def _integer(query: dict[str, str], key: str) -> int | None:
    text = query.get(key, "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise ValueError(f"`{key}` must be a non-negative integer")
    return int(text)


def _since(text: str) -> float | None:
    """Unix seconds, or an ISO 8601 date-time with an offset (`2024-06-25T13:43:26+02:00`)."""
    text = text.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ValueError("`since` must be a finite number of unix seconds")
        return seconds
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("`since` must be unix seconds or an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ValueError("`since` needs an offset (2024-06-25T13:43:26+02:00)")
    return moment.timestamp()
