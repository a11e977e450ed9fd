"""The admin API, `/_orderlink/api/...`: JSON for the tools that drive a test portal
(docs/admin-api.md). Every request carries `Authorization: Bearer <admin token>`; without the
right one, every path, known or not and with any verb, answers the same 401, so nothing shows.

The token: the first `serve` on a database makes one and prints it once; `serve --admin-token`
(`ORDERLINK_ADMIN_TOKEN`) sets one. Only its SHA-256 digest is stored (`server_info`, as
webhook codes are kept: auth.py), and it is read on each admin request, so a token another
process set counts at once.

The dashboard (ui.py) reads this same API from the browser: a signed-in browser's session
cookie counts as the token (sessions.py), and a request that changes something must then also
carry the session's CSRF token.

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

import orjson

from orderlink import admin_data, admin_portals, bootstrap, errors, faults, portals, sessions
from orderlink.auth import hash_secret
from orderlink.clock import MAX_CLOCK_ADVANCE, AdjustableClock, Clock
from orderlink.coerce import to_float
from orderlink.events import shown_url
from orderlink.faults import Faults
from orderlink.journal import Journal
from orderlink.limits import Limits
from orderlink.registry import Context
from orderlink.settings import Settings
from orderlink.storage.base import Delivery, JournalQuery, Store

PREFIX = "/_orderlink/api"
TOKEN_KEY = "admin_token_sha256"  # the server_info key of the token's digest
MAX_JOURNAL_ROWS = 1000
MAX_DELIVERIES = 500
# Verbs that change nothing: a cookie-authenticated one needs no CSRF token.
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


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


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request offers: its `Authorization` header, our session cookie's value (when the
    dashboard is on) and its `X-Orderlink-CSRF` header."""

    authorization: str = ""
    cookie: str = ""
    csrf: str = ""


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
        self, ctx: Context, faults: Faults, journal: Journal, limits: Limits,
        wake_deliveries: Callable[[], None],
    ) -> None:  # fmt: skip
        self.ctx = ctx
        self.settings: Settings = ctx.settings
        self.store: Store = ctx.store
        self.clock: Clock = ctx.clock
        self.faults = faults
        self.journal = journal
        self.limits = limits
        self.wake_deliveries = wake_deliveries

    async def handle(
        self,
        verb: str,
        path: str,
        offered: Credentials,
        query: bytes,
        body: Callable[[], Awaitable[dict[str, Any]]],
    ) -> Answer:
        await self.authorized(verb, offered)
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

    async def authorized(self, verb: str, offered: Credentials) -> None:
        """The bearer token, or a live dashboard session (with its CSRF token for a verb that
        changes something); AdminAuthRequired otherwise."""
        stored = await self.store.info(TOKEN_KEY)
        if not stored:
            raise errors.AdminAuthRequired()
        scheme, _, token = offered.authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            if hmac.compare_digest(hash_secret(token.strip()), stored):
                return
            raise errors.AdminAuthRequired()
        nonce = None
        if offered.cookie and self.settings.ui:
            nonce = sessions.nonce_of(offered.cookie, stored, self.clock.now())
        if nonce is None:
            raise errors.AdminAuthRequired()
        if verb not in _SAFE and not hmac.compare_digest(
            offered.csrf.strip(), sessions.csrf_token(stored, nonce)
        ):
            raise errors.CsrfTokenMissing()

    async def check_token(self, token: str) -> str | None:
        """The stored digest when `token` is the admin token (the dashboard's sign-in form)."""
        stored = await self.store.info(TOKEN_KEY)
        if stored and token and hmac.compare_digest(hash_secret(token), stored):
            return stored
        return None

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


# -- webhooks and apps -------------------------------------------------------------------------


@route("GET", _PORTAL + "/webhooks")
async def list_webhooks(api: AdminApi, request: Request) -> Answer:
    """The portal's webhooks; a code is shown only when made, so each URL has `{code}` in it."""
    portal_id = await api.portal(request)
    base = await bootstrap.served_base_url(api.store, api.settings)
    return 200, {"webhooks": [
        {"id": w.id, "user_id": w.user_id, "scopes": list(w.scopes), "active": w.active,
         "created": w.created_at, "url": bootstrap.webhook_url(base, w.user_id, "{code}")}
        for w in await api.store.list_webhooks(portal_id)
    ]}  # fmt: skip


@route("POST", _PORTAL + "/webhooks")
async def add_webhook(api: AdminApi, request: Request) -> Answer:
    """A new admin webhook (user 1, every scope); its URL, with the code, is shown only now."""
    portal_id = await api.portal(request)
    found = await portals.existing(api.store, portal_id)
    return 201, {"webhook": await portals.admin_webhook(api.store, api.settings, found,
                                                        api.clock.now())}  # fmt: skip


@route("GET", _PORTAL + "/apps")
async def list_apps(api: AdminApi, request: Request) -> Answer:
    portal_id = await api.portal(request)
    shown = []
    for app in await api.store.apps(portal_id):
        install = await api.store.install_of(portal_id, app.id)
        shown.append({
            "id": app.id, "name": app.name, "client_id": app.client_id,
            "scopes": list(app.scopes), "redirect_uri": app.redirect_uri,
            "handler_url": shown_url(app.handler_url),
            "installed": bool(install is not None and install.installed),
        })  # fmt: skip
    return 200, {"apps": shown}


# -- data: families and their rows (admin_data.py) ---------------------------------------------

_FAMILY = _PORTAL + r"/families/(?P<family>[A-Za-z0-9._:-]{1,100})"


@route("GET", _PORTAL + "/families")
async def list_families(api: AdminApi, request: Request) -> Answer:
    portal_id = await api.portal(request)
    shown = []
    for found in await admin_data.families(api.ctx, portal_id):
        described = await admin_data.described(api.ctx, portal_id, found)
        if described is not None:
            shown.append(described)
    return 200, {"families": shown}


@route("GET", _FAMILY)
async def describe_family(api: AdminApi, request: Request) -> Answer:
    portal_id = await api.portal(request)
    found = await admin_data.family(api.ctx, portal_id, request.path["family"])
    described = await admin_data.described(api.ctx, portal_id, found)
    if described is None:
        raise errors.AdminNotFound(f"{found.key} describes no fields")
    return 200, described


@route("GET", _FAMILY + "/records")
async def list_records(api: AdminApi, request: Request) -> Answer:
    """?filter=<JSON object>&order=<JSON object>&start=N: a page of rows, as `*.list` pages."""
    portal_id = await api.portal(request)
    found = await admin_data.family(api.ctx, portal_id, request.path["family"])
    try:
        start = _integer(request.query, "start") or 0
        filter_ = _json_object(request.query, "filter")
        order = _json_object(request.query, "order")
    except ValueError as exc:
        raise errors.InvalidRequest(str(exc)) from None
    page = await admin_data.records(
        api.ctx, portal_id, found, filter_=filter_, order=order, start=start
    )
    return 200, page


@route("GET", _FAMILY + r"/records/(?P<record>\d{1,18})")
async def read_record(api: AdminApi, request: Request) -> Answer:
    portal_id = await api.portal(request)
    found = await admin_data.family(api.ctx, portal_id, request.path["family"])
    return 200, await admin_data.record(api.ctx, portal_id, found, int(request.path["record"]))


def _json_object(query: dict[str, str], key: str) -> dict[str, Any]:
    text = query.get(key, "").strip()
    if not text:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ValueError(f"`{key}` must be a JSON object") from None
    if not isinstance(value, dict):
        raise ValueError(f"`{key}` must be a JSON object")
    return value


# -- limits ------------------------------------------------------------------------------------


@route("GET", _PORTAL + "/limits")
async def read_limits(api: AdminApi, request: Request) -> Answer:
    """The portal's request buckets (one per client address) and the operating time of each
    credential's methods, as the limiter holds them now."""
    portal_id = await api.portal(request)
    found = await portals.existing(api.store, portal_id)
    default = await api.store.default_portal()
    own = default is None or default.id != portal_id
    size, rate = api.settings.bucket(found.plan if own else None)
    prefix = f"{portal_id}|"
    levels = await api.limits.levels(prefix, rate)
    credentials = [f"webhook:{w.id}" for w in await api.store.list_webhooks(portal_id)]
    credentials += [f"app:{a.id}" for a in await api.store.apps(portal_id)]
    methods = []
    for credential in credentials:
        for key, baskets in sorted((await api.limits.windows(credential + "|")).items()):
            methods.append({
                "credential": credential, "method": key.partition("|")[2],
                "seconds": round(sum(s for _, s in baskets), 6),
                "reset_at": int(baskets[0][0] + 600) if baskets else None,
                "baskets": [{"started": first, "seconds": round(seconds, 6)}
                            for first, seconds in baskets],
            })  # fmt: skip
    return 200, {
        "rate_limit": {
            "on": api.settings.rate_limit, "size": size, "drain": rate,
            "buckets": [{"client": key[len(prefix):], "level": round(level, 3)}
                        for key, level in sorted(levels.items())],
        },
        "operating": {"limit": api.settings.operating_limit, "window": 600, "basket": 60,
                      "methods": methods},
    }  # fmt: skip


# -- events ------------------------------------------------------------------------------------


@route("GET", _PORTAL + "/events")
async def read_events(api: AdminApi, request: Request) -> Answer:
    """?limit=N: the portal's event handlers, and its newest deliveries with their attempts."""
    portal_id = await api.portal(request)
    try:
        limit = _integer(request.query, "limit") or 100
    except ValueError as exc:
        raise errors.InvalidRequest(str(exc)) from None
    if not 1 <= limit <= MAX_DELIVERIES:
        raise errors.InvalidRequest(f"`limit` must be from 1 to {MAX_DELIVERIES}")
    handlers = []
    for app in await api.store.apps(portal_id):
        for bound in await api.store.handlers(portal_id, app.id):
            handlers.append({"id": bound.id, "app_id": app.id, "app": app.name,
                             "event": bound.event, "handler": shown_url(bound.handler),
                             "auth_type": bound.auth_type, "offline": bound.offline})  # fmt: skip
    deliveries = [_delivery(d) for d in await api.store.deliveries(portal_id, limit)]
    return 200, {"handlers": handlers, "deliveries": deliveries}


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id, "app_id": delivery.app_id, "handler_id": delivery.handler_id,
        "handler": shown_url(delivery.handler), "event": delivery.event, "data": delivery.data,
        "created": delivery.created_at, "attempts": delivery.attempts, "status": delivery.status,
        "last_status": delivery.last_status, "delivered_at": delivery.delivered_at,
    }  # fmt: skip


@route("POST", _PORTAL + r"/deliveries/(?P<delivery>\d{1,18})/redeliver")
async def redeliver(api: AdminApi, request: Request) -> Answer:
    """Send a delivery again now, whatever became of it (one more attempt, then the usual
    retries while attempts remain)."""
    portal_id = await api.portal(request)
    delivery_id = int(request.path["delivery"])
    if not await api.store.redeliver(portal_id, delivery_id, api.clock.now()):
        raise errors.AdminNotFound(
            f"No delivery {delivery_id} on portal {portal_id} that is not being sent now"
        )
    api.wake_deliveries()
    return 200, {"redelivered": delivery_id}
