"""A deal's funnel as the store holds it: the stages a deal family checks and moves through.

Pages: api-reference/crm/deals/crm-deal-add.md and crm/universal/crm-item-add.md (STAGE_ID is a
`DEAL_STAGE` / `DEAL_STAGE_{categoryId}` value of crm.status.*).
"""

from __future__ import annotations

from collections.abc import Callable

from orderlink import errors
from orderlink.registry import Call
from orderlink.rules import deals
from orderlink.rules.funnels import Funnel, stage_entity
from orderlink.storage.base import Condition, ListQuery, Row


async def funnel(call: Call, category: int) -> Funnel | None:
    """Funnel `category`'s stages in SORT order; None when there is no such funnel."""
    if category < 0 or await call.store.get(call.portal, "deal_categories", category) is None:
        return None
    found = await call.store.list(
        ListQuery(
            table="crm_statuses",
            portal_id=call.portal,
            columns=["status_id", "semantics"],
            conditions=[Condition("entity_id", "=", stage_entity(category))],
            order=[("sort", False), ("id", False)],
            limit=None,
            count=False,
        )
    )
    return Funnel(category, [(row["status_id"], row["semantics"]) for row in found.rows])


async def deal_funnel(
    call: Call,
    old: Row | None,
    columns: Row,
    *,
    bad_category: Callable[[], errors.B24Error],
    bad_stage: Callable[[], errors.B24Error],
) -> Funnel:
    """The funnel a deal write lands in; its STAGE_ID must be one of that funnel's stages."""
    found = await funnel(call, deals.target_category(old, columns))
    if found is None:
        raise bad_category()
    stage = columns.get("stage_id")
    if stage and not found.has(stage):
        raise bad_stage()
    return found
