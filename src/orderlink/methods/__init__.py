"""Every method orderlink serves: one table per Bitrix24 namespace, merged into one registry."""

from __future__ import annotations

from orderlink import batch
from orderlink.methods import (
    crm_deal,
    crm_invoice,
    crm_item,
    crm_productrow,
    events,
    orderentity,
    portal,
    sale_order,
)
from orderlink.registry import Registry

TABLES = (
    orderentity.table,
    sale_order.table,
    crm_deal.table,
    crm_invoice.table,
    crm_item.table,
    crm_productrow.table,
    portal.table,
    events.table,
)


def build_registry() -> Registry:
    """The one registry; a name registered twice fails here, at start-up."""
    return Registry(batch.table, *TABLES)
