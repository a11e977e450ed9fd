"""Where the real-client tests point, and the records they create there.

By default every client test runs against a local `orderlink serve --tls` (cloud limits on, as
on a real portal). With `ORDERLINK_TEST_PORTAL_WEBHOOK` set to a full webhook URL of a real
Bitrix24 portal (`https://x.bitrix24.com/rest/1/code/`, scopes `crm` and `sale`, a store
administrator), the same tests run against that portal instead: moto's `aws_verified` idea, the
proof that what passes against orderlink passes against Bitrix24 itself. So the tests create
what they need through the API (`sale.order.add`, `crm.deal.add`, `crm.orderentity.add`), never
through orderlink's store, assert only on records they made, and delete them afterwards.

Test modules import the fixtures from here (`target`, `records`, `bound`, `oauth_app`); each
module gets its own target, so modules never see each other's records.

OAuth (settings/oauth/index.md): locally, `oauth_app` is an application registered and installed
on the target's orderlink through its CLI (`orderlink app add`, `orderlink token issue`), which
is its own authorization server. On a real portal it needs an application of the portal's:
`ORDERLINK_TEST_PORTAL_OAUTH` names a JSON file `{"client_id", "client_secret", "refresh_token"}`
(optionally `"token_url"`, default Bitrix24's). Every refresh kills the refresh token it used, so
the tests write each new one back into that file. Without it the OAuth tests on the target skip
(fail in CI). Tests that expire tokens need orderlink's test clock, so they always run against a
local orderlink (`clocked`).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
import pytest

from .live import LiveServer, start_server

PORTAL_ENV = "ORDERLINK_TEST_PORTAL_WEBHOOK"
PORTAL_OAUTH_ENV = "ORDERLINK_TEST_PORTAL_OAUTH"
BITRIX24_TOKEN_URL = "https://oauth.bitrix.info/oauth/token/"  # settings/oauth/index.md
HOUR = 3600  # an access token's life (settings/oauth/index.md)
JS_DIR = Path(__file__).parent / "js"
BATCH_SIZE = 50
DEAL = 2  # ownerTypeId of a deal (api-reference/crm/data-types.md)


def missing(reason: str) -> NoReturn:
    """A tool a client test needs is absent: a failure in CI (`CI=true`), a skip elsewhere."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI runs every client test)", pytrace=False)
    pytest.skip(reason)


def trust_env(ca_file: Path | None) -> dict[str, str]:
    """The variables that make requests, aiohttp/httpx/curl and Node trust a server signed by
    `ca_file` (None: the system store, nothing to set)."""
    if ca_file is None:
        return {}
    ca = str(ca_file)
    return {"REQUESTS_CA_BUNDLE": ca, "SSL_CERT_FILE": ca, "NODE_EXTRA_CA_CERTS": ca}


def ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    if ca_file is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=str(ca_file))


@dataclass(frozen=True)
class Target:
    """A webhook the clients call: a local orderlink over HTTPS, or a real portal."""

    webhook_url: str  # "https://host[:port]/rest/{user_id}/{code}/"
    ca_file: Path | None  # the CA that signed the server; None: the system store (a portal)
    server: LiveServer | None = None  # the local orderlink, None for a real portal

    @property
    def domain(self) -> str:
        """`host[:port]`, what b24pysdk's `BitrixWebhook(domain=...)` takes."""
        return urlsplit(self.webhook_url).netloc

    @property
    def webhook_token(self) -> str:
        """`{user_id}/{code}`, what b24pysdk's `BitrixWebhook(webhook_token=...)` takes."""
        return urlsplit(self.webhook_url).path.removeprefix("/rest/").strip("/")

    def trust_env(self) -> dict[str, str]:
        return trust_env(self.ca_file)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl_context(self.ca_file)

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST one method as JSON and return the whole answer; anything but 200 fails the
        test, except 503, which is retried as every Bitrix24 client does."""
        with httpx.Client(verify=self.ssl_context(), timeout=60) as http:
            for attempt in range(6):
                response = http.post(self.webhook_url + method, json=params or {})
                if response.status_code != 503:
                    break
                time.sleep(1 + attempt)
        assert response.status_code == 200, f"{method}: {response.status_code} {response.text}"
        answer: dict[str, Any] = response.json()
        return answer

    def batch(self, cmd: dict[str, str], *, halt: bool = True) -> dict[str, Any]:
        """Run a `batch`; with `halt`, a failing command fails the test."""
        inner: dict[str, Any] = self.call("batch", {"halt": int(halt), "cmd": cmd})["result"]
        if halt:
            assert not inner["result_error"], inner["result_error"]
        return inner


@dataclass
class Records:
    """Orders and deals one test (or module) made through the API; `delete()` removes them,
    and with them their bindings (`crm.deal.delete`, `sale.order.delete`: "related objects")."""

    target: Target
    orders: list[int] = field(default_factory=list)
    deals: list[int] = field(default_factory=list)

    def deal(self, title: str = "orderlink client test") -> int:
        deal_id = int(self.target.call("crm.deal.add", {"fields": {"TITLE": title}})["result"])
        self.deals.append(deal_id)
        return deal_id

    def deals_titled(self, count: int) -> tuple[str, list[int]]:
        """`count` deals sharing one new title (a filter that finds exactly them)."""
        title = f"orderlink-client-test-{uuid.uuid4().hex[:12]}"
        made: list[int] = []
        for first in range(0, count, BATCH_SIZE):
            keys = [f"d{i}" for i in range(first, min(count, first + BATCH_SIZE))]
            results = self.target.batch({k: f"crm.deal.add?fields[TITLE]={title}" for k in keys})
            made += [int(results["result"][k]) for k in keys]
        self.deals += made
        return title, made

    def order(self) -> int:
        # sale-order-add.md: lid is always "s1"; person type 1 and USD exist on every portal.
        fields = {"lid": "s1", "personTypeId": 1, "currency": "USD"}
        order_id = int(
            self.target.call("sale.order.add", {"fields": fields})["result"]["order"]["id"]
        )
        self.orders.append(order_id)
        return order_id

    def bound_orders(self, deal_id: int, count: int) -> list[int]:
        """`count` new orders, each bound to the deal, in batches of 25 orders (50 commands);
        a binding takes its order id from the same batch with `$result[...]`."""
        made: list[int] = []
        per_batch = BATCH_SIZE // 2
        for first in range(0, count, per_batch):
            cmd: dict[str, str] = {}
            for i in range(first, min(count, first + per_batch)):
                cmd[f"o{i}"] = (
                    "sale.order.add?fields[lid]=s1&fields[personTypeId]=1&fields[currency]=USD"
                )
                cmd[f"b{i}"] = (
                    f"crm.orderentity.add?fields[orderId]=$result[o{i}][order][id]"
                    f"&fields[ownerId]={deal_id}&fields[ownerTypeId]={DEAL}"
                )
            results = self.target.batch(cmd)["result"]
            orders = [int(results[key]["order"]["id"]) for key in cmd if key.startswith("o")]
            self.orders += orders
            made += orders
        return made

    def delete(self) -> None:
        """Delete everything made, fifty a request; what a test already deleted is skipped."""
        commands = [f"sale.order.delete?id={i}" for i in self.orders]
        commands += [f"crm.deal.delete?id={i}" for i in self.deals]
        for first in range(0, len(commands), BATCH_SIZE):
            chunk = commands[first : first + BATCH_SIZE]
            self.target.batch({f"x{n}": c for n, c in enumerate(chunk)}, halt=False)
        self.orders.clear()
        self.deals.clear()


@dataclass(frozen=True)
class Bound:
    """More bindings than one page holds (50), all to one deal: what paging tests walk."""

    deal_id: int
    order_ids: list[int]  # ascending

    @property
    def rows(self) -> list[dict[str, int]]:
        return [
            {"orderId": o, "ownerId": self.deal_id, "ownerTypeId": DEAL} for o in self.order_ids
        ]


BOUND_COUNT = 55  # a full first page, then five more


@pytest.fixture(scope="module", name="target")
def target_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """The real portal named by ORDERLINK_TEST_PORTAL_WEBHOOK, else a fresh local
    `orderlink serve --tls` with the cloud limits on."""
    portal = os.environ.get(PORTAL_ENV, "").strip()
    if portal:
        yield Target(portal.rstrip("/") + "/", None)
        return
    server = start_server(tmp_path_factory.mktemp("clients") / "orderlink.db", "--tls")
    try:
        yield Target(server.webhook_url, server.ca_file, server)
    finally:
        server.stop()


@pytest.fixture(name="records")
def records_fixture(target: Target) -> Iterator[Records]:
    """What one test makes, deleted when it ends."""
    made = Records(target)
    yield made
    made.delete()


@pytest.fixture(scope="module", name="bound")
def bound_fixture(target: Target) -> Iterator[Bound]:
    """55 orders bound to one deal, made once per module; tests only read them."""
    made = Records(target)
    try:
        deal_id = made.deal("orderlink client test: paging")
        yield Bound(deal_id, sorted(made.bound_orders(deal_id, BOUND_COUNT)))
    finally:
        made.delete()


@dataclass
class OAuthApp:
    """An OAuth application installed on the target, and one user's latest token pair.

    Each refresh grant kills the refresh token it used (settings/oauth/index.md), so every
    refresh the tests make themselves goes through `refresh()`, which keeps the newest reply."""

    client_id: str
    client_secret: str
    token_url: str  # where refresh grants go: orderlink's own /oauth/token/, or Bitrix24's
    tokens: dict[str, Any]  # the latest /oauth/token/ reply
    ca_file: Path | None = None  # the CA of a local orderlink; None: the system store
    server: LiveServer | None = None  # the local orderlink, None for a real portal
    saved: Path | None = None  # a portal's credentials file, rewritten after each refresh
    refreshes: int = 0  # refresh grants made through this object

    @property
    def access_token(self) -> str:
        return str(self.tokens["access_token"])

    @property
    def domain(self) -> str:
        """`host[:port]` of `client_endpoint`, where REST calls go."""
        return urlsplit(str(self.tokens["client_endpoint"])).netloc

    @property
    def secret(self) -> dict[str, str]:
        """What b24jssdk's `B24OAuth` takes as its second argument."""
        return {"clientId": self.client_id, "clientSecret": self.client_secret}

    def ssl_context(self) -> ssl.SSLContext:
        return ssl_context(self.ca_file)

    def trust_env(self) -> dict[str, str]:
        return trust_env(self.ca_file)

    def records(self) -> Records:
        """Records made through a local orderlink's admin webhook, beside the app; they go
        with the server, nothing deletes them."""
        assert self.server is not None, "a portal's records come from the `records` fixture"
        return Records(Target(self.server.webhook_url, self.ca_file, self.server))

    def grant(self, refresh_token: str | None = None) -> dict[str, str]:
        """The refresh grant's parameters, for the current refresh token unless one is named."""
        return {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": refresh_token or str(self.tokens["refresh_token"]),
        }

    def refresh(self) -> dict[str, Any]:
        """Refresh as settings/oauth/index.md shows it (GET with a query string)."""
        with httpx.Client(verify=self.ssl_context(), timeout=60) as http:
            response = http.get(self.token_url, params=self.grant())
        return self._renewed(response)

    async def fresh_access_token(self) -> str:
        """Refresh and return the new access token: a fast-bitrix24 `token_func`."""
        async with httpx.AsyncClient(verify=self.ssl_context(), timeout=60) as http:
            response = await http.get(self.token_url, params=self.grant())
        return str(self._renewed(response)["access_token"])

    def _renewed(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, f"refresh: {response.status_code} {response.text}"
        self.tokens = response.json()
        self.refreshes += 1
        if self.saved is not None:
            _save_refresh_token(self.saved, str(self.tokens["refresh_token"]))
        return self.tokens

    def refused_grant(self, refresh_token: str) -> httpx.Response:
        """What the authorization server answers to a refresh with this (spent) token."""
        with httpx.Client(verify=self.ssl_context(), timeout=60) as http:
            return http.get(self.token_url, params=self.grant(refresh_token))

    def call(self, method: str, access_token: str | None = None) -> httpx.Response:
        """POST one method with `auth` in the JSON body (the current access token unless one
        is named); the whole response, whatever its status."""
        url = str(self.tokens["client_endpoint"]) + method
        with httpx.Client(verify=self.ssl_context(), timeout=60) as http:
            return http.post(url, json={"auth": access_token or self.access_token})

    def advance_clock(self, seconds: float) -> None:
        """Move a local orderlink's test clock (`serve --test-clock`) forward."""
        assert self.server is not None, "only a local orderlink has a test clock"
        with httpx.Client(verify=self.ssl_context(), timeout=60) as http:
            moved = http.post(self.server.base_url + "/_orderlink/clock", json={"advance": seconds})
        assert moved.status_code == 200, moved.text

    def answered(self, status: int, path: str) -> list[str]:
        """A local orderlink's access-log lines of requests to `path...` answered `status`.
        A marked health check goes last and is waited for, so every earlier line is in."""
        assert self.server is not None, "only a local orderlink keeps an access log"
        mark = uuid.uuid4().hex
        with httpx.Client(verify=self.ssl_context(), timeout=60) as http:
            http.get(self.server.base_url + "/_orderlink/health", params={"mark": mark})
        deadline = time.monotonic() + 10
        while not any(mark in line for line in self.server.output):
            assert time.monotonic() < deadline, "the access log never showed the health check"
            time.sleep(0.02)
        return [
            line
            for line in list(self.server.output)
            if f'" {status} ' in line and f" {path}" in line
        ]

    def issue(self, *flags: str) -> dict[str, Any]:
        """A new pair straight from a local orderlink's CLI (`orderlink token issue`), which
        reads the real clock, not the server's test clock; it becomes the current pair."""
        assert self.server is not None, "only a local orderlink issues tokens from its CLI"
        self.tokens = orderlink_cli(
            "token", "issue", "--client-id", self.client_id, "--user-id", "1",
            "--database", self.server.database_url, "--base-url", self.server.base_url, *flags,
        )  # fmt: skip
        return self.tokens


def orderlink_cli(*args: str) -> dict[str, Any]:
    """Run `python -m orderlink ... --json` (it works beside a running server on the same
    database) and return the JSON of its last line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINK_")}
    completed = subprocess.run(
        [sys.executable, "-m", "orderlink", *args, "--json"], capture_output=True, text=True,
        timeout=60, env=env,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    answer: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return answer


def register_app(server: LiveServer) -> OAuthApp:
    """An application with the scopes crm and sale on a local orderlink, installed for user 1
    (the portal and store administrator), and that user's first token pair."""
    credentials = orderlink_cli(
        "app", "add", "--name", "orderlink client test", "--scope", "crm", "--scope", "sale",
        "--redirect-uri", "https://app.example/callback", "--database", server.database_url,
    )  # fmt: skip
    app = OAuthApp(
        credentials["client_id"], credentials["client_secret"],
        token_url=server.base_url + "/oauth/token/", tokens={}, ca_file=server.ca_file,
        server=server,
    )  # fmt: skip
    app.issue()
    return app


def portal_app(saved: Path) -> OAuthApp:
    """The real portal's application from its credentials file, with a fresh token pair."""
    stored = json.loads(saved.read_text())
    app = OAuthApp(
        stored["client_id"], stored["client_secret"],
        token_url=stored.get("token_url", BITRIX24_TOKEN_URL),
        tokens={"refresh_token": stored["refresh_token"]}, saved=saved,
    )  # fmt: skip
    app.refresh()
    return app


def _save_refresh_token(saved: Path, refresh_token: str) -> None:
    stored = json.loads(saved.read_text())
    stored["refresh_token"] = refresh_token
    spare = saved.with_name(saved.name + ".new")
    spare.write_text(json.dumps(stored, indent=2) + "\n")
    spare.replace(saved)


@pytest.fixture(scope="module", name="oauth_app")
def oauth_app_fixture(target: Target) -> OAuthApp:
    """An OAuth application on the target: registered on the local orderlink, or the real
    portal's from ORDERLINK_TEST_PORTAL_OAUTH (without it the OAuth tests cannot run there)."""
    if target.server is not None:
        return register_app(target.server)
    saved = os.environ.get(PORTAL_OAUTH_ENV, "").strip()
    if not saved:
        missing(
            f"{PORTAL_ENV} names a real portal but {PORTAL_OAUTH_ENV} names no OAuth "
            "application of it (a JSON file with client_id, client_secret and refresh_token; "
            "docs/compatibility.md)"
        )
    return portal_app(Path(saved))


@pytest.fixture(name="clocked")
def clocked_fixture(tmp_path: Path) -> Iterator[OAuthApp]:
    """An application on a fresh local `orderlink serve --tls --test-clock --access-log`:
    tokens expire when the test moves the clock, never by waiting. Whatever the target: only
    orderlink has a clock to move."""
    # A short graceful shutdown: a TLS keep-alive connection a client still holds open (an
    # exception b24pysdk raised keeps its response) would otherwise hold it for 10 s.
    server = start_server(
        tmp_path / "oauth.db", "--tls", "--test-clock", "--access-log", "--graceful-timeout", "1"
    )
    try:
        yield register_app(server)
    finally:
        server.stop()
