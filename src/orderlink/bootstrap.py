"""First start: the default portal, user 1 (portal and store administrator) and an admin webhook.

With `seed_examples`, an empty portal also gets the rows the docs' examples name, so that the
curl examples on the crm.orderentity.* pages answer exactly as printed: orders 5125, 5127 and
5128 bound to deals 6933, 6937 and 6938 (crm-order-entity-list.md's sample answer).
"""

from __future__ import annotations

from dataclasses import dataclass

from orderlink import entity_types
from orderlink.auth import hash_secret, new_webhook_code
from orderlink.clock import Clock
from orderlink.rules import funnels
from orderlink.settings import Settings
from orderlink.storage.base import Binding, Portal, Store

ADMIN_SCOPES = ("crm", "sale", "userfieldconfig")
BASE_URL = "base_url"  # the `server_info` key `serve` records its base URL under
EXAMPLE_BINDINGS = ((5125, 6933), (5127, 6937), (5128, 6938))


@dataclass(frozen=True, slots=True)
class Started:
    portal: Portal
    # The admin webhook's code, only when this start created it (only its hash is stored).
    webhook_code: str | None


async def ensure_portal(store: Store, settings: Settings, clock: Clock) -> Portal:
    """The default portal, created with user 1 (and the example rows) on an empty database."""
    portal, created = await store.bootstrap(now=clock.now())
    await ensure_funnels(store, portal.id)
    if created and settings.seed_examples:
        await seed_examples(store, portal.id, clock)
    return portal


async def ensure_funnels(store: Store, portal_id: int) -> None:
    """The general deal funnel (id 0) and its stages, which every portal has
    (crm-category-list.md, crm-status-list.md); written once, on the portal's first start (or
    its first start since the funnel tables came)."""
    if await store.get(portal_id, "deal_categories", 0) is not None:
        return
    try:
        # One transaction, so a crash never leaves stages without their funnel.
        async with store.group() as group, group.step():
            await store.insert(portal_id, "deal_categories", dict(funnels.GENERAL))
            for stage in funnels.default_stages(0):
                await store.insert(portal_id, "crm_statuses", stage)
    except Exception:
        # Two processes starting on one database: the other wrote them first, and the unique
        # keys refused ours. Theirs stand; anything else is a real failure.
        if await store.get(portal_id, "deal_categories", 0) is None:
            raise


async def bootstrap(store: Store, settings: Settings, clock: Clock) -> Started:
    """What `orderlink serve` does first: the default portal, the base URL it serves on (for
    the other commands, `served_base_url`), and an admin webhook for user 1 when the portal has
    no active webhook at all (its code is shown only now)."""
    portal = await ensure_portal(store, settings, clock)
    await store.set_info(BASE_URL, settings.public_base_url(), clock.now())
    if any(w.active for w in await store.list_webhooks(portal.id)):
        return Started(portal, None)
    code = new_webhook_code()
    await store.add_webhook(portal.id, 1, hash_secret(code), ADMIN_SCOPES, clock.now())
    return Started(portal, code)


async def seed_examples(store: Store, portal_id: int, clock: Clock) -> None:
    now = int(clock.now())
    for order_id, deal_id in EXAMPLE_BINDINGS:
        await store.insert_with_id(
            portal_id,
            "orders",
            {
                "id": order_id,
                "lid": "s1",
                "person_type_id": 1,
                "currency": "USD",
                "account_number": str(order_id),
                "date_insert": now,
                "date_update": now,
                "date_status": now,
                "user_id": 1,
                "responsible_id": 1,
                "emp_status_id": 1,
            },
        )
        await store.insert_with_id(
            portal_id,
            "deals",
            {
                "id": deal_id,
                "title": f"Deal #{deal_id}",
                "currency_id": "USD",
                "assigned_by_id": 1,
                "created_by_id": 1,
                "modify_by_id": 1,
                "date_create": now,
                "date_modify": now,
                "begindate": now,
                "closedate": now + 7 * 86400,
            },
        )
        await store.add_binding(
            portal_id, Binding(order_id, entity_types.DEAL, deal_id), owner_table="deals"
        )


def webhook_url(base_url: str, user_id: int, code: str) -> str:
    return f"{base_url.rstrip('/')}/rest/{user_id}/{code}/"


async def served_base_url(store: Store, settings: Settings) -> str:
    """The base URL for printed links: `--base-url` when given, else the one the last `serve`
    on this database recorded, else what `--host`/`--port` would give."""
    if settings.base_url:
        return settings.public_base_url()
    return await store.info(BASE_URL) or settings.public_base_url()
