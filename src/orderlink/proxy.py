"""`orderlink serve --proxy-port PORT`: an HTTP proxy that takes over Bitrix24's hosts (issue 18).

Clients that hard-code Bitrix24's hosts (hosts.py) run unchanged with `HTTPS_PROXY` (and
`HTTP_PROXY`) pointing here and orderlink's CA trusted. For a host orderlink owns (Bitrix24's
authorization servers, `*.bitrix24.<tld>`, `*.bitrix.info`, every portal domain) the proxy
answers a `CONNECT` itself: it ends TLS with a certificate for that host issued on the fly by
the local CA (tls.py; one per host, kept on disk and in memory) and hands the connection to
uvicorn's own HTTP protocol, serving the very app `orderlink serve` serves, in this process. A
plain-HTTP proxy request is served the same way, request by request (`ProxyApp`).

Leak guard: every other host is refused with a 502 `ERROR_PROXY_HOST_REFUSED` body naming it
and one log line; `--proxy-pass HOST` lets named hosts through (a `CONNECT` becomes a blind
tunnel; a plain request is forwarded with httpx). A Bitrix24 host is never forwarded: naming one
in `--proxy-pass` is refused at start-up (`pass_list`), and ownership is decided first.

Only the first request head of a connection is parsed here (h11), to tell a `CONNECT` from a
plain request; HTTP itself is uvicorn's (http_protocol.py). TLS is the stdlib `ssl` module on
the event loop's transport (`loop.start_tls`). The proxy listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h11
import httpx
import orjson
import uvicorn

from orderlink import errors, hosts, tls
from orderlink.domains import PortalDomains
from orderlink.http_protocol import MAX_URL_BYTES

log = logging.getLogger("orderlink.proxy")

LISTEN = "127.0.0.1"
TLS_HANDSHAKE_TIMEOUT = 15.0
CONNECT_TIMEOUT = 15.0
_HEAD_LIMIT = MAX_URL_BYTES + 64 * 1024  # the longest first request head read here
_CONTEXTS = 1000  # TLS contexts (one per host) kept in memory
# Hop-by-hop headers (RFC 9110 7.6.1) a forwarded request or answer never carries on.
_HOP = frozenset(
    {b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization",
     b"proxy-authenticate", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
)  # fmt: skip

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# -- which hosts ---------------------------------------------------------------------------------


def _split(pattern: str) -> tuple[str, str]:
    """`host:port`, `[v6]:port`, `host` -> (host part, port text or "")."""
    if pattern.startswith("["):
        name, _, rest = pattern[1:].partition("]")
        return name, rest.removeprefix(":")
    if pattern.count(":") == 1:
        name, _, port = pattern.partition(":")
        return name, port
    return pattern, ""


@dataclass(frozen=True, slots=True)
class PassList:
    """`--proxy-pass` patterns: `host`, `host:port`, or `*.suffix` (any host below it)."""

    patterns: tuple[str, ...] = ()

    def allows(self, host: str, port: int) -> bool:
        for pattern in self.patterns:
            name, only = _split(pattern)
            if only and only != str(port):
                continue
            if host == name or (name.startswith("*.") and host.endswith(name[1:])):
                return True
        return False


def pass_list(patterns: tuple[str, ...]) -> PassList:
    """Checked `--proxy-pass` patterns; ValueError for one that names a Bitrix24 host (those
    are never forwarded) or is not a host."""
    checked = []
    for raw in (part for value in patterns for part in value.split(",") if part.strip()):
        name, port = _split(raw.strip().lower())
        host = name.removeprefix("*.").rstrip(".")
        if not host or any(c in host for c in "*/@ ") or (port and not port.isdigit()):
            raise ValueError(f"--proxy-pass {raw!r}: expected HOST, HOST:PORT or *.DOMAIN")
        if hosts.is_bitrix(host) or hosts.is_oauth_server(host):
            raise ValueError(
                f"--proxy-pass {raw!r}: orderlink never forwards to a Bitrix24 host; it "
                "answers for them itself"
            )
        shown = f"[{name}]" if ":" in name else name.rstrip(".")
        checked.append(f"{shown}:{port}" if port else shown)
    return PassList(tuple(checked))


class Owner:
    """Whether a host is orderlink's to answer for, and a log line the first time it is."""

    def __init__(self, domains: PortalDomains) -> None:
        self.domains = domains
        self._seen: set[str] = set()

    async def owns(self, host: str) -> bool:
        if hosts.is_oauth_server(host):
            kind = "a Bitrix24 authorization server"
        elif (portal := await self.domains.portal_of(host)) is not None:
            kind = f"a domain of portal {portal.id}"
        elif hosts.is_bitrix(host):
            kind = "a Bitrix24 host"
        else:
            return False
        if host not in self._seen and len(self._seen) < 10_000:
            self._seen.add(host)
            log.info("proxy: serving %s (%s) from orderlink", host, kind)
        return True


def refusal(host: str, port: int) -> tuple[bytes, str]:
    """(the JSON body, the one log line) of a refused host."""
    why = (
        f"{host}:{port}: neither a Bitrix24 host nor a portal domain, so it is not forwarded "
        f"(start orderlink serve with --proxy-pass {host} to let it through)"
    )
    body = orjson.dumps(errors.body(errors.ProxyRefused(f"orderlink's proxy refused {why}")))
    return body, f"proxy: refused {why}"


# -- TLS ------------------------------------------------------------------------------------------


class Certificates:
    """A server-side TLS context per intercepted host, from the local CA."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca_file = tls.ensure_ca(directory)
        self._contexts: dict[str, ssl.SSLContext] = {}

    def context(self, host: str) -> ssl.SSLContext:
        found = self._contexts.get(host)
        if found is None:
            cert, key = tls.host_certificate(self.directory, host)
            found = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            found.load_cert_chain(cert, key)
            found.set_alpn_protocols(["http/1.1"])
            if len(self._contexts) >= _CONTEXTS:
                self._contexts.clear()
            self._contexts[host] = found
        return found


# -- per request: plain HTTP and inside an intercepted tunnel ------------------------------------


class ProxyApp:
    """What uvicorn serves on a proxied connection, request by request: a host orderlink owns
    goes to orderlink's app; a `--proxy-pass` host over plain HTTP is forwarded; the rest is
    refused. Inside an intercepted TLS tunnel only owned hosts are ever served."""

    def __init__(self, app: ASGIApp, owner: Owner, passes: PassList) -> None:
        self.app = app
        self.owner = owner
        self.passes = passes
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        authority = _header(scope, b"host")
        host = hosts.hostname(authority)
        secure = scope.get("scheme") == "https"
        port = _port(authority, 443 if secure else 80)
        if host and await self.owner.owns(host):
            await self.app(scope, receive, send)
        elif host and not secure and self.passes.allows(host, port):
            log.info("proxy: passing %s:%d through (--proxy-pass)", host, port)
            await self._forward(scope, receive, send, authority)
        else:
            body, line = refusal(host or "(no host)", port)
            log.warning("%s", line)
            await _answer(send, 502, body)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, authority: str) -> None:
        if self._client is None:
            # Never through another proxy from the environment: this is the proxy.
            self._client = httpx.AsyncClient(trust_env=False, timeout=60.0)
        target = f"http://{authority}{scope.get('raw_path', b'/').decode('latin-1')}"
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP]

        async def body() -> Any:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                yield message.get("body", b"")
                more = message.get("more_body", False)

        request = self._client.build_request(scope["method"], target, headers=headers,
                                             content=body())  # fmt: skip
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            text = f"orderlink's proxy could not reach {authority}: {exc}"
            await _answer(send, 502, orjson.dumps(errors.body(errors.ProxyRefused(text))))
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


# -- per connection: the first request head ------------------------------------------------------


class _Entry(asyncio.Protocol):
    """A new connection to the proxy: read the first request head, then either take the
    `CONNECT` or hand the connection, bytes and all, to uvicorn's protocol."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.parser = h11.Connection(h11.SERVER, max_incomplete_event_size=_HEAD_LIMIT)
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.upstream: asyncio.StreamWriter | None = None
        self.decided = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = transport  # type: ignore[assignment]
        self.proxy.entries.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.proxy.entries.discard(self)
        if self.upstream is not None:
            self.upstream.close()

    def data_received(self, data: bytes) -> None:
        if self.upstream is not None:  # a passed-through tunnel
            self.upstream.write(data)
            return
        if self.decided:
            return
        self.buffer += data
        try:
            self.parser.receive_data(data)
            event = self.parser.next_event()
        except h11.RemoteProtocolError:
            event = None  # uvicorn answers a malformed request in the Bitrix24 envelope
        if event is h11.NEED_DATA:
            return
        self.decided = True
        assert self.transport is not None
        if isinstance(event, h11.Request) and event.method == b"CONNECT":
            task = asyncio.get_running_loop().create_task(self._connect(event))
            self.proxy.tasks.add(task)
            task.add_done_callback(self.proxy.tasks.discard)
        else:
            self.proxy.serve_http(self, self.transport, bytes(self.buffer))

    async def _connect(self, request: h11.Request) -> None:
        assert self.transport is not None
        target = request.target.decode("latin-1")
        host, port = hosts.hostname(target), _port(target, 443)
        try:
            if host and await self.proxy.owner.owns(host):
                self._reply(200, b"Connection Established")
                self.proxy.entries.discard(self)
                await self.proxy.intercept(self.transport, host, port)
            elif host and self.proxy.passes.allows(host, port):
                log.info("proxy: passing %s:%d through (--proxy-pass)", host, port)
                await self._tunnel(host, port)
            else:
                body, line = refusal(host or "(no host)", port)
                log.warning("%s", line)
                self._reply(502, b"Bad Gateway", body)
                self.transport.close()
        except Exception:
            log.exception("proxy: CONNECT %s failed", target[:200])
            self.transport.close()

    def _reply(self, status: int, reason: bytes, body: bytes = b"") -> None:
        assert self.transport is not None
        headers = []
        if status != 200:
            headers = [*_json_headers(body), (b"connection", b"close")]
        head = self.parser.send(h11.Response(status_code=status, headers=headers, reason=reason))
        self.transport.write((head or b"") + body)

    async def _tunnel(self, host: str, port: int) -> None:
        """A blind tunnel to a `--proxy-pass` host: bytes both ways, nothing read."""
        assert self.transport is not None
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                reader, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            text = f"orderlink's proxy could not reach {host}:{port}: {exc}"
            self._reply(502, b"Bad Gateway", orjson.dumps(errors.body(errors.ProxyRefused(text))))
            self.transport.close()
            return
        self.upstream = writer
        self._reply(200, b"Connection Established")
        leftover = self.parser.trailing_data[0]
        if leftover:
            writer.write(leftover)
        try:
            while chunk := await reader.read(65536):
                self.transport.write(chunk)
        finally:
            writer.close()
            self.transport.close()


# -- the proxy server ----------------------------------------------------------------------------


class Proxy:
    """The listening socket, and what serves each connection it accepts."""

    def __init__(
        self,
        app: ASGIApp,
        domains: PortalDomains,
        tls_dir: Path,
        passes: PassList,
        make_protocol: Callable[[], asyncio.Protocol],
    ) -> None:
        self.owner = Owner(domains)
        self.passes = passes
        self.certificates = Certificates(tls_dir)
        self.proxy_app = ProxyApp(app, self.owner, passes)
        self._make_protocol = make_protocol
        self.entries: set[_Entry] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def bind(self, port: int) -> int:
        """Listen on 127.0.0.1:`port` (0: any free port), not accepting yet; the port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Entry(self), LISTEN, port, start_serving=False
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        assert self._server is not None
        await self._server.start_serving()

    def _protocol(self) -> asyncio.Protocol:
        protocol = self._make_protocol()
        # uvicorn's protocol serves the app it was configured with; here, the proxy's.
        protocol.app = self.proxy_app  # type: ignore[attr-defined]
        return protocol

    def serve_http(self, entry: _Entry, transport: asyncio.Transport, received: bytes) -> None:
        """Plain HTTP on this connection: uvicorn parses it from the first byte."""
        self.entries.discard(entry)
        protocol = self._protocol()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        protocol.data_received(received)

    async def intercept(self, transport: asyncio.Transport, host: str, port: int) -> None:
        """Inside a `CONNECT` to an owned host: TLS as `host` (plain HTTP on port 80), then
        uvicorn's protocol."""
        protocol = self._protocol()
        if port == 80:
            transport.set_protocol(protocol)
            protocol.connection_made(transport)
            return
        loop = asyncio.get_running_loop()
        try:
            secured = await loop.start_tls(
                transport, protocol, self.certificates.context(host), server_side=True,
                ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT,
            )  # fmt: skip
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError) as exc:
            log.warning(
                "proxy: TLS for %s failed (%s); does the client trust orderlink's CA %s?",
                host, exc or type(exc).__name__, self.certificates.ca_file,
            )  # fmt: skip
            transport.close()
            return
        if secured is None:
            return
        protocol.connection_made(secured)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for entry in list(self.entries):
            if entry.transport is not None and (entry.upstream is not None or not entry.decided):
                entry.transport.close()
        for task in list(self.tasks):
            task.cancel()
        await self.proxy_app.close()


class ProxyingServer(uvicorn.Server):
    """uvicorn's server, with the proxy listening beside it in the same event loop, serving
    the same app object (and so the same store, clock and limits)."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        app: ASGIApp,
        domains: PortalDomains,
        port: int,
        passes: PassList,
        tls_dir: Path,
    ) -> None:
        super().__init__(config)
        self.proxy_port = port
        self._proxy_args = (app, domains, tls_dir, passes)
        self.proxy: Proxy | None = None

    def _make_protocol(self) -> asyncio.Protocol:
        config = self.config
        protocol: asyncio.Protocol = config.http_protocol_class(  # type: ignore[call-arg]
            config=config, server_state=self.server_state, app_state=self.lifespan.state,
            _loop=asyncio.get_running_loop(),
        )  # fmt: skip
        return protocol

    async def startup(self, sockets: Any = None) -> None:
        app, domains, tls_dir, passes = self._proxy_args
        self.proxy = Proxy(app, domains, tls_dir, passes, self._make_protocol)
        try:
            self.proxy_port = await self.proxy.bind(self.proxy_port)
        except OSError as exc:
            log.error("proxy: cannot listen on %s:%d: %s", LISTEN, self.proxy_port, exc)
            sys.exit(3)  # uvicorn's STARTUP_FAILURE
        await super().startup(sockets)
        if self.should_exit:
            await self.proxy.close()
            return
        await self.proxy.start()
        log.info(
            "proxy: listening on http://%s:%d (HTTPS_PROXY); certificates from the CA %s",
            LISTEN, self.proxy_port, self.proxy.certificates.ca_file,
        )  # fmt: skip

    async def shutdown(self, sockets: Any = None) -> None:
        if self.proxy is not None:
            with contextlib.suppress(Exception):
                await self.proxy.close()
        await super().shutdown(sockets)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _port(authority: str, default: int) -> int:
    """The port of `host:port` (or `[v6]:port`), else `default`."""
    tail = authority.rpartition("]")[2] if authority.startswith("[") else authority
    _, sep, port = tail.rpartition(":")
    return int(port) if sep and port.isdigit() and len(port) <= 5 else default


def _json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": _json_headers(body),
        }
    )
    await send({"type": "http.response.body", "body": body})
