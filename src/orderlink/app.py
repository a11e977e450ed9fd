"""The ASGI application: routes, lifespan, and the one place errors become HTTP responses.

Raw ASGI on purpose: `/rest/...` is the hot path and a framework costs 30-45% there
(STYLE.md pattern 5). Routes (protocol.md section 1, clients.md point 1):
  /rest/{user_id}/{code}/{method}[.json][/]   incoming webhook
  /rest/{method}[.json][/]                    OAuth token in `auth` (query or body)
  /_orderlink/...                             admin and test endpoints
Repeated slashes collapse and nothing ever redirects (clients do not follow redirects).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from orderlink import errors, params
from orderlink.auth import Authenticator, Principal
from orderlink.clock import AdjustableClock, Clock, SystemClock
from orderlink.coerce import UnixIso, parse_zone, to_float
from orderlink.dispatch import Dispatcher, success_body
from orderlink.limits import Limits, LimitsUnavailable, LocalLimits, RedisLimits, parse_costs
from orderlink.methods import build_registry
from orderlink.registry import Context, Registry
from orderlink.settings import Settings
from orderlink.storage import create_store
from orderlink.storage.base import Store, StoreUnavailable

log = logging.getLogger("orderlink")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json; charset=utf-8")]


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
        self.limits = limits if limits is not None else create_limits(settings, clock)
        self.registry = registry if registry is not None else build_registry()
        zone = parse_zone(settings.timezone)
        self.ctx = Context(self.store, settings, clock, zone, UnixIso(zone), self.registry)
        self.dispatcher = Dispatcher(
            self.registry,
            self.ctx,
            self.limits,
            operating_limit=settings.operating_limit,
            costs=parse_costs(dict(settings.operating_costs)),
        )
        self.auth = Authenticator(self.store)
        self._opened = False

    # -- lifespan -----------------------------------------------------------------------------

    async def startup(self) -> None:
        if self._owns_store and not self._opened:
            await self.store.open(upgrade=self.settings.auto_upgrade)
            self._opened = True

    async def shutdown(self) -> None:
        await self.limits.close()
        if self._owns_store and self._opened:
            await self.store.close()
            self._opened = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
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
        try:
            if path.startswith("/rest/") or path == "/rest":
                status, body = await self._rest(scope, receive, path, started)
            elif path in ("/healthz", "/readyz"):
                status, body = await self._health(path == "/readyz")
            elif path.startswith("/_orderlink/"):
                status, body = await self._admin(scope, receive, path)
            else:
                raise errors.MethodNotFound("Not found")
        except errors.B24Error as exc:
            status, body = exc.status, errors.body(exc)
        except Exception:
            log.exception("unhandled error for %s", path)
            internal = errors.InternalServerError()
            status, body = internal.status, errors.body(internal)
        payload = orjson.dumps(body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _rest(
        self, scope: Scope, receive: Receive, path: str, started: float
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
        if len(parts) == 3:
            principal = await self._webhook(parts[0], parts[1])
            method = parts[2]
        elif len(parts) == 1 and parts[0] != "api":
            principal = await self._token(merged)
            method = parts[0]
        else:
            raise errors.MethodNotFound()
        if self.settings.rate_limit:
            client = scope.get("client") or ("local", 0)
            try:
                admitted = await self.limits.admit(f"{principal.portal_id}|{client[0]}")
            except LimitsUnavailable:
                raise errors.ServiceUnavailable("Limits store is temporarily unavailable") from None
            if not admitted:
                raise errors.QueryLimitExceeded()
        reply = await self.dispatcher.call(method, merged, principal, started=started)
        return 200, success_body(reply)

    async def _webhook(self, user_id: str, code: str) -> Principal:
        try:
            return await self.auth.webhook(user_id, code)
        except StoreUnavailable:
            raise errors.ServiceUnavailable() from None

    async def _token(self, merged: dict[str, Any]) -> Principal:
        # OAuth applications arrive with the applications issue; until then no token is valid.
        raise errors.NoAuthFound()

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.settings.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            raise errors.BodyTooLarge(f"Request body is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        more = True
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
        if route == "/_orderlink/clock" and isinstance(self.clock, AdjustableClock):
            if scope["method"] != "POST":
                return 200, {"now": self.clock.now()}
            body = params.parse_body(await self._read_body(scope, receive), "application/json")
            seconds = to_float(body.get("advance", 0))
            if seconds is None or seconds < 0:
                raise errors.InvalidRequest("`advance` must be a non-negative number of seconds")
            return 200, {"now": self.clock.advance(seconds)}
        if route == "/_orderlink/operating-cost" and isinstance(self.clock, AdjustableClock):
            # Charge a method a fixed operating time per call, to reach the limit in tests.
            body = params.parse_body(await self._read_body(scope, receive), "application/json")
            method, seconds = body.get("method"), to_float(body.get("seconds"))
            if not isinstance(method, str) or seconds is None or seconds < 0:
                raise errors.InvalidRequest('expected {"method": NAME, "seconds": SECONDS}')
            self.dispatcher.costs[method.lower()] = seconds
            return 200, {"method": method, "seconds": seconds}
        raise errors.MethodNotFound("Not found")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


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
    """`uvicorn --factory orderlink.app:app_from_env` builds the app from ORDERLINK_* variables."""
    return create_app(Settings.from_env())
