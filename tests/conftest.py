"""Shared fixtures: an in-process portal for wire tests, a live server for client tests.

Every store-backed test runs twice, on SQLite and on PostgreSQL (`database_url`); each
PostgreSQL run gets a schema of its own in the `TEST_POSTGRES_URL` database, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from orderlink.app import OrderlinkApp, create_app
from orderlink.auth import hash_secret, new_webhook_code
from orderlink.bootstrap import bootstrap
from orderlink.clock import FrozenClock
from orderlink.registry import Role
from orderlink.settings import Settings

from .live import LiveServer, start_server
from .receiver import Receiver


def pytest_configure(config: pytest.Config) -> None:
    """The coverage floor (pyproject.toml) is for the whole suite: a run of some files or some
    tests (`-k`, `-m`, node ids, `--ignore`) reports coverage but is not failed by it."""
    tests = Path(__file__).resolve().parent
    whole = (
        not config.option.keyword
        and not config.option.markexpr
        and not config.option.ignore
        and not config.option.deselect
        and all(Path(arg).resolve() == tests for arg in config.args)
    )
    plugin = config.pluginmanager.getplugin("_cov")  # pytest-cov keeps its own options
    if not whole and plugin is not None and getattr(plugin, "options", None) is not None:
        plugin.options.cov_fail_under = 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `one_store` (an error path answered before any store is read: the body
    parser, the HTTP verbs, unknown paths) runs once, on SQLite: the PostgreSQL run of it would
    test nothing the SQLite run does not."""
    kept, dropped = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        store = params.params.get("database_url") if params is not None else None
        if item.get_closest_marker("one_store") and store == "postgres":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests (modules marked `pytestmark = pytest.mark.anyio`) run on asyncio."""
    return "asyncio"


async def error_of(portal: Portal, method: str, params: Any = None, **kw: Any) -> Any:
    """The body of a call that must fail with HTTP 400."""
    response = await portal.call(method, params, **kw)
    assert response.status_code == 400, response.text
    return response.json()


async def deal_funnel(portal: Portal, category: int, *stages: str) -> None:
    """Deal funnels up to id `category` (crm.category.add), and the extra stages given (codes
    with their `C{id}:` prefix) in it, for the docs' examples that name a funnel of their own."""
    params: dict[str, Any] = {"entityTypeId": 2, "fields": {"name": "Funnel"}}
    while (await portal.ok("crm.category.add", params))["category"]["id"] < category:
        pass
    for code in stages:
        fields = {"ENTITY_ID": f"DEAL_STAGE_{category}", "STATUS_ID": code, "NAME": code,
                  "SORT": 15}  # fmt: skip
        await portal.ok("crm.status.add", {"fields": fields})


def legacy(text: str) -> dict[str, str]:
    """An error of the legacy crm.* families: an empty code, the text (crm-deal-*.md)."""
    return {"error": "", "error_description": text}


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


# The PostgreSQL the tests use (trust auth on this machine and in CI).
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
STORES = ["sqlite", "postgres"]

T = TypeVar("T")

# A test project of its own (its pytest.ini, its plugin use): tests/test_pytest_plugin.py runs it.
collect_ignore = ["plugin_project"]


def run_aside(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a private event loop in a thread of its own: sync fixtures reach
    PostgreSQL this way without touching the event loop the test runs on."""
    found: list[T] = []
    failed: list[BaseException] = []

    def main() -> None:
        async def go() -> T:
            return await make()

        try:
            found.append(asyncio.run(go()))
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=main, name="run-aside")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return found[0]


async def pg_execute(sql: str, *args: Any, url: str = POSTGRES_URL) -> Any:
    """One statement on a fresh connection of its own; returns what `fetch` returns."""
    import asyncpg

    conn = await asyncpg.connect(url, timeout=3)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test database's URL once it answers. Without it, CI fails and a laptop skips."""
    try:
        import asyncpg  # noqa: F401

        run_aside(lambda: pg_execute("SELECT 1"))
    except Exception as exc:
        reason = f"PostgreSQL at {POSTGRES_URL} is not usable ({type(exc).__name__}: {exc})"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI runs every store", pytrace=False)
        pytest.skip(reason + "; set TEST_POSTGRES_URL or start PostgreSQL to run these")
    return POSTGRES_URL


def fresh_schema_url(base: str) -> tuple[str, str]:
    """(a URL whose tables live in a new, unused schema; that schema's name)."""
    schema = f"t_{secrets.token_hex(6)}"
    return f"{base}{'&' if '?' in base else '?'}schema={schema}", schema


def drop_schema(schema: str) -> None:
    run_aside(lambda: pg_execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'orderlink.db'}"
        return
    url, schema = fresh_schema_url(request.getfixturevalue("postgres_url"))
    try:
        yield url
    finally:
        drop_schema(schema)


@pytest.fixture
def more_databases(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """Makes further fresh databases of the kind `database_url` is (to copy into)."""
    schemas: list[str] = []
    files = iter(range(1, 1000))

    def make() -> str:
        if database_url.startswith("sqlite:"):
            return f"sqlite:///{tmp_path / f'more{next(files)}.db'}"
        url, schema = fresh_schema_url(request.getfixturevalue("postgres_url"))
        schemas.append(schema)
        return url

    yield make
    for schema in schemas:
        drop_schema(schema)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A fresh database of each kind; the rate limit off so tests may call freely."""
    return Settings(database=database_url, rate_limit=False)


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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 that records the event deliveries POSTed to it."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`orderlink serve` in a subprocess on a free port, with the docs' example rows."""
    server = start_server(
        tmp_path_factory.mktemp("live") / "orderlink.db", "--seed-examples", "--no-rate-limit"
    )
    yield server
    server.stop()
