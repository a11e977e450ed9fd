"""`orderlink serve --database postgresql://...` on a real socket: the orderentity methods,
several worker processes on one database, and durability across `kill -9`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .conftest import drop_schema, fresh_schema_url
from .live import (
    assert_kill_9_keeps_an_acknowledged_write,
    assert_parallel_adds_leave_one_binding,
    start_server,
)

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
    try:
        assert_parallel_adds_leave_one_binding(server.webhook_url)
    finally:
        server.stop()


def test_acknowledged_write_survives_kill_9(url: str) -> None:
    assert_kill_9_keeps_an_acknowledged_write(url)
