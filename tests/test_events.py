"""Event handlers (api-reference/events/*) and at-least-once delivery of what our objects do."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from orderlink.clock import FrozenClock
from orderlink.registry import Role

from .conftest import Portal
from .oauth_apps import TestApp, register, tokens
from .receiver import Receiver

pytestmark = pytest.mark.anyio


async def rest(portal: Portal, token: str, method: str, params: dict[str, object]) -> Any:
    response = await portal.client.post(f"/rest/{method}", json={"auth": token, **params})
    assert response.status_code == 200, response.text
    return response.json()["result"]


async def deliveries(portal: Portal, receiver: Receiver, count: int) -> list[dict[str, Any]]:
    """Let the background deliverer run until `count` deliveries arrived."""
    for _ in range(500):
        portal.app.deliverer.wake()
        await asyncio.sleep(0.01)
        if len(receiver.received) >= count:
            break
    return receiver.wait(count, timeout=1)


async def recorded(portal: Portal, last_status: str, status: str = "pending") -> None:
    """Wait until the deliverer has recorded an attempt's answer (and when to retry)."""
    for _ in range(300):
        (latest,) = await portal.store.deliveries(None, 1)
        if (latest.last_status, latest.status) == (last_status, status):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{last_status} was never recorded")


class TestHandlers:
    async def test_webhooks_are_refused(self, portal: Portal) -> None:
        response = await portal.call(
            "event.bind", {"event": "ONCRMDEALADD", "handler": "https://x.example/h"}
        )
        assert response.status_code == 403
        assert response.json()["error"] == "WRONG_AUTH_TYPE"

    async def test_bind_get_unbind(self, portal: Portal) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        assert (
            await rest(
                portal,
                token,
                "event.bind",
                {"event": "OnCrmDealAdd", "handler": "https://x.example/h"},
            )
            is True
        )
        duplicate = await portal.client.post(
            "/rest/event.bind",
            json={"auth": token, "event": "ONCRMDEALADD", "handler": "https://x.example/h"},
        )
        assert duplicate.status_code == 400
        assert duplicate.json() == {
            "error": "ERROR_HANDLER_ALREADY_EXIST",
            "error_description": "Handler already exists!",
        }
        assert await rest(portal, token, "event.get", {}) == [
            {
                "event": "ONCRMDEALADD",
                "handler": "https://x.example/h",
                "auth_type": "0",
                "offline": 0,
            }
        ]
        assert await rest(
            portal,
            token,
            "event.unbind",
            {"event": "ONCRMDEALADD", "handler": "https://x.example/h"},
        ) == {"count": 1}
        assert await rest(portal, token, "event.get", {}) == []

    async def test_unknown_event_and_scope(self, portal: Portal) -> None:
        app = await register(portal, scopes=("crm",))
        token = (await tokens(portal, app))["access_token"]
        for event in ("ONNOTHING", "ONSALEORDERSAVED"):
            response = await portal.client.post(
                "/rest/event.bind",
                json={"auth": token, "event": event, "handler": "https://x.example/h"},
            )
            assert response.json() == {
                "error": "ERROR_EVENT_NOT_FOUND",
                "error_description": "Event not found",
            }

    async def test_events_lists_by_scope(self, portal: Portal) -> None:
        app = await register(portal, scopes=("sale",))
        token = (await tokens(portal, app))["access_token"]
        names = await rest(portal, token, "events", {})
        assert "ONSALEORDERSAVED" in names
        assert "ONCRMDEALADD" not in names
        assert "ONCRMDEALADD" in await rest(portal, token, "events", {"FULL": True})

    async def test_non_admin_may_not_bind_for_another_user_or_offline(self, portal: Portal) -> None:
        app = await register(portal)
        hook = await portal.webhook_for(Role.STORE_ADMIN)
        token = (await tokens(portal, app, int(hook.split("/")[2])))["access_token"]
        for extra, text in (
            (
                {"auth_type": 1},
                "Access denied! Event binding with AUTH_TYPE requires administrator access rights",
            ),
            (
                {"event_type": "offline"},
                "Access denied! Offline events binding requires administrator access rights",
            ),
        ):
            response = await portal.client.post(
                "/rest/event.bind",
                json={
                    "auth": token,
                    "event": "ONCRMDEALADD",
                    "handler": "https://x.example/h",
                    **extra,
                },
            )
            assert response.status_code == 403
            assert response.json() == {"error": "ACCESS_DENIED", "error_description": text}


class TestDelivery:
    async def bound(self, portal: Portal, receiver: Receiver, *events: str) -> tuple[TestApp, str]:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        for event in events:
            await rest(portal, token, "event.bind", {"event": event, "handler": receiver.url()})
        return app, token

    async def test_deal_add_is_posted_form_encoded_as_documented(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        app, token = await self.bound(portal, receiver, "ONCRMDEALADD")
        deal_id = await rest(portal, token, "crm.deal.add", {"fields": {"TITLE": "Big"}})
        (body,) = await deliveries(portal, receiver, 1)
        assert body["type"] == "application/x-www-form-urlencoded"
        assert body["event"] == "ONCRMDEALADD"
        assert body["data"] == {"FIELDS": {"ID": str(deal_id)}}
        assert body["event_handler_id"].isdigit()
        assert body["ts"].isdigit()
        auth = body["auth"]
        install = await portal.store.install_of(
            (await portal.store.default_portal()).id, app.app.id
        )
        assert auth["application_token"] == install.application_token
        assert re.fullmatch(r"[0-9a-f]{70}", auth["access_token"])
        assert auth["client_endpoint"].endswith("/rest/")
        assert auth["scope"] == "crm,sale"
        assert (auth["status"], auth["user_id"]) == ("L", "1")
        # the token it carries works
        assert (
            await portal.client.post("/rest/profile", json={"auth": auth["access_token"]})
        ).status_code == 200

    async def test_a_binding_change_saves_its_order(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        _, token = await self.bound(portal, receiver, "ONSALEORDERSAVED", "ONORDERENTITYSAVED")
        await portal.add_order(5125)
        await portal.add_deal(6933)
        await rest(
            portal,
            token,
            "crm.orderentity.add",
            {"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}},
        )
        received = await deliveries(portal, receiver, 2)
        assert sorted(r["event"] for r in received) == ["ONORDERENTITYSAVED", "ONSALEORDERSAVED"]
        saved = next(r for r in received if r["event"] == "ONSALEORDERSAVED")
        assert saved["data"] == {"FIELDS": {"ID": "5125", "XML_ID": "", "ACTION": "save"}}

    async def test_smart_invoice_events_carry_the_entity_type(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        _, token = await self.bound(
            portal, receiver, "ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMDELETE"
        )
        item = await rest(
            portal, token, "crm.item.add", {"entityTypeId": 31, "fields": {"title": "I"}}
        )
        item_id = item["item"]["id"]
        await rest(portal, token, "crm.item.delete", {"entityTypeId": 31, "id": item_id})
        received = await deliveries(portal, receiver, 2)
        assert {r["event"]: r["data"] for r in received} == {
            "ONCRMDYNAMICITEMADD": {"FIELDS": {"ID": str(item_id), "ENTITY_TYPE_ID": "31"}},
            "ONCRMDYNAMICITEMDELETE": {"FIELDS": {"ID": str(item_id), "ENTITY_TYPE_ID": "31"}},
        }

    async def test_a_failing_receiver_gets_retries_with_backoff(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        receiver = Receiver([503, 500])
        try:
            _, token = await self.bound(portal, receiver, "ONCRMDEALDELETE")
            deal_id = await rest(portal, token, "crm.deal.add", {"fields": {}})
            await rest(portal, token, "crm.deal.delete", {"id": deal_id})
            for _ in range(100):
                portal.app.deliverer.wake()
                await asyncio.sleep(0.01)
                if receiver.attempts >= 1:
                    break
            assert receiver.attempts == 1
            await recorded(portal, "HTTP 503")
            clock.advance(2)  # the first retry is due 2 s later
            for _ in range(100):
                portal.app.deliverer.wake()
                await asyncio.sleep(0.01)
                if receiver.attempts >= 2:
                    break
            assert receiver.attempts == 2
            await recorded(portal, "HTTP 500")
            clock.advance(4)
            (body,) = await deliveries(portal, receiver, 1)
            assert body["data"] == {"FIELDS": {"ID": str(deal_id)}}
            await recorded(portal, "HTTP 200", "delivered")
            (logged,) = await portal.store.deliveries(None, 10)
            assert (logged.attempts, logged.status, logged.last_status) == (
                3,
                "delivered",
                "HTTP 200",
            )
        finally:
            receiver.close()

    async def test_the_log_keeps_finished_deliveries_for_a_while_and_pending_ones_always(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        """`--delivery-log-days` (30 by default) bounds the log; a delivery still owed is never
        dropped, whatever its age (docs/decisions.md)."""
        receiver = Receiver([200, 503])
        try:
            _, token = await self.bound(portal, receiver, "ONCRMDEALADD")
            await rest(portal, token, "crm.deal.add", {"fields": {}})
            await deliveries(portal, receiver, 1)
            await recorded(portal, "HTTP 200", "delivered")
            second = await rest(portal, token, "crm.deal.add", {"fields": {}})
            await recorded(portal, "HTTP 503")
            assert await portal.app.deliverer.prune() == 0
            clock.advance(30 * 86400 + 10)
            portal.app.deliverer.log_days = 0  # keep everything
            assert await portal.app.deliverer.prune() == 0
            portal.app.deliverer.log_days = 30
            assert await portal.app.deliverer.prune() == 1
            (kept,) = await portal.store.deliveries(None, 10)
            assert kept.data == {"FIELDS": {"ID": str(second)}}
        finally:
            receiver.close()

    async def test_nothing_is_sent_to_apps_not_listening(self, portal: Portal) -> None:
        await portal.ok("crm.deal.add", {"fields": {}})
        assert await portal.store.deliveries(None, 10) == []

    async def test_install_and_uninstall_events(self, portal: Portal, receiver: Receiver) -> None:
        app = await register(portal, handler_url=receiver.url("/install"))
        (installed,) = await deliveries(portal, receiver, 1)
        assert installed["path"] == "/install"
        assert installed["event"] == "ONAPPINSTALL"
        assert installed["data"]["INSTALLED"] == "Y"
        assert re.fullmatch(r"[0-9a-f]{70}", installed["auth"]["refresh_token"])
        token = (await tokens(portal, app))["access_token"]
        await rest(
            portal,
            token,
            "event.bind",
            {"event": "ONAPPUNINSTALL", "handler": receiver.url("/bye")},
        )
        assert await portal.app.oauth.uninstall(app.app, 1)
        received = await deliveries(portal, receiver, 2)
        bye = received[1]
        assert (bye["path"], bye["event"]) == ("/bye", "ONAPPUNINSTALL")
        assert set(bye["auth"]) == {
            "domain",
            "server_endpoint",
            "client_endpoint",
            "member_id",
            "application_token",
        }


def _attempt_recorded(database: Path) -> bool:
    import sqlite3

    conn = sqlite3.connect(database)
    try:
        row = conn.execute("SELECT last_status FROM event_outbox ORDER BY id LIMIT 1").fetchone()
    finally:
        conn.close()
    return row is not None and row[0] is not None


@pytest.mark.live
def test_a_delivery_survives_a_killed_server(tmp_path: Path) -> None:
    """The change is committed with its outbox row; the server is killed after a failed attempt;
    the restarted server delivers it."""
    import json
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from .live import start_server

    database = tmp_path / "events.db"
    db = f"sqlite:///{database}"

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "orderlink", *args, "--database", db],
                              capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
        return done.stdout.strip().splitlines()[-1]

    receiver = Receiver([500])
    server = start_server(database, "--no-rate-limit")
    try:
        app = json.loads(cli("app", "add", "--name", "A", "--scope", "crm",
                             "--redirect-uri", "https://a.example/", "--json"))  # fmt: skip
        token = json.loads(cli("token", "issue", "--client-id", app["client_id"], "--user-id", "1",
                               "--json"))["access_token"]  # fmt: skip
        rest = server.base_url + "/rest/"
        bound = httpx.post(rest + "event.bind", json={"auth": token, "event": "ONCRMDEALADD",
                                                      "handler": receiver.url()})  # fmt: skip
        assert bound.status_code == 200, bound.text
        deal_id = httpx.post(
            rest + "crm.deal.add", json={"auth": token, "fields": {"TITLE": "x"}}
        ).json()["result"]
        deadline = time.monotonic() + 30
        while receiver.attempts < 1 or not _attempt_recorded(database):
            # Killed after the failed attempt is committed: a kill between the handler's 500
            # and that commit leaves the row claimed until its lease ends (TIMEOUT * 4), longer
            # than this test waits.
            assert time.monotonic() < deadline, "no first attempt"
            time.sleep(0.02)
        server.stop(signal.SIGKILL)
        assert receiver.received == []
        server = start_server(database, "--no-rate-limit")
        (body,) = receiver.wait(1, timeout=45)
        assert body["event"] == "ONCRMDEALADD"
        assert body["data"] == {"FIELDS": {"ID": str(deal_id)}}
        log = cli("events", "log")
        assert log.endswith("delivered\tHTTP 200")
    finally:
        server.stop()
        receiver.close()
