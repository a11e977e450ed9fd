"""A benchmark database: orderlink's own schema, a known webhook, N orders, deals and bindings.

Order i is bound to deal i (ownerTypeId 2). Rows are bulk-inserted in one transaction (a fixture,
not a code path under test).

    python bench/populate.py --database bench.db --bindings 100000
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time

from orderlink.auth import hash_secret
from orderlink.clock import SystemClock
from orderlink.storage.sqlite import SQLiteStore

WEBHOOK_CODE = "benchbenchbench1"


async def _schema(path: str) -> int:
    store = SQLiteStore(f"sqlite:///{path}")
    await store.open()
    try:
        portal, _ = await store.bootstrap(now=SystemClock().now())
        if not await store.list_webhooks(portal.id):
            await store.add_webhook(portal.id, 1, hash_secret(WEBHOOK_CODE), ("crm", "sale"), 0.0)
        return portal.id
    finally:
        await store.close()


def populate(path: str, bindings: int) -> None:
    portal_id = asyncio.run(_schema(path))
    conn = sqlite3.connect(path, isolation_level=None)
    now = int(time.time())
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT OR IGNORE INTO orders (id, portal_id, lid, person_type_id, currency, "
        "date_insert, date_update, account_number) VALUES (?, ?, 's1', 1, 'USD', ?, ?, ?)",
        ((i, portal_id, now, now, str(i)) for i in range(1, bindings + 1)),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO deals (id, portal_id, title, date_create) VALUES (?, ?, ?, ?)",
        ((i, portal_id, f"Deal #{i}", now) for i in range(1, bindings + 1)),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO bindings (portal_id, order_id, owner_type_id, owner_id) "
        "VALUES (?, ?, 2, ?)",
        ((portal_id, i, i) for i in range(1, bindings + 1)),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--bindings", type=int, default=100_000)
    args = parser.parse_args()
    populate(args.database, args.bindings)


if __name__ == "__main__":
    main()
