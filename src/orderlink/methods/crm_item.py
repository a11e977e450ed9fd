"""crm.item.*: smart invoices (entityTypeId 31) and deals (entityTypeId 2, the same `deals` rows
crm.deal.* reads) in crm.item's camelCase, typed view.

Pages: api-reference/crm/universal/{crm-item-add,crm-item-get,crm-item-list,crm-item-update,
crm-item-delete,crm-item-fields,object-fields,invoice,index}.md. Neither the deal's nor the
invoice's crm.item.fields answer is documented: descriptors follow crm-deal-fields.md (deals) and
the smart-process example of crm-item-fields.md (invoices).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from orderlink import coerce, errors, events, listing, records
from orderlink.methods import crm_deal
from orderlink.methods.sale_order import BASE_CURRENCY, CURRENCY_CODES
from orderlink.registry import Call, MethodTable, Page
from orderlink.schema import Field, Kind, Schema, described
from orderlink.storage.base import Row, Table

table = MethodTable()

DOCS = "api-reference/crm/universal/"
DEAL, LEGACY_INVOICE, SMART_INVOICE = 2, 5, 31


def _f(
    name: str,
    column: str,
    kind: Kind,
    type_: str,
    title: str,
    upper: str,
    flags: str = "",
    empty: Any = None,
    **extra: Any,
) -> Field:
    """A crm.item.fields entry; `upper` is its `upperName` (and another name it answers to)."""
    return described(name, column, kind, type_, title, flags, empty, (upper,), **extra)


_UTM = [
    _f("utmSource", "utm_source", "text", "string", "Advertising System", "UTM_SOURCE"),
    _f("utmMedium", "utm_medium", "text", "string", "Traffic Type", "UTM_MEDIUM"),
    _f("utmCampaign", "utm_campaign", "text", "string", "Campaign Identifier", "UTM_CAMPAIGN"),
    _f("utmContent", "utm_content", "text", "string", "Campaign Content", "UTM_CONTENT"),
    _f("utmTerm", "utm_term", "text", "string", "Campaign Search Condition", "UTM_TERM"),
]

# Deal fields: crm.deal's columns under object-fields.md's names and types, with
# crm-deal-fields.md's titles and flags (leadId and quoteId are settable here: crm-item-add.md).
DEAL_SCHEMA = Schema(
    "deals",
    [
        _f("id", "id", "int", "integer", "ID", "ID", "O"),
        _f("createdTime", "date_create", "datetime", "datetime", "Creation Date", "DATE_CREATE",
           "O"),
        _f("updatedTime", "date_modify", "datetime", "datetime", "Modification Date", "DATE_MODIFY",
           "O"),
        _f("createdBy", "created_by_id", "int", "user", "Created By", "CREATED_BY_ID", "O"),
        _f("updatedBy", "modify_by_id", "int", "user", "Modified By", "MODIFY_BY_ID", "O"),
        _f("assignedById", "assigned_by_id", "int", "user", "Responsible", "ASSIGNED_BY_ID"),
        _f("opened", "opened", "flag", "boolean", "Available to All", "OPENED", "", "N"),
        _f("leadId", "lead_id", "int", "crm_lead", "Lead", "LEAD_ID",
           settings={"parentEntityTypeId": 1}),
        _f("companyId", "company_id", "int", "crm_company", "Company", "COMPANY_ID", "", 0,
           settings={"parentEntityTypeId": 4}),
        _f("contactId", "contact_id", "int", "crm_contact", "Contact", "CONTACT_ID", "", 0,
           isDeprecated=True),
        _f("quoteId", "quote_id", "int", "crm_quote", "Estimate", "QUOTE_ID",
           settings={"parentEntityTypeId": 7}),
        _f("title", "title", "text", "string", "Title", "TITLE", "", ""),
        _f("categoryId", "category_id", "int", "crm_category", "Sales Funnel", "CATEGORY_ID", "",
           0),
        _f("stageId", "stage_id", "text", "crm_status", "Deal Stage", "STAGE_ID", "", "",
           statusType="DEAL_STAGE"),
        _f("stageSemanticId", "stage_semantic_id", "text", "string", "Stage Group",
           "STAGE_SEMANTIC_ID", "O"),
        _f("isNew", "is_new", "flag", "boolean", "New Deal", "IS_NEW", "O", "N"),
        _f("isRecurring", "is_recurring", "flag", "boolean", "Recurring Deal", "IS_RECURRING", "",
           "N"),
        _f("isReturnCustomer", "is_return_customer", "flag", "boolean", "Repeat Deal",
           "IS_RETURN_CUSTOMER", "", "N"),
        _f("isRepeatedApproach", "is_repeated_approach", "flag", "boolean", "Repeated Approach",
           "IS_REPEATED_APPROACH", "", "N"),
        _f("closed", "closed", "flag", "boolean", "Closed", "CLOSED", "", "N"),
        _f("typeId", "type_id", "text", "crm_status", "Type", "TYPE_ID", statusType="DEAL_TYPE"),
        _f("opportunity", "opportunity", "float", "double", "Amount", "OPPORTUNITY", "", 0.0),
        _f("isManualOpportunity", "is_manual_opportunity", "flag", "boolean",
           "IS_MANUAL_OPPORTUNITY", "IS_MANUAL_OPPORTUNITY", "", "N"),
        _f("taxValue", "tax_value", "float", "double", "Tax Rate", "TAX_VALUE", "", 0.0),
        _f("currencyId", "currency_id", "text", "crm_currency", "Currency", "CURRENCY_ID"),
        _f("probability", "probability", "int", "integer", "Probability", "PROBABILITY"),
        _f("comments", "comments", "text", "text", "Comment", "COMMENTS"),
        _f("begindate", "begindate", "datetime", "date", "Start Date", "BEGINDATE"),
        _f("closedate", "closedate", "datetime", "date", "Close Date", "CLOSEDATE"),
        _f("locationId", "location_id", "text", "location", "Location", "LOCATION_ID"),
        _f("webformId", "webform_id", "int", "integer", "Created by CRM form", "WEBFORM_ID"),
        _f("sourceId", "source_id", "text", "crm_status", "Source", "SOURCE_ID",
           statusType="SOURCE"),
        _f("sourceDescription", "source_description", "text", "text",
           "Additional Info about Source", "SOURCE_DESCRIPTION"),
        _f("originatorId", "originator_id", "text", "string", "External Source", "ORIGINATOR_ID"),
        _f("originId", "origin_id", "text", "string", "Identifier in External Source",
           "ORIGIN_ID"),
        _f("additionalInfo", "additional_info", "text", "string", "Additional Information",
           "ADDITIONAL_INFO"),
        _f("movedBy", "moved_by_id", "int", "user", "MOVED_BY_ID", "MOVED_BY_ID", "O"),
        _f("movedTime", "moved_time", "datetime", "datetime", "MOVED_TIME", "MOVED_TIME", "O"),
        _f("lastActivityBy", "last_activity_by", "int", "user", "LAST_ACTIVITY_BY",
           "LAST_ACTIVITY_BY", "O"),
        _f("lastActivityTime", "last_activity_time", "datetime", "datetime", "LAST_ACTIVITY_TIME",
           "LAST_ACTIVITY_TIME", "O"),
        *_UTM,
        _f("observers", "observers", "json", "user", "Observers", "OBSERVERS", "M"),
        _f("contactIds", "contact_ids", "json", "crm_contact", "Contacts", "CONTACT_IDS", "M"),
    ],
)  # fmt: skip

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
    "receivedAmount", "lostAmount", "hasProducts", records.UF, records.PARENTS, "utmSource",
    "utmMedium", "utmCampaign", "utmContent", "utmTerm", "observers", "contactIds",
    "entityTypeId",
)  # fmt: skip

# Smart-invoice fields: object-fields.md's common and invoice sections, descriptors as the
# smart-process example of crm-item-fields.md prints them (`opened` required there).
INVOICE_SCHEMA = Schema(
    "invoices",
    [
        _f("id", "id", "int", "integer", "ID", "ID", "O"),
        _f("xmlId", "xml_id", "text", "string", "External code", "XML_ID"),
        _f("title", "title", "text", "string", "Name", "TITLE", "", ""),
        _f("createdBy", "created_by", "int", "user", "Created by", "CREATED_BY", "O"),
        _f("updatedBy", "updated_by", "int", "user", "Updated by", "UPDATED_BY", "O"),
        _f("movedBy", "moved_by", "int", "user", "Moved by", "MOVED_BY", "O"),
        _f("createdTime", "created_time", "datetime", "datetime", "Created at", "CREATED_TIME",
           "O"),
        _f("updatedTime", "updated_time", "datetime", "datetime", "Updated at", "UPDATED_TIME",
           "O"),
        _f("movedTime", "moved_time", "datetime", "datetime", "Moved at", "MOVED_TIME", "O"),
        _f("categoryId", "category_id", "int", "crm_category", "Pipeline", "CATEGORY_ID", "", 0),
        _f("opened", "opened", "flag", "boolean", "Publicly available", "OPENED", "R", "N"),
        _f("stageId", "stage_id", "text", "crm_status", "Stage", "STAGE_ID", "", "",
           statusType="SMART_INVOICE_STAGE_0"),
        _f("previousStageId", "previous_stage_id", "text", "crm_status", "Previous stage",
           "PREVIOUS_STAGE_ID", "O", statusType="SMART_INVOICE_STAGE_0"),
        _f("begindate", "begindate", "datetime", "date", "Start date", "BEGINDATE"),
        _f("closedate", "closedate", "datetime", "date", "End date", "CLOSEDATE"),
        _f("companyId", "company_id", "int", "crm_company", "Company", "COMPANY_ID", "", 0,
           settings={"parentEntityTypeId": 4}),
        _f("contactId", "contact_id", "int", "crm_contact", "Contact", "CONTACT_ID", "", 0,
           isDeprecated=True),
        _f("opportunity", "opportunity", "float", "double", "Amount", "OPPORTUNITY", "", 0.0),
        _f("isManualOpportunity", "is_manual_opportunity", "flag", "boolean",
           "Amount calculation mode", "IS_MANUAL_OPPORTUNITY", "", "N"),
        _f("taxValue", "tax_value", "float", "double", "Tax amount", "TAX_VALUE", "", 0.0),
        _f("currencyId", "currency_id", "text", "crm_currency", "Currency", "CURRENCY_ID"),
        _f("mycompanyId", "mycompany_id", "int", "crm_company", "Your company details",
           "MYCOMPANY_ID", "", 0,
           settings={"isMyCompany": True, "parentEntityTypeId": 4,
                     "isEmbeddedEditorEnabled": True}),
        _f("sourceId", "source_id", "text", "crm_status", "Source", "SOURCE_ID",
           statusType="SOURCE"),
        _f("sourceDescription", "source_description", "text", "text", "Additional source info",
           "SOURCE_DESCRIPTION"),
        _f("webformId", "webform_id", "int", "integer", "Created by CRM form", "WEBFORM_ID"),
        _f("assignedById", "assigned_by_id", "int", "user", "Assigned to", "ASSIGNED_BY_ID"),
        _f("lastActivityBy", "last_activity_by", "int", "user", "Last activity in timeline by",
           "LAST_ACTIVITY_BY", "O"),
        _f("lastActivityTime", "last_activity_time", "datetime", "datetime", "Last activity",
           "LAST_ACTIVITY_TIME", "O"),
        _f("accountNumber", "account_number", "text", "string", "Invoice number",
           "ACCOUNT_NUMBER"),
        _f("comments", "comments", "text", "text", "Comment", "COMMENTS"),
        _f("locationId", "location_id", "text", "location", "Location", "LOCATION_ID"),
        _f("parentId2", "parent_id2", "int", "crm_entity", "Deal", "PARENT_ID_2",
           settings={"parentEntityTypeId": 2}),
        *_UTM,
        _f("observers", "observers", "json", "user", "Observers", "OBSERVERS", "M"),
        _f("contactIds", "contact_ids", "json", "crm_contact", "CONTACT_IDS", "CONTACT_IDS", "M"),
    ],
)  # fmt: skip

# No invoice answer is documented; this follows a smart-process item: schema order, parent
# links next to `parentId2`, custom fields before the UTM fields, `entityTypeId` last.
_INVOICE_FIELDS = [f.name for f in INVOICE_SCHEMA]
_AT_PARENT = _INVOICE_FIELDS.index("parentId2") + 1
INVOICE_LAYOUT = (
    *_INVOICE_FIELDS[:_AT_PARENT], records.PARENTS, records.UF, *_INVOICE_FIELDS[_AT_PARENT:],
    "entityTypeId",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EntityType:
    """A CRM object type crm.item serves here."""

    id: int
    name: str  # `{entityTypeName} #{id}` is the default title (crm-item-add.md)
    table: Table
    view: records.View
    list_schema: Schema

    @classmethod
    def of(
        cls, type_id: int, name: str, table_: Table, schema: Schema, layout: tuple[str, ...]
    ) -> EntityType:
        view = records.View(
            schema,
            layout,
            records.typed,
            uf_name=records.uf_camel,
            parent_name=lambda parent: f"parentId{parent}",
            constants={"entityTypeId": type_id},
        )
        return cls(type_id, name, table_, view, records.listing_schema(schema))

    def viewed(self, original_uf_names: bool) -> records.View:
        """`useOriginalUfNames=Y` names custom fields `UF_CRM_...` instead of `ufCrm...`."""
        if not original_uf_names:
            return self.view
        return dataclasses.replace(self.view, uf_name=_unchanged)


def _unchanged(name: str) -> str:
    return name


TYPES = {
    DEAL: EntityType.of(DEAL, "Deal", "deals", DEAL_SCHEMA, DEAL_LAYOUT),
    SMART_INVOICE: EntityType.of(
        SMART_INVOICE, "Invoice", "invoices", INVOICE_SCHEMA, INVOICE_LAYOUT
    ),
}


def _entity(params: dict[str, Any]) -> EntityType:
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


def _id(params: dict[str, Any]) -> int:
    number = coerce.to_int(params.get("id"))
    if number is None or number <= 0:
        raise errors.ItemNotFound()
    return number


def _fields(params: dict[str, Any]) -> dict[str, Any]:
    raw = params.get("fields")
    if raw is None:
        raise errors.MissingParameter("fields")
    fields = records.fields_object(raw if raw != "" else [])
    if fields is None:
        raise errors.InvalidArgValue("Invalid value of parameter {fields}")
    return fields


def _original(params: dict[str, Any]) -> bool:
    return coerce.to_flag(params.get("useOriginalUfNames", "N")) is True


_PHP_TYPES = {str: "string", int: "integer", float: "double", bool: "boolean"}


def _invalid(name: str, exc: records.Unreadable) -> errors.B24Error:
    if isinstance(exc, records.NotMultiple):
        return errors.MultipleValueExpected(_PHP_TYPES.get(type(exc.value), "NULL"))
    return errors.FieldValueNotValid(name)


async def _read(call: Call, entity: EntityType, fields: dict[str, Any]) -> records.Changes:
    changes = records.read_fields(
        fields,
        entity.view.schema,
        call.ctx.zone,
        accept=lambda f: not f.read_only,
        error=_invalid,
        dynamic=True,
    )
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
    return changes


def _invoice_stage(category: int) -> str:
    """invoice.md: smart-invoice stages are `DT31_{categoryId}:{status}`, `N` the first."""
    return f"DT31_{category}:N"


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
        "begindate": records.today(now, zone),
        "closedate": records.today(now, zone, plus_days=7),
    }
    values.update({k: v for k, v in columns.items() if v is not None})
    crm_deal.sync_contacts(values)
    if not values.get("stage_id"):
        values["stage_id"] = _invoice_stage(values["category_id"])
    return values


def changed_invoice(old: Row, columns: Row, *, user: int, now: float) -> Row:
    """The columns an update writes: the request's, the stage move it implies, who and when."""
    values = dict(columns)
    stamp = int(now)
    crm_deal.sync_contacts(values)
    category = int(values.get("category_id", old["category_id"]) or 0)
    stage = values.pop("stage_id", None) or (
        _invoice_stage(category) if category != old["category_id"] else None
    )
    if stage and stage != old["stage_id"]:
        values.update(
            stage_id=stage, previous_stage_id=old["stage_id"], moved_by=user, moved_time=stamp
        )
    values.update(updated_by=user, updated_time=stamp)
    return values


def _answer(entity: EntityType, row: Row, call: Call) -> dict[str, Any]:
    return {"item": entity.viewed(_original(call.params)).render(row, call.ctx.zone)}


@table.method("crm.item.add", scope="crm", doc=DOCS + "crm-item-add.md")
async def add(call: Call) -> Any:
    """Create a deal or a smart invoice; answers the new item whole."""
    entity = _entity(call.params)
    changes = await _read(call, entity, _fields(call.params))
    user, now, zone = call.principal.user_id, call.ctx.clock.now(), call.ctx.zone
    merged = changes.merged({})
    if entity.id == DEAL:
        values = crm_deal.new_deal(merged, user=user, now=now, zone=zone)
    else:
        values = new_invoice(merged, user=user, now=now, zone=zone)
    emits = (events.crm_item(entity.id, "ADD", user, now),)
    item_id = await call.store.insert(
        call.portal,
        entity.table,
        values,
        templates=crm_deal.title_template(values, entity.name),
        events=await events.wanted(call.store, call.portal, emits),
    )
    row = await call.store.get(call.portal, entity.table, item_id)
    if row is None:
        raise errors.ItemNotFound()
    return _answer(entity, row, call)


@table.method("crm.item.get", scope="crm", doc=DOCS + "crm-item-get.md")
async def get(call: Call) -> Any:
    """One deal or smart invoice."""
    entity = _entity(call.params)
    row = await call.store.get(call.portal, entity.table, _id(call.params))
    if row is None:
        raise errors.ItemNotFound()
    return _answer(entity, row, call)


@table.method("crm.item.update", scope="crm", doc=DOCS + "crm-item-update.md")
async def update(call: Call) -> Any:
    """Change the fields given; when nothing changes, nothing is saved."""
    entity = _entity(call.params)
    item_id = _id(call.params)
    fields = _fields(call.params)
    old = await call.store.get(call.portal, entity.table, item_id)
    if old is None:
        raise errors.ItemNotFound()
    changes = await _read(call, entity, fields)
    values = {k: v for k, v in changes.merged(old).items() if old.get(k) != v}
    if values.get("stage_id") == "":
        del values["stage_id"]
    if not values:
        return _answer(entity, old, call)
    user, now = call.principal.user_id, call.ctx.clock.now()
    if entity.id == DEAL:
        values = crm_deal.changed_deal(old, values, user=user, now=now)
    else:
        values = changed_invoice(old, values, user=user, now=now)
    emits = (events.crm_item(entity.id, "UPDATE", user, now, item_id),)
    row = await call.store.update(
        call.portal,
        entity.table,
        item_id,
        values,
        events=await events.wanted(call.store, call.portal, emits),
    )
    if row is None:
        raise errors.ItemNotFound()
    return _answer(entity, row, call)


@table.method("crm.item.delete", scope="crm", doc=DOCS + "crm-item-delete.md")
async def delete(call: Call) -> Any:
    """Delete an item and the bindings of orders to it; answers an empty array."""
    entity = _entity(call.params)
    item_id = _id(call.params)
    user, now = call.principal.user_id, call.ctx.clock.now()
    if entity.id == DEAL:
        deleted = await crm_deal.delete_deal(call.store, call.portal, item_id, user, now)
    else:
        emits = (events.crm_item(entity.id, "DELETE", user, now, item_id),)
        deleted = await call.store.delete(
            call.portal,
            entity.table,
            item_id,
            events=await events.wanted(call.store, call.portal, emits),
        )
    if not deleted:
        raise errors.ItemNotFound()
    return []


@table.method("crm.item.list", scope="crm", doc=DOCS + "crm-item-list.md")
async def list_(call: Call) -> Any:
    """Items matching a filter, 50 per page, ascending by id unless told otherwise."""
    entity = _entity(call.params)
    view = entity.viewed(_original(call.params))
    selection = view.selection(call.params.get("select"))
    parsed = listing.parse(
        {
            "select": view.engine_select(selection),
            "filter": call.params.get("filter"),
            "order": call.params.get("order"),
            "start": call.params.get("start"),
        },
        entity.list_schema,
        portal_id=call.portal,
        error=errors.InvalidArgValue,
        zone=call.ctx.zone,
        default_order=(("id", False),),
        tie_breaker="id",
        refuse_unknown_order=True,
        filter_groups=True,
        start_minus_one=call.ctx.settings.start_minus_one,
        custom=records.CUSTOM_FIELDS,
    )
    found = await call.store.list(parsed.query)
    items = [view.render(row, call.ctx.zone, selection) for row in found.rows]
    total, following = parsed.page(found)
    return Page({"items": items}, total, following)


@table.method("crm.item.fields", scope="crm", doc=DOCS + "crm-item-fields.md")
async def get_fields(call: Call) -> Any:
    """The type's fields with their descriptors, `upperName` included."""
    entity = _entity(call.params)
    return {
        "fields": {
            f.name: crm_deal.descriptor(f, upper_name=f.aliases[0]) for f in entity.view.schema
        }
    }
