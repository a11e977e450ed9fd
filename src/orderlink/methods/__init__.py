"""Every method orderlink serves: one table per Bitrix24 namespace, merged into one registry."""

from __future__ import annotations

from orderlink import batch
from orderlink.methods import orderentity
from orderlink.registry import Registry

TABLES = (orderentity.table,)


def build_registry() -> Registry:
    """The one registry; a name registered twice fails here, at start-up."""
    return Registry(batch.table, *TABLES)
