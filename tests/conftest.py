"""Shared fixtures: an in-process portal for wire tests, a live server for client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderlink.app import OrderlinkApp, create_app
from orderlink.auth import hash_secret, new_webhook_code
from orderlink.bootstrap import bootstrap
from orderlink.clock import FrozenClock
from orderlink.registry import Role
from orderlink.settings import Settings

from .live import LiveServer, start_server


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (modules marked `pytestmark = pytest.mark.anyio`) run on asyncio."""
    return "asyncio"


class Portal:
    """An orderlink app in this process, driven through its ASGI interface with httpx."""

    def __init__(self, app: OrderlinkApp, client: httpx.AsyncClient, hook: str) -> None:
        self.app = app
        self.client = client
        self.hook = hook  # "/rest/1/<code>/"

    @property
    def store(self) -> Any:
        return self.app.store

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        hook: str | None = None,
        form: str | None = None,
        query: str | None = None,
    ) -> httpx.Response:
        """POST `params` as JSON (or a raw form body / GET query string) to a webhook URL."""
        url = (hook or self.hook) + method
        if query is not None:
            return await self.client.get(url + "?" + query)
        if form is not None:
            return await self.client.post(
                url, content=form, headers={"content-type": "application/x-www-form-urlencoded"}
            )
        return await self.client.post(url, json=params if params is not None else {})

    async def ok(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        """Call and return `result`, failing the test on anything but HTTP 200."""
        response = await self.call(method, params, **kw)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    async def webhook_for(self, role: Role, scopes: tuple[str, ...] = ("crm", "sale")) -> str:
        """A new user with this store role and a webhook for them; returns its path."""
        portal = await self.store.default_portal()
        user = await self.store.add_user(portal.id, f"user-{role.label}", int(role))
        code = new_webhook_code()
        await self.store.add_webhook(portal.id, user.id, hash_secret(code), scopes, 0.0)
        return f"/rest/{user.id}/{code}/"

    async def add_order(self, order_id: int | None = None, **columns: Any) -> int:
        portal = await self.store.default_portal()
        values = {"lid": "s1", "person_type_id": 1, "currency": "USD", **columns}
        if order_id is None:
            return int(await self.store.insert(portal.id, "orders", values))
        await self.store.insert_with_id(portal.id, "orders", {"id": order_id, **values})
        return order_id

    async def add_deal(self, deal_id: int | None = None, **columns: Any) -> int:
        portal = await self.store.default_portal()
        values = {"title": "Deal", **columns}
        if deal_id is None:
            return int(await self.store.insert(portal.id, "deals", values))
        await self.store.insert_with_id(portal.id, "deals", {"id": deal_id, **values})
        return deal_id

    async def add_invoice(self, invoice_id: int | None = None, **columns: Any) -> int:
        portal = await self.store.default_portal()
        values = {"title": "Invoice", **columns}
        if invoice_id is None:
            return int(await self.store.insert(portal.id, "invoices", values))
        await self.store.insert_with_id(portal.id, "invoices", {"id": invoice_id, **values})
        return invoice_id


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """An isolated SQLite file; the rate limit off so tests may call freely."""
    return Settings(database=f"sqlite:///{tmp_path / 'orderlink.db'}", rate_limit=False)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def portal(settings: Settings, clock: FrozenClock) -> AsyncIterator[Portal]:
    app = create_app(settings, clock=clock)
    await app.startup()
    started = await bootstrap(app.store, settings, clock)
    assert started.webhook_code is not None
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Portal(app, client, f"/rest/1/{started.webhook_code}/")
    await app.shutdown()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`orderlink serve` in a subprocess on a free port, with the docs' example rows."""
    server = start_server(
        tmp_path_factory.mktemp("live") / "orderlink.db", "--seed-examples", "--no-rate-limit"
    )
    yield server
    server.stop()
