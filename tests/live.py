"""A real `orderlink serve` process on a real socket, for protocol and client tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[str]
    base_url: str
    webhook_url: str  # ".../rest/1/<code>/"
    database: Path | None  # the SQLite file (None for another database URL)
    output: list[str] = field(default_factory=list)
    pump: threading.Thread | None = None
    ca_file: Path | None = None  # with --tls: the local CA that signed the server certificate
    database_url: str = ""  # what `--database` was given

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.pump is not None:
            self.pump.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_server(
    database: Path | str, *flags: str, port: int | None = None, ca_file: Path | None = None
) -> LiveServer:
    """Start `python -m orderlink serve` and wait until it answers; fail loudly if it cannot.
    `database` is a SQLite file, or any database URL (`postgresql://...`)."""
    port = port or free_port()
    sqlite_file = None if isinstance(database, str) else database
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    command = [
        sys.executable, "-m", "orderlink", "serve", "--port", str(port),
        "--database", url, *flags,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLINK_")}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    tls = "--tls" in flags or "--tls-cert" in flags
    base_url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    lines: list[str] = []
    webhook = ""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"(https?://\S+/rest/1/[a-z0-9]+/)", line)
        if found:
            webhook = found.group(1)
        if "Uvicorn running" in line or "Application startup complete" in line:
            break
    else:
        process.kill()
        process.wait()
        process.stdout.close()
        raise RuntimeError("orderlink serve did not start:\n" + "".join(lines))
    if tls and ca_file is None:
        assert sqlite_file is not None, "--tls on a database URL: pass ca_file"
        ca_file = sqlite_file.parent / "orderlink-tls" / "orderlink-ca.pem"
    try:
        _wait_ready(base_url, process, lines, ca_file)
    except RuntimeError:
        process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()
        raise
    server = LiveServer(process, base_url, webhook, sqlite_file, lines, None, ca_file, url)
    server.pump = _drain(process, lines)
    return server


def _wait_ready(
    base_url: str, process: subprocess.Popen[str], lines: list[str], ca_file: Path | None
) -> None:
    deadline = time.monotonic() + 20
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    )
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("orderlink serve exited:\n" + "".join(lines))
        try:
            health = httpx.get(base_url + "/_orderlink/health", timeout=1, verify=verify)
            if health.status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("orderlink serve never answered:\n" + "".join(lines))


def _drain(process: subprocess.Popen[str], lines: list[str]) -> threading.Thread:
    """Keep reading the server's output so its pipe never fills and blocks it."""

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def hammer(url: str, *, seconds: float, clients: int = 12) -> tuple[list[int], float]:
    """`clients` threads POST `{}` to `url` back to back for `seconds`: every status, and how
    long it took from the first request to the last answer."""
    from concurrent.futures import ThreadPoolExecutor

    began = time.monotonic()

    def one(_: int) -> list[int]:
        codes = []
        with httpx.Client() as client:
            while time.monotonic() - began < seconds:
                codes.append(client.post(url, json={}).status_code)
        return codes

    with ThreadPoolExecutor(max_workers=clients) as pool:
        codes = [code for batch in pool.map(one, range(clients)) for code in batch]
    return codes, time.monotonic() - began


def assert_kill_9_keeps_an_acknowledged_write(database: Path | str) -> None:
    """Add a binding, SIGKILL the server the moment it answered, restart: the binding is there
    (either store)."""
    server = start_server(database, "--seed-examples", "--no-rate-limit")
    fields = {"fields": {"orderId": 5128, "ownerId": 6933, "ownerTypeId": 2}}
    try:
        response = httpx.post(server.webhook_url + "crm.orderentity.add", json=fields)
        assert response.status_code == 200
    finally:
        server.stop(signal.SIGKILL)
    restarted = start_server(database, "--no-rate-limit")
    try:
        hook = server.webhook_url.replace(server.base_url, restarted.base_url)
        rows = httpx.post(hook + "crm.orderentity.list", json={"filter": {"orderId": 5128}})
        assert rows.json()["result"]["orderEntity"] == [
            {"orderId": 5128, "ownerId": 6933, "ownerTypeId": 2}
        ]
    finally:
        restarted.stop()


def assert_parallel_adds_leave_one_binding(hook: str) -> None:
    """Sixty parallel adds binding order 5128 to one of three deals: one binding remains."""

    def add(owner: int) -> int:
        fields = {"fields": {"orderId": 5128, "ownerId": owner, "ownerTypeId": 2}}
        return httpx.post(hook + "crm.orderentity.add", json=fields, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(add, [6933, 6937, 6938] * 20))
    assert set(statuses) <= {200, 400}  # 400: the identical binding already exists
    rows = httpx.post(hook + "crm.orderentity.list", json={"filter": {"orderId": 5128}})
    assert len(rows.json()["result"]["orderEntity"]) == 1
