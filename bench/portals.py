"""Portal lifecycle timings (issues 15 and 17: create, reset and restore a portal; targets p50
<= 20 ms on SQLite and <= 50 ms on PostgreSQL with 5,000 rows in the portal; a suite of 1,000
tests with a new portal each < 30 s of portal work).

    python bench/portals.py [--rows 5000] [--tries 30] [--postgres URL]

In process, on the store and portals.py (what the CLI and the admin API call), each operation
timed alone with a monotonic clock; the portal holds `--rows` rows spread over deals,
contacts, orders, basket items and bindings. p50 and p90 per operation and store:
- `restore`: after what a test does (untimed: 5 deals added, 5 changed, 5 bindings
  deleted, 2 orders changed), the snapshot back;
- `restore-all`: after a reset, every row back (the worst case);
- `per-test`: what the pytest plugin does around each test, a portal created and deleted;
  x1000 is the suite's portal work.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from orderlink import portals
from orderlink.clock import SystemClock
from orderlink.settings import Settings
from orderlink.storage import create_store
from orderlink.storage.base import Binding, Store

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


async def fill(store: Store, portal_id: int, rows: int) -> list[Binding]:
    """About `rows` rows: per order one deal, one contact, one basket item and a binding."""
    made = []
    async with store.group() as group, group.step():
        for _ in range(max(rows // 5, 1)):
            order = await store.insert(
                portal_id, "orders", {"lid": "s1", "person_type_id": 1, "currency": "USD"}
            )
            deal = await store.insert(portal_id, "deals", {"title": "deal"})
            await store.insert(portal_id, "contacts", {"name": "Ann"})
            await store.insert(portal_id, "basket_items", {"order_id": order, "quantity": 1.0})
            made.append(Binding(order, 2, deal))
            await store.add_binding(portal_id, made[-1], owner_table="deals")
    return made


async def a_tests_changes(store: Store, portal_id: int, bindings: list[Binding]) -> None:
    """What one test might write: 5 deals added, 5 changed, 5 bindings gone, 2 orders changed."""
    for binding in bindings:
        await store.delete_binding(portal_id, binding)
    for n in range(5):
        await store.insert(portal_id, "deals", {"title": f"new {n}"})
    for binding in bindings:
        await store.update(portal_id, "deals", binding.owner_id, {"title": "changed"})
    for binding in bindings[:2]:
        await store.update(portal_id, "orders", binding.order_id, {"comments": "changed"})


async def timed(tries: int, step: Callable[[], Awaitable[Any]]) -> list[float]:
    spent = []
    for _ in range(tries):
        start = time.perf_counter()
        await step()
        spent.append((time.perf_counter() - start) * 1000)
    return spent


async def measure(url: str, rows: int, tries: int) -> dict[str, list[float]]:
    settings = Settings(database=url)
    clock = SystemClock()
    store = create_store(settings)
    await store.open()
    try:
        await store.bootstrap(now=clock.now())
        made = await portals.create(store, settings, clock)
        portal_id = made.portal.id
        sample = (await fill(store, portal_id, rows))[:5]
        await portals.snapshot(store, portal_id, "full", clock)
        created: list[int] = []

        async def create() -> None:
            created.append((await portals.create(store, settings, clock)).portal.id)

        async def reset_and_refill() -> None:
            await portals.reset(store, portal_id, clock)

        async def restore() -> None:
            await portals.restore(store, portal_id, "full")

        async def per_test() -> None:
            made = await portals.create(store, settings, clock)
            await portals.delete(store, made.portal.id)

        found = {
            "create": await timed(tries, create),
            "snapshot": await timed(tries, lambda: portals.snapshot(store, portal_id, "s", clock)),
            "per-test": await timed(tries, per_test),
        }
        changed, everything = [], []
        for _ in range(tries):
            await a_tests_changes(store, portal_id, sample)
            changed += await timed(1, restore)
            await portals.reset(store, portal_id, clock)
            everything += await timed(1, restore)
        found["restore"], found["restore-all"] = changed, everything
        resets = []
        for _ in range(tries):
            await portals.restore(store, portal_id, "full")
            resets += await timed(1, reset_and_refill)
        found["reset"] = resets
        for other in created:
            await portals.delete(store, other)
        return found
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--tries", type=int, default=30)
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        stores = {"sqlite": f"sqlite:///{Path(work) / 'bench.db'}"}
        if args.postgres:
            schema = f"bench_portals_{int(time.time())}"
            stores["postgres"] = f"{args.postgres}?schema={schema}"
        print(f"portal lifecycle, {args.rows} rows in the portal, {args.tries} tries (ms)")
        for name, url in stores.items():
            found = asyncio.run(measure(url, args.rows, args.tries))
            for op, spent in found.items():
                p50 = statistics.median(spent)
                p90 = statistics.quantiles(spent, n=10)[-1]
                print(f"{name:8} {op:11} p50 {p50:7.1f}  p90 {p90:7.1f}")
            suite = statistics.median(found["per-test"]) * 1000 / 1000
            print(f"{name:8} 1,000 tests x (create + delete): {suite:.1f} s of portal work")
            if name == "postgres":
                asyncio.run(_drop(args.postgres, url.rsplit("=", 1)[1]))
    sys.stdout.flush()


async def _drop(url: str, schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
