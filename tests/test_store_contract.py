"""The Store contract (storage/base.py), one suite run against every store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orderlink.storage.base import (
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


@pytest.fixture(params=["sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store = SQLiteStore(f"sqlite:///{tmp_path / 'contract.db'}")
    await opened.open()
    yield opened
    await opened.close()


async def portal_of(store: Store) -> int:
    portal, _ = await store.bootstrap(now=0.0)
    return portal.id


async def order(store: Store, portal: int) -> int:
    return await store.insert(
        portal, "orders", {"lid": "s1", "person_type_id": 1, "currency": "USD"}
    )


async def deal(store: Store, portal: int) -> int:
    return await store.insert(portal, "deals", {"title": "d"})


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

    async def test_portals_never_see_each_others_rows(self, store: Store) -> None:
        portal = await portal_of(store)
        o = await order(store, portal)
        assert await store.get(portal + 1, "orders", o) is None
        assert not await store.delete(portal + 1, "orders", o)
        assert (await store.list(ListQuery("orders", portal + 1, ["id"]))).total == 0


class TestEntities:
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

    async def test_other_tasks_wait_for_the_group_and_see_only_its_result(
        self, store: Store
    ) -> None:
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
