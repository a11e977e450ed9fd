"""`orderlink serve --database postgresql://...` on a real socket: the orderentity methods,
several worker processes on one database, and durability across `kill -9`."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .conftest import drop_schema, fresh_schema_url
from .live import start_server

pytestmark = pytest.mark.live


@pytest.fixture
def url(postgres_url: str) -> Iterator[str]:
    fresh, schema = fresh_schema_url(postgres_url)
    yield fresh
    drop_schema(schema)


def test_serve_on_postgres_answers_orderentity_calls(url: str) -> None:
    server = start_server(url, "--seed-examples", "--no-rate-limit")
    hook = server.webhook_url
    try:
        fields = httpx.post(hook + "crm.orderentity.getFields").json()["result"]["orderEntity"]
        assert set(fields) == {"orderId", "ownerId", "ownerTypeId"}
        seeded = httpx.post(hook + "crm.orderentity.list", json={"order": {"orderId": "asc"}})
        assert seeded.json()["total"] == 3
        deleted = httpx.post(
            hook + "crm.orderentity.deletebyfilter",
            json={"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}},
        )
        assert deleted.json()["result"] is True
        added = httpx.post(
            hook + "crm.orderentity.add",
            json={"fields": {"orderId": 5125, "ownerId": 6937, "ownerTypeId": 2}},
        )
        assert added.json()["result"] == {
            "dealOrder": {"orderId": 5125, "ownerId": 6937, "ownerTypeId": 2}
        }
        listed = httpx.post(hook + "crm.orderentity.list", json={"filter": {"ownerId": 6937}})
        assert [row["orderId"] for row in listed.json()["result"]["orderEntity"]] == [5125, 5127]
    finally:
        server.stop()


def test_two_workers_keep_one_binding_per_order(url: str) -> None:
    server = start_server(
        url, "--seed-examples", "--no-rate-limit", "--operating-limit", "0", "--workers", "2"
    )
    hook = server.webhook_url
    try:
        owners = [6933, 6937, 6938] * 20

        def add(owner: int) -> int:
            fields = {"fields": {"orderId": 5128, "ownerId": owner, "ownerTypeId": 2}}
            return httpx.post(hook + "crm.orderentity.add", json=fields, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(add, owners))
        assert set(statuses) <= {200, 400}  # 400: the identical binding already exists
        rows = httpx.post(hook + "crm.orderentity.list", json={"filter": {"orderId": 5128}})
        assert len(rows.json()["result"]["orderEntity"]) == 1
    finally:
        server.stop()


def test_acknowledged_write_survives_kill_9(url: str) -> None:
    server = start_server(url, "--seed-examples", "--no-rate-limit")
    fields = {"fields": {"orderId": 5128, "ownerId": 6933, "ownerTypeId": 2}}
    try:
        response = httpx.post(server.webhook_url + "crm.orderentity.add", json=fields)
        assert response.status_code == 200
    finally:
        server.stop(signal.SIGKILL)
    restarted = start_server(url, "--no-rate-limit")
    try:
        hook = server.webhook_url.replace(server.base_url, restarted.base_url)
        rows = httpx.post(hook + "crm.orderentity.list", json={"filter": {"orderId": 5128}})
        assert rows.json()["result"]["orderEntity"] == [
            {"orderId": 5128, "ownerId": 6933, "ownerTypeId": 2}
        ]
    finally:
        restarted.stop()
