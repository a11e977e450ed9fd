"""crm.dealcategory.*: the deprecated deal directions, over the funnels crm.category.* serves
(`deal_categories`), in the legacy crm dialect (UPPER_SNAKE, strings, errors with an empty code).

Pages: api-reference/crm/outdated/category-old/{crm-deal-category-add,crm-deal-category-get,
crm-deal-category-list,crm-deal-category-update,crm-deal-category-delete,
crm-deal-category-fields,crm-deal-category-status,crm-deal-category-default-get,
crm-deal-category-default-set}.md (crm.dealcategory.stage.list is methods/crm_status.py's). The
pages print no answers: their shapes follow b24phpsdk's DealCategory service and results (an
id, `true`, an ID/CREATED_DATE/NAME/IS_LOCKED/SORT row, the stage list's ENTITY_ID). A direction
is a funnel other than the general one (row 0), which is `default.get`/`default.set`'s.
"""

from __future__ import annotations

from typing import Any

from orderlink import coerce, errors
from orderlink.families.family import Created, Family
from orderlink.families.handlers import crud, no_events, read_columns, serve
from orderlink.families.legacy import legacy_family
from orderlink.families.readers import top_level
from orderlink.records import values as wire
from orderlink.records.custom_fields import parent_upper, unchanged
from orderlink.records.days import today
from orderlink.records.projection import View
from orderlink.registry import Call, MethodTable
from orderlink.rules import funnels
from orderlink.schema import Schema, fit_text, named
from orderlink.storage.base import Condition, ListQuery, Row

table = MethodTable(scope="crm", docs="api-reference/crm/outdated/category-old/")

# The fields b24phpsdk's DealCategoryItemResult annotates (a portal's rest proxy lists them in
# this order); the titles are ours, none is documented.
SCHEMA = Schema(
    "deal_categories",
    [
        named("ID", "int", "integer", "ID", "O"),
        named("CREATED_DATE", "datetime", "date", "Created", "O"),
        named("NAME", "text", "string", "Name", "R"),
        named("IS_LOCKED", "flag", "char", "Locked", "O", "N"),
        named("SORT", "int", "integer", "Sort", "", 500),
    ],
    case_insensitive=True,
)
VIEW = View(SCHEMA, tuple(f.name for f in SCHEMA), wire.strings, uf_name=unchanged,
            parent_name=parent_upper)  # fmt: skip


async def _read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
    """NAME (required on add, never blank) and SORT; a negative sort is 0, as on
    crm.category.add."""
    columns = await read_columns(family, call, fields, old)
    if (old is None or "name" in columns) and not str(columns.get("name") or "").strip():
        # Not documented: worded as crm.status.add's "The field ... is required."
        raise errors.LegacyCrmError("The field NAME is required.")
    if columns.get("sort") is not None:
        columns["sort"] = max(columns["sort"], 0)
    return columns


async def _create(call: Call, columns: Row, now: float) -> Created:
    values = {"sort": 500, **{k: v for k, v in columns.items() if v is not None},
              "is_default": "N", "created_date": today(now, call.ctx.zone)}  # fmt: skip
    return Created(values, {})


async def _stage_ids(call: Call, category: int) -> list[int]:
    query = ListQuery("crm_statuses", call.portal, ["id"],
                      [Condition("entity_id", "=", funnels.stage_entity(category))],
                      limit=None, count=False)  # fmt: skip
    return [r["id"] for r in (await call.store.list(query)).rows]


async def _settled(call: Call, row: Row) -> None:
    """A direction has its stages while it exists: a new one gets the general funnel's default
    stages under its prefix (as crm.category.add's), a deleted one's go with it, in the write's
    transaction."""
    category = int(row["id"])
    stages = await _stage_ids(call, category)
    if await call.store.get(call.portal, "deal_categories", category) is None:
        for stage in stages:
            await call.store.delete(call.portal, "crm_statuses", stage)
    elif not stages:
        for values in funnels.default_stages(category):
            await call.store.insert(call.portal, "crm_statuses", values)


async def _deleting(call: Call, row: Row) -> None:
    """A direction that holds deals is not deleted (crm-category-delete.md's refusal, in this
    family's dialect)."""
    held = ListQuery("deals", call.portal, ["id"], [Condition("category_id", "=", row["id"])],
                     limit=1, count=False)  # fmt: skip
    if (await call.store.list(held)).rows:
        raise errors.LegacyCrmError(f"Deals related to the funnel {row['name']} found")


DIRECTIONS = legacy_family(
    schema=SCHEMA,
    view=VIEW,
    events=no_events,  # no deal-direction event is documented
    custom=None,
    # The general funnel (row 0, the default one) is no direction: `default.get` answers it.
    share=("is_default", "N"),
    read=_read,
    create=_create,
    deleting=_deleting,
    settled=_settled,
)

serve(
    table,
    DIRECTIONS,
    crud(
        "crm.dealcategory",
        "crm-deal-category",
        add="Add a deal direction (a funnel) with the default stages; answers its id.",
        get="One deal direction: ID, CREATED_DATE, NAME, IS_LOCKED, SORT.",
        list="Deal directions matching a filter, 50 per page, a bare array.",
        update="Change a direction's NAME or SORT; answers true.",
        delete="Delete a direction without deals, and its stages; answers true.",
        fields="The deal-direction fields with their descriptors.",
    ),
)


@table.method("crm.dealcategory.status", page="crm-deal-category-status.md")
async def status(call: Call) -> Any:
    """The stage list of a direction, for crm.status.*: `DEAL_STAGE_{id}` (`DEAL_STAGE` for 0)."""
    params = top_level(call.params)
    category = coerce.to_int(params.get("id") or 0)
    if category is None or category < 0:
        raise errors.LegacyBadId()
    if await call.store.get(call.portal, "deal_categories", category) is None:
        raise errors.LegacyNotFound()
    return funnels.stage_entity(category)


@table.method("crm.dealcategory.default.get", page="crm-deal-category-default-get.md")
async def default_get(call: Call) -> Any:
    """The general direction's settings: ID 0, its NAME and SORT."""
    row = await call.store.get(call.portal, "deal_categories", 0)
    general = row if row is not None else funnels.GENERAL
    return {"ID": 0, "NAME": general["name"], "SORT": general["sort"]}


@table.method("crm.dealcategory.default.set", page="crm-deal-category-default-set.md")
async def default_set(call: Call) -> Any:
    """Rename the general direction (`name`; empty: its default name) and set its SORT."""
    params = top_level(call.params)
    values: Row = {}
    if "name" in params:
        name = "" if params["name"] is None else str(params["name"]).strip()
        values["name"] = fit_text("name", name) if name else funnels.GENERAL["name"]
    if "sort" in params and coerce.to_int(params["sort"]) is not None:
        values["sort"] = max(coerce.to_int(params["sort"]) or 0, 0)
    if await call.store.update(call.portal, "deal_categories", 0, values) is None:
        raise errors.LegacyNotFound()
    return True
