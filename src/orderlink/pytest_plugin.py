"""The pytest plugin (entry point `pytest11`): a fresh Bitrix24 portal for every test.

    def test_binding(orderlink_portal):
        bx = fast_bitrix24.Bitrix(orderlink_portal.webhook)
        orderlink_portal.admin.fault(method="crm.orderentity.add", error="QUERY_LIMIT_EXCEEDED")
        ...
        assert len(orderlink_portal.admin.journal(method="crm.orderentity.add")) == 2

The plugin starts one `orderlink serve` per test session (per xdist worker: each has its own
server, database and portals) on a free 127.0.0.1 port, with SQLite in a temporary directory,
the test clock (each portal's own: `.admin.clock.advance(seconds)`) and `--fault-header`;
`ORDERLINK_URL` and `ORDERLINK_ADMIN_TOKEN` point it at a
running server instead. Each test's portal is deleted after the test.
`@pytest.mark.orderlink(snapshot="NAME", seed_examples=True, plan="enterprise")` starts the
test from a copy of a snapshot saved earlier with `admin.snapshot(NAME)` (or `portal snapshot`).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

URL_VARIABLE = "ORDERLINK_URL"
TOKEN_VARIABLE = "ORDERLINK_ADMIN_TOKEN"
START_TIMEOUT = 30.0


class AdminClient:
    """The admin API (`/_orderlink/api/`, docs/admin-api.md) of one server."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url + "/_orderlink/api",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def request(self, verb: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self._http.request(
            verb, path, json=body, params={k: v for k, v in params.items() if v is not None}
        )
        if response.status_code >= 400:
            raise AssertionError(
                f"orderlink admin API {verb} {path}: {response.status_code} {response.text}"
            )
        return response.json() if response.content else None

    def new_portal(self, **body: Any) -> Portal:
        created = self.request("POST", "/portals", body)
        return Portal(int(created["id"]), str(created["webhook"]), PortalAdmin(self, created))

    def close(self) -> None:
        self._http.close()


class Clock:
    """The portal's own test clock (`serve --test-clock`): moving it moves this portal's time
    alone (its `time` blocks, token expiry, limits, date stamps), never another test's."""

    def __init__(self, admin: AdminClient, path: str) -> None:
        self._admin = admin
        self._path = path + "/clock"

    def advance(self, seconds: float) -> float:
        """Move this portal's time `seconds` on; the new time (unix seconds)."""
        return float(self._admin.request("POST", self._path, {"advance": seconds})["now"])

    def now(self) -> float:
        """The time as this portal reads it."""
        return float(self._admin.request("GET", self._path)["now"])

    @property
    def offset(self) -> float:
        """Seconds this portal runs ahead of the real clock."""
        return float(self._admin.request("GET", self._path)["offset"])


@dataclass
class PortalAdmin:
    """What a test does to its portal besides calling it: reset, snapshots, faults, journal."""

    client: AdminClient
    created: dict[str, Any]
    clock: Clock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = Clock(self.client, self._path)

    @property
    def _path(self) -> str:
        return f"/portals/{self.created['id']}"

    def reset(self, *, seed_examples: bool = False) -> None:
        self.client.request("POST", self._path + "/reset", {"seed_examples": seed_examples})

    def snapshot(self, name: str) -> None:
        self.client.request("POST", self._path + "/snapshots", {"name": name})

    def restore(self, name: str) -> None:
        self.client.request("POST", self._path + "/restore", {"name": name})

    def fault(self, **fault: Any) -> dict[str, Any]:
        """Add a fault: `error=CODE`, `method=`, `times=`, `probability=`, `seed=`,
        `delay=`, `drop=True` (docs/admin-api.md); returns it, with its id."""
        return dict(self.client.request("POST", self._path + "/faults", fault))

    def faults(self) -> list[dict[str, Any]]:
        return list(self.client.request("GET", self._path + "/faults")["faults"])

    def clear_faults(self) -> None:
        self.client.request("DELETE", self._path + "/faults")

    def journal(
        self, method: str | None = None, status: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The calls this portal received, newest first."""
        found = self.client.request(
            "GET", self._path + "/journal", method=method, status=status, limit=limit
        )
        return list(found["journal"])

    def export(self) -> dict[str, Any]:
        return dict(self.client.request("GET", self._path + "/export"))


@dataclass
class Portal:
    id: int
    webhook: str  # "http://127.0.0.1:PORT/rest/1/CODE/", as fast-bitrix24 takes it
    admin: PortalAdmin


@dataclass
class Server:
    base_url: str
    token: str
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(directory: Path, *extra: str) -> Server:
    """`orderlink serve` for tests, in a subprocess, answering once this returns."""
    port = _free_port()
    token = secrets.token_urlsafe(24)
    log = directory / "orderlink.log"
    command = [
        sys.executable, "-m", "orderlink", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--database", f"sqlite:///{directory / 'orderlink.db'}", "--test-clock",
        "--fault-header", *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINK_")}
    env["ORDERLINK_ADMIN_TOKEN"] = token  # not on the command line: a flag shows in `ps`
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = Server(f"http://127.0.0.1:{port}", token, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(server.base_url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError("orderlink serve did not start:\n" + log.read_text(errors="replace"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "orderlink_serve_args",
        "Extra `orderlink serve` flags for the plugin's server (e.g. --no-rate-limit).",
        type="args",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "orderlink(snapshot=NAME, seed_examples=False, plan=PLAN, name=NAME): how the test's "
        "orderlink_portal starts",
    )


@pytest.fixture(scope="session")
def orderlink_server(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[Server]:  # fmt: skip
    """The server the test session's portals live on (started here unless ORDERLINK_URL)."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        token = os.environ.get(TOKEN_VARIABLE, "")
        if not token:
            raise pytest.UsageError(f"{URL_VARIABLE} needs {TOKEN_VARIABLE} (the admin token)")
        yield Server(url, token)
        return
    server = start(
        tmp_path_factory.mktemp("orderlink"), *pytestconfig.getini("orderlink_serve_args")
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def orderlink_admin(orderlink_server: Server) -> Iterator[AdminClient]:
    client = AdminClient(orderlink_server.base_url, orderlink_server.token)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def orderlink_portal(
    orderlink_admin: AdminClient, request: pytest.FixtureRequest
) -> Iterator[Portal]:
    """A portal of its own for this test, deleted after it."""
    marker = request.node.get_closest_marker("orderlink")
    options = dict(marker.kwargs) if marker is not None else {}
    body: dict[str, Any] = {}
    if "snapshot" in options:
        body["snapshot"] = options.pop("snapshot")
    else:
        body["name"] = options.pop("name", request.node.name[:100])
        body["plan"] = options.pop("plan", "standard")
        body["seed_examples"] = bool(options.pop("seed_examples", False))
    if options:
        raise pytest.UsageError(f"orderlink marker: unknown {', '.join(sorted(options))}")
    portal = orderlink_admin.new_portal(**body)
    try:
        yield portal
    finally:
        orderlink_admin.request("DELETE", f"/portals/{portal.id}")
