"""The ASGI application: routes, lifespan, and the one place errors become HTTP responses.

Raw ASGI on purpose: `/rest/...` is the hot path and a framework costs 30-45% there
(STYLE.md pattern 5). Routes (protocol.md section 1, clients.md point 1):
  /rest/{user_id}/{code}/{method}[.json][/]   incoming webhook
  /rest/{method}[.json][/]                    OAuth token in `auth` (query or body)
  /oauth/authorize/, /oauth/token/            the authorization server (oauth.py)
  /healthz, /readyz                           liveness and readiness for a load balancer
  /_orderlink/api/...                         the admin API (admin.py), any verb, bearer token
  /_orderlink/...                             test controls (controls.py)
Repeated slashes collapse and nothing ever redirects (clients do not follow redirects).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote_plus

import orjson

from orderlink import admin, errors, hosts, params, sessions
from orderlink.admin import AdminApi, Credentials
from orderlink.auth import Authenticator
from orderlink.clock import AdjustableClock, Clock, SystemClock, portal_scope, portal_shift
from orderlink.coerce import UnixIso, parse_zone, to_int
from orderlink.consent import CONSENT_HEADERS, NO_STORE, consent_page
from orderlink.controls import Controls
from orderlink.dashboard import PREFIX as UI_PREFIX
from orderlink.dashboard import Dashboard
from orderlink.dispatch import Dispatcher, success_body, time_block
from orderlink.domains import PortalDomains
from orderlink.events import Deliverer
from orderlink.failures import to_wire
from orderlink.faults import HEADER as FAULT_HEADER
from orderlink.faults import Dropped, Faults, ProxyPage
from orderlink.journal import Journal, Trace
from orderlink.limits import Limits, LimitsUnavailable, LocalLimits, RedisLimits, parse_costs
from orderlink.lockout import Lockout
from orderlink.methods import build_registry
from orderlink.oauth import Endpoints, OAuth
from orderlink.principal import Principal
from orderlink.registry import Context, Registry
from orderlink.settings import Settings
from orderlink.storage import create_store
from orderlink.storage.base import Store, StoreUnavailable

log = logging.getLogger("orderlink")
access = logging.getLogger("orderlink.access")

HOUSEKEEPING_FIRST = 60.0  # seconds after start
HOUSEKEEPING_EVERY = 3600.0

# Parameters whose values an access log must never show, in any case and with any brackets
# (`AUTH=`, `auth[]=`), also inside a batch command's own query (`cmd[a]=profile?auth=...`).
_SECRET_PARAMS = frozenset(
    {"auth", "client_secret", "refresh_token", "code", "access_token", "application_token"}
)
_NESTED_SECRET = re.compile(
    r"(?i)((?:^|[?&])(?:" + "|".join(sorted(_SECRET_PARAMS)) + r")(?:\[[^\]=&]*\])*=)[^&]*"
)
# Verbs that run a method. HEAD never does (even GET may write on Bitrix24: every method
# answers GET), OPTIONS answers a CORS preflight; the rest are refused (docs/decisions.md).
_RUNS = frozenset({"GET", "POST"})
_REST_ALLOW = "GET, POST, OPTIONS"
_NOSNIFF = (b"x-content-type-options", b"nosniff")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json; charset=utf-8")]
_OAUTH_JSON = [*_JSON_HEADERS, *NO_STORE]


class OrderlinkApp:
    """`create_app(settings)` builds one; uvicorn (or a test client) calls it."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        limits: Limits | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.settings = settings
        if clock is None:
            clock = AdjustableClock() if settings.test_clock else SystemClock()
        self.clock = clock
        self.store = store if store is not None else create_store(settings)
        self._owns_store = store is None
        self._plans: dict[int, tuple[int, float] | None] = {}
        self.limits = limits if limits is not None else create_limits(settings, clock)
        # Methods a setting switches off are not served at all (registry.py).
        self.registry = (registry if registry is not None else build_registry()).enabled(settings)
        zone = parse_zone(settings.timezone)
        self.ctx = Context(self.store, settings, clock, zone, UnixIso(zone), self.registry)
        self.faults = Faults(self.store, self.registry)
        self.journal = Journal(self.store, limit=settings.journal_limit)
        self.dispatcher = Dispatcher(
            self.registry,
            self.ctx,
            self.limits,
            operating_limit=settings.operating_limit,
            costs=parse_costs(dict(settings.operating_costs)),
            faults=self.faults,
        )
        self.auth = Authenticator(self.store)
        self.lockout = Lockout(clock, limit=settings.auth_failure_limit)
        self.domains = PortalDomains(self.store)
        self.oauth = OAuth(self.store, settings, clock, self.domains)
        self.controls = Controls(clock, self.dispatcher.costs)
        self.deliverer = Deliverer(
            self.store,
            clock,
            self.oauth.event_auth,
            log_days=settings.delivery_log_days,
            settings=settings,
        )
        self.admin_api = AdminApi(
            self.ctx, self.faults, self.journal, self.limits, self.deliverer.wake
        )
        # `--no-ui`: no dashboard at all, and the admin API takes no session cookie.
        self.dashboard = Dashboard(self.admin_api, self.lockout, clock) if settings.ui else None
        self._opened = False
        self._housekeeping: asyncio.Task[None] | None = None
        origins = {o.strip() for o in settings.cors_origins.split(",") if o.strip()}
        self._cors_any = "*" in origins
        self._cors_origins = frozenset(origins - {"*"})

    # -- lifespan -----------------------------------------------------------------------------

    async def startup(self) -> None:
        if self._owns_store and not self._opened:
            await self.store.open(upgrade=self.settings.auto_upgrade)
            self._opened = True
        if self.settings.admin_token:
            await admin.set_token(self.store, self.settings.admin_token, self.clock.now())
        self.deliverer.start()
        self._housekeeping = asyncio.get_running_loop().create_task(
            self._housekeep(), name="orderlink-housekeeping"
        )

    async def shutdown(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        await self.deliverer.stop()
        await self.journal.close()
        await self.faults.close()
        await self.limits.close()
        if self._owns_store and self._opened:
            await self.store.close()
            self._opened = False

    async def _housekeep(self) -> None:
        """Every hour, from a minute after start: drop credentials that can never be used again
        (a refresh every hour, and every event delivery, leave a token pair behind) and
        deliveries older than the log keeps."""
        jobs = (
            (self.oauth.prune, "dead authorization codes and token pairs"),
            (self.deliverer.prune, "finished deliveries from the log"),
        )
        await asyncio.sleep(HOUSEKEEPING_FIRST)
        while True:
            for job, what in jobs:
                try:
                    pruned = await job()
                    if pruned:
                        log.info("pruned %d %s", pruned, what)
                except StoreUnavailable as exc:
                    log.warning("housekeeping skipped: %s", exc)
                except Exception:
                    log.exception("housekeeping failed")
            await asyncio.sleep(HOUSEKEEPING_EVERY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            with portal_scope():
                await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- HTTP ---------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = self.clock.now()
        path: str = scope["path"]
        if "//" in path:
            path = "/" + "/".join(part for part in path.split("/") if part)
        headers = _JSON_HEADERS
        verb = scope["method"]
        rest = path.startswith("/rest/") or path == "/rest"
        trace = Trace(started, self.clock.monotonic()) if rest and self.journal.enabled else None
        try:
            if path.startswith(admin.PREFIX + "/") or path == admin.PREFIX:
                status, body = await self.admin_api.handle(
                    verb, path, self._credentials(scope),
                    scope.get("query_string", b""), lambda: self._json_only(scope, receive),
                )  # fmt: skip
            elif verb not in _RUNS:
                status, body, headers = self._other_verb(scope, path, verb, rest)
            elif rest:
                status, body = await self._rest(scope, receive, path, started, trace)
                cors = self._cors(scope)
                if cors:
                    headers = [*headers, *cors]
            elif path in ("/healthz", "/readyz"):
                status, body = await self._health(path == "/readyz")
            elif path.startswith("/oauth/"):
                status, body, headers = await self._oauth(scope, receive, path)
            elif path == UI_PREFIX or path.startswith(UI_PREFIX + "/"):
                status, body, headers = await self._dashboard(scope, receive, path, verb)
            elif path.startswith("/_orderlink/"):
                status, body = await self._admin(scope, receive, path)
            else:
                raise errors.MethodNotFound("Not found")
        except Dropped:
            if trace is not None and trace.principal is not None:
                self.journal.record(trace, 0, b"", self.clock.monotonic())
            if self.settings.access_log:
                access.info(
                    '%s - "%s %s HTTP/%s" dropped by a fault',
                    _client(scope), verb, masked(scope), scope.get("http_version", "1.1"),
                )  # fmt: skip
            await self._drop(scope, receive)
            return
        except ProxyPage as page:
            status, body, headers = page.status, page.body, page.headers
        except Exception as exc:
            wire = to_wire(exc, path)
            status, body = wire.status, errors.body(wire)
            if wire.headers:
                headers = [*_JSON_HEADERS, *wire.headers]
            if rest:
                headers = [*headers, *self._cors(scope)]
        payload = body if isinstance(body, bytes) else orjson.dumps(body)
        if self.settings.access_log:
            # uvicorn's access-log format, with secrets masked.
            access.info(
                '%s - "%s %s HTTP/%s" %d %s',
                _client(scope), scope["method"], masked(scope), scope.get("http_version", "1.1"),
                status, _phrase(status),
            )  # fmt: skip
        if trace is not None and trace.principal is not None:
            # Kept before the answer goes out: a client that reads the journal as soon as it
            # has its answer finds the call there.
            self.journal.record(trace, status, payload, self.clock.monotonic())
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, _NOSNIFF, (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _drop(self, scope: Scope, receive: Receive) -> None:
        """Close the connection without an answer (a `drop` fault). http_protocol.Protocol
        lends the transport's abort; once the server has seen the connection go, it sends
        nothing of its own. Another server answers the way it answers a failed request."""
        abort = scope.get("orderlink.abort")
        if abort is None:
            raise ConnectionAbortedError("a fault dropped the connection")
        abort()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while (await receive())["type"] != "http.disconnect":
                    pass

    async def _rest(
        self, scope: Scope, receive: Receive, path: str, started: float, trace: Trace | None
    ) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p][1:]  # drop "rest"
        if parts and parts[-1].lower().endswith(".json"):
            parts[-1] = parts[-1][: -len(".json")]
        if self.settings.require_https and _scheme(scope) != "https":
            raise errors.HttpsRequired()
        query = params.parse_query(scope.get("query_string", b""))
        body = params.parse_body(
            await self._read_body(scope, receive), _header(scope, b"content-type")
        )
        merged = params.merge(query, body)
        host = _host(scope)
        if hosts.is_oauth_server(host):
            return 200, await self._oauth_server_rest(parts, merged, started)
        if len(parts) == 3:
            principal = await self._webhook(scope, parts[0], parts[1], host)
            method = parts[2]
        elif len(parts) == 1 and parts[0] != "api":
            principal = await self._token(scope, merged, host)
            method = parts[0]
        else:
            raise errors.MethodNotFound()
        shift = portal_shift(self.clock, principal.portal_id)
        if shift:  # the portal's own test clock runs ahead (test kit)
            started += shift
            if trace is not None:
                trace.started += shift
                trace.begun += shift
        if trace is not None:
            trace.principal, trace.method, trace.params = principal, method, merged
        if self.settings.fault_header:
            asked = _header(scope, FAULT_HEADER)
            if asked:
                await self.faults.asked(asked, trace)
        if self.settings.rate_limit:
            client = scope.get("client") or ("local", 0)
            admitted = await self.limits.admit(
                f"{principal.portal_id}|{client[0]}", await self._bucket_of(principal.portal_id)
            )
            if trace is not None:
                trace.note("rate_limit", "admitted" if admitted else "refused")
            if not admitted:
                raise errors.QueryLimitExceeded()
        reply = await self.dispatcher.call(method, merged, principal, started=started, trace=trace)
        return 200, success_body(reply)

    async def _bucket_of(self, portal_id: int) -> tuple[int, float] | None:
        """A portal's own plan (`portal add --plan`); the default portal follows `serve`'s.
        Portal ids are never reused, so what is cached here never goes stale."""
        if portal_id not in self._plans:
            default = await self.store.default_portal()
            found = await self.store.portal(portal_id)
            own = found is not None and (default is None or default.id != portal_id)
            self._plans[portal_id] = self.settings.bucket(found.plan) if own and found else None
        return self._plans[portal_id]

    def _other_verb(
        self, scope: Scope, path: str, verb: str, rest: bool
    ) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        """Verbs that never run a method: OPTIONS (a CORS preflight, or a plain OPTIONS),
        HEAD of the health checks; everything else is a 405."""
        health = path in ("/healthz", "/readyz")
        allow = "GET, HEAD, OPTIONS" if health else _REST_ALLOW
        if verb == "OPTIONS":
            headers = [(b"allow", allow.encode())]
            if rest and _header(scope, b"access-control-request-method"):
                cors = self._cors(scope)
                if cors:
                    requested = _header(scope, b"access-control-request-headers")
                    headers += [
                        *cors,
                        (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                        (b"access-control-allow-headers", (requested or "Content-Type").encode()),
                        (b"access-control-max-age", b"600"),
                    ]
            return 204, b"", headers
        if verb == "HEAD" and health:
            # uvicorn sends no body for HEAD: the status and headers are the GET's.
            return 200, {"status": "ok"}, _JSON_HEADERS
        raise errors.HttpMethodNotAllowed(
            f"HTTP method {verb[:32]} not allowed: use GET or POST", allow=allow
        )

    def _cors(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """CORS headers for a browser calling /rest/ from an allowed origin (`--cors-origins`).
        No credentials mode: /rest/ takes no cookies."""
        if not (self._cors_any or self._cors_origins):
            return []
        origin = _header(scope, b"origin")
        if not origin:
            return []
        if self._cors_any:
            return [(b"access-control-allow-origin", b"*")]
        if origin in self._cors_origins:
            return [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"vary", b"Origin"),
            ]
        return []

    async def _webhook(self, scope: Scope, user_id: str, code: str, host: str = "") -> Principal:
        """A webhook's user; on a portal's domain, only a webhook of that portal (another
        portal's answers as a wrong code does: INVALID_CREDENTIALS)."""
        return await self._admitted(
            scope, host, lambda: self.auth.webhook(user_id, code), errors.InvalidCredentials
        )

    async def _token(self, scope: Scope, merged: dict[str, Any], host: str = "") -> Principal:
        """`auth=<access token>` from the query string or the body (settings/oauth/index.md);
        on a portal's domain, only a token of that portal (another's is unknown there)."""
        token = merged.get("auth")
        if not isinstance(token, str) or not token:
            raise errors.NoAuthFound()
        return await self._admitted(
            scope, host, lambda: self.auth.token(token, self.clock), errors.InvalidToken
        )

    async def _admitted(
        self,
        scope: Scope,
        host: str,
        find: Callable[[], Awaitable[Principal]],
        refusal: type[errors.B24Error],
    ) -> Principal:
        """The credential's principal, refused as `refusal` when unknown or of another portal
        than the host's; a refusal counts toward the client address's lockout."""
        address = self._not_locked_out(scope)
        try:
            principal = await find()
            if not await self._on_its_portal(principal, host):
                raise refusal()
        except refusal:
            self.lockout.failed(address)
            raise
        return principal

    async def _on_its_portal(self, principal: Principal, host: str) -> bool:
        """False when `host` is the domain of a portal the credential is not of (issue 18); a
        host that is no portal's domain reaches the credential's own portal, as always."""
        if not host:
            return True
        portal = await self.domains.portal_of(host)
        return portal is None or portal.id == principal.portal_id

    async def _oauth_server_rest(
        self, parts: list[str], merged: dict[str, Any], started: float
    ) -> Any:
        """/rest/ on an authorization server's host (reached through the proxy): only
        `app.info` is answered there (b24pysdk asks it at oauth.bitrix24.tech/rest/app.info/);
        portal methods live on the portal's host."""
        if len(parts) != 1 or parts[0].lower() != "app.info":
            raise errors.MethodNotFound()
        result = await self.oauth.server_app_info(merged.get("auth"))
        return {"result": result, "time": time_block(started, self.clock.now(), 0.0, self.ctx)}

    def _not_locked_out(self, scope: Scope) -> str:
        """The client's address, once it may try a credential (lockout.py)."""
        client = scope.get("client")
        address = str(client[0]) if client else "local"
        wait = self.lockout.retry_after(address)
        if wait > 0:
            raise errors.TooManyFailures(
                "Too many failed authorization attempts from this address; "
                f"retry in {wait:.0f} seconds"
            )
        return address

    # -- /oauth/ --------------------------------------------------------------------------------

    def endpoints(self, scope: Scope) -> Endpoints:
        """Where the client reached us: `--base-url`, else the scheme and `Host` it used (behind a
        trusted proxy uvicorn has already applied X-Forwarded-Proto)."""
        if self.settings.base_url or hosts.is_oauth_server(_host(scope)):
            # On an authorization server's host (through the proxy) replies point at orderlink
            # itself, not at the authorization server, unless the portal has a domain.
            return Endpoints(self.settings.public_base_url())
        host = _header(scope, b"host") or f"{self.settings.host}:{self.settings.port}"
        return Endpoints(f"{_scheme(scope)}://{host}")

    async def _oauth(
        self, scope: Scope, receive: Receive, path: str
    ) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        route = path.rstrip("/")
        merged = params.merge(
            params.parse_query(scope.get("query_string", b"")),
            params.parse_body(
                await self._read_body(scope, receive), _header(scope, b"content-type")
            ),
        )
        endpoints = self.endpoints(scope)
        try:
            if route == "/oauth/token":
                address = self._not_locked_out(scope)
                try:
                    return 200, await self.oauth.token(merged, endpoints), _OAUTH_JSON
                except (errors.InvalidClient, errors.InvalidGrant):
                    self.lockout.failed(address)
                    raise
            if route == "/oauth/authorize":
                return await self._authorize(scope, merged, endpoints)
        except errors.OAuthError as exc:
            return exc.status, errors.body(exc), _OAUTH_JSON
        raise errors.MethodNotFound("Not found")

    async def _authorize(
        self, scope: Scope, merged: dict[str, Any], endpoints: Endpoints
    ) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        """The consent step of settings/oauth/index.md: the portal user approves, the browser is
        sent to the app's redirect_uri with a 30-second code. orderlink has no sign-in page, so
        the user proves who they are with a webhook code of theirs; `--oauth-auto-approve` skips
        the form (tests)."""
        client_id = merged.get("client_id")
        app = await self.oauth.store.app(client_id) if isinstance(client_id, str) else None
        if app is None:
            raise errors.UnknownClient("Unknown client_id")
        state = str(merged.get("state") or "")
        if self.settings.oauth_auto_approve:
            user_id = to_int(merged.get("user_id")) or 1
        elif scope["method"] == "POST":
            try:
                principal = await self._webhook(
                    scope, str(merged.get("user_id", "")), str(merged.get("code", ""))
                )
            except errors.InvalidCredentials:
                # A person typed this: show the form again, with what went wrong (the failure
                # is counted by _webhook).
                page = consent_page(app, state, "That user id and webhook code do not match.")
                return 401, page, CONSENT_HEADERS
            user_id = principal.user_id
        else:
            return 200, consent_page(app, state), CONSENT_HEADERS
        target = await self.oauth.authorize(app, user_id, state, endpoints)
        return 302, b"", [(b"location", target.encode()), *NO_STORE]

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.settings.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise errors.BodyTooLarge(f"Request body is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            # A client that announces more than it sends would hold the connection for ever.
            async with asyncio.timeout(self.settings.body_timeout):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        break
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise errors.BodyTooLarge(f"Request body is larger than {limit} bytes")
                    chunks.append(chunk)
                    more = message.get("more_body", False)
        except TimeoutError:
            raise errors.BodyTimeout(
                f"Request body was not received within {self.settings.body_timeout:g} seconds"
            ) from None
        return b"".join(chunks)

    async def _health(self, ready: bool) -> tuple[int, Any]:
        """/healthz: the process answers. /readyz: and its database and limits store do too."""
        if not ready:
            return 200, {"status": "ok"}
        checks: dict[str, str] = {}
        try:
            await self.store.ping()
            checks["database"] = "ok"
        except StoreUnavailable as exc:
            checks["database"] = f"unavailable: {exc}"
        try:
            await self.limits.ping()
            checks["limits"] = "ok"
        except LimitsUnavailable as exc:
            checks["limits"] = f"unavailable: {exc}"
        ready_now = all(value == "ok" for value in checks.values())
        return (200 if ready_now else 503), {
            "status": "ok" if ready_now else "unavailable",
            **checks,
        }

    # -- /_orderlink/ -------------------------------------------------------------------------

    async def _admin(self, scope: Scope, receive: Receive, path: str) -> tuple[int, Any]:
        route = path.rstrip("/")
        if route == "/_orderlink/health":
            return 200, {"status": "ok"}
        if route not in self.controls.routes():
            raise errors.MethodNotFound("Not found")
        if route == "/_orderlink/clock" and scope["method"] != "POST":
            return 200, self.controls.now()
        return 200, self.controls.handle(route, await self._json_only(scope, receive))

    def _credentials(self, scope: Scope) -> Credentials:
        """What an admin request offers: the bearer header, and with the dashboard on, its
        session cookie and CSRF header."""
        authorization = _header(scope, b"authorization")
        if self.dashboard is None:
            return Credentials(authorization)
        cookie = sessions.cookie_value(_header(scope, b"cookie"))
        return Credentials(authorization, cookie, _header(scope, sessions.CSRF_HEADER.encode()))

    async def _dashboard(
        self, scope: Scope, receive: Receive, path: str, verb: str
    ) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        if self.dashboard is None:
            raise errors.MethodNotFound("Not found")
        body = None
        if verb == "POST":
            body = (await self._read_body(scope, receive), _header(scope, b"content-type"))
        client = scope.get("client")
        address = str(client[0]) if client else "local"
        secure = _scheme(scope) == "https"
        return await self.dashboard.answer(
            verb, path, self._credentials(scope), address, secure, body
        )

    async def _json_only(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        """A test endpoint's body: JSON, declared as JSON. A web page can send `text/plain` or a
        form to 127.0.0.1 without a CORS preflight; it cannot send `application/json`."""
        mime = _header(scope, b"content-type").split(";", 1)[0].strip().lower()
        if mime != "application/json":
            raise errors.InvalidRequest("This endpoint takes Content-Type: application/json")
        return params.parse_json(await self._read_body(scope, receive))


def masked(scope: Scope) -> str:
    """The request target with webhook codes and secret parameters replaced by `***`.

    `/rest/<user>/<code>/...`: the segment after the user id is the code, whatever the user id
    looks like (`abc`, `-1`) and however many slashes stand between."""
    path: str = scope["path"]
    segments = [part for part in path.split("/") if part]
    if len(segments) >= 3 and segments[0].lower() == "rest":
        segments[2] = "***"
        path = "/" + "/".join(segments) + ("/" if path.endswith("/") else "")
    raw = scope.get("query_string", b"").decode("latin-1")
    if not raw:
        return path
    pairs = []
    for pair in raw.split("&"):
        key, sep, value = pair.partition("=")
        name = unquote_plus(key).split("[", 1)[0].strip().lower()
        if name in _SECRET_PARAMS:
            pairs.append(f"{key}=***" if sep else pair)
            continue
        decoded = unquote_plus(value)
        hidden = _NESTED_SECRET.sub(r"\1***", decoded)
        pairs.append(f"{key}={quote(hidden, safe='=&?*[]')}" if hidden != decoded else pair)
    return f"{path}?{'&'.join(pairs)}"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _host(scope: Scope) -> str:
    """The host the client named (`Host`), lower case, without its port."""
    return hosts.hostname(_header(scope, b"host"))


def _scheme(scope: Scope) -> str:
    # Behind a proxy, uvicorn's proxy-headers support has already applied X-Forwarded-Proto
    # from trusted addresses (`--forwarded-allow-ips`), so the scope's scheme is the original.
    return str(scope.get("scheme", "http"))


def create_limits(settings: Settings, clock: Clock) -> Limits:
    size, rate = settings.bucket()
    if settings.redis:
        return RedisLimits(settings.redis, clock, size=size, rate=rate)
    return LocalLimits(clock, size=size, rate=rate)


def create_app(settings: Settings, **kwargs: Any) -> OrderlinkApp:
    return OrderlinkApp(settings, **kwargs)


def app_from_env() -> OrderlinkApp:
    """`uvicorn --factory orderlink.app:app_from_env` builds the app from ORDERLINK_* variables
    (how `orderlink serve --workers N` starts each worker)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return served_app(Settings.from_env())


def served_app(settings: Settings) -> OrderlinkApp:
    """The app of a server process: built, then what lives as long as the process (modules,
    the registry, field tables: ~38,000 objects) set aside from the garbage collector
    (`gc.freeze`), which otherwise walks all of it in each full collection: a 30-50 ms stop of
    every request, about once every 20,000 calls (none in 20,000 getFields calls with it).
    Not in `create_app`: a test process building many apps would never free them."""
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    return app
