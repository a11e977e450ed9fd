"""crm.item for contacts (entityTypeId 3) and companies (4): the rows crm.contact.* and
crm.company.* keep, in crm.item's camelCase spelling and typed values (`families.items`).

Pages: api-reference/crm/universal/crm-item-add.md (its Contact and Company tabs),
object-fields.md (#contact, #company), crm-item-get.md (a lead's answer: `fm`, the phone and
e-mail fields it derives). No contact or company crm.item.fields answer is documented: each field
is the legacy one (crm-contact-fields.md, crm-company-fields.md: titles, flags) under its
crm.item name, `upperName` the legacy name, flags typed `boolean` and long texts `text` as in
crm-item-fields.md. The multi-fields are `fm` here (`rules.customers` keeps them); the legacy
address fields are not crm.item fields (object-fields.md: "Field is disabled").
"""

from __future__ import annotations

import dataclasses
from datetime import tzinfo
from typing import Any

from orderlink.entity_types import COMPANY, CONTACT
from orderlink.families import customer_links
from orderlink.families.crm_fields import camel, universal
from orderlink.families.customer_links import Side
from orderlink.families.family import Family
from orderlink.families.handlers import read_columns
from orderlink.families.items import item_family
from orderlink.methods import crm_company, crm_contact
from orderlink.records.custom_fields import PARENTS, UF
from orderlink.records.reading import fields_object
from orderlink.registry import Call
from orderlink.rules import customers, links
from orderlink.schema import Field, Schema
from orderlink.storage.base import Row

# Legacy names whose crm.item name is not their camelCase (object-fields.md's common fields).
_NAMES = {
    "CREATED_BY_ID": "createdBy", "MODIFY_BY_ID": "updatedBy", "DATE_CREATE": "createdTime",
    "DATE_MODIFY": "updatedTime", "COMPANY_TYPE": "typeId",
}  # fmt: skip
_TEXTS = frozenset({"COMMENTS", "SOURCE_DESCRIPTION"})  # `text` in object-fields.md
# Read-only in the legacy tables, settable here (crm-item-add.md's Contact and Company tabs).
_SETTABLE = frozenset({"LEAD_ID"})
_OBSERVERS = universal("observers", "observers", "json", "user", "Observers", "M")


def item_field(legacy: Field) -> Field:
    """The crm.item field of a legacy contact or company field: its crm.item name, the legacy
    name as `upperName`, `boolean` for a Y/N flag, a list kept as JSON."""
    upper = legacy.name
    type_ = "text" if upper in _TEXTS else "boolean" if legacy.type == "char" else legacy.type
    kind = "json" if legacy.multiple else legacy.kind
    return dataclasses.replace(legacy, name=_NAMES.get(upper, camel(upper)), aliases=(upper,),
                               type=type_, kind=kind,
                               read_only=legacy.read_only and upper not in _SETTABLE)  # fmt: skip


def _schema(legacy: Schema, names: tuple[str, ...]) -> Schema:
    return Schema(legacy.table, [*(item_field(legacy[n]) for n in names), _OBSERVERS])


CONTACT_SCHEMA = _schema(crm_contact.SCHEMA, (
    "ID", "HONORIFIC", "NAME", "SECOND_NAME", "LAST_NAME", "PHOTO", "BIRTHDATE", "TYPE_ID",
    "SOURCE_ID", "SOURCE_DESCRIPTION", "POST", "COMMENTS", "OPENED", "EXPORT", "HAS_PHONE",
    "HAS_EMAIL", "HAS_IMOL", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID", "DATE_CREATE",
    "DATE_MODIFY", "COMPANY_ID", "COMPANY_IDS", "LEAD_ID", "ORIGINATOR_ID", "ORIGIN_ID",
    "ORIGIN_VERSION", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM",
    "LAST_ACTIVITY_TIME", "LAST_ACTIVITY_BY",
))  # fmt: skip
COMPANY_SCHEMA = _schema(crm_company.SCHEMA, (
    "ID", "TITLE", "COMPANY_TYPE", "LOGO", "ADDRESS_LEGAL", "BANKING_DETAILS", "INDUSTRY",
    "EMPLOYEES", "CURRENCY_ID", "REVENUE", "OPENED", "COMMENTS", "HAS_PHONE", "HAS_EMAIL",
    "HAS_IMOL", "IS_MY_COMPANY", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID",
    "DATE_CREATE", "DATE_MODIFY", "LEAD_ID", "ORIGINATOR_ID", "ORIGIN_ID", "ORIGIN_VERSION",
    "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM", "LAST_ACTIVITY_TIME",
    "LAST_ACTIVITY_BY",
))  # fmt: skip

# The keys crm-item-get.md's lead answer prints from its multi-fields, and the value type each
# picks (None: the first value of any type); `skype` and `icq` are always null there.
_DERIVED = {
    "phoneMobile": ("PHONE", "MOBILE"), "phoneWork": ("PHONE", "WORK"),
    "phoneMailing": ("PHONE", "MAILING"), "emailHome": ("EMAIL", "HOME"),
    "emailWork": ("EMAIL", "WORK"), "emailMailing": ("EMAIL", "MAILING"),
    "imol": ("IM", "IMOL"), "email": ("EMAIL", None), "phone": ("PHONE", None),
}  # fmt: skip
_COMMON_HEAD = ("id", "createdTime", "updatedTime", "createdBy", "updatedBy", "assignedById",
                "opened")  # fmt: skip
_COMMON_TAIL = (
    "searchContent", "categoryId", "lastActivityBy", "lastActivityTime", "phoneMobile",
    "phoneWork", "phoneMailing", "emailHome", "emailWork", "emailMailing", "skype", "icq",
    "imol", "email", "phone", "fm", UF, PARENTS, "utmSource", "utmMedium", "utmCampaign",
    "utmContent", "utmTerm", "observers",
)  # fmt: skip
# crm-item-get.md's key order for the keys a lead shares; the rest in object-fields.md's order.
# `shortName`, `address`, `login` and `searchContent` are disabled fields (always null).
CONTACT_LAYOUT = (
    *_COMMON_HEAD, "companyId", "sourceId", "sourceDescription", "name", "lastName",
    "secondName", "shortName", "photo", "post", "address", "comments", "leadId", "export",
    "typeId", "originatorId", "originId", "originVersion", "birthdate", "honorific", "hasPhone",
    "hasEmail", "hasImol", "login", *_COMMON_TAIL, "companyIds", "entityTypeId",
)  # fmt: skip
COMPANY_LAYOUT = (
    *_COMMON_HEAD, "title", "logo", "address", "addressLegal", "bankingDetails", "comments",
    "typeId", "industry", "revenue", "currencyId", "employees", "leadId", "originatorId",
    "originId", "originVersion", "hasPhone", "hasEmail", "hasImol", "isMyCompany",
    *_COMMON_TAIL, "entityTypeId",
)  # fmt: skip


def _items(row: Row) -> list[customers.Item]:
    return [item for name in customers.MULTIFIELDS for item in customers.stored_items(row, name)]


def _fm(row: Row, zone: tzinfo) -> list[dict[str, Any]]:
    """object-fields.md's `fm`: every multi-field value as {id, valueType, value, typeId}."""
    return [{"id": int(i["ID"]), "valueType": i["VALUE_TYPE"], "value": i["VALUE"],
             "typeId": i["TYPE_ID"]} for i in _items(row)]  # fmt: skip


def _derived(type_id: str, value_type: str | None) -> Any:
    def value(row: Row, zone: tzinfo) -> str:
        for item in customers.stored_items(row, type_id):
            wanted = (value_type,) if value_type != "IMOL" else ("IMOL", "OPENLINE")
            if value_type is None or item.get("VALUE_TYPE") in wanted:
                return str(item["VALUE"])
        return ""

    return value


_COMPUTED = {"fm": _fm, **{key: _derived(*spec) for key, spec in _DERIVED.items()}}
# The multi-field columns `fm` reads: in the listing schema, under names no request can give.
_HIDDEN = tuple(
    Field(
        "@" + name.lower(), name.lower(), "json", "crm_multifield", filterable=False, sortable=False
    )
    for name in customers.MULTIFIELDS
)
# Files are not stored (decisions.md, crm.contact): an upload is accepted and `photo` is null.
_NOT_STORED = frozenset({"photo", "logo", "fm"})


def _legacy_fm(raw: Any, old: Row | None) -> dict[str, list[dict[str, Any]]]:
    """`fm` as the legacy multi-field writes `rules.customers` reads: the whole collection, so
    a value of the row that `fm` does not name (by `id`) is deleted, one without `id` added."""
    given = fields_object(raw) or {}
    written: dict[str, list[dict[str, Any]]] = {name: [] for name in customers.MULTIFIELDS}
    named: set[str] = set()
    for item in given.values():
        if not isinstance(item, dict):
            continue
        type_id = str(item.get("typeId") or "").upper()
        if type_id not in written:
            continue
        known = str(item.get("id") or "")
        named.add(known)
        written[type_id].append({"ID": known, "VALUE": item.get("value"),
                                 "VALUE_TYPE": item.get("valueType")})  # fmt: skip
    for old_item in _items(old or {}):
        if old_item["ID"] not in named:
            written[old_item["TYPE_ID"]].append({"ID": old_item["ID"], "DELETE": "Y"})
    return {name.upper(): items for name, items in written.items() if items}


async def _read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
    columns = await read_columns(
        family, call, {k: v for k, v in fields.items() if str(k).lower() not in _NOT_STORED}, old
    )
    given = next((v for k, v in fields.items() if str(k).lower() == "fm"), None)
    if given is not None:
        columns.update(customers.written_multifields(old, _legacy_fm(given, old)))
    return columns


# The crm.item names of the link fields, and the legacy ones `customer_links` reads.
_LINK_NAMES = {"companyid": "COMPANY_ID", "company_id": "COMPANY_ID",
               "companyids": "COMPANY_IDS", "company_ids": "COMPANY_IDS",
               "contactids": "CONTACT_ID", "contact_ids": "CONTACT_ID"}  # fmt: skip


def _link_fields(fields: Any) -> dict[str, Any]:
    given = fields_object(fields) or {}
    return {_LINK_NAMES[str(k).lower()]: v for k, v in given.items()
            if str(k).lower() in _LINK_NAMES}  # fmt: skip


def _customer_family(type_id: int, schema: Schema, layout: tuple[str, ...], *,
                     title: str | None, user_fields: str, side: Side,
                     **hooks: Any) -> Family:  # fmt: skip
    """`side` is the family's end of the contact-company links (families/customer_links.py): a
    contact's `companyId`/`companyIds` and a company's `contactIds` are its links, written as
    crm.contact.* and crm.company.* write COMPANY_IDS and CONTACT_ID."""

    async def read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
        columns = await _read(family, call, fields, old)
        columns.update(customer_links.company_columns(side, _link_fields(fields), old))
        return columns

    def new(columns: Row, *, user: int, now: float, zone: tzinfo) -> Row:
        return customers.new_customer(columns, user=user, now=now)

    def changed(old: Row, values: Row, *, user: int, now: float) -> Row:
        return customers.changed_customer(values, user=user, now=now)

    async def change(call: Call, old: Row, columns: Row, now: float) -> Row | None:
        """crm-item-update.md: nothing is saved when nothing changes, the links included."""
        values = {k: v for k, v in columns.items() if old.get(k) != v}
        if not values and not _link_fields(call.params.get("fields")):
            return None
        return changed(old, values, user=call.principal.user_id, now=now)

    async def settled(call: Call, row: Row) -> None:
        """The links a write names, in the order given, the first primary (as crm.contact's)."""
        await customer_links.write_given(call, side, row, _link_fields(call.params.get("fields")))

    return item_family(
        type_id, schema, layout, new=new, changed=changed, title=title,
        user_fields=user_fields, hidden=_HIDDEN, computed=_COMPUTED,
        constants={"categoryId": 0}, read=read, change=change, settled=settled, **hooks,
    )  # fmt: skip


async def _company_contacts(call: Call, row: Row, action: str) -> dict[str, Any]:
    """A company's `contactIds`: its links to contacts, in the company's order (crm.company.
    contact.items.get's)."""
    found = await customer_links.bindings(call, customer_links.COMPANY, int(row["id"]))
    return {"contactIds": links.ids(found)}


def _company_present(family: Family, call: Call, row: Row, action: str,
                     extra: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """A company with its `contactIds` before `entityTypeId` (a list prints none: its rows are
    read in one query, the contacts' links are not)."""
    shown = family.viewed(family.view, call.params).render(row, call.ctx.zone)
    type_id = shown.pop("entityTypeId")
    return {**shown, "contactIds": extra.get("contactIds", []), "entityTypeId": type_id}


CONTACTS = _customer_family(
    CONTACT, CONTACT_SCHEMA, CONTACT_LAYOUT, title=None, user_fields="CRM_CONTACT",
    side=customer_links.CONTACT,
)  # fmt: skip
COMPANIES = _customer_family(COMPANY, COMPANY_SCHEMA, COMPANY_LAYOUT, title="Company",
                             user_fields="CRM_COMPANY", side=customer_links.COMPANY,
                             embedded=_company_contacts,
                             present=_company_present)  # fmt: skip
