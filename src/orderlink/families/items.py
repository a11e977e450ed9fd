"""The crm.item family shape, whichever entity type it serves: camelCase names with `upperName`,
typed values, `item`/`items`/`fields` envelopes, symbolic error codes, custom fields named
`ufCrm...` unless `useOriginalUfNames=Y`.

Pages: api-reference/crm/universal/{crm-item-add,crm-item-get,crm-item-list,crm-item-update,
crm-item-delete,crm-item-fields,index}.md. `methods/crm_item.py` picks a family per
`entityTypeId`: deals and smart invoices (there), contacts and companies
(`methods/crm_item_customers.py`), smart processes (`families/smart_processes.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from datetime import tzinfo
from typing import Any

from orderlink import coerce, errors, events
from orderlink.families.crm_fields import descriptor, uf_descriptor, user_fields_of
from orderlink.families.family import Created, Events, Family, Params, plural
from orderlink.families.readers import item_fields, positive_id
from orderlink.records import values as wire
from orderlink.records.custom_fields import (
    CUSTOM_FIELDS,
    DYNAMIC,
    listing_schema,
    parent_camel,
    uf_camel,
    unchanged,
)
from orderlink.records.projection import View
from orderlink.records.reading import Changes, ErrorFactory, NotMultiple, Unreadable
from orderlink.registry import Call
from orderlink.rules import deals
from orderlink.rules.portal import CURRENCY_CODES
from orderlink.schema import Field, Schema
from orderlink.storage.base import Emit, Row


def original_names(params: Params) -> bool:
    return coerce.to_flag(params.get("useOriginalUfNames", "N")) is True


def _viewed(view: View, params: Params) -> View:
    """`useOriginalUfNames=Y` names custom fields `UF_CRM_...` instead of `ufCrm...`."""
    return dataclasses.replace(view, uf_name=unchanged) if original_names(params) else view


_PHP_TYPES = {str: "string", int: "integer", float: "double", bool: "boolean"}


def _invalid(name: str, exc: Unreadable) -> errors.B24Error:
    if isinstance(exc, NotMultiple):
        return errors.MultipleValueExpected(_PHP_TYPES.get(type(exc.value), "NULL"))
    return errors.FieldValueNotValid(name)


async def check_values(call: Call, changes: Changes) -> None:
    """A currency the portal has, a funnel id that is no negative number."""
    columns = changes.columns
    if columns.get("currency_id") and columns["currency_id"] not in CURRENCY_CODES:
        raise errors.FieldValueNotValid("currencyId")
    if columns.get("category_id", 0) < 0:
        raise errors.FieldValueNotValid("categoryId")


def _unchanged_part(old: Row, columns: Row) -> Row | None:
    """crm-item-update.md: when nothing changes, nothing is saved (None)."""
    values = {k: v for k, v in columns.items() if old.get(k) != v}
    if values.get("stage_id") == "":
        del values["stage_id"]
    return values or None


# What a type's rules need besides the columns, read from the store (a deal's funnel).
Extras = Callable[[Call, "Row | None", Row], Awaitable[dict[str, Any]]]
# A new row's columns from the request's (`user`, `now`, `zone` and the extras as keywords).
New = Callable[..., Row]
# An update's columns from the old row and the changed ones (`user`, `now` and the extras).
Changed = Callable[..., Row]


async def _no_extras(call: Call, old: Row | None, columns: Row) -> dict[str, Any]:
    return {}


def custom_fields(entity_id: str) -> Callable[[Call], Awaitable[dict[str, Any]]]:
    """crm.item.fields' custom fields of `entity_id` (userfieldconfig/index.md), named as
    `useOriginalUfNames` asks, with the `upperName` every crm.item field has."""

    async def described(call: Call) -> dict[str, Any]:
        name = unchanged if original_names(call.params) else uf_camel
        rows = await user_fields_of(call, entity_id)
        return {name(r["field_name"]): uf_descriptor(r, upper=True) for r in rows}

    return described


def item_family(
    type_id: int,
    schema: Schema,
    layout: tuple[str, ...],
    *,
    new: New,
    changed: Changed,
    title: str | None = None,
    extras: Extras = _no_extras,
    user_fields: str | None = None,
    hidden: tuple[Field, ...] = (),
    computed: Mapping[str, Callable[[Row, tzinfo], Any]] | None = None,
    constants: Mapping[str, Any] | None = None,
    share: tuple[str, Any] | None = None,
    **hooks: Any,
) -> Family:
    """crm.item's family for entity type `type_id` over `schema`'s table, whose rows `new` makes and
    `changed` changes. `title` names an untitled new row (`Deal #{id}`); `user_fields` is the
    `entityId` whose custom fields crm.item.fields lists; `hidden` are listing-schema fields no
    request names (the columns a `computed` key reads), `constants` what layout keys without a
    field print (null when not given), `share` the (column, value) of its rows in a shared table;
    `hooks` go to `Family` as they are."""

    async def create(call: Call, columns: Row, now: float) -> Created:
        more = await extras(call, None, columns)
        values = new(columns, user=call.principal.user_id, now=now, zone=call.ctx.zone, **more)
        return Created(values, deals.title_template(values, title) if title else {})

    async def change(call: Call, old: Row, columns: Row, now: float) -> Row | None:
        values = _unchanged_part(old, columns)
        if values is None:
            return None
        more = await extras(call, old, values)
        return changed(old, values, user=call.principal.user_id, now=now, **more)

    def raised(action: str, user: int, at: float, item_id: int | str, row: Row) -> tuple[Emit, ...]:
        return (events.crm_item(type_id, action, user, at, item_id),)

    view = View(schema, layout, wire.typed, uf_name=uf_camel, parent_name=parent_camel,
                constants={**(constants or {}), "entityTypeId": type_id},
                computed=computed or {})  # fmt: skip
    settings: dict[str, Any] = {
        "check": check_values,
        "more_fields": custom_fields(user_fields) if user_fields else None,
        "create": create,
        "change": change,
        **hooks,
    }
    return universal_family(
        schema=schema,
        view=view,
        list_schema=listing_schema(schema, (*DYNAMIC, *hidden)),
        not_found=errors.ItemNotFound,
        invalid=_invalid,
        events=raised,
        envelope="item",
        dynamic=True,
        filter_groups=True,
        custom=CUSTOM_FIELDS,
        viewed=_viewed,
        share=share,
        **settings,
    )


def universal_family(
    *,
    schema: Schema,
    view: View,
    not_found: Callable[[], errors.B24Error],
    invalid: ErrorFactory,
    events: Events,
    envelope: str,
    list_schema: Schema | None = None,
    list_view: View | None = None,
    **hooks: Any,
) -> Family:
    """A family in the dialect of the crm module's universal methods (crm.item.*, crm.type.*,
    crm.item.productrow.*): `fields` given as an object, `{envelope: ...}` answers (a list's
    rows in `{plural(envelope): [...]}`, descriptors in `fields`) with `upperName`, add and update
    answer the entity, delete `[]`; an unknown `order` key or a bad filter is
    INVALID_ARG_VALUE; a missing or bad id is `not_found()`. A list filters by `schema` and
    prints as `view` unless `list_schema` and `list_view` differ."""
    return Family(
        schema=schema,
        view=view,
        list_schema=list_schema or schema,
        list_view=list_view or view,
        read_id=positive_id(not_found),
        read_fields=item_fields,
        not_found=not_found,
        invalid=invalid,
        list_error=errors.InvalidArgValue,
        events=events,
        descriptor=descriptor,
        envelope=envelope,
        list_envelope=plural(envelope),
        fields_envelope="fields",
        answers=("entity", "entity", "empty"),
        refuse_unknown_order=True,
        **hooks,
    )
