"""The Store contract (storage/base.py), one suite run against every store.

`database_url` (conftest) runs each test on a fresh SQLite file and on a fresh PostgreSQL schema.
Concurrency tests open several stores on one database, as several server processes would.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from orderlink.settings import Settings
from orderlink.storage import create_store, migrations
from orderlink.storage.base import (
    COPY_TABLES,
    AddBinding,
    Binding,
    Condition,
    DeleteBinding,
    Group,
    ListQuery,
    Store,
    StoreUnavailable,
)
from orderlink.storage.sqlite import SQLiteStore

pytestmark = pytest.mark.anyio

# What each engine raises for a statement the database refuses (a duplicate key).
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
with contextlib.suppress(ImportError):
    import asyncpg

    INTEGRITY_ERRORS = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = create_store(Settings(database=database_url))
    await opened.open()
    yield opened
    await opened.close()


@contextlib.asynccontextmanager
async def more_stores(database_url: str, count: int) -> AsyncIterator[list[Store]]:
    """`count` more stores open on the same database, as other server processes would be."""
    stores = [create_store(Settings(database=database_url)) for _ in range(count)]
    async with contextlib.AsyncExitStack() as stack:
        for other in stores:
            await other.open()
            stack.push_async_callback(other.close)
        yield stores


async def portal_of(store: Store) -> int:
    portal, _ = await store.bootstrap(now=0.0)
    return portal.id


async def order(store: Store, portal: int) -> int:
    return await store.insert(
        portal, "orders", {"lid": "s1", "person_type_id": 1, "currency": "USD"}
    )


async def deal(store: Store, portal: int) -> int:
    return await store.insert(portal, "deals", {"title": "d"})


async def legacy_invoice(store: Store, portal: int) -> int:
    values = {"lid": "s1", "currency": "USD", "order_topic": "t", "pay_system_id": 6,
              "person_type_id": 1}  # fmt: skip
    return await store.insert(portal, "legacy_invoices", values)


class TestPortalsUsersWebhooks:
    async def test_bootstrap_creates_the_default_portal_once(self, store: Store) -> None:
        first, created = await store.bootstrap(now=1.0)
        again, created_again = await store.bootstrap(now=2.0)
        assert (created, created_again) == (True, False)
        assert first == again == await store.default_portal()
        admin = await store.get_user(first.id, 1)
        assert admin is not None
        assert admin.is_admin
        assert admin.store_role == 2

    async def test_users_get_the_next_id_of_their_portal(self, store: Store) -> None:
        portal = await portal_of(store)
        assert [(await store.add_user(portal, n, 1)).id for n in ("a", "b")] == [2, 3]

    async def test_webhooks_and_revocation_change_the_auth_version(self, store: Store) -> None:
        portal = await portal_of(store)
        before = await store.auth_version()
        hook = await store.add_webhook(portal, 1, "h" * 64, ("crm",), 0.0)
        after_add = await store.auth_version()
        assert after_add != before
        assert [(w.id, u.id) for w, u in await store.webhooks_of_user(1)] == [(hook.id, 1)]
        assert await store.revoke_webhook(portal, hook.id)
        assert not await store.revoke_webhook(portal, hook.id)
        assert await store.auth_version() != after_add
        assert await store.webhooks_of_user(1) == []


class TestBindings:
    async def test_add_replace_duplicate_and_missing(self, store: Store) -> None:
        portal = await portal_of(store)
        o, d1, d2 = await order(store, portal), await deal(store, portal), await deal(store, portal)
        assert (
            await store.add_binding(portal, Binding(o, 2, d1), owner_table="deals")
            is AddBinding.ADDED
        )
        assert (
            await store.add_binding(portal, Binding(o, 2, d1), owner_table="deals")
            is AddBinding.DUPLICATE
        )
        assert (
            await store.add_binding(portal, Binding(o, 2, d2), owner_table="deals")
            is AddBinding.REPLACED
        )
        assert (
            await store.add_binding(portal, Binding(o + 99, 2, d1), owner_table="deals")
            is AddBinding.NO_ORDER
        )
        assert (
            await store.add_binding(portal, Binding(o, 2, d2 + 99), owner_table="deals")
            is AddBinding.NO_OWNER
        )
        assert (
            await store.add_binding(portal, Binding(o, 2, d2 + 99), owner_table=None)
            is AddBinding.REPLACED
        )
        rows = await store.list(ListQuery("bindings", portal, ["order_id", "owner_id"], limit=None))
        assert rows.rows == [{"order_id": o, "owner_id": d2 + 99}]

    async def test_delete_exact_triple_only(self, store: Store) -> None:
        portal = await portal_of(store)
        o, d = await order(store, portal), await deal(store, portal)
        await store.add_binding(portal, Binding(o, 2, d), owner_table="deals")
        assert await store.delete_binding(portal, Binding(o, 31, d)) is DeleteBinding.NO_BINDING
        assert await store.delete_binding(portal, Binding(o + 99, 2, d)) is DeleteBinding.NO_ORDER
        assert await store.delete_binding(portal, Binding(o, 2, d)) is DeleteBinding.DELETED

    async def test_deleting_an_order_or_owner_deletes_its_bindings(self, store: Store) -> None:
        portal = await portal_of(store)
        o1, o2, d = (
            await order(store, portal),
            await order(store, portal),
            await deal(store, portal),
        )
        invoice = await store.insert(portal, "invoices", {"title": "i", "parent_id2": d})
        await store.add_binding(portal, Binding(o1, 2, d), owner_table="deals")
        await store.add_binding(portal, Binding(o2, 31, invoice), owner_table="invoices")
        assert await store.delete(portal, "deals", d)
        assert (await store.get(portal, "invoices", invoice) or {})["parent_id2"] is None
        assert await store.delete(portal, "orders", o2)
        rows = await store.list(ListQuery("bindings", portal, ["order_id"], limit=None))
        assert rows.rows == []

    async def test_deleting_an_old_invoice_deletes_only_the_bindings_to_it(
        self, store: Store
    ) -> None:
        portal = await portal_of(store)
        o1, o2, o3 = [await order(store, portal) for _ in range(3)]
        invoice, other = await legacy_invoice(store, portal), await legacy_invoice(store, portal)
        await store.insert_with_id(portal, "deals", {"id": invoice, "title": "same id"})
        for o, binding_owner in ((o1, invoice), (o2, other)):
            assert (
                await store.add_binding(
                    portal, Binding(o, 5, binding_owner), owner_table="legacy_invoices"
                )
                is AddBinding.ADDED
            )
        await store.add_binding(portal, Binding(o3, 2, invoice), owner_table="deals")
        assert await store.delete(portal, "legacy_invoices", invoice)
        assert await store.get(portal, "legacy_invoices", invoice) is None
        columns = ["order_id", "owner_type_id"]
        order_by = (("order_id", False),)
        rows = await store.list(ListQuery("bindings", portal, columns, order=order_by, limit=None))
        assert rows.rows == [
            {"order_id": o2, "owner_type_id": 5},
            {"order_id": o3, "owner_type_id": 2},
        ]
        assert (
            await store.add_binding(portal, Binding(o1, 5, invoice), owner_table="legacy_invoices")
            is AddBinding.NO_OWNER
        )

    async def test_portals_never_see_each_others_rows(self, store: Store) -> None:
        portal = await portal_of(store)
        o = await order(store, portal)
        assert await store.get(portal + 1, "orders", o) is None
        assert not await store.delete(portal + 1, "orders", o)
        assert (await store.list(ListQuery("orders", portal + 1, ["id"]))).total == 0


class TestEntities:
    async def test_new_ids_come_after_a_seeded_fixed_id(self, store: Store) -> None:
        portal = await portal_of(store)
        await store.insert_with_id(portal, "deals", {"id": 6933, "title": "seeded"})
        assert await deal(store, portal) == 6934

    async def test_insert_fills_templates_from_the_new_id(self, store: Store) -> None:
        portal = await portal_of(store)
        new_id = await store.insert(
            portal, "orders", {"lid": "s1", "person_type_id": 1, "currency": "USD"},
            templates={"account_number": "{id}"},
        )  # fmt: skip
        assert (await store.get(portal, "orders", new_id) or {})["account_number"] == str(new_id)

    async def test_update_returns_the_row_after_the_change(self, store: Store) -> None:
        portal = await portal_of(store)
        o = await order(store, portal)
        row = await store.update(portal, "orders", o, {"comments": "x"})
        assert row is not None
        assert row["comments"] == "x"
        assert await store.update(portal, "orders", o + 99, {"comments": "x"}) is None

    async def test_list_filters_orders_pages_and_counts(self, store: Store) -> None:
        portal = await portal_of(store)
        ids = [await deal(store, portal) for _ in range(7)]
        query = ListQuery(
            "deals", portal, ["id"], conditions=(Condition("id", ">", ids[1]),),
            order=(("id", True),), offset=1, limit=3,
        )  # fmt: skip
        found = await store.list(query)
        assert [r["id"] for r in found.rows] == [ids[5], ids[4], ids[3]]
        assert found.total == 5


class TestGroups:
    async def test_a_failed_step_leaves_nothing_and_the_rest_commits(self, store: Store) -> None:
        portal = await portal_of(store)
        made: list[int] = []

        async def failing_step(group: Group) -> None:
            async with group.step():
                made.append(await deal(store, portal))
                raise RuntimeError("command failed")

        async with store.group() as group:
            async with group.step():
                kept = await deal(store, portal)
            with pytest.raises(RuntimeError):
                await failing_step(group)
        assert await store.get(portal, "deals", kept) is not None
        assert await store.get(portal, "deals", made[0]) is None

    async def test_an_error_out_of_the_group_undoes_everything(self, store: Store) -> None:
        portal = await portal_of(store)
        made: list[int] = []

        async def failing_group() -> None:
            async with store.group() as group:
                async with group.step():
                    made.append(await deal(store, portal))
                raise StoreUnavailable("lost the disk")

        with pytest.raises(StoreUnavailable):
            await failing_group()
        assert await store.get(portal, "deals", made[0]) is None

    async def test_other_tasks_never_see_a_group_half_done(self, store: Store) -> None:
        """Another task (another request) sees the state before the group or after it, never
        between two steps; SQLite makes it wait, PostgreSQL answers from the last commit."""
        portal = await portal_of(store)
        seen: list[int] = []

        async def reader() -> None:
            seen.append((await store.list(ListQuery("deals", portal, ["id"]))).total or 0)

        async with store.group() as group:
            async with group.step():
                await deal(store, portal)
            task = asyncio.ensure_future(reader())
            await asyncio.sleep(0.05)  # the reader runs now: it waits, or reads the old state
            assert seen in ([], [0])
            async with group.step():
                await deal(store, portal)
        await task
        assert seen in ([0], [2])
        await reader()
        assert seen[-1] == 2

    async def test_a_step_the_database_refused_leaves_the_group_usable(self, store: Store) -> None:
        portal = await portal_of(store)
        taken = await deal(store, portal)

        async def duplicate(group: Group) -> None:
            async with group.step():
                await store.insert_with_id(portal, "deals", {"id": taken, "title": "again"})

        async with store.group() as group:
            with pytest.raises(INTEGRITY_ERRORS):
                await duplicate(group)
            async with group.step():
                later = await deal(store, portal)
        assert await store.get(portal, "deals", later) is not None
        assert (await store.get(portal, "deals", taken) or {})["title"] == "d"


class TestSQLiteGroups:
    async def test_other_tasks_wait_for_the_group_and_see_only_its_result(
        self, tmp_path: Path
    ) -> None:
        """One SQLite connection serves the process: other tasks queue behind a group."""
        store = SQLiteStore(f"sqlite:///{tmp_path / 'group.db'}")
        await store.open()
        try:
            portal = await portal_of(store)
            seen: list[int] = []

            async def reader() -> None:
                seen.append((await store.list(ListQuery("deals", portal, ["id"]))).total or 0)

            async with store.group() as group:
                async with group.step():
                    await deal(store, portal)
                task = asyncio.ensure_future(reader())
                await asyncio.sleep(0.01)  # the reader runs now, and must wait for the group
                assert seen == []
                async with group.step():
                    await deal(store, portal)
            await task
            assert seen == [2]
        finally:
            await store.close()


class TestOrdering:
    """Both stores answer a list identically, NULLs and letter case included (SQLite's order)."""

    async def test_nulls_sort_first_ascending_and_last_descending(self, store: Store) -> None:
        portal = await portal_of(store)
        empty = await store.insert(portal, "deals", {"title": "no probability"})
        low = await store.insert(portal, "deals", {"title": "low", "probability": 10})
        high = await store.insert(portal, "deals", {"title": "high", "probability": 90})

        async def ids(descending: bool) -> list[int]:
            query = ListQuery(
                "deals", portal, ["id"], order=(("probability", descending), ("id", False))
            )
            return [row["id"] for row in (await store.list(query)).rows]

        assert await ids(False) == [empty, low, high]
        assert await ids(True) == [high, low, empty]

    async def test_text_sorts_by_code_point_and_like_folds_ascii_case_only(
        self, store: Store
    ) -> None:
        portal = await portal_of(store)
        titles = ["b", "B", "a", "_x", "Ärger", "ärger", "A"]
        for title in titles:
            await store.insert(portal, "deals", {"title": title})
        listed = await store.list(
            ListQuery("deals", portal, ["title"], order=(("title", False),), limit=None)
        )
        assert [row["title"] for row in listed.rows] == sorted(titles)  # code point order
        matching = await store.list(
            ListQuery(
                "deals", portal, ["title"], conditions=(Condition("title", "like", "a%"),),
                order=(("title", False),), limit=None,
            )
        )  # fmt: skip
        assert [row["title"] for row in matching.rows] == ["A", "a"]

    async def test_like_on_an_integer_column_matches_its_decimal_text(self, store: Store) -> None:
        portal = await portal_of(store)
        ids = [await deal(store, portal) for _ in range(12)]
        ten = await store.list(
            ListQuery(
                "deals", portal, ["id"],
                conditions=(Condition("id", "like", f"%{ids[9] % 10}", as_text=True),),
                limit=None,
            )
        )  # fmt: skip
        assert ids[9] in [row["id"] for row in ten.rows]
        assert all(str(row["id"]).endswith(str(ids[9] % 10)) for row in ten.rows)


class TestSchema:
    async def test_a_fresh_database_is_at_the_latest_version(self, store: Store) -> None:
        found, known = await store.schema()
        assert found == known >= 1

    async def test_pending_migrations_apply_unless_upgrade_is_off(
        self, database_url: str, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await store.close()
        real = migrations.migrations
        future = migrations.Migration(99, "future", "CREATE TABLE future_table (id INTEGER)")

        def with_one_more(engine: migrations.Engine) -> list[migrations.Migration]:
            steps = real(engine)
            return [*steps, migrations.Migration(len(steps) + 1, future.name, future.sql)]

        monkeypatch.setattr(migrations, "migrations", with_one_more)
        refusing = create_store(Settings(database=database_url))
        with pytest.raises(migrations.SchemaTooOld):
            await refusing.open(upgrade=False)
        upgrading = create_store(Settings(database=database_url))
        await upgrading.open()
        found, known = await upgrading.schema()
        await upgrading.close()
        assert found == known

        monkeypatch.setattr(migrations, "migrations", real)
        older_code = create_store(Settings(database=database_url))
        with pytest.raises(migrations.SchemaTooNew):
            await older_code.open()

    async def test_stores_opening_together_migrate_once(
        self, more_databases: Callable[[], str]
    ) -> None:
        url = more_databases()
        stores = [create_store(Settings(database=url)) for _ in range(4)]
        await asyncio.gather(*(s.open() for s in stores))
        try:
            assert {await s.schema() for s in stores} == {(await stores[0].schema())}
            found, known = await stores[0].schema()
            assert found == known
            portals = await asyncio.gather(*(s.bootstrap(now=0.0) for s in stores))
            assert [created for _, created in portals].count(True) == 1
            assert len({portal for portal, _ in portals}) == 1
        finally:
            for s in stores:
                await s.close()


class TestConcurrency:
    """Several stores on one database, as several server processes: each invariant holds."""

    async def test_concurrent_adds_for_one_order_leave_one_binding(
        self, store: Store, database_url: str
    ) -> None:
        portal = await portal_of(store)
        o = await order(store, portal)
        deals = [await deal(store, portal) for _ in range(20)]
        async with more_stores(database_url, 3) as others:
            outcomes = await asyncio.gather(
                *(
                    others[n % 3].add_binding(portal, Binding(o, 2, d), owner_table="deals")
                    for n, d in enumerate(deals)
                )
            )
        assert outcomes.count(AddBinding.ADDED) == 1
        assert outcomes.count(AddBinding.REPLACED) == 19
        rows = await store.list(ListQuery("bindings", portal, ["order_id", "owner_id"]))
        assert rows.total == 1
        assert rows.rows[0]["owner_id"] in deals

    async def test_an_owner_deleted_during_adds_leaves_no_binding_to_it(
        self, store: Store, database_url: str
    ) -> None:
        portal = await portal_of(store)
        orders = [await order(store, portal) for _ in range(8)]
        async with more_stores(database_url, 3) as (adder, other_adder, deleter):
            for _ in range(10):
                d = await deal(store, portal)
                first = [
                    (adder if n % 2 else other_adder).add_binding(
                        portal, Binding(o, 2, d), owner_table="deals"
                    )
                    for n, o in enumerate(orders)
                ]
                # The delete starts between the first half of the adds and the second.
                added = await asyncio.gather(
                    *first[:4], deleter.delete(portal, "deals", d), *first[4:]
                )
                assert added.pop(4) is True  # the deal was deleted
                assert set(added) <= {AddBinding.ADDED, AddBinding.REPLACED, AddBinding.NO_OWNER}
                dangling = await store.list(
                    ListQuery("bindings", portal, ["order_id"],
                              conditions=(Condition("owner_id", "=", d),))
                )  # fmt: skip
                assert dangling.total == 0, added

    async def test_a_deleted_order_never_keeps_a_binding(
        self, store: Store, database_url: str
    ) -> None:
        portal = await portal_of(store)
        d = await deal(store, portal)
        async with more_stores(database_url, 2) as (adder, deleter):
            for _ in range(10):
                o = await order(store, portal)
                outcomes = await asyncio.gather(
                    adder.add_binding(portal, Binding(o, 2, d), owner_table="deals"),
                    deleter.delete(portal, "orders", o),
                    adder.add_binding(portal, Binding(o, 2, d), owner_table=None),
                )
                assert outcomes[1] is True
                assert {outcomes[0], outcomes[2]} <= {
                    AddBinding.ADDED, AddBinding.DUPLICATE, AddBinding.NO_ORDER
                }  # fmt: skip
        rows = await store.list(ListQuery("bindings", portal, ["order_id"]))
        assert rows.total == 0

    async def test_concurrent_users_get_distinct_consecutive_ids(
        self, store: Store, database_url: str
    ) -> None:
        portal = await portal_of(store)
        async with more_stores(database_url, 3) as others:
            users = await asyncio.gather(
                *(others[n % 3].add_user(portal, f"u{n}", 0) for n in range(12))
            )
        assert sorted(u.id for u in users) == list(range(2, 14))
        for user in users:
            assert await store.get_user(portal, user.id) == user

    async def test_every_acknowledged_insert_is_kept(self, store: Store, database_url: str) -> None:
        portal = await portal_of(store)
        async with more_stores(database_url, 3) as others:
            ids = await asyncio.gather(
                *(
                    others[n % 3].insert(portal, "orders", {"lid": "s1", "person_type_id": 1,
                                                            "currency": "USD"},
                                         templates={"account_number": "{id}"})
                    for n in range(30)
                )
            )  # fmt: skip
        assert len(set(ids)) == 30
        listed = await store.list(ListQuery("orders", portal, ["id", "account_number"], limit=None))
        assert {(r["id"], r["account_number"]) for r in listed.rows} == {(i, str(i)) for i in ids}

    async def test_auth_changes_by_another_store_change_the_auth_version(
        self, store: Store, database_url: str
    ) -> None:
        portal = await portal_of(store)
        assert await store.auth_version() == await store.auth_version()  # caches can hit
        before = await store.auth_version()
        async with more_stores(database_url, 1) as (other,):
            await other.add_webhook(portal, 1, "c" * 64, ("crm",), 0.0)
            for _ in range(100):  # another process's change shows within a notification's time
                if await store.auth_version() != before:
                    break
                await asyncio.sleep(0.02)
            assert await store.auth_version() != before
            settled = await store.auth_version()
            await other.add_user(portal, "late", 1)
            for _ in range(100):
                if await store.auth_version() != settled:
                    break
                await asyncio.sleep(0.02)
            assert await store.auth_version() != settled


class TestCopy:
    async def test_dump_pages_by_key_and_load_skips_present_keys(
        self, store: Store, more_databases: Callable[[], str]
    ) -> None:
        portal = await portal_of(store)
        o1, o2, d = (
            await order(store, portal),
            await order(store, portal),
            await deal(store, portal),
        )
        await store.add_binding(portal, Binding(o1, 2, d), owner_table="deals")
        await store.add_binding(portal, Binding(o2, 2, d), owner_table="deals")
        invoice = await legacy_invoice(store, portal)
        await store.add_webhook(portal, 1, "w" * 64, ("crm",), 5.0)
        target = create_store(Settings(database=more_databases()))
        await target.open()
        try:
            for table in COPY_TABLES:
                rows, after = [], None
                while page := await store.dump(table, after, 1):
                    rows.extend(page)
                    after = tuple(page[-1][key] for key in COPY_TABLES[table])
                assert len(rows) == await store.count(table)
                assert await target.load(table, rows) == len(rows)
                assert await target.load(table, rows) == 0  # safe to re-run
                assert await target.count(table) == len(rows)
                assert await target.dump(table, None, 1000) == rows
            assert [(w.code_hash, w.created_at) for w in await target.list_webhooks(portal)] == [
                ("w" * 64, 5.0)
            ]
            # Id sequences moved past the loaded ids.
            assert await order(target, portal) > o2
            assert await legacy_invoice(target, portal) > invoice
            assert (await target.add_user(portal, "next", 0)).id == 2
        finally:
            await target.close()
