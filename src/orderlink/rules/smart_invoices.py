"""Smart-invoice rules (crm.item entityTypeId 31): api-reference/crm/universal/invoice.md,
crm-item-add.md."""

from __future__ import annotations

from datetime import tzinfo

from orderlink.entity_types import SMART_INVOICE
from orderlink.records.days import today
from orderlink.rules.deals import moved_to, sync_contacts
from orderlink.rules.portal import BASE_CURRENCY
from orderlink.storage.base import Row


def first_stage(category: int) -> str:
    """invoice.md: smart-invoice stages are `DT31_{categoryId}:{status}`, `N` the first."""
    return f"DT{SMART_INVOICE}_{category}:N"


def new_invoice(columns: Row, *, user: int, now: float, zone: tzinfo) -> Row:
    """A new invoice's columns: crm-item-add.md's invoice defaults under the request's values."""
    stamp = int(now)
    values: Row = {
        "category_id": 0,
        "currency_id": BASE_CURRENCY,
        "opened": "Y",
        "assigned_by_id": user,
        "created_by": user,
        "updated_by": user,
        "moved_by": user,
        "created_time": stamp,
        "updated_time": stamp,
        "moved_time": stamp,
        "last_activity_time": stamp,
        "last_activity_by": user,
        "begindate": today(now, zone),
        "closedate": today(now, zone, plus_days=7),
    }
    values.update({k: v for k, v in columns.items() if v is not None})
    sync_contacts(values)
    if not values.get("stage_id"):
        values["stage_id"] = first_stage(values["category_id"])
    return values


def changed_invoice(old: Row, columns: Row, *, user: int, now: float) -> Row:
    """The columns an update writes: the request's, the stage move it implies, who and when."""
    values = dict(columns)
    stamp = int(now)
    sync_contacts(values)
    stage = moved_to(old, values, first_stage)
    if stage:
        values.update(
            stage_id=stage, previous_stage_id=old["stage_id"], moved_by=user, moved_time=stamp
        )
    values.update(updated_by=user, updated_time=stamp)
    return values
