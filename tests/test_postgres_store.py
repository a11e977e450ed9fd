"""What only the PostgreSQL store has: its URL, its schema, and surviving a lost server.

Connections are cut with `pg_terminate_backend` from another connection (the server stays up);
each store here has an application_name of its own, so only its own connections are cut.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orderlink.settings import Settings
from orderlink.storage import create_store
from orderlink.storage.base import COPY_TABLES, Binding, ListQuery, StoreUnavailable
from orderlink.storage.sql import POSTGRES, select_sql
from orderlink.storage.sqlite import SQLiteStore

from .conftest import Portal, drop_schema, fresh_schema_url, pg_execute
from .live import free_port

if not os.environ.get("CI"):  # a laptop without the driver skips; in CI its absence fails
    pytest.importorskip("asyncpg")

from orderlink.storage.postgres import PostgresStore, parse_url

pytestmark = pytest.mark.anyio


@pytest.fixture
def url(postgres_url: str) -> Iterator[str]:
    """A fresh schema; the store's connections carry the schema's name as application_name."""
    fresh, schema = fresh_schema_url(postgres_url)
    yield f"{fresh}&application_name={schema}"
    drop_schema(schema)


@pytest.fixture
def database_url(url: str) -> str:
    """The in-process portal of this module runs on PostgreSQL only."""
    return url


@pytest.fixture
async def store(url: str) -> AsyncIterator[PostgresStore]:
    opened = PostgresStore(url)
    await opened.open()
    yield opened
    await opened.close()


async def cut_connections(url: str) -> int:
    """Terminate every server connection of the store(s) opened on `url`; how many were cut."""
    name = url.rsplit("application_name=", 1)[1]
    rows = await pg_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        name,
    )
    return len(rows)


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 5.0) -> None:
    """Wait until `check()` answers True, failing after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"{check} never held"
        await asyncio.sleep(0.02)


class TestUrl:
    def test_orderlink_parameters_are_taken_out_of_the_dsn(self) -> None:
        target = parse_url(
            "postgresql://me@db:5433/shop?schema=tenant_1&pool_size=4&connect_timeout=1.5"
            "&sslmode=disable"
        )
        assert target.dsn == "postgresql://me@db:5433/shop?sslmode=disable"
        assert (target.schema, target.pool_size, target.connect_timeout) == ("tenant_1", 4, 1.5)

    def test_defaults_without_parameters(self) -> None:
        target = parse_url("postgres://db/shop")
        assert (target.dsn, target.schema, target.pool_size) == ("postgres://db/shop", None, 10)

    @pytest.mark.parametrize("schema", ["Tenant", "a-b", "x;drop", ""])
    def test_a_schema_that_is_not_a_plain_name_is_refused(self, schema: str) -> None:
        with pytest.raises(ValueError, match="schema="):
            parse_url(f"postgresql://db/shop?schema={schema}")

    @pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
    def test_create_store_picks_postgres_for_both_schemes(self, scheme: str) -> None:
        store = create_store(Settings(database=f"{scheme}://u@127.0.0.1/test?schema=s"))
        assert isinstance(store, PostgresStore)

    def test_a_missing_driver_names_the_extra_to_install(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setitem(sys.modules, "asyncpg", None)  # import asyncpg now fails
        monkeypatch.delitem(sys.modules, "orderlink.storage.postgres")
        with pytest.raises(RuntimeError, match=r"pip install 'orderlink\[postgres\]'"):
            create_store(Settings(database="postgresql://u@127.0.0.1/test"))


class TestSchemaAndSql:
    async def test_tables_live_in_the_named_schema_which_open_creates(
        self, store: PostgresStore, url: str
    ) -> None:
        schema = parse_url(url).schema
        rows = await pg_execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
        assert {"portals", "orders", "deals", "invoices", "bindings", "schema_version"} <= {
            r["table_name"] for r in rows
        }

    def test_only_nullable_columns_get_a_nulls_clause(self) -> None:
        """NULLS FIRST on a NOT NULL column would stop PostgreSQL reading an index in order."""
        query = ListQuery(
            "deals", 1, ["id"], order=(("probability", False), ("closedate", True), ("id", False))
        )
        known = replace(POSTGRES, not_null=frozenset({("deals", "id")}))
        sql, _ = select_sql(query, known)
        assert sql.endswith(
            "ORDER BY probability ASC NULLS FIRST, closedate DESC NULLS LAST, id ASC LIMIT $2"
        )

    async def test_the_store_knows_which_columns_are_not_null(self, store: PostgresStore) -> None:
        portal, _ = await store.bootstrap(now=0.0)
        deal = await store.insert(portal.id, "deals", {"title": "x"})
        listed = await store.list(
            ListQuery("deals", portal.id, ["id"], order=(("id", False),), count=False)
        )
        assert listed.rows == [{"id": deal}]
        sql, _ = select_sql(
            ListQuery("deals", portal.id, ["id"], order=(("id", False),)),
            store._dialect,  # the dialect with the schema's NOT NULL columns
        )
        assert "id ASC LIMIT" in sql

    async def test_a_binding_to_each_owner_table_is_written_in_one_call(
        self, store: PostgresStore
    ) -> None:
        """orderlink_bind (migration 0018) names the owner tables one by one: each of them
        works, and every answer the function gives maps to its outcome."""
        from orderlink.storage.base import OWNER_TABLES, AddBinding

        portal, _ = await store.bootstrap(now=0.0)
        order = await store.insert(
            portal.id, "orders", {"lid": "s1", "person_type_id": 1, "currency": "USD"}
        )
        values: dict[str, dict[str, Any]] = {
            "deals": {"title": "d"},
            "invoices": {"title": "i"},
            "legacy_invoices": {"lid": "s1", "currency": "USD", "order_topic": "t",
                                "pay_system_id": 6, "person_type_id": 1},
        }  # fmt: skip
        for owner_type, table in OWNER_TABLES.items():
            owner = await store.insert(portal.id, table, values[table])
            bound = Binding(order, owner_type, owner)
            added = await store.add_binding(portal.id, bound, owner_table=table)
            assert added in (AddBinding.ADDED, AddBinding.REPLACED)
            again = await store.add_binding(portal.id, bound, owner_table=table)
            assert again is AddBinding.DUPLICATE
            missing = Binding(order, owner_type, owner + 1000)
            assert await store.add_binding(portal.id, missing, owner_table=table) is (
                AddBinding.NO_OWNER
            )
        gone = Binding(order + 1000, 2, 1)
        assert await store.add_binding(portal.id, gone, owner_table=None) is AddBinding.NO_ORDER


class TestLostConnections:
    async def test_cut_connections_are_replaced_and_only_store_unavailable_escapes(
        self, store: PostgresStore, url: str
    ) -> None:
        portal, _ = await store.bootstrap(now=0.0)
        deal = await store.insert(portal.id, "deals", {"title": "kept"})
        assert await cut_connections(url) >= 2  # the pool's and the auth listener's
        answers: list[str] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                row = await store.get(portal.id, "deals", deal)
            except StoreUnavailable:
                answers.append("unavailable")
            else:
                assert row is not None
                assert row["title"] == "kept"
                answers.append("ok")
                if answers[-3:] == ["ok"] * 3:
                    break
            await asyncio.sleep(0.01)
        assert answers[-3:] == ["ok"] * 3, answers

    async def test_a_connection_cut_inside_a_group_fails_it_as_unavailable(
        self, store: PostgresStore, url: str
    ) -> None:
        portal, _ = await store.bootstrap(now=0.0)
        made: list[int] = []

        async def group_losing_its_connection() -> None:
            async with store.group() as group:
                async with group.step():
                    made.append(await store.insert(portal.id, "deals", {"title": "lost"}))
                await cut_connections(url)
                await asyncio.sleep(0.05)
                async with group.step():
                    await store.insert(portal.id, "deals", {"title": "never"})

        with pytest.raises(StoreUnavailable):
            await group_losing_its_connection()
        await eventually(lambda: _answers(store))
        assert await store.get(portal.id, "deals", made[0]) is None  # nothing was committed

    async def test_an_unreachable_server_fails_fast(self) -> None:
        closed = f"postgresql://postgres@127.0.0.1:{free_port()}/test?connect_timeout=1"
        began = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await PostgresStore(closed).open()
        assert time.monotonic() - began < 3

    async def test_requests_answer_503_not_500_and_recover(self, portal: Portal, url: str) -> None:
        await cut_connections(url)
        statuses: list[int] = []
        deadline = time.monotonic() + 5
        while statuses[-3:] != [200] * 3 and time.monotonic() < deadline:
            response = await portal.call("crm.orderentity.list", {"filter": {"ownerTypeId": 2}})
            statuses.append(response.status_code)
            await asyncio.sleep(0.01)
        assert set(statuses) <= {200, 503}
        assert statuses[-3:] == [200] * 3


async def _answers(store: PostgresStore) -> bool:
    try:
        await store.ping()
    except StoreUnavailable:
        return False
    return True


class TestAuthListener:
    async def test_while_the_listener_is_down_no_version_repeats(
        self, store: PostgresStore, url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A cache must not trust what it holds while changes could go unheard."""
        portal, _ = await store.bootstrap(now=0.0)
        before = await store.auth_version()

        async def refused() -> None:
            raise StoreUnavailable("still down")

        monkeypatch.setattr(store, "_listen", refused)
        await cut_connections(url)

        async def down() -> bool:
            return await store.auth_version() != await store.auth_version()

        await eventually(down)
        versions = [await store.auth_version() for _ in range(5)]
        assert all(versions.count(v) == 1 for v in versions)
        monkeypatch.undo()  # the server "comes back": the next reconnect succeeds

        async def steady() -> bool:
            return await store.auth_version() == await store.auth_version()

        await eventually(steady)
        settled = await store.auth_version()
        assert settled != before  # changes missed while down count as a change
        other = PostgresStore(url)
        await other.open()
        try:
            await other.add_user(portal.id, "after the outage", 1)

            async def heard() -> bool:
                return await store.auth_version() != settled

            await eventually(heard)
        finally:
            await other.close()

    async def test_changes_to_another_schema_are_not_heard(
        self, store: PostgresStore, postgres_url: str
    ) -> None:
        await store.bootstrap(now=0.0)
        await asyncio.sleep(0.2)  # this store's own notification arrives, too
        before = await store.auth_version()
        elsewhere, schema = fresh_schema_url(postgres_url)
        other = PostgresStore(elsewhere)
        await other.open()
        try:
            await other.bootstrap(now=0.0)
            await asyncio.sleep(0.2)
            assert await store.auth_version() == before
        finally:
            await other.close()
            drop_schema(schema)


class TestGroups:
    async def test_a_child_task_of_the_group_uses_the_pool_not_the_group(
        self, store: PostgresStore
    ) -> None:
        """Child tasks inherit context variables, so the group is keyed by task: a child's
        call neither sees the uncommitted work nor disturbs the group's connection."""
        portal, _ = await store.bootstrap(now=0.0)
        async with store.group() as group:
            async with group.step():
                deal = await store.insert(portal.id, "deals", {"title": "pending"})
            seen = await asyncio.create_task(store.get(portal.id, "deals", deal))
            assert seen is None
            async with group.step():
                await store.update(portal.id, "deals", deal, {"title": "done"})
        assert (await store.get(portal.id, "deals", deal) or {})["title"] == "done"

    async def test_a_binding_written_in_a_group_holds_the_order_until_commit(
        self, store: PostgresStore, url: str
    ) -> None:
        portal, _ = await store.bootstrap(now=0.0)
        order = await store.insert(
            portal.id, "orders", {"lid": "s1", "person_type_id": 1, "currency": "USD"}
        )
        deal = await store.insert(portal.id, "deals", {"title": "d"})
        other = PostgresStore(url)
        await other.open()
        try:
            async with store.group() as group:
                async with group.step():
                    await store.add_binding(portal.id, Binding(order, 2, deal), owner_table=None)
                deleting = asyncio.create_task(other.delete(portal.id, "orders", order))
                await asyncio.sleep(0.1)
                assert not deleting.done()  # waits for the group's lock on the order
            assert await deleting is True
        finally:
            await other.close()
        listed = await store.list(ListQuery("bindings", portal.id, ["order_id"]))
        assert listed.total == 0


class TestCopyFromSqlite:
    async def test_every_row_reads_back_exactly_as_sqlite_held_it(
        self, store: PostgresStore, tmp_path: Path
    ) -> None:
        """Same columns, same types, same values: `orderlink db copy` loses nothing."""
        source = SQLiteStore(f"sqlite:///{tmp_path / 'source.db'}")
        await source.open()
        try:
            portal, _ = await source.bootstrap(now=1700000000.25)
            order = await source.insert(
                portal.id, "orders",
                {"lid": "s1", "person_type_id": 1, "currency": "USD", "price": 10.5},
                templates={"account_number": "{id}"},
            )  # fmt: skip
            deal = await source.insert(portal.id, "deals", {"title": "Ärger", "probability": None})
            await source.insert(portal.id, "invoices", {"title": "i", "parent_id2": deal})
            await source.add_binding(portal.id, Binding(order, 2, deal), owner_table="deals")
            await source.add_webhook(portal.id, 1, "h" * 64, ("crm", "sale"), 1700000001.5)
            for table in COPY_TABLES:
                rows = await source.dump(table, None, 1000)
                assert await store.load(table, rows) == len(rows)
                assert await store.dump(table, None, 1000) == rows, table
        finally:
            await source.close()
