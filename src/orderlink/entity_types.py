"""CRM object types by their entityTypeId (api-reference/crm/data-types.md, "Object Types"):
the one place these numbers are written."""

from __future__ import annotations

LEAD = 1
DEAL = 2
CONTACT = 3
COMPANY = 4
LEGACY_INVOICE = 5  # the old invoice of crm.invoice.* (entityTypeId 5)
QUOTE = 7
SMART_INVOICE = 31  # the invoice of crm.item.* (api-reference/crm/universal/invoice.md)
