"""crm.item.*: deals (entityTypeId 2, the same `deals` rows crm.deal.* reads), contacts and
companies (3 and 4, crm.contact.*'s and crm.company.*'s rows), smart invoices (31) and the smart
processes a portal adds (crm.type.*), in crm.item's camelCase, typed view (`families.items`).

Pages: api-reference/crm/universal/{crm-item-add,crm-item-get,crm-item-list,crm-item-update,
crm-item-delete,crm-item-fields,object-fields,invoice,index}.md. Neither the deal's nor the
invoice's crm.item.fields answer is documented: descriptors follow crm-deal-fields.md (deals) and
the smart-process example of crm-item-fields.md (invoices, smart processes).
"""

from __future__ import annotations

from typing import Any

from orderlink import coerce, errors
from orderlink.entity_types import COMPANY, CONTACT, DEAL, LEGACY_INVOICE, SMART_INVOICE
from orderlink.families import smart_processes, stages
from orderlink.families.crm_fields import (
    DEAL_FIELDS,
    DEAL_USER_FIELDS,
    UTM,
    smart_item_fields,
    universal,
)
from orderlink.families.family import Family
from orderlink.families.handlers import crud, serve
from orderlink.families.items import check_values, item_family
from orderlink.methods import crm_item_customers
from orderlink.records.custom_fields import PARENTS, UF
from orderlink.records.reading import Changes
from orderlink.registry import Call, MethodTable
from orderlink.rules import deals, smart_invoices
from orderlink.schema import Schema
from orderlink.storage.base import Row

table = MethodTable(scope="crm", docs="api-reference/crm/universal/")

DEAL_SCHEMA = Schema("deals", DEAL_FIELDS)

# crm-item-add.md's answer, key by key; the keys that are no schema field are the fields the
# object-fields.md page calls disabled ("always return null").
DEAL_LAYOUT = (
    "id", "createdTime", "dateCreateShort", "updatedTime", "dateModifyShort", "createdBy",
    "updatedBy", "assignedById", "opened", "leadId", "companyId", "contactId", "quoteId", "title",
    "productId", "categoryId", "stageId", "stageSemanticId", "isNew", "isRecurring",
    "isReturnCustomer", "isRepeatedApproach", "closed", "typeId", "opportunity",
    "isManualOpportunity", "taxValue", "currencyId", "probability", "comments", "begindate",
    "begindateShort", "closedate", "closedateShort", "eventDate", "eventDateShort", "eventId",
    "eventDescription", "locationId", "webformId", "sourceId", "sourceDescription",
    "originatorId", "originId", "additionalInfo", "searchContent", "orderStage", "movedBy",
    "movedTime", "lastActivityBy", "lastActivityTime", "isWork", "isWon", "isLose",
    "receivedAmount", "lostAmount", "hasProducts", UF, PARENTS, "utmSource",
    "utmMedium", "utmCampaign", "utmContent", "utmTerm", "observers", "contactIds",
    "entityTypeId",
)  # fmt: skip

# Smart-invoice fields: object-fields.md's common and invoice sections; the ones every smart
# process has are described as crm-item-fields.md's smart-process example prints them.
INVOICE_SCHEMA = Schema(
    "invoices",
    [
        *smart_item_fields((
            "id", "xmlId", "title", "createdBy", "updatedBy", "movedBy", "createdTime",
            "updatedTime", "movedTime", "categoryId", "opened", "stageId", "previousStageId",
            "begindate", "closedate", "companyId", "contactId", "opportunity",
            "isManualOpportunity", "taxValue", "currencyId", "mycompanyId", "sourceId",
            "sourceDescription", "webformId", "assignedById", "lastActivityBy",
            "lastActivityTime"), "SMART_INVOICE_STAGE_0"),
        universal("accountNumber", "account_number", "text", "string", "Invoice number"),
        universal("comments", "comments", "text", "text", "Comment"),
        universal("locationId", "location_id", "text", "location", "Location"),
        universal("parentId2", "parent_id2", "int", "crm_entity", "Deal", upper="PARENT_ID_2",
                  settings={"parentEntityTypeId": DEAL}),
        *UTM,
        *smart_item_fields(("observers", "contactIds"), ""),
    ],
)  # fmt: skip

# No invoice answer is documented; this follows a smart-process item: schema order, parent
# links next to `parentId2`, custom fields before the UTM fields, `entityTypeId` last.
_INVOICE_FIELDS = [f.name for f in INVOICE_SCHEMA]
_AT_PARENT = _INVOICE_FIELDS.index("parentId2") + 1
INVOICE_LAYOUT = (
    *_INVOICE_FIELDS[:_AT_PARENT], PARENTS, UF, *_INVOICE_FIELDS[_AT_PARENT:],
    "entityTypeId",
)  # fmt: skip


async def _invoice_check(call: Call, changes: Changes) -> None:
    """The common checks, and `parentId2` names a deal that exists (0: none)."""
    await check_values(call, changes)
    columns = changes.columns
    deal = columns.get("parent_id2")
    if deal is not None and deal != 0:
        if await call.store.get(call.portal, "deals", deal) is None:
            raise errors.FieldValueNotValid("parentId2")
    elif "parent_id2" in columns:
        columns["parent_id2"] = None


async def _deal_extras(call: Call, old: Row | None, columns: Row) -> dict[str, Any]:
    funnel = await stages.deal_funnel(
        call, old, columns,
        bad_category=lambda: errors.FieldValueNotValid("categoryId"),
        bad_stage=lambda: errors.FieldValueNotValid("stageId"),
    )  # fmt: skip
    return {"funnel": funnel}


TYPES: dict[int, Family] = {
    DEAL: item_family(DEAL, DEAL_SCHEMA, DEAL_LAYOUT, new=deals.new_deal,
                      changed=deals.changed_deal, title="Deal", extras=_deal_extras,
                      user_fields=DEAL_USER_FIELDS),
    CONTACT: crm_item_customers.CONTACTS,
    COMPANY: crm_item_customers.COMPANIES,
    SMART_INVOICE: item_family(SMART_INVOICE, INVOICE_SCHEMA, INVOICE_LAYOUT,
                               new=smart_invoices.new_invoice,
                               changed=smart_invoices.changed_invoice, title="Invoice",
                               user_fields=smart_processes.SMART_INVOICE_FIELDS,
                               check=_invoice_check),
}  # fmt: skip


async def _entity(call: Call) -> Family:
    """The family of the call's `entityTypeId`: a type of this module, or a smart process the
    portal added (crm.type.add)."""
    raw = call.params.get("entityTypeId")
    if raw is None or raw == "":
        raise errors.MissingParameter("entityTypeId")
    type_id = coerce.to_int(raw)
    if type_id == LEGACY_INVOICE:
        # invoice.md: crm.item.* answer ENTITY_TYPE_NOT_SUPPORTED for old invoices; the
        # crm.category pages word it "Entity type `{entityTypeName}` is not supported".
        raise errors.EntityTypeNotSupported("Entity type INVOICE is not supported")
    if type_id is None:
        raise errors.SmartProcessNotFound()
    found = TYPES.get(type_id)
    if found is None:
        found = await smart_processes.item_family_of(call, type_id)
    if found is None:
        raise errors.SmartProcessNotFound()
    return found


serve(
    table,
    _entity,
    crud(
        "crm.item",
        "crm-item",
        add="Create an item of a CRM type or smart process; answers the new item whole.",
        get="One deal, contact, company, smart invoice or smart-process item.",
        update="Change the fields given; when nothing changes, nothing is saved.",
        delete="Delete an item and the bindings of orders to it; answers an empty array.",
        list="Items matching a filter, 50 per page, ascending by id unless told otherwise.",
        fields="The type's fields with their descriptors, `upperName` included.",
    ),
)
