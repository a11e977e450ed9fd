"""The legacy customer families, crm.contact.* and crm.company.*: one shape, two field tables.

Both are crm.deal's dialect (UPPER_SNAKE names in any case, every value a string, errors with an
empty code) plus the multi-fields PHONE, EMAIL, WEB, IM, LINK (rules.customers), which a list
prints only when `select` names them (crm-contact-list.md, "There is no mask for selecting
multiple fields") and get only when they hold a value (crm-contact-get.md's example has no WEB).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from orderlink import events
from orderlink.entity_types import LEAD
from orderlink.families import customer_links, legacy
from orderlink.families.crm_fields import uf_descriptor, user_fields_of
from orderlink.families.customer_links import Side
from orderlink.families.family import Created, Family
from orderlink.families.handlers import crud, read_columns, serve
from orderlink.families.readers import top_level
from orderlink.records import values as wire
from orderlink.records.custom_fields import listing_schema, parent_upper, unchanged
from orderlink.records.projection import View
from orderlink.records.reading import Changes
from orderlink.registry import Call, MethodTable
from orderlink.rules import customers
from orderlink.schema import Field, Schema, field, named
from orderlink.storage.base import Emit, Row

Check = Callable[[Call, Changes], Awaitable[None]]

# crm-contact-fields.md / crm-company-fields.md: the multi-fields close both tables. A list
# filters them by any one of their values, exactly (listing.py, `item`); none sorts by them.
MULTIFIELDS = [
    dataclasses.replace(field(name, name.lower(), "json", "crm_multifield", title, "M",
                              item="VALUE"), sortable=False)
    for name, title in (("PHONE", "Phone"), ("EMAIL", "E-mail"), ("WEB", "Website"),
                        ("IM", "Messenger"), ("LINK", "LINK"))
]  # fmt: skip


# The fields crm-contact-fields.md and crm-company-fields.md print alike, each group where both
# tables place it.
ADDRESS_PARTS = [
    named("ADDRESS_CITY", "text", "string", "City"),
    named("ADDRESS_POSTAL_CODE", "text", "string", "Postal Code"),
    named("ADDRESS_REGION", "text", "string", "Region"),
    named("ADDRESS_PROVINCE", "text", "string", "Province"),
    named("ADDRESS_COUNTRY", "text", "string", "Country"),
    named("ADDRESS_COUNTRY_CODE", "text", "string", "Country Code"),
    named("ADDRESS_LOC_ADDR_ID", "int", "integer", "Location Address ID"),
]
COMMUNICATION_FLAGS = [
    named("HAS_PHONE", "flag", "char", "Phone Set", "O", "N"),
    named("HAS_EMAIL", "flag", "char", "E-mail Set", "O", "N"),
    named("HAS_IMOL", "flag", "char", "Open Line Set", "O", "N"),
]
AUTHORSHIP = [
    named("ASSIGNED_BY_ID", "int", "user", "Responsible Person"),
    named("CREATED_BY_ID", "int", "user", "Created By", "O"),
    named("MODIFY_BY_ID", "int", "user", "Modified By", "O"),
    named("DATE_CREATE", "datetime", "datetime", "Creation Date", "O"),
    named("DATE_MODIFY", "datetime", "datetime", "Modification Date", "O"),
]
# ... UTM_TERM, titled differently by each page, follows.
ORIGIN = [
    named("LEAD_ID", "int", "crm_lead", "Lead", "O", settings={"parentEntityTypeId": LEAD}),
    named("ORIGINATOR_ID", "text", "string", "External Source"),
    named("ORIGIN_ID", "text", "string", "Identifier in External Source"),
    named("ORIGIN_VERSION", "text", "string", "Original Version"),
    named("UTM_SOURCE", "text", "string", "Advertising System"),
    named("UTM_MEDIUM", "text", "string", "Traffic Type"),
    named("UTM_CAMPAIGN", "text", "string", "Campaign Identifier"),
    named("UTM_CONTENT", "text", "string", "Campaign Content"),
]


def _stored(f: Field) -> bool:
    """`stored=False`: a field the fields method lists and a write reads, kept elsewhere (a
    company's CONTACT_ID: its links)."""
    return bool(f.extra.get("stored", True))


def _column(schema: Schema, name: str) -> bool:
    """Whether a `fields` key is stored in the row (unknown keys go on: custom fields)."""
    found = schema.get(name)
    return found is None or _stored(found)


# Files (PHOTO, LOGO) are not stored: a file upload is accepted and get answers null, as the
# crm-contact-get.md example does for the photo its add example sent.
_NOT_STORED = frozenset({"PHOTO", "LOGO"})


def customer_family(
    *,
    kind: str,
    schema: Schema,
    layout: tuple[str, ...],
    check: Check | None = None,
    side: Side,
) -> Family:
    """The crm.contact / crm.company family (`kind` CONTACT or COMPANY) over `schema`; `side` is
    its end of the contact-company links (families/customer_links.py), which a write that names
    COMPANY_ID / COMPANY_IDS (a contact) or CONTACT_ID (a company) replaces."""
    entity_id = f"CRM_{kind}"

    async def read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
        plain = {k: v for k, v in fields.items()
                 if str(k).upper() not in customers.MULTIFIELDS
                 and str(k).upper() not in _NOT_STORED and _column(schema, str(k))}  # fmt: skip
        columns = await read_columns(family, call, plain, old)
        columns.update(customers.written_multifields(old, fields))
        columns.update(customer_links.company_columns(side, fields, old))
        return columns

    async def create(call: Call, columns: Row, now: float) -> Created:
        values = customers.new_customer(columns, user=call.principal.user_id, now=now)
        return Created(values, {})

    async def change(call: Call, old: Row, columns: Row, now: float) -> Row:
        return customers.changed_customer(columns, user=call.principal.user_id, now=now)

    async def settled(call: Call, row: Row) -> None:
        """The links a write names (crm-contact-add.md COMPANY_IDS, crm-company-update.md
        CONTACT_ID), in the order given, the first primary; a delete names none."""
        raw = top_level(call.params).get("fields")
        await customer_links.write_given(call, side, row, raw if isinstance(raw, dict) else {})

    async def custom_fields(call: Call) -> dict[str, Any]:
        """crm-contact-fields.md lists the custom fields after the contact's own, titled by
        their names, as crm.deal.fields does."""
        rows = await user_fields_of(call, entity_id)
        return {r["field_name"]: uf_descriptor(r, title=r["field_name"]) for r in rows}

    def raised(action: str, user: int, at: float, item_id: int | str, row: Row) -> tuple[Emit, ...]:
        return (events.customer(kind, action, user, at, item_id),)

    view = View(
        schema, layout, wire.strings, uf_name=unchanged, parent_name=parent_upper,
        dynamic_value=wire.as_text, select_order=True,
        explicit=frozenset(customers.MULTIFIELDS),
    )  # fmt: skip
    stored = Schema(schema.table, [f for f in schema if _stored(f)], case_insensitive=True)
    return legacy.legacy_family(
        schema=schema,
        view=view,
        list_schema=listing_schema(stored),
        events=raised,
        dynamic=True,
        check=check,
        read=read,
        create=create,
        change=change,
        settled=settled,
        more_fields=custom_fields,
    )


# What crm.contact.* and crm.company.* say alike (`crud`'s templates).
SUMMARIES = legacy.SUMMARIES | {
    "get": "One {noun}, every value a string, multi-fields that hold a value.",
    "update": "Change the fields given; multi-field values by ID (empty VALUE deletes).",
    "list": "{Nouns} matching a filter, 50 per page; multi-fields only when selected.",
}


def serve_customers(table: MethodTable, family: Family, noun: str, delete: str) -> None:
    """Serve `crm.<noun>.*` (pages `crm-<noun>-<action>.md`) for a customer family: the
    summaries `SUMMARIES` writes for `noun`, and what its delete does to the others."""
    methods = crud(f"crm.{noun}", f"crm-{noun}", noun=noun, standard=SUMMARIES, delete=delete)
    serve(table, family, methods)
