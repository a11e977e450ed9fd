"""`Store.reset` leaves each portal as its first start made it (tests reset between examples):
payer types 1 and 2 (the bootstrap; migration 9 for older portals) and the general funnel with
its eight stages (bootstrap.ensure_funnels), nothing else, on both stores."""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.bootstrap import ensure_funnels
from orderlink.clock import FrozenClock
from orderlink.settings import Settings
from orderlink.storage import create_store
from orderlink.storage.base import ListQuery, Store, Table

pytestmark = pytest.mark.anyio


async def _rows(
    store: Store, portal_id: int, table: Table, columns: list[str]
) -> list[tuple[Any, ...]]:
    query = ListQuery(table, portal_id, columns, order=(("id", False),), limit=None)
    return [tuple(row.values()) for row in (await store.list(query)).rows]


async def test_reset_reseeds_what_a_new_portal_has(database_url: str) -> None:
    store = create_store(Settings(database=database_url))
    await store.open()
    try:
        portal, _ = await store.bootstrap(now=FrozenClock().now())
        await ensure_funnels(store, portal.id)
        columns: dict[Table, list[str]] = {
            "person_types": ["id", "name", "sort"],
            "deal_categories": ["id", "name", "sort", "is_default"],
            "crm_statuses": ["entity_id", "status_id", "name", "sort", "semantics"],
        }
        fresh = {t: await _rows(store, portal.id, t, c) for t, c in columns.items()}
        assert [r[0] for r in fresh["person_types"]] == [1, 2]
        assert len(fresh["crm_statuses"]) == 8
        await store.insert(portal.id, "person_types", {"name": "Reseller"})
        await store.insert(portal.id, "deal_categories", {"name": "Shop"})
        order = await store.insert(portal.id, "orders", {"lid": "s1", "person_type_id": 1,
                                                        "currency": "USD"})  # fmt: skip
        await store.insert(portal.id, "payments", {"order_id": order, "pay_system_id": 1})
        await store.insert(portal.id, "deals", {"title": "Deal"})
        await store.reset()
        assert {t: await _rows(store, portal.id, t, c) for t, c in columns.items()} == fresh
        for table in ("orders", "payments", "deals"):
            assert await _rows(store, portal.id, table, ["id"]) == []
        assert [u.id for u in await store.users(portal.id)] == [1]
    finally:
        await store.close()
