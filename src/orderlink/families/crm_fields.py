"""Fields more than one family prints: the deal's (crm.deal.* and crm.item entityTypeId 2 read
the same `deals` rows) and the UTM fields of every CRM item.

A deal field is described once, in crm.item's spelling (object-fields.md names and types, its
`upperName` its column in capitals: `universal`); crm.deal's UPPER_SNAKE fields are derived from
it (`legacy_deal`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from orderlink.entity_types import COMPANY, LEAD, QUOTE
from orderlink.records.values import decode
from orderlink.registry import Call
from orderlink.schema import Field, Kind, field
from orderlink.storage.base import Condition, ListQuery, Row


def universal(name: str, column: str, *args: Any, upper: str | None = None, **extra: Any) -> Field:
    """`schema.field` in crm.item's spelling: the `upperName` (a second name the field answers
    to) is its column in capitals unless `upper` says otherwise."""
    return field(name, column, *args, upper=upper or column.upper(), **extra)


def camel(upper: str) -> str:
    """`ASSIGNED_BY_ID` -> `assignedById` (crm/universal/index.md "Field Naming Conventions")."""
    head, *rest = upper.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)


# A custom field's definition (crm_userfields) as crm.*.userfield.* (UPPER_SNAKE, flags typed
# `char`) and userfieldconfig.* (camelCase, flags `boolean`) both list it, in that order:
# (column, kind, type unless a flag's, flags, empty).
_DEFINITION: tuple[tuple[str, Kind, str, str, Any], ...] = (
    ("id", "int", "integer", "O", None),
    ("entity_id", "text", "string", "RI", None),
    ("field_name", "text", "string", "RI", None),
    ("user_type_id", "text", "string", "RI", None),
    ("xml_id", "text", "string", "", None),
    ("sort", "int", "integer", "", 100),
    ("multiple", "flag", "", "I", "N"),
    ("mandatory", "flag", "", "", "N"),
    ("show_filter", "text", "char", "", "N"),
    ("show_in_list", "flag", "", "O", "Y"),
    ("edit_in_list", "flag", "", "", "Y"),
    ("is_searchable", "flag", "", "", "N"),
    ("settings", "json", "object", "", "{}"),
)


def definition_fields(
    name: Callable[[str], str], flag_type: str, **differing: tuple[str, Any]
) -> list[Field]:
    """The definition's fields, each named `name(column)`, a flag typed `flag_type`;
    `differing` gives a column's own (flags, empty) in that dialect."""
    return [
        field(name(column), column, kind, type_ or flag_type,
              flags=differing.get(column, (flags, empty))[0],
              empty=differing.get(column, (flags, empty))[1])
        for column, kind, type_, flags, empty in _DEFINITION
    ]  # fmt: skip


UTM = [
    universal("utmSource", "utm_source", "text", "string", "Advertising System"),
    universal("utmMedium", "utm_medium", "text", "string", "Traffic Type"),
    universal("utmCampaign", "utm_campaign", "text", "string", "Campaign Identifier"),
    universal("utmContent", "utm_content", "text", "string", "Campaign Content"),
    universal("utmTerm", "utm_term", "text", "string", "Campaign Search Condition"),
]

# Deal fields: crm.deal's columns under object-fields.md's names and types, with
# crm-deal-fields.md's titles and flags (leadId and quoteId are settable here: crm-item-add.md).
DEAL_FIELDS: tuple[Field, ...] = (
    universal("id", "id", "int", "integer", "ID", "O"),
    universal("createdTime", "date_create", "datetime", "datetime", "Creation Date", "O"),
    universal("updatedTime", "date_modify", "datetime", "datetime", "Modification Date", "O"),
    universal("createdBy", "created_by_id", "int", "user", "Created By", "O"),
    universal("updatedBy", "modify_by_id", "int", "user", "Modified By", "O"),
    universal("assignedById", "assigned_by_id", "int", "user", "Responsible"),
    universal("opened", "opened", "flag", "boolean", "Available to All", "", "N"),
    universal("leadId", "lead_id", "int", "crm_lead", "Lead",
              settings={"parentEntityTypeId": LEAD}),
    universal("companyId", "company_id", "int", "crm_company", "Company", "", 0,
              settings={"parentEntityTypeId": COMPANY}),
    universal("contactId", "contact_id", "int", "crm_contact", "Contact", "", 0, isDeprecated=True),
    universal("quoteId", "quote_id", "int", "crm_quote", "Estimate",
              settings={"parentEntityTypeId": QUOTE}),
    universal("title", "title", "text", "string", "Title", "", ""),
    universal("categoryId", "category_id", "int", "crm_category", "Sales Funnel", "", 0),
    universal("stageId", "stage_id", "text", "crm_status", "Deal Stage", "", "",
              statusType="DEAL_STAGE"),
    universal("stageSemanticId", "stage_semantic_id", "text", "string", "Stage Group", "O"),
    universal("isNew", "is_new", "flag", "boolean", "New Deal", "O", "N"),
    universal("isRecurring", "is_recurring", "flag", "boolean", "Recurring Deal", "", "N"),
    universal("isReturnCustomer", "is_return_customer", "flag", "boolean", "Repeat Deal", "", "N"),
    universal("isRepeatedApproach", "is_repeated_approach", "flag", "boolean", "Repeated Approach",
              "", "N"),
    universal("closed", "closed", "flag", "boolean", "Closed", "", "N"),
    universal("typeId", "type_id", "text", "crm_status", "Type", statusType="DEAL_TYPE"),
    universal("opportunity", "opportunity", "float", "double", "Amount", "", 0.0),
    universal("isManualOpportunity", "is_manual_opportunity", "flag", "boolean",
              "IS_MANUAL_OPPORTUNITY", "", "N"),
    universal("taxValue", "tax_value", "float", "double", "Tax Rate", "", 0.0),
    universal("currencyId", "currency_id", "text", "crm_currency", "Currency"),
    universal("probability", "probability", "int", "integer", "Probability"),
    universal("comments", "comments", "text", "text", "Comment"),
    universal("begindate", "begindate", "datetime", "date", "Start Date"),
    universal("closedate", "closedate", "datetime", "date", "Close Date"),
    universal("locationId", "location_id", "text", "location", "Location"),
    universal("webformId", "webform_id", "int", "integer", "Created by CRM form"),
    universal("sourceId", "source_id", "text", "crm_status", "Source", statusType="SOURCE"),
    universal("sourceDescription", "source_description", "text", "text",
              "Additional Info about Source"),
    universal("originatorId", "originator_id", "text", "string", "External Source"),
    universal("originId", "origin_id", "text", "string", "Identifier in External Source"),
    universal("additionalInfo", "additional_info", "text", "string", "Additional Information"),
    universal("movedBy", "moved_by_id", "int", "user", "MOVED_BY_ID", "O"),
    universal("movedTime", "moved_time", "datetime", "datetime", "MOVED_TIME", "O"),
    universal("lastActivityBy", "last_activity_by", "int", "user", "LAST_ACTIVITY_BY", "O"),
    universal("lastActivityTime", "last_activity_time", "datetime", "datetime",
              "LAST_ACTIVITY_TIME", "O"),
        *UTM,
    universal("observers", "observers", "json", "user", "Observers", "M"),
    universal("contactIds", "contact_ids", "json", "crm_contact", "Contacts", "M"),
)  # fmt: skip


# Smart-process item fields (object-fields.md "SPA"; smart invoices have them too), in the order
# the smart-process example of crm-item-fields.md prints them, with its titles and flags
# (`opened` required there). `contacts` is a second name of `contactIds` that example lists.
SMART_ITEM_FIELDS: tuple[Field, ...] = (
    universal("id", "id", "int", "integer", "ID", "O"),
    universal("title", "title", "text", "string", "Name", "", ""),
    universal("xmlId", "xml_id", "text", "string", "External code"),
    universal("createdTime", "created_time", "datetime", "datetime", "Created at", "O"),
    universal("updatedTime", "updated_time", "datetime", "datetime", "Updated at", "O"),
    universal("createdBy", "created_by", "int", "user", "Created by", "O"),
    universal("updatedBy", "updated_by", "int", "user", "Updated by", "O"),
    universal("assignedById", "assigned_by_id", "int", "user", "Assigned to"),
    universal("opened", "opened", "flag", "boolean", "Publicly available", "R", "N"),
    universal("webformId", "webform_id", "int", "integer", "Created by CRM form"),
    universal("begindate", "begindate", "datetime", "date", "Start date"),
    universal("closedate", "closedate", "datetime", "date", "End date"),
    universal("companyId", "company_id", "int", "crm_company", "Company", "", 0,
              settings={"parentEntityTypeId": COMPANY}),
    universal("contactId", "contact_id", "int", "crm_contact", "Contact", "", 0, isDeprecated=True),
    universal("contactIds", "contact_ids", "json", "crm_contact", "CONTACT_IDS", "M"),
    universal("contacts", "contact_ids", "json", "crm_contact", "CONTACTS", "M", upper="CONTACTS"),
    universal("observers", "observers", "json", "user", "Observers", "M"),
    universal("categoryId", "category_id", "int", "crm_category", "Pipeline", "", 0),
    universal("movedTime", "moved_time", "datetime", "datetime", "Moved at", "O"),
    universal("movedBy", "moved_by", "int", "user", "Moved by", "O"),
    universal("stageId", "stage_id", "text", "crm_status", "Stage", "", ""),
    universal("previousStageId", "previous_stage_id", "text", "crm_status", "Previous stage", "O"),
    universal("sourceId", "source_id", "text", "crm_status", "Source", statusType="SOURCE"),
    universal("sourceDescription", "source_description", "text", "text", "Additional source info"),
    universal("currencyId", "currency_id", "text", "crm_currency", "Currency"),
    universal("isManualOpportunity", "is_manual_opportunity", "flag", "boolean",
              "Amount calculation mode", "", "N"),
    universal("opportunity", "opportunity", "float", "double", "Amount", "", 0.0),
    universal("taxValue", "tax_value", "float", "double", "Tax amount", "", 0.0),
    universal("mycompanyId", "mycompany_id", "int", "crm_company", "Your company details", "", 0,
              settings={"isMyCompany": True, "parentEntityTypeId": COMPANY,
                        "isEmbeddedEditorEnabled": True}),
    universal("lastActivityBy", "last_activity_by", "int", "user", "Last activity in timeline by",
              "O"),
    universal("lastActivityTime", "last_activity_time", "datetime", "datetime", "Last activity",
              "O"),
)  # fmt: skip
_SMART_ITEM = {f.name: f for f in SMART_ITEM_FIELDS}
_STAGES = ("stageId", "previousStageId")


def smart_item_fields(names: Iterable[str], status_type: str) -> list[Field]:
    """The smart-item fields `names`, in that order; the stage fields list the stages of
    `status_type` (`SMART_INVOICE_STAGE_0`, `DYNAMIC_1268_STAGE_52` in crm-item-fields.md)."""
    found = [_SMART_ITEM[n] for n in names]
    return [dataclasses.replace(f, extra={**f.extra, "statusType": status_type})
            if f.name in _STAGES else f for f in found]  # fmt: skip


# crm-deal-fields.md's descriptors where they differ from crm.item's: flags are `char` and long
# texts `string`; the funnel changes only through crm.item.update (crm-deal-update.md leaves
# CATEGORY_ID out), and LEAD_ID and QUOTE_ID are read-only there (settable in crm-item-add.md).
_LEGACY_TYPES = {"boolean": "char", "text": "string"}
_LEGACY_FLAGS: dict[str, dict[str, Any]] = {
    "CATEGORY_ID": {"immutable": True},
    "LEAD_ID": {"read_only": True},
    "QUOTE_ID": {"read_only": True},
}
_BY_UPPER = {f.aliases[0]: f for f in DEAL_FIELDS}


def legacy_deal(upper: str) -> Field:
    """The crm.deal.* field of the deal field named `upper`."""
    f = _BY_UPPER[upper]
    return dataclasses.replace(
        f,
        name=upper,
        aliases=(),
        type=_LEGACY_TYPES.get(f.type, f.type),
        **_LEGACY_FLAGS.get(upper, {}),
    )


def descriptor(f: Field) -> dict[str, Any]:
    """crm_rest_field_description in the key order crm-deal-fields.md / crm-item-fields.md print;
    crm.item adds `upperName`."""
    out: dict[str, Any] = {
        "type": f.type,
        "isRequired": f.required,
        "isReadOnly": f.read_only,
        "isImmutable": f.immutable,
        "isMultiple": f.multiple,
        "isDynamic": False,
    }
    if f.extra.get("isDeprecated"):
        out["isDeprecated"] = True
    if "statusType" in f.extra:
        out["statusType"] = f.extra["statusType"]
    out["title"] = f.title
    if "settings" in f.extra:
        out["settings"] = f.extra["settings"]
    if f.aliases:
        out["upperName"] = f.aliases[0]
    return out


# The entityId of deal custom fields (crm.deal.userfield.*, userfieldconfig.*).
DEAL_USER_FIELDS = "CRM_DEAL"


async def user_fields_of(call: Call, entity_id: str) -> list[Row]:
    """The custom fields the portal defined for `entity_id` (CRM_DEAL, CRM_CONTACT,
    CRM_COMPANY: crm.*.userfield.*; CRM_SMART_INVOICE, CRM_{id} of a smart process:
    userfieldconfig.*), by SORT then id."""
    query = ListQuery("crm_userfields", call.portal, USERFIELD_COLUMNS,
                      [Condition("entity_id", "=", entity_id)],
                      order=(("sort", False), ("id", False)), limit=None, count=False)  # fmt: skip
    return (await call.store.list(query)).rows


async def deal_user_fields(call: Call) -> list[Row]:
    """The deal custom fields the portal defined (crm.deal.userfield.*), by SORT then id."""
    return await user_fields_of(call, "CRM_DEAL")


USERFIELD_COLUMNS = (
    "id", "field_name", "user_type_id", "xml_id", "sort", "multiple", "mandatory",
    "show_filter", "show_in_list", "edit_in_list", "is_searchable", "settings",
    "edit_form_label", "list_column_label", "list_filter_label", "error_message", "help_message",
    "list",
)  # fmt: skip
LANGUAGE = "en"
# The languages crm-deal-userfield-get.md's labels are given in.
LANGUAGES = ("ar", "br", "de", "en", "fr", "hi", "id", "in", "it", "ja", "kz", "la", "ms", "pl",
             "ru", "sc", "tc", "th", "tr", "ua", "vn")  # fmt: skip


def uf_descriptor(row: Row, *, title: str | None = None, upper: bool = False) -> dict[str, Any]:
    """A custom field as crm-deal-fields.md prints one (`isDynamic` true, the labels in the
    portal's language; `title` the field name there, the form label in crm-item-fields.md)."""

    def label(column: str) -> Any:
        return decode(row[column] or "{}").get(LANGUAGE, "")

    out: dict[str, Any] = {
        "type": row["user_type_id"],
        "isRequired": row["mandatory"] == "Y",
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": row["multiple"] == "Y",
        "isDynamic": True,
        "title": title if title is not None else label("edit_form_label") or row["field_name"],
        "listLabel": label("list_column_label"),
        "formLabel": label("edit_form_label"),
        "filterLabel": label("list_filter_label"),
        "settings": decode(row["settings"] or "{}"),
    }
    if row["user_type_id"] == "enumeration":
        out["items"] = [{"ID": item["ID"], "VALUE": item["VALUE"]}
                        for item in decode(row["list"] or "[]")]  # fmt: skip
    if upper:
        out["upperName"] = row["field_name"]
    return out
