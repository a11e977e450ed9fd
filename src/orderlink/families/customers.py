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

from orderlink import errors, events
from orderlink.families.crm_fields import descriptor
from orderlink.families.family import Created, Family
from orderlink.families.handlers import read_columns
from orderlink.families.readers import legacy_fields, legacy_invalid, positive_id, top_level
from orderlink.records import values as wire
from orderlink.records.custom_fields import CUSTOM_FIELDS, listing_schema, parent_upper, unchanged
from orderlink.records.projection import View
from orderlink.records.reading import Changes
from orderlink.registry import Call
from orderlink.rules import customers
from orderlink.schema import Field, Schema, field
from orderlink.storage.base import Emit, Row, Table

Check = Callable[[Call, Changes], Awaitable[None]]

# crm-contact-fields.md / crm-company-fields.md: the multi-fields close both tables.
MULTIFIELDS = [
    dataclasses.replace(field(name, name.lower(), "json", "crm_multifield", title, "M"),
                        filterable=False, sortable=False)
    for name, title in (("PHONE", "Phone"), ("EMAIL", "E-mail"), ("WEB", "Website"),
                        ("IM", "Messenger"), ("LINK", "LINK"))
]  # fmt: skip


def legacy(
    name: str, kind: Any, type_: str, title: str, flags: str = "", empty: Any = None, **extra: Any
) -> Field:
    """A legacy field: its wire name, column (the name in lower case), kind and descriptor."""
    return field(name, name.lower(), kind, type_, title, flags, empty, **extra)


# Files (PHOTO, LOGO) are not stored: a file upload is accepted and get answers null, as the
# crm-contact-get.md example does for the photo its add example sent.
_NOT_STORED = frozenset({"PHOTO", "LOGO"})


def customer_family(
    *,
    kind: str,
    table: Table,
    schema: Schema,
    layout: tuple[str, ...],
    check: Check | None = None,
    links: tuple[str, str] | None = None,
) -> Family:
    """The crm.contact / crm.company family (`kind` CONTACT or COMPANY) over `table`; `links`
    names a single-id column kept the first of its id-list column (COMPANY_ID, COMPANY_IDS)."""

    async def read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
        plain = {k: v for k, v in fields.items()
                 if str(k).upper() not in customers.MULTIFIELDS
                 and str(k).upper() not in _NOT_STORED}  # fmt: skip
        columns = await read_columns(family, call, plain, old)
        columns.update(customers.written_multifields(old, fields))
        return columns

    def linked(values: Row) -> Row:
        if links is not None:
            customers.sync_ids(values, links[0], links[1], None)
        return values

    async def create(call: Call, columns: Row, now: float) -> Created:
        values = customers.new_customer(columns, user=call.principal.user_id, now=now)
        return Created(linked(values), {})

    async def change(call: Call, old: Row, columns: Row, now: float) -> Row:
        return linked(customers.changed_customer(columns, user=call.principal.user_id, now=now))

    def raised(action: str, user: int, at: float, item_id: int | str, row: Row) -> tuple[Emit, ...]:
        return (events.customer(kind, action, user, at, item_id),)

    view = View(
        schema, layout, wire.strings, uf_name=unchanged, parent_name=parent_upper,
        dynamic_value=wire.as_text, select_order=True,
        explicit=frozenset(customers.MULTIFIELDS),
    )  # fmt: skip
    return Family(
        table=table,
        schema=schema,
        view=view,
        list_schema=listing_schema(schema),
        list_view=view,
        params=top_level,
        read_id=positive_id(errors.LegacyBadId),
        read_fields=legacy_fields,
        not_found=errors.LegacyNotFound,
        invalid=legacy_invalid(schema),
        list_error=errors.LegacyCrmError,
        events=raised,
        descriptor=descriptor,
        envelope=None,
        list_envelope=None,
        fields_envelope=None,
        answers=("id", "true", "true"),
        dynamic=True,
        custom=CUSTOM_FIELDS,
        uf_mask="UF_*",
        check=check,
        read=read,
        create=create,
        change=change,
    )
