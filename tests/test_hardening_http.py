"""The HTTP edge under hostile or careless clients (issue 12): verbs that never run a method,
CORS, numbers in ASCII only, one shape rule for every body format, `[]` as no parameters,
bounded test endpoints, secrets masked in the access log, and protocol-level refusals as
Bitrix24 JSON from a real server on a socket."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from orderlink.app import create_app, masked
from orderlink.bootstrap import bootstrap
from orderlink.clock import FrozenClock
from orderlink.settings import Settings

from .conftest import Portal
from .live import start_server

pytestmark = pytest.mark.anyio

DELETE_5127 = (
    "crm.orderentity.deleteByFilter?fields[orderId]=5127&fields[ownerId]=6937&fields[ownerTypeId]=2"
)


async def _bind(portal: Portal, order: int = 5127, deal: int = 6937) -> None:
    await portal.add_order(order)
    await portal.add_deal(deal)
    await portal.ok(
        "crm.orderentity.add", {"fields": {"orderId": order, "ownerId": deal, "ownerTypeId": 2}}
    )


async def _bound(portal: Portal) -> int:
    return len((await portal.ok("crm.orderentity.list", {}))["orderEntity"])


class TestVerbs:
    """Point 1: link checkers, prefetchers and CORS preflights send HEAD and OPTIONS; GET and
    POST are the verbs that run methods (protocol.md section 1)."""

    @pytest.mark.parametrize(
        "verb", ["HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "TRACE", "PROPFIND"]
    )
    async def test_no_other_verb_runs_a_write(self, portal: Portal, verb: str) -> None:
        await _bind(portal)
        response = await portal.client.request(verb, portal.hook + DELETE_5127)
        assert response.status_code in (204, 405)
        assert await _bound(portal) == 1

    @pytest.mark.one_store
    @pytest.mark.parametrize("verb", ["PUT", "DELETE", "PATCH", "PROPFIND"])
    async def test_other_verbs_get_a_bitrix24_shaped_405(self, portal: Portal, verb: str) -> None:
        response = await portal.client.request(verb, portal.hook + "crm.orderentity.getFields")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST, OPTIONS"
        assert response.json()["error"] == "INVALID_REQUEST"
        assert verb in response.json()["error_description"]

    @pytest.mark.one_store
    async def test_head_is_refused_without_running(self, portal: Portal) -> None:
        response = await portal.client.head(portal.hook + "crm.orderentity.getFields")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST, OPTIONS"

    @pytest.mark.one_store
    async def test_head_of_health_checks_answers(self, portal: Portal) -> None:
        assert (await portal.client.head("/healthz")).status_code == 200

    async def test_get_still_runs_methods(self, portal: Portal) -> None:
        await _bind(portal)
        response = await portal.client.get(portal.hook + DELETE_5127)
        assert response.status_code == 200
        assert await _bound(portal) == 0


class TestCors:
    async def test_preflight_answers_and_runs_nothing(self, portal: Portal) -> None:
        await _bind(portal)
        response = await portal.client.options(
            portal.hook + DELETE_5127,
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == "*"
        assert "POST" in response.headers["access-control-allow-methods"]
        assert response.headers["access-control-allow-headers"] == "content-type"
        assert "access-control-allow-credentials" not in response.headers
        assert await _bound(portal) == 1

    async def test_rest_answers_carry_the_origin_header(self, portal: Portal) -> None:
        response = await portal.client.post(
            portal.hook + "crm.orderentity.getFields",
            json={},
            headers={"Origin": "https://a.example"},
        )
        assert response.headers["access-control-allow-origin"] == "*"

    async def test_no_cors_outside_rest(self, portal: Portal) -> None:
        response = await portal.client.options(
            "/oauth/token/",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert response.status_code == 204
        assert "access-control-allow-origin" not in response.headers

    async def test_listed_origins_only(self, settings: Settings) -> None:
        async with _app(settings.replace(cors_origins="https://shop.example")) as (client, hook):
            allowed = await client.post(
                hook + "profile", json={}, headers={"Origin": "https://shop.example"}
            )
            other = await client.post(
                hook + "profile", json={}, headers={"Origin": "https://evil.example"}
            )
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        assert allowed.headers["vary"] == "Origin"
        assert "access-control-allow-origin" not in other.headers


async def test_every_answer_says_nosniff(portal: Portal) -> None:
    """Point 27: `X-Content-Type-Options: nosniff` on every response, errors included."""
    for response in (
        await portal.client.post(portal.hook + "profile", json={}),
        await portal.client.post(portal.hook + "no.such.method", json={}),
        await portal.client.get("/healthz"),
        await portal.client.get("/nowhere"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"


class TestAsciiNumbers:
    """Point 2: Python's int() reads full-width and Arabic-Indic digits; PHP's is_numeric does
    not, so a full-width "5125" is no order id."""

    async def test_full_width_id_deletes_nothing(self, portal: Portal) -> None:
        await portal.add_order(5125)
        response = await portal.call("sale.order.delete", {"id": "\uff15\uff11\uff12\uff15"})
        assert response.status_code == 400
        assert await portal.ok("sale.order.get", {"id": 5125})

    async def test_arabic_indic_owner_binds_nothing(self, portal: Portal) -> None:
        await portal.add_order(5125)
        await portal.add_deal(6943)
        response = await portal.call(
            "crm.orderentity.add",
            {"fields": {"orderId": 5125, "ownerId": "\u0666\u0669\u0664\u0663", "ownerTypeId": 2}},
        )
        assert response.status_code == 400
        assert await _bound(portal) == 0

    async def test_php_whitespace_around_ascii_digits_is_still_a_number(
        self, portal: Portal
    ) -> None:
        await portal.add_order(5125)
        assert (await portal.call("sale.order.get", {"id": " 5125\n"})).status_code == 200


class TestBodyShape:
    async def test_empty_json_array_is_no_parameters(self, portal: Portal) -> None:
        """Point 19: b24phpsdk sends `[]` for every call without parameters."""
        for method in (
            "profile",
            "server.time",
            "scope",
            "methods",
            "crm.deal.fields",
        ):
            response = await portal.client.post(
                portal.hook + method, content=b"[]", headers={"content-type": "application/json"}
            )
            assert response.status_code == 200, (method, response.text)

    @pytest.mark.one_store
    async def test_json_nested_deeper_than_32_levels_is_refused(self, portal: Portal) -> None:
        """Point 13: the depth rule forms and query strings follow holds for JSON too."""
        deep: Any = 1
        for _ in range(33):
            deep = {"a": deep}
        response = await portal.call("crm.orderentity.list", {"filter": deep})
        assert response.status_code == 400
        assert "nested deeper than 32" in response.json()["error_description"]
        ok: Any = 1
        for _ in range(32):
            ok = {"a": ok}
        form = "filter" + "[a]" * 33 + "=1"
        assert (await portal.call("crm.orderentity.list", form=form)).status_code == 400
        assert (await portal.call("crm.orderentity.getFields", {"x": ok})).status_code == 200

    @pytest.mark.one_store
    async def test_json_with_too_many_values_is_refused(self, portal: Portal) -> None:
        response = await portal.call("crm.orderentity.getFields", {"x": list(range(20_001))})
        assert response.status_code == 400
        assert "Too many parameters" in response.json()["error_description"]


class TestTestEndpoints:
    """Point 33: a huge advance broke every later call; a web page could drive the clock with
    a text/plain POST (no CORS preflight needed for that)."""

    @pytest.mark.one_store
    async def test_absurd_advance_is_refused_and_the_server_keeps_answering(
        self, settings: Settings
    ) -> None:
        async with _app(settings.replace(test_clock=True)) as (client, hook):
            response = await client.post("/_orderlink/clock", json={"advance": 1e308})
            assert response.status_code == 400
            assert (await client.post(hook + "profile", json={})).status_code == 200
            ok = await client.post("/_orderlink/clock", json={"advance": 600})
            assert ok.status_code == 200

    @pytest.mark.one_store
    async def test_json_as_text_plain_is_refused(self, settings: Settings) -> None:
        async with _app(settings.replace(test_clock=True)) as (client, _):
            before = (await client.get("/_orderlink/clock")).json()["now"]
            for kind in ("text/plain", "application/x-www-form-urlencoded"):
                response = await client.post(
                    "/_orderlink/clock", content=b'{"advance": 600}', headers={"content-type": kind}
                )
                assert response.status_code == 400
            # The clock runs on in real time; an accepted advance would have added 600 s.
            assert (await client.get("/_orderlink/clock")).json()["now"] - before < 60

    @pytest.mark.one_store
    async def test_operating_cost_is_bounded(self, settings: Settings) -> None:
        async with _app(settings.replace(test_clock=True)) as (client, _):
            response = await client.post(
                "/_orderlink/operating-cost", json={"method": "profile", "seconds": 1e300}
            )
            assert response.status_code == 400


class TestAccessLogMasking:
    """Points 8 and 30: every path form of a webhook and every spelling of a secret."""

    @pytest.mark.parametrize(
        ("path", "query", "secret"),
        [
            ("/rest/abc/k3x9q2m7a1b4c8d0/profile", b"", "k3x9q2m7a1b4c8d0"),
            ("/rest/-1/k3x9q2m7a1b4c8d0/profile", b"", "k3x9q2m7a1b4c8d0"),
            ("//rest//1//k3x9q2m7a1b4c8d0//profile", b"", "k3x9q2m7a1b4c8d0"),
            ("/REST/1/k3x9q2m7a1b4c8d0/profile", b"", "k3x9q2m7a1b4c8d0"),
            ("/rest/profile", b"AUTH=tok123secret", "tok123secret"),
            ("/rest/profile", b"Auth=tok123secret", "tok123secret"),
            ("/rest/profile", b"auth[]=tok123secret", "tok123secret"),
            ("/rest/profile", b"auth%5B0%5D=tok123secret", "tok123secret"),
            ("/rest/batch", b"cmd[a]=profile%3Fauth%3Dtok123secret&auth=x", "tok123secret"),
            (
                "/rest/batch",
                b"cmd%5Ba%5D=crm.deal.list%3Fstart%3D0%26AUTH%3Dtok123secret",
                "tok123secret",
            ),
            (
                "/oauth/token/",
                b"client_secret=tok123secret&refresh_token=tok123secret",
                "tok123secret",
            ),
        ],
    )
    def test_masked(self, path: str, query: bytes, secret: str) -> None:
        line = masked({"path": path, "query_string": query})
        assert secret not in line
        assert "***" in line

    async def test_the_access_log_of_a_real_call_hides_the_code(
        self, settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with _app(settings.replace(access_log=True)) as (client, hook):
            code = hook.split("/")[3]
            with caplog.at_level(logging.INFO, logger="orderlink.access"):
                await client.get(f"/rest/abc/{code}/profile?AUTH={code}")
                await client.get(f"/rest/-1/{code}/profile")
        assert caplog.records
        assert all(code not in record.getMessage() for record in caplog.records)


async def test_a_body_that_never_comes_times_out(settings: Settings) -> None:
    """Point 11: `Content-Length: 100` and 10 bytes would hold the connection for ever."""
    app = create_app(settings.replace(body_timeout=0.2), clock=FrozenClock())
    await app.startup()
    try:
        started = await bootstrap(app.store, app.settings, app.clock)
        sent: list[dict[str, Any]] = []
        messages = iter([{"type": "http.request", "body": b"0123456789", "more_body": True}])

        async def receive() -> dict[str, Any]:
            message = next(messages, None)
            if message is None:
                await asyncio.sleep(60)
                return {"type": "http.disconnect"}
            return message

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "method": "POST", "path": f"/rest/1/{started.webhook_code}/profile",
            "query_string": b"", "headers": [(b"content-length", b"100")],
        }  # fmt: skip
        await app(scope, receive, send)  # type: ignore[arg-type]
    finally:
        await app.shutdown()
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert orjson.loads(sent[1]["body"])["error"] == "INVALID_REQUEST"


@pytest.fixture(scope="module")
def refusing_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    server = start_server(tmp_path_factory.mktemp("refusals") / "o.db", "--no-rate-limit")
    yield server.port
    server.stop()


@pytest.mark.live
class TestProtocolRefusals:
    """Point 12: what uvicorn's parser refuses is answered as Bitrix24 JSON by a real server."""

    @pytest.mark.parametrize(
        ("request_bytes", "status"),
        [
            (b"GET /rest/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
            (b"FROB /rest/profile HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET /rest/profile HTTP/1.1\r\nHost: \x01\x7f\r\n\r\n", 400),
        ],
    )
    def test_refusals_are_json(self, refusing_port: int, request_bytes: bytes, status: int) -> None:
        with socket.create_connection(("127.0.0.1", refusing_port), timeout=10) as sock:
            sock.sendall(request_bytes)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(f"HTTP/1.1 {status}".encode()), head
        assert b"content-type: application/json" in head.lower()
        assert orjson.loads(body)["error"] == "INVALID_REQUEST"

    def test_a_normal_call_still_works(self, refusing_port: int) -> None:
        assert httpx.get(f"http://127.0.0.1:{refusing_port}/healthz").status_code == 200


class _app:
    """An app with its own settings, driven in-process like the `portal` fixture."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __aenter__(self) -> tuple[httpx.AsyncClient, str]:
        clock = None if self.settings.test_clock else FrozenClock()
        self.app = create_app(self.settings, clock=clock)
        await self.app.startup()
        started = await bootstrap(self.app.store, self.settings, self.app.clock)
        transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 50000))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        return self.client, f"/rest/1/{started.webhook_code}/"

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        await self.app.shutdown()
