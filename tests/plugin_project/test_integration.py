"""What an integrator's suite does with the plugin: a portal per test, faults, the journal."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import fast_bitrix24
import httpx
import pytest


def bind_with_retry(webhook: str, order_id: int, deal_id: int) -> Any:
    """The app under test: adds a binding, retrying when the portal says it is overloaded."""
    for _ in range(5):
        answer = httpx.post(
            webhook + "crm.orderentity.add",
            json={"fields": {"orderId": order_id, "ownerId": deal_id, "ownerTypeId": 2}},
        )
        if answer.status_code != 503:
            answer.raise_for_status()
            return answer.json()["result"]
        time.sleep(0.05)
    raise RuntimeError("gave up")


def order_and_deal(webhook: str) -> tuple[int, int]:
    order = httpx.post(
        webhook + "sale.order.add",
        json={"fields": {"lid": "s1", "personTypeId": 1, "currency": "USD"}},
    ).json()["result"]["order"]["id"]
    deal = httpx.post(webhook + "crm.deal.add", json={"fields": {"TITLE": "d"}}).json()["result"]
    return int(order), int(deal)


@pytest.mark.parametrize("n", range(4))
def test_every_test_gets_an_empty_portal(orderlink_portal: Any, n: int) -> None:
    bx = fast_bitrix24.Bitrix(orderlink_portal.webhook, verbose=False)
    assert bx.get_all("crm.deal.list") == []
    bx.call("crm.deal.add", {"fields": {"TITLE": f"deal {n}"}})
    assert [d["TITLE"] for d in bx.get_all("crm.deal.list")] == [f"deal {n}"]


def test_a_fault_makes_the_app_retry(orderlink_portal: Any) -> None:
    order, deal = order_and_deal(orderlink_portal.webhook)
    orderlink_portal.admin.fault(
        method="crm.orderentity.add", error="QUERY_LIMIT_EXCEEDED", times=1
    )
    bind_with_retry(orderlink_portal.webhook, order, deal)
    calls = orderlink_portal.admin.journal(method="crm.orderentity.add")
    assert [c["status"] for c in calls] == [200, 503]  # newest first


def test_the_journal_shows_a_batch_command_by_command(orderlink_portal: Any) -> None:
    bx = fast_bitrix24.Bitrix(orderlink_portal.webhook, verbose=False)
    bx.call("crm.deal.add", [{"fields": {"TITLE": "a"}}, {"fields": {"TITLE": "b"}}])
    [batch] = orderlink_portal.admin.journal(method="batch")
    assert len(batch["batch"]) == 2


def test_reset_and_snapshots(orderlink_portal: Any) -> None:
    hook = orderlink_portal.webhook
    httpx.post(hook + "crm.deal.add", json={"fields": {"TITLE": "kept"}}).raise_for_status()
    orderlink_portal.admin.snapshot("one")
    httpx.post(hook + "crm.deal.add", json={"fields": {"TITLE": "gone"}}).raise_for_status()
    orderlink_portal.admin.restore("one")
    titles = [d["TITLE"] for d in httpx.post(hook + "crm.deal.list").json()["result"]]
    assert titles == ["kept"]
    orderlink_portal.admin.reset()
    assert httpx.post(hook + "crm.deal.list").json()["result"] == []


@pytest.mark.orderlink(snapshot="shop")
def test_a_test_can_start_from_a_snapshot(orderlink_portal: Any) -> None:
    deals = httpx.post(orderlink_portal.webhook + "crm.deal.list").json()["result"]
    assert sorted(d["TITLE"] for d in deals) == ["first", "second"]


def test_the_fault_header_fails_one_call(orderlink_portal: Any) -> None:
    answer = httpx.post(
        orderlink_portal.webhook + "crm.deal.list",
        headers={"X-Orderlink-Fault": "expired_token"},
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "expired_token"


def test_a_portals_clock_moves_alone(orderlink_portal: Any, orderlink_admin: Any) -> None:
    """`.admin.clock` moves this test's portal only: another portal's time stays real."""

    def date_start(webhook: str) -> float:
        answer = httpx.post(webhook + "crm.deal.fields").json()
        return datetime.fromisoformat(answer["time"]["date_start"]).timestamp()

    other = orderlink_admin.new_portal(name="bystander")
    orderlink_portal.admin.clock.advance(86400)
    assert orderlink_portal.admin.clock.offset == 86400
    assert date_start(orderlink_portal.webhook) > time.time() + 86000
    assert date_start(other.webhook) < time.time() + 600
    orderlink_admin.request("DELETE", f"/portals/{other.id}")
