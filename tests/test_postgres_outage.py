"""PostgreSQL stopped and restarted under load: requests fail fast with a Bitrix24-shaped 503 (never
a 500, never a hang), every acknowledged write is still there afterwards, and orderlink recovers
by itself once the database is back (issue: scale out, "when a part fails")."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import drop_schema, fresh_schema_url
from .live import start_server

pytestmark = pytest.mark.live


def cluster(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, "-m", "fast"]
        if action == "stop"
        else ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        timeout=60,
        capture_output=True,
    )


def wait_for_postgres(up: bool) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode == 0
        if ready == up:
            return
        time.sleep(0.2)
    raise AssertionError(f"PostgreSQL never became {'ready' if up else 'unavailable'}")


@pytest.fixture
def url(postgres_url: str) -> Iterator[str]:
    if not Path("/etc/postgresql").is_dir():
        pytest.skip("needs the machine's PostgreSQL cluster (pg_ctlcluster) to stop and start it")
    fresh, schema = fresh_schema_url(postgres_url)
    yield fresh
    wait_for_postgres(True)
    drop_schema(schema)


def test_database_stopped_under_load_then_back(url: str) -> None:
    server = start_server(url, "--no-rate-limit")
    hook = server.webhook_url
    acknowledged: list[int] = []
    answers: list[tuple[int, float, dict[str, object]]] = []
    running = threading.Event()
    running.set()

    def load() -> None:
        with httpx.Client(timeout=30) as client:
            while running.is_set():
                began = time.monotonic()
                response = client.post(hook + "crm.deal.add", json={"fields": {"TITLE": "load"}})
                answers.append((response.status_code, time.monotonic() - began, response.json()))
                if response.status_code == 200:
                    acknowledged.append(int(response.json()["result"]))

    workers = [threading.Thread(target=load) for _ in range(4)]
    try:
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        cluster("stop")
        try:
            wait_for_postgres(False)
            time.sleep(2.0)
        finally:
            cluster("start")
        wait_for_postgres(True)
        deadline = time.monotonic() + 30
        while not (answers and answers[-1][0] == 200):
            assert time.monotonic() < deadline, "orderlink never recovered"
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        running.clear()
        for worker in workers:
            worker.join(timeout=60)
        wait_for_postgres(True)
    try:
        statuses = {status for status, _, _ in answers}
        assert statuses == {200, 503}, statuses
        refused = [body for status, _, body in answers if status == 503]
        assert all(set(body) == {"error", "error_description"} for body in refused)
        # Fail fast: no request waited on the dead database for longer than its timeouts.
        assert max(seconds for _, seconds, _ in answers) < 15
        # Nothing acknowledged was lost.
        with httpx.Client(timeout=30) as client:
            for deal_id in acknowledged:
                found = client.post(hook + "crm.deal.get", json={"id": deal_id})
                assert found.status_code == 200, (deal_id, found.text)
    finally:
        server.stop()
