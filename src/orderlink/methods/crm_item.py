"""crm.item.*: smart invoices (entityTypeId 31) and deals (entityTypeId 2, the same `deals` rows
crm.deal.* reads) in crm.item's camelCase, typed view.

Pages: api-reference/crm/universal/{crm-item-add,crm-item-get,crm-item-list,crm-item-update,
crm-item-delete,crm-item-fields,object-fields,invoice,index}.md. Neither the deal's nor the
invoice's crm.item.fields answer is documented: descriptors follow crm-deal-fields.md (deals) and
the smart-process example of crm-item-fields.md (invoices).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from orderlink import coerce, errors, events
from orderlink.entity_types import COMPANY, DEAL, LEGACY_INVOICE, SMART_INVOICE
from orderlink.families import stages
from orderlink.families.crm_fields import (
    DEAL_FIELDS,
    UTM,
    deal_user_fields,
    descriptor,
    uf_descriptor,
)
from orderlink.families.family import Created, Family, Params
from orderlink.families.handlers import Served, serve
from orderlink.families.readers import item_fields, positive_id
from orderlink.records import values as wire
from orderlink.records.custom_fields import (
    CUSTOM_FIELDS,
    PARENTS,
    UF,
    listing_schema,
    parent_camel,
    uf_camel,
    unchanged,
)
from orderlink.records.projection import View
from orderlink.records.reading import Changes, NotMultiple, Unreadable
from orderlink.registry import Call, MethodTable
from orderlink.rules import deals, smart_invoices
from orderlink.rules.portal import CURRENCY_CODES
from orderlink.schema import Schema, field
from orderlink.storage.base import Emit, Row, Table

table = MethodTable()

DOCS = "api-reference/crm/universal/"

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

# Smart-invoice fields: object-fields.md's common and invoice sections, descriptors as the
# smart-process example of crm-item-fields.md prints them (`opened` required there).
INVOICE_SCHEMA = Schema(
    "invoices",
    [
        field("id", "id", "int", "integer", "ID", "O", upper="ID"),
        field("xmlId", "xml_id", "text", "string", "External code", upper="XML_ID"),
        field("title", "title", "text", "string", "Name", "", "", upper="TITLE"),
        field("createdBy", "created_by", "int", "user", "Created by", "O", upper="CREATED_BY"),
        field("updatedBy", "updated_by", "int", "user", "Updated by", "O", upper="UPDATED_BY"),
        field("movedBy", "moved_by", "int", "user", "Moved by", "O", upper="MOVED_BY"),
        field("createdTime", "created_time", "datetime", "datetime", "Created at", "O",
              upper="CREATED_TIME"),
        field("updatedTime", "updated_time", "datetime", "datetime", "Updated at", "O",
              upper="UPDATED_TIME"),
        field("movedTime", "moved_time", "datetime", "datetime", "Moved at", "O",
              upper="MOVED_TIME"),
        field("categoryId", "category_id", "int", "crm_category", "Pipeline", "", 0,
              upper="CATEGORY_ID"),
        field("opened", "opened", "flag", "boolean", "Publicly available", "R", "N",
              upper="OPENED"),
        field("stageId", "stage_id", "text", "crm_status", "Stage", "", "", upper="STAGE_ID",
              statusType="SMART_INVOICE_STAGE_0"),
        field("previousStageId", "previous_stage_id", "text", "crm_status", "Previous stage",
              "O", upper="PREVIOUS_STAGE_ID", statusType="SMART_INVOICE_STAGE_0"),
        field("begindate", "begindate", "datetime", "date", "Start date", upper="BEGINDATE"),
        field("closedate", "closedate", "datetime", "date", "End date", upper="CLOSEDATE"),
        field("companyId", "company_id", "int", "crm_company", "Company", "", 0,
              upper="COMPANY_ID", settings={"parentEntityTypeId": COMPANY}),
        field("contactId", "contact_id", "int", "crm_contact", "Contact", "", 0,
              upper="CONTACT_ID", isDeprecated=True),
        field("opportunity", "opportunity", "float", "double", "Amount", "", 0.0,
              upper="OPPORTUNITY"),
        field("isManualOpportunity", "is_manual_opportunity", "flag", "boolean",
              "Amount calculation mode", "", "N", upper="IS_MANUAL_OPPORTUNITY"),
        field("taxValue", "tax_value", "float", "double", "Tax amount", "", 0.0,
              upper="TAX_VALUE"),
        field("currencyId", "currency_id", "text", "crm_currency", "Currency",
              upper="CURRENCY_ID"),
        field("mycompanyId", "mycompany_id", "int", "crm_company", "Your company details", "", 0,
              upper="MYCOMPANY_ID", settings={"isMyCompany": True, "parentEntityTypeId": COMPANY,
                     "isEmbeddedEditorEnabled": True}),
        field("sourceId", "source_id", "text", "crm_status", "Source", upper="SOURCE_ID",
              statusType="SOURCE"),
        field("sourceDescription", "source_description", "text", "text",
              "Additional source info", upper="SOURCE_DESCRIPTION"),
        field("webformId", "webform_id", "int", "integer", "Created by CRM form",
              upper="WEBFORM_ID"),
        field("assignedById", "assigned_by_id", "int", "user", "Assigned to",
              upper="ASSIGNED_BY_ID"),
        field("lastActivityBy", "last_activity_by", "int", "user",
              "Last activity in timeline by", "O", upper="LAST_ACTIVITY_BY"),
        field("lastActivityTime", "last_activity_time", "datetime", "datetime", "Last activity",
              "O", upper="LAST_ACTIVITY_TIME"),
        field("accountNumber", "account_number", "text", "string", "Invoice number",
              upper="ACCOUNT_NUMBER"),
        field("comments", "comments", "text", "text", "Comment", upper="COMMENTS"),
        field("locationId", "location_id", "text", "location", "Location", upper="LOCATION_ID"),
        field("parentId2", "parent_id2", "int", "crm_entity", "Deal", upper="PARENT_ID_2",
              settings={"parentEntityTypeId": DEAL}),
        *UTM,
        field("observers", "observers", "json", "user", "Observers", "M", upper="OBSERVERS"),
        field("contactIds", "contact_ids", "json", "crm_contact", "CONTACT_IDS", "M",
              upper="CONTACT_IDS"),
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


def _original(params: Params) -> bool:
    return coerce.to_flag(params.get("useOriginalUfNames", "N")) is True


def _viewed(view: View, params: Params) -> View:
    """`useOriginalUfNames=Y` names custom fields `UF_CRM_...` instead of `ufCrm...`."""
    return dataclasses.replace(view, uf_name=unchanged) if _original(params) else view


_PHP_TYPES = {str: "string", int: "integer", float: "double", bool: "boolean"}


def _invalid(name: str, exc: Unreadable) -> errors.B24Error:
    if isinstance(exc, NotMultiple):
        return errors.MultipleValueExpected(_PHP_TYPES.get(type(exc.value), "NULL"))
    return errors.FieldValueNotValid(name)


async def _check(call: Call, changes: Changes) -> None:
    columns = changes.columns
    if columns.get("currency_id") and columns["currency_id"] not in CURRENCY_CODES:
        raise errors.FieldValueNotValid("currencyId")
    if columns.get("category_id", 0) < 0:
        raise errors.FieldValueNotValid("categoryId")
    deal = columns.get("parent_id2")
    if deal is not None and deal != 0:
        if await call.store.get(call.portal, "deals", deal) is None:
            raise errors.FieldValueNotValid("parentId2")
    elif "parent_id2" in columns:
        columns["parent_id2"] = None


def _unchanged_part(old: Row, columns: Row) -> Row | None:
    """crm-item-update.md: when nothing changes, nothing is saved (None)."""
    values = {k: v for k, v in columns.items() if old.get(k) != v}
    if values.get("stage_id") == "":
        del values["stage_id"]
    return values or None


# What a type's rules need besides the columns, read from the store (a deal's funnel).
Extras = Callable[[Call, "Row | None", Row], Awaitable[dict[str, Any]]]


async def _no_extras(call: Call, old: Row | None, columns: Row) -> dict[str, Any]:
    return {}


async def _deal_extras(call: Call, old: Row | None, columns: Row) -> dict[str, Any]:
    funnel = await stages.deal_funnel(
        call, old, columns,
        bad_category=lambda: errors.FieldValueNotValid("categoryId"),
        bad_stage=lambda: errors.FieldValueNotValid("stageId"),
    )  # fmt: skip
    return {"funnel": funnel}


async def _deal_custom_fields(call: Call) -> dict[str, Any]:
    """A deal's custom fields (crm.deal.userfield.*), named as `useOriginalUfNames` asks, with
    their `upperName` as every crm.item field has one."""
    name = unchanged if _original(call.params) else uf_camel
    rows = await deal_user_fields(call)
    return {name(r["field_name"]): uf_descriptor(r, upper=True) for r in rows}


def _family(type_id: int, name: str, table_: Table, schema: Schema, layout: tuple[str, ...],
            new: Callable[..., Row], changed: Callable[..., Row],
            extras: Extras = _no_extras) -> Family:  # fmt: skip
    """crm.item's family for one entity type, whose rows `new` makes and `changed` changes."""

    async def create(call: Call, columns: Row, now: float) -> Created:
        more = await extras(call, None, columns)
        values = new(columns, user=call.principal.user_id, now=now, zone=call.ctx.zone, **more)
        return Created(values, deals.title_template(values, name))

    async def change(call: Call, old: Row, columns: Row, now: float) -> Row | None:
        values = _unchanged_part(old, columns)
        if values is None:
            return None
        more = await extras(call, old, values)
        return changed(old, values, user=call.principal.user_id, now=now, **more)

    def raised(action: str, user: int, at: float, item_id: int | str, row: Row) -> tuple[Emit, ...]:
        return (events.crm_item(type_id, action, user, at, item_id),)

    view = View(schema, layout, wire.typed, uf_name=uf_camel, parent_name=parent_camel,
                constants={"entityTypeId": type_id})  # fmt: skip
    return Family(
        table=table_,
        schema=schema,
        view=view,
        list_schema=listing_schema(schema),
        list_view=view,
        read_id=positive_id(errors.ItemNotFound),
        read_fields=item_fields,
        not_found=errors.ItemNotFound,
        invalid=_invalid,
        list_error=errors.InvalidArgValue,
        events=raised,
        descriptor=descriptor,
        envelope="item",
        list_envelope="items",
        fields_envelope="fields",
        answers=("entity", "entity", "empty"),
        dynamic=True,
        refuse_unknown_order=True,
        filter_groups=True,
        custom=CUSTOM_FIELDS,
        viewed=_viewed,
        check=_check,
        create=create,
        change=change,
        more_fields=_deal_custom_fields if type_id == DEAL else None,
    )


TYPES = {
    DEAL: _family(DEAL, "Deal", "deals", DEAL_SCHEMA, DEAL_LAYOUT, deals.new_deal,
                  deals.changed_deal, _deal_extras),
    SMART_INVOICE: _family(SMART_INVOICE, "Invoice", "invoices", INVOICE_SCHEMA, INVOICE_LAYOUT,
                           smart_invoices.new_invoice, smart_invoices.changed_invoice),
}  # fmt: skip


def _entity(params: Params) -> Family:
    raw = params.get("entityTypeId")
    if raw is None or raw == "":
        raise errors.MissingParameter("entityTypeId")
    type_id = coerce.to_int(raw)
    if type_id == LEGACY_INVOICE:
        # invoice.md: crm.item.* answer ENTITY_TYPE_NOT_SUPPORTED for old invoices; the
        # crm.category pages word it "Entity type `{entityTypeName}` is not supported".
        raise errors.EntityTypeNotSupported("Entity type INVOICE is not supported")
    found = TYPES.get(type_id) if type_id is not None else None
    if found is None:
        raise errors.SmartProcessNotFound()
    return found


serve(
    table,
    _entity,
    (
        Served("add", "crm.item.add", "crm-item-add.md",
               "Create a deal or a smart invoice; answers the new item whole."),
        Served("get", "crm.item.get", "crm-item-get.md", "One deal or smart invoice."),
        Served("update", "crm.item.update", "crm-item-update.md",
               "Change the fields given; when nothing changes, nothing is saved."),
        Served("delete", "crm.item.delete", "crm-item-delete.md",
               "Delete an item and the bindings of orders to it; answers an empty array."),
        Served("list", "crm.item.list", "crm-item-list.md",
               "Items matching a filter, 50 per page, ascending by id unless told otherwise."),
        Served("fields", "crm.item.fields", "crm-item-fields.md",
               "The type's fields with their descriptors, `upperName` included."),
    ),
    scope="crm",
    docs=DOCS,
)  # fmt: skip
