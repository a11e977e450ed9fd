"""Every method orderlink serves: one table per Bitrix24 namespace, merged into one registry."""

from __future__ import annotations

from orderlink import batch
from orderlink.methods import (
    crm_category,
    crm_company,
    crm_contact,
    crm_contact_company,
    crm_deal,
    crm_deal_contact,
    crm_dealcategory,
    crm_duplicate,
    crm_invoice,
    crm_item,
    crm_productrow,
    crm_status,
    crm_type,
    crm_userfield,
    events,
    orderentity,
    portal,
    sale_basketitem,
    sale_order,
    sale_payment,
    sale_persontype,
    sale_property,
    sale_services,
    sale_shipment,
    user,
    userfieldconfig,
)
from orderlink.registry import Registry

TABLES = (
    orderentity.table,
    sale_order.table,
    sale_persontype.table,
    sale_property.table,
    sale_basketitem.table,
    sale_payment.table,
    sale_shipment.table,
    sale_services.table,
    crm_deal.table,
    crm_deal_contact.table,
    crm_contact.table,
    crm_company.table,
    crm_contact_company.table,
    crm_duplicate.table,
    crm_userfield.table,
    crm_invoice.table,
    crm_item.table,
    crm_category.table,
    crm_dealcategory.table,
    crm_status.table,
    crm_productrow.table,
    crm_type.table,
    portal.table,
    user.table,
    events.table,
    userfieldconfig.table,
)


def build_registry() -> Registry:
    """The one registry; a name registered twice fails here, at start-up."""
    return Registry(batch.table, *TABLES)
