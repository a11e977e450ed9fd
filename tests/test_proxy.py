"""The intercepting proxy (issue 18, part 2): real clients, unchanged, reach a portal domain and
Bitrix24's own hard-coded hosts through `orderlink serve --proxy-port`, with nothing but the
proxy and CA environment; every other host is refused and logged, never forwarded.

One server for the module: `orderlink serve --test-clock --proxy-port P --proxy-pass 127.0.0.1`
on a database whose portal 1 has the domain `shop.bitrix24.test` (which resolves nowhere: only
the proxy knows it). The clients get `HTTPS_PROXY`/`HTTP_PROXY` and orderlink's CA; the tests'
own calls to the server (its test clock, its log) go straight to 127.0.0.1, never through the
proxy (`trust_env=False`). The module's last test reads the proxy's log: it served only hosts
orderlink owns, passed only 127.0.0.1, and refused only the hosts the leak-guard tests named.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from b24pysdk import BitrixApp, BitrixToken, Client
from b24pysdk.credentials import RenewedOAuth
from click.testing import CliRunner
from fast_bitrix24 import BitrixAsync

from orderlink.cli import main

from .clients import HOUR, JS_DIR, missing, orderlink_cli, ssl_context
from .live import LiveServer, free_port, start_server

pytestmark = [pytest.mark.live, pytest.mark.clients]

SHOP = "shop.bitrix24.test"
# Hosts the leak-guard tests ask for on purpose; the proxy must refuse them without resolving.
REFUSED = ("pypi.org", "registry.example", "api.example.net")
SDK = JS_DIR / "node_modules" / "@bitrix24" / "b24jssdk"


@dataclass
class Proxied:
    """The server, its proxy, and what a client is started with."""

    server: LiveServer
    proxy_port: int
    ca_file: Path
    webhook_path: str  # "rest/1/<code>/"

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def shop_webhook(self) -> str:
        """The admin webhook as an application that saved its portal's domain holds it."""
        return f"https://{SHOP}/{self.webhook_path}"

    def env(self) -> dict[str, str]:
        """The one-line environment of the README: the proxy and the CA, nothing else."""
        ca = str(self.ca_file)
        return {"HTTPS_PROXY": self.proxy, "HTTP_PROXY": self.proxy, "https_proxy": self.proxy,
                "http_proxy": self.proxy, "REQUESTS_CA_BUNDLE": ca, "SSL_CERT_FILE": ca,
                "NODE_EXTRA_CA_CERTS": ca, "CURL_CA_BUNDLE": ca}  # fmt: skip

    def direct(self) -> httpx.Client:
        """The tests' own line to the server: never through the proxy."""
        return httpx.Client(base_url=self.server.base_url, trust_env=False, timeout=30)

    def advance_clock(self, seconds: float) -> None:
        with self.direct() as http:
            moved = http.post("/_orderlink/clock", json={"advance": seconds})
        assert moved.status_code == 200, moved.text

    def output(self) -> list[str]:
        """Every line the server printed so far (a marked request is waited for first)."""
        mark = uuid.uuid4().hex
        with self.direct() as http:
            http.get("/_orderlink/health", params={"mark": mark})
        deadline = time.monotonic() + 10
        while not any(mark in line for line in self.server.output):
            assert time.monotonic() < deadline, "the access log never showed the mark"
            time.sleep(0.02)
        return list(self.server.output)

    def app(self) -> dict[str, Any]:
        """A new application installed for user 1, and a token pair the server issued on its
        own (moved) clock: the CLI's pair, refreshed at the server straight away."""
        database = self.server.database_url
        made = orderlink_cli(
            "app", "add", "--name", "proxied app", "--scope", "crm", "--scope", "sale",
            "--redirect-uri", "https://app.example/callback", "--database", database,
        )  # fmt: skip
        tokens = orderlink_cli(
            "token", "issue", "--client-id", made["client_id"], "--user-id", "1",
            "--database", database,
        )  # fmt: skip
        grant = {"grant_type": "refresh_token", "client_id": made["client_id"],
                 "client_secret": made["client_secret"], "refresh_token": tokens["refresh_token"]}  # fmt: skip
        with self.direct() as http:
            renewed = http.post("/oauth/token/", data=grant)
        assert renewed.status_code == 200, renewed.text
        return {**made, "tokens": renewed.json()}


def _wait_for_proxy(port: int, server: LiveServer) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any("proxy: listening" in line for line in server.output):
            return
        time.sleep(0.05)
    raise RuntimeError("the proxy never listened:\n" + "".join(server.output))


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    folder = tmp_path_factory.mktemp("proxy")
    database = f"sqlite:///{folder / 'orderlink.db'}"
    runner = CliRunner()
    added = runner.invoke(main, ["portal", "domain", "add", "1", SHOP, "--database", database])
    assert added.exit_code == 0, added.output
    port = free_port()
    server = start_server(
        folder / "orderlink.db", "--test-clock", "--access-log", "--no-rate-limit",
        "--graceful-timeout", "1", "--proxy-port", str(port), "--proxy-pass", "127.0.0.1",
    )  # fmt: skip
    try:
        _wait_for_proxy(port, server)
        webhook = server.webhook_url.split("/", 3)[3]
        yield Proxied(server, port, folder / "orderlink-tls" / "orderlink-ca.pem", webhook)
    finally:
        server.stop()


@pytest.fixture
def client_env(proxied: Proxied, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This process, as a client started with the proxy and CA environment."""
    for name, value in proxied.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    return proxied.env()


class TestB24pysdk:
    """b24pysdk with `BitrixToken` on the portal's domain: calls go to https://shop.bitrix24.test,
    and its own refresh goes to its hard-coded https://oauth.bitrix24.tech/oauth/token/."""

    @pytest.mark.usefixtures("client_env")
    def test_a_call_an_expired_token_its_own_refresh_and_the_next_call(
        self, proxied: Proxied
    ) -> None:
        app = proxied.app()
        tokens = app["tokens"]
        assert tokens["client_endpoint"] == f"https://{SHOP}/rest/"
        token = BitrixToken(
            domain=SHOP, auth_token=tokens["access_token"], refresh_token=tokens["refresh_token"],
            bitrix_app=BitrixApp(client_id=app["client_id"], client_secret=app["client_secret"]),
        )  # fmt: skip
        client = Client(token)
        assert client.crm.orderentity.list().result == {"orderEntity": []}
        proxied.advance_clock(HOUR)

        # The token has expired: b24pysdk meets 401 expired_token, refreshes by itself and
        # repeats the call.
        assert client.crm.orderentity.list().result == {"orderEntity": []}
        assert token.auth_token != tokens["access_token"]
        assert token.refresh_token != tokens["refresh_token"]
        assert client.crm.orderentity.list().result == {"orderEntity": []}

        lines = proxied.output()
        assert any("proxy: serving oauth.bitrix24.tech" in line for line in lines)
        refreshes = [line for line in lines if '"GET /oauth/token/?' in line]
        assert refreshes
        assert all('" 200 ' in line for line in refreshes)
        assert any('"POST /rest/crm.orderentity.List.json' in line and '" 401 ' in line
                   for line in lines)  # fmt: skip

    @pytest.mark.usefixtures("client_env")
    def test_app_info_at_the_authorization_server_vouches_for_the_token(
        self, proxied: Proxied
    ) -> None:
        """`get_app_info` asks https://oauth.bitrix24.tech/rest/app.info/; the refresh reply
        then checks out against it (same member_id, same portal host)."""
        app = proxied.app()
        token = BitrixToken(
            domain=SHOP, auth_token=app["tokens"]["access_token"],
            refresh_token=app["tokens"]["refresh_token"],
            bitrix_app=BitrixApp(client_id=app["client_id"], client_secret=app["client_secret"]),
        )  # fmt: skip
        info = token.get_app_info().result
        assert info.client_id == app["client_id"]
        assert (info.install.domain, info.user_id) == (SHOP, 1)
        renewed = token.refresh_oauth_token()
        assert isinstance(renewed, RenewedOAuth)
        assert renewed.validate_against_app_info(info)


class TestFastBitrix24:
    """fast-bitrix24 on the portal's webhook URL. Its own aiohttp session ignores the proxy
    environment (it makes `ClientSession(raise_for_status=True)`), so the application gives it
    one with `trust_env=True`, trusting the CA as the other fast-bitrix24 tests do."""

    @pytest.mark.anyio
    @pytest.mark.usefixtures("client_env")
    async def test_calls_a_batch_and_paging_through_the_proxy(self, proxied: Proxied) -> None:
        connector = aiohttp.TCPConnector(ssl=ssl_context(proxied.ca_file))
        async with aiohttp.ClientSession(
            connector=connector, raise_for_status=True, trust_env=True
        ) as session:
            bx = BitrixAsync(proxied.shop_webhook, verbose=False, client=session)
            deal = await bx.call("crm.deal.add", {"fields": {"TITLE": "proxied"}})
            got = (await bx.call("crm.deal.get", {"id": deal}, raw=True))["result"]
            deals = await bx.get_all("crm.deal.list", {"filter": {"TITLE": "proxied"}})
        assert got["TITLE"] == "proxied"
        assert int(deal) in {int(d["ID"]) for d in deals}
        assert any(f"proxy: serving {SHOP}" in line for line in proxied.output())


class TestB24jssdk:
    """b24jssdk on Node 20: axios tunnels through HTTPS_PROXY with CONNECT; Node trusts the CA
    through NODE_EXTRA_CA_CERTS."""

    @pytest.fixture(autouse=True)
    def nodejs(self) -> None:
        if shutil.which("node") is None:
            missing("node is not on PATH (Node 20 runs the b24jssdk tests)")
        if not SDK.is_dir():
            missing("b24jssdk is not installed: npm ci --prefix tests/js")

    def node(self, script: str, case: dict[str, Any], proxied: Proxied) -> Any:
        env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
        completed = subprocess.run(
            ["node", str(JS_DIR / script)], input=json.dumps(case), capture_output=True,
            text=True, timeout=120, env=env | proxied.env(), cwd=JS_DIR,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout.splitlines()[-1])

    def records(self, proxied: Proxied) -> tuple[int, int]:
        with proxied.direct() as http:
            hook = "/" + proxied.webhook_path
            deal = http.post(hook + "crm.deal.add", json={"fields": {"TITLE": "js"}}).json()
            order = http.post(hook + "sale.order.add", json={
                "fields": {"lid": "s1", "personTypeId": 1, "currency": "USD"}}).json()  # fmt: skip
        return int(order["result"]["order"]["id"]), int(deal["result"])

    def test_the_webhook_client_on_the_portal_domain(self, proxied: Proxied) -> None:
        order_id, deal_id = self.records(proxied)
        answer = self.node(
            "hook.mjs",
            {"webhook": proxied.shop_webhook, "orderId": order_id, "dealId": deal_id},
            proxied,
        )
        binding = {"orderId": order_id, "ownerId": deal_id, "ownerTypeId": 2}
        assert answer["added"] == {"dealOrder": binding}
        assert answer["listed"] == {"orderEntity": [{"orderId": order_id}]}
        assert answer["deleted"] is True

    def test_the_oauth_client_refreshes_at_the_portal_domain(self, proxied: Proxied) -> None:
        """The reply's `server_endpoint` names the portal's domain: B24OAuth posts its refresh
        to https://shop.bitrix24.test/oauth/token/, through the proxy."""
        app = proxied.app()
        _, deal_id = self.records(proxied)
        answer = self.node(
            "oauth-refresh.mjs",
            {"tokens": app["tokens"], "clientId": app["client_id"],
             "clientSecret": app["client_secret"], "dealId": deal_id,
             "clockUrl": proxied.server.base_url + "/_orderlink/clock", "advance": HOUR},
            proxied,
        )  # fmt: skip
        assert [call.get("result") for call in answer["calls"]] == [{"orderEntity": []}] * 3
        assert len(answer["refreshed"]) == 1
        assert answer["refreshed"][0]["accessToken"] != app["tokens"]["access_token"]


CREST_ENV = "ORDERLINK_CREST_PHP"


@pytest.mark.skipif(
    not os.environ.get(CREST_ENV),
    reason=f"CRest is opt-in and never part of orderlink: not run (set {CREST_ENV} to a local "
    "crest.php, and have php-cli and php-curl)",
)
class TestCRestOptIn:
    """CRest (crest.php, PHP CLI) through the proxy, unchanged: its settings.json holds the
    portal's `client_endpoint` on the domain, it calls there, and on `expired_token` refreshes
    at its hard-coded https://oauth.bitrix.info/oauth/token/ and repeats the call. PHP's curl
    trusts the CA through `curl.cainfo` and takes the proxy from `https_proxy`."""

    def test_a_call_and_its_own_refresh(self, proxied: Proxied, tmp_path: Path) -> None:
        crest = Path(os.environ[CREST_ENV])
        if shutil.which("php") is None:
            pytest.fail(f"{CREST_ENV} is set but php is not on PATH (apt-get install php-cli "
                        "php-curl)")  # fmt: skip
        app = proxied.app()
        tokens = app["tokens"]
        shutil.copy(crest, tmp_path / "crest.php")  # beside its settings, as CRest expects
        (tmp_path / "settings.php").write_text(
            "<?php\n"
            f"define('C_REST_CLIENT_ID', '{app['client_id']}');\n"
            f"define('C_REST_CLIENT_SECRET', '{app['client_secret']}');\n"
            "define('C_REST_BLOCK_LOG', true);\n"
        )
        (tmp_path / "settings.json").write_text(json.dumps({
            "access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
            "expires_in": tokens["expires_in"], "domain": SHOP,
            "client_endpoint": tokens["client_endpoint"], "member_id": tokens["member_id"],
            "application_token": "orderlink-test",
        }))  # fmt: skip
        (tmp_path / "call.php").write_text(
            "<?php\nrequire __DIR__ . '/crest.php';\n"
            "echo json_encode(CRest::call($argv[1], [])), PHP_EOL;\n"
        )

        def php(method: str) -> Any:
            env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
            done = subprocess.run(
                ["php", "-d", f"curl.cainfo={proxied.ca_file}", str(tmp_path / "call.php"),
                 method], capture_output=True, text=True, timeout=60, env=env | proxied.env(),
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
            return json.loads(done.stdout.splitlines()[-1])

        assert php("profile")["result"]["ID"] == "1"
        proxied.advance_clock(HOUR)
        assert php("crm.orderentity.list")["result"] == {"orderEntity": []}
        saved = json.loads((tmp_path / "settings.json").read_text())
        assert saved["access_token"] != tokens["access_token"]
        assert any("proxy: serving oauth.bitrix.info" in line for line in proxied.output())


def connect(proxied: Proxied, target: str) -> tuple[int, bytes]:
    """A raw `CONNECT target` to the proxy: (the status, the body of a refusal)."""
    with socket.create_connection(("127.0.0.1", proxied.proxy_port), timeout=10) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


class TestLeakGuard:
    """Every host orderlink does not own is refused with a 502 Bitrix24-shaped body naming it
    and exactly one log line; only `--proxy-pass` hosts go through, and never a Bitrix24 one."""

    def test_a_connect_to_another_host_is_refused_and_logged_once(self, proxied: Proxied) -> None:
        before = proxied.output()
        status, body = connect(proxied, f"{REFUSED[0]}:443")
        assert status == 502
        answer = json.loads(body)
        assert answer["error"] == "ERROR_PROXY_HOST_REFUSED"
        assert f"{REFUSED[0]}:443" in answer["error_description"]
        assert f"--proxy-pass {REFUSED[0]}" in answer["error_description"]
        logged = [line for line in proxied.output()[len(before) :] if REFUSED[0] in line]
        assert len(logged) == 1
        assert "proxy: refused pypi.org:443" in logged[0]

    def test_a_client_sees_the_refusal(self, proxied: Proxied) -> None:
        with (
            httpx.Client(proxy=proxied.proxy, trust_env=False) as http,
            pytest.raises(httpx.ProxyError, match="502"),
        ):
            http.get(f"https://{REFUSED[1]}/simple/")

    def test_a_plain_http_request_to_another_host_is_refused(self, proxied: Proxied) -> None:
        with httpx.Client(proxy=proxied.proxy, trust_env=False) as http:
            response = http.get(f"http://{REFUSED[2]}/v1/x")
        assert response.status_code == 502
        assert response.json()["error"] == "ERROR_PROXY_HOST_REFUSED"
        assert f"{REFUSED[2]}:80" in response.json()["error_description"]

    def test_a_passed_host_goes_through_both_ways(self, proxied: Proxied) -> None:
        """`--proxy-pass 127.0.0.1`: a plain request is forwarded, a CONNECT is tunnelled."""
        with httpx.Client(proxy=proxied.proxy, trust_env=False) as http:
            plain = http.get(proxied.server.base_url + "/_orderlink/health")
        assert plain.json() == {"status": "ok"}
        with socket.create_connection(("127.0.0.1", proxied.proxy_port), timeout=10) as sock:
            target = f"127.0.0.1:{proxied.server.port}"
            sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        assert answer.endswith(b'{"status":"ok"}')

    def test_an_owned_host_over_plain_http_and_any_bitrix24_host_is_served(
        self, proxied: Proxied
    ) -> None:
        """HTTP_PROXY too; `*.bitrix24.<tld>` that is nobody's domain reaches the credential's
        portal (as every host did before domains), and is never forwarded."""
        with httpx.Client(proxy=proxied.proxy, trust_env=False, verify=ssl_context(
                proxied.ca_file)) as http:  # fmt: skip
            plain = http.post(f"http://{SHOP}/{proxied.webhook_path}profile", json={})
            other = http.post(f"https://nobody.bitrix24.de/{proxied.webhook_path}profile")
        assert plain.json()["result"]["ID"] == "1"
        assert other.json()["result"]["ID"] == "1"

    @pytest.mark.parametrize(
        "named", ["oauth.bitrix.info", "x.bitrix24.com", "*.bitrix.info", "bitrix24.ru:443"]
    )
    def test_naming_a_bitrix24_host_in_proxy_pass_is_refused_at_start(
        self, named: str, tmp_path: Path
    ) -> None:
        result = CliRunner().invoke(main, [
            "serve", "--database", f"sqlite:///{tmp_path / 'x.db'}", "--port", str(free_port()),
            "--proxy-port", str(free_port()), "--proxy-pass", named,
        ])  # fmt: skip
        assert result.exit_code == 2
        assert "never forwards to a Bitrix24 host" in result.output
        assert not (tmp_path / "x.db").exists()


# Hosts the proxy may serve in this module: the portal's domain, b24pysdk's and CRest's
# authorization servers, and the one Bitrix24 host a test names.
OWNED = {SHOP, "oauth.bitrix24.tech", "oauth.bitrix.info", "nobody.bitrix24.de"}


def test_zz_the_proxy_saw_only_owned_hosts(proxied: Proxied) -> None:
    """Last in the module: everything the clients above asked for was a host orderlink owns,
    the one host passed through was 127.0.0.1, and nothing was refused but the hosts the
    leak-guard tests named (so no client reached for another host unnoticed)."""
    lines = [line for line in proxied.output() if "orderlink.proxy: proxy: " in line]
    served = {line.split("serving ", 1)[1].split()[0] for line in lines if ": serving " in line}
    passed = {line.split("passing ", 1)[1].split(":")[0] for line in lines if ": passing " in line}
    refused = {line.split("refused ", 1)[1].split(":")[0] for line in lines if ": refused " in line}
    assert served <= OWNED
    assert SHOP in served
    assert passed <= {"127.0.0.1"}
    assert refused <= set(REFUSED)
    assert not [line for line in lines if "failed" in line]


# -- in this process: the same proxy, on this test's event loop -----------------------------------


@dataclass
class InProcess:
    server: Any  # orderlink.proxy.ProxyingServer
    port: int  # the server's own port
    ca_file: Path
    hook: str  # "/rest/1/<code>/"

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.server.proxy_port}"

    def client(self, **kw: Any) -> httpx.AsyncClient:
        kw.setdefault("verify", ssl_context(self.ca_file))
        return httpx.AsyncClient(proxy=self.proxy, trust_env=False, timeout=20, **kw)


@pytest.fixture
async def in_process(tmp_path: Path) -> Any:
    """`ProxyingServer` started and stopped by hand (what `serve --proxy-port` runs), on SQLite:
    the proxy reads no store of its own beyond the app's domain look-up."""
    import uvicorn
    from uvicorn.lifespan.on import LifespanOn

    from orderlink import domains as portal_domains
    from orderlink.app import create_app
    from orderlink.bootstrap import bootstrap
    from orderlink.clock import SystemClock
    from orderlink.http_protocol import Protocol
    from orderlink.proxy import ProxyingServer, pass_list
    from orderlink.settings import Settings

    settings = Settings(database=f"sqlite:///{tmp_path / 'p.db'}", rate_limit=False)
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=Protocol, lifespan="on",
                            log_level="warning", access_log=False)  # fmt: skip
    config.load()
    server = ProxyingServer(
        config, app=app, domains=app.domains, port=0, passes=pass_list(("127.0.0.1",)),
        tls_dir=tmp_path / "tls",
    )  # fmt: skip
    server.lifespan = LifespanOn(config)
    await server.startup()
    started = await bootstrap(app.store, settings, SystemClock())
    await portal_domains.add_domain(app.store, 1, SHOP)
    try:
        yield InProcess(server, port, tmp_path / "tls" / "orderlink-ca.pem",
                        f"/rest/1/{started.webhook_code}/")  # fmt: skip
    finally:
        await server.shutdown()


@pytest.mark.anyio
class TestInProcess:
    async def test_an_owned_host_over_connect_and_plain_http(self, in_process: InProcess) -> None:
        async with in_process.client() as http:
            secure = await http.post(f"https://{SHOP}{in_process.hook}profile", json={})
            plain = await http.post(f"http://{SHOP}{in_process.hook}profile", json={})
            again = await http.post(f"https://{SHOP}{in_process.hook}profile", json={})
        assert [r.json()["result"]["ID"] for r in (secure, plain, again)] == ["1"] * 3

    async def test_other_hosts_are_refused_once_each(
        self, in_process: InProcess, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with in_process.client() as http:
            with pytest.raises(httpx.ProxyError):
                await http.get(f"https://{REFUSED[1]}/")
            plain = await http.get(f"http://{REFUSED[2]}/x")
        assert plain.status_code == 502
        assert plain.json()["error"] == "ERROR_PROXY_HOST_REFUSED"
        refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert len(refused) == 2

    async def test_passed_hosts_go_through(self, in_process: InProcess) -> None:
        async with in_process.client() as http:
            plain = await http.get(f"http://127.0.0.1:{in_process.port}/healthz")
            unreachable = await http.get(f"http://127.0.0.1:{free_port()}/healthz")
        assert plain.json() == {"status": "ok"}
        assert unreachable.status_code == 502
        assert "could not reach" in unreachable.json()["error_description"]
        for target, expected in ((f"127.0.0.1:{in_process.port}", b"HTTP/1.1 200"),
                                 (f"127.0.0.1:{free_port()}", b"HTTP/1.1 502")):  # fmt: skip
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", in_process.server.proxy_port
            )
            writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            assert (await reader.read(4096)).startswith(expected)
            if expected.endswith(b"200"):
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert (await reader.read()).endswith(b'{"status":"ok"}')
            writer.close()

    async def test_a_client_that_does_not_trust_the_ca_fails_the_handshake(
        self, in_process: InProcess, caplog: pytest.LogCaptureFixture
    ) -> None:
        async with in_process.client(verify=True) as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"https://{SHOP}/healthz")
        await asyncio.sleep(0.2)
        assert any("trust orderlink's CA" in r.getMessage() for r in caplog.records)

    async def test_garbage_and_a_connect_to_port_80_of_an_owned_host(
        self, in_process: InProcess
    ) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", in_process.server.proxy_port)
        writer.write(b"\x00\x01 nonsense\r\n\r\n")
        assert (await reader.read()).startswith(b"HTTP/1.1 400")
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", in_process.server.proxy_port)
        writer.write(f"CONNECT {SHOP}:80 HTTP/1.1\r\nHost: {SHOP}:80\r\n\r\n".encode())
        assert (await reader.read(4096)).startswith(b"HTTP/1.1 200")
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: {SHOP}\r\nConnection: close\r\n\r\n".encode())
        assert (await reader.read()).endswith(b'{"status":"ok"}')
        writer.close()


class TestPassList:
    def test_patterns(self) -> None:
        from orderlink.proxy import pass_list

        passes = pass_list(("Pypi.org", "*.pythonhosted.org,files.example:8443", "[::1]:80"))
        assert passes.allows("pypi.org", 443)
        assert passes.allows("a.files.pythonhosted.org", 443)
        assert passes.allows("files.example", 8443)
        assert not passes.allows("files.example", 443)
        assert passes.allows("::1", 80)
        assert not passes.allows("example.org", 443)

    @pytest.mark.parametrize("bad", ["*", "a/b", "x:port", "*.bitrix24.com", "oauth.bitrix24.tech"])
    def test_refusals(self, bad: str) -> None:
        from orderlink.proxy import pass_list

        with pytest.raises(ValueError, match="--proxy-pass"):
            pass_list((bad,))
