"""crm.deal.*: legacy deals, UPPER_SNAKE fields and every value a string.

Pages: api-reference/crm/deals/{crm-deal-add,crm-deal-get,crm-deal-list,crm-deal-update,
crm-deal-delete,crm-deal-fields}.md. The deal rules (stages, defaults) are `rules.deals`, shared
with crm.item (entityTypeId 2), which reads the same `deals` rows; so are the fields
(`families.crm_fields`). Errors carry an empty code and the documented text. Every portal user
has CRM rights here.
"""

from __future__ import annotations

from typing import Any

from orderlink import errors, events
from orderlink.families import stages
from orderlink.families.crm_fields import deal_user_fields, legacy_deal, uf_descriptor
from orderlink.families.family import Created
from orderlink.families.handlers import crud, serve
from orderlink.families.legacy import SUMMARIES, legacy_family
from orderlink.records import values as wire
from orderlink.records.custom_fields import (
    PARENTS,
    UF,
    listing_schema,
    parent_upper,
    unchanged,
)
from orderlink.records.projection import View
from orderlink.records.reading import Changes
from orderlink.registry import Call, MethodTable
from orderlink.rules import deals
from orderlink.rules.portal import CURRENCY_CODES
from orderlink.schema import Schema
from orderlink.storage.base import Emit, Row

table = MethodTable(scope="crm", docs="api-reference/crm/deals/")

# crm-deal-fields.md, in its order, with its titles, statusType and settings.
SCHEMA = Schema(
    "deals",
    [legacy_deal(name) for name in (
        "ID", "TITLE", "TYPE_ID", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "IS_NEW",
        "IS_RECURRING", "IS_RETURN_CUSTOMER", "IS_REPEATED_APPROACH", "PROBABILITY",
        "CURRENCY_ID", "OPPORTUNITY", "IS_MANUAL_OPPORTUNITY", "TAX_VALUE", "COMPANY_ID",
        "CONTACT_ID", "CONTACT_IDS", "QUOTE_ID", "BEGINDATE", "CLOSEDATE", "OPENED", "CLOSED",
        "COMMENTS", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID", "MOVED_BY_ID",
        "DATE_CREATE", "DATE_MODIFY", "MOVED_TIME", "SOURCE_ID", "SOURCE_DESCRIPTION", "LEAD_ID",
        "ADDITIONAL_INFO", "LOCATION_ID", "ORIGINATOR_ID", "ORIGIN_ID", "UTM_SOURCE",
        "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM", "LAST_ACTIVITY_TIME",
        "LAST_ACTIVITY_BY",
    )],
    case_insensitive=True,
)  # fmt: skip
LIST_SCHEMA = listing_schema(SCHEMA)

# crm-deal-get.md's key order; CONTACT_IDS is never returned (crm-deal-fields.md).
VIEW = View(
    SCHEMA,
    (
        "ID", "TITLE", "TYPE_ID", "STAGE_ID", "PROBABILITY", "CURRENCY_ID", "OPPORTUNITY",
        "IS_MANUAL_OPPORTUNITY", "TAX_VALUE", "LEAD_ID", "COMPANY_ID", "CONTACT_ID", "QUOTE_ID",
        "BEGINDATE", "CLOSEDATE", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID",
        "DATE_CREATE", "DATE_MODIFY", "OPENED", "CLOSED", "COMMENTS", "ADDITIONAL_INFO",
        "LOCATION_ID", "CATEGORY_ID", "STAGE_SEMANTIC_ID", "IS_NEW", "IS_RECURRING",
        "IS_RETURN_CUSTOMER", "IS_REPEATED_APPROACH", "SOURCE_ID", "SOURCE_DESCRIPTION",
        "ORIGINATOR_ID", "ORIGIN_ID", "MOVED_BY_ID", "MOVED_TIME", "LAST_ACTIVITY_TIME",
        "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM", PARENTS,
        "LAST_ACTIVITY_BY", UF,
    ),
    wire.strings,
    uf_name=unchanged,
    parent_name=parent_upper,
    dynamic_value=wire.as_text,
    select_order=True,
)  # fmt: skip


async def _check(call: Call, changes: Changes) -> None:
    currency = changes.columns.get("currency_id")
    if currency and currency not in CURRENCY_CODES:
        raise errors.LegacyCrmError('Invalid value for the "Currency" field')
    category = changes.columns.get("category_id")
    if category is not None and category < 0:
        raise _bad_category()


def _bad_category() -> errors.B24Error:
    return errors.LegacyCrmError('Invalid value for the "Sales Funnel" field')


def _bad_stage() -> errors.B24Error:
    # Not documented; worded as this family's other invalid values, with the field's title
    # (crm-deal-fields.md: "Deal Stage"). docs/decisions.md, issue 14.
    return errors.LegacyCrmError('Invalid value for the "Deal Stage" field')


async def _create(call: Call, columns: Row, now: float) -> Created:
    funnel = await stages.deal_funnel(
        call, None, columns, bad_category=_bad_category, bad_stage=_bad_stage
    )
    values = deals.new_deal(
        columns, funnel=funnel, user=call.principal.user_id, now=now, zone=call.ctx.zone
    )
    return Created(values, deals.title_template(values, "Deal"))


async def _change(call: Call, old: Row, columns: Row, now: float) -> Row:
    funnel = await stages.deal_funnel(
        call, old, columns, bad_category=_bad_category, bad_stage=_bad_stage
    )
    return deals.changed_deal(old, columns, funnel=funnel, user=call.principal.user_id, now=now)


def _events(action: str, user: int, at: float, deal_id: int | str, row: Row) -> tuple[Emit, ...]:
    return (events.deal(action, user, at, deal_id),)


async def _custom_fields(call: Call) -> dict[str, Any]:
    """crm-deal-fields.md lists the custom fields after the deal's own, titled by their names."""
    rows = await deal_user_fields(call)
    return {r["field_name"]: uf_descriptor(r, title=r["field_name"]) for r in rows}


# crm-deal-list.md lists no `!%`, `!=%`, `!%=` prefixes; they are accepted here as on every
# other list page (crm-item-list.md, sale-order-list.md) rather than read as field names.
DEALS = legacy_family(
    schema=SCHEMA,
    view=VIEW,
    list_schema=LIST_SCHEMA,
    events=_events,
    dynamic=True,
    check=_check,
    create=_create,
    change=_change,
    more_fields=_custom_fields,
)

serve(
    table,
    DEALS,
    crud(
        "crm.deal",
        "crm-deal",
        noun="deal",
        standard=SUMMARIES,
        get="One deal, every value a string, with its custom fields.",
        update="Change the fields given; others stay as they are.",
        delete="Delete a deal and the bindings of orders to it.",
        list=(
            "Deals matching a filter, 50 per page, oldest first: a bare array, `*`, `UF_*` by "
            "default."
        ),
        fields="Every deal field with its descriptor (no `upperName`, as the page prints them).",
    ),
)
