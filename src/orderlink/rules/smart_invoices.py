"""Smart-invoice rules (crm.item entityTypeId 31): api-reference/crm/universal/invoice.md,
crm-item-add.md. A smart invoice is a smart process of its own (`rules.smart_processes`) whose
stages are `DT31_{categoryId}:{status}`."""

from __future__ import annotations

from datetime import tzinfo

from orderlink.entity_types import SMART_INVOICE
from orderlink.rules.smart_processes import changed_item, new_item
from orderlink.storage.base import Row


def first_stage(category: int) -> str:
    """invoice.md: smart-invoice stages are `DT31_{categoryId}:{status}`, `N` the first."""
    return f"DT{SMART_INVOICE}_{category}:N"


def new_invoice(columns: Row, *, user: int, now: float, zone: tzinfo) -> Row:
    """A new invoice's columns: crm-item-add.md's invoice defaults under the request's values."""
    return new_item(columns, first=first_stage, user=user, now=now, zone=zone)


def changed_invoice(old: Row, columns: Row, *, user: int, now: float) -> Row:
    """The columns an update writes: the request's, the stage move it implies, who and when."""
    return changed_item(old, columns, first=first_stage, user=user, now=now)
