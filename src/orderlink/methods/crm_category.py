"""crm.category.*: deal funnels (entityTypeId 2), and the deprecated crm.dealcategory.stage.list.

Pages: api-reference/crm/universal/category/{crm-category-add,crm-category-get,crm-category-list,
crm-category-update,crm-category-delete,crm-category-fields}.md,
api-reference/crm/outdated/category-old/crm-deal-category-stage-list.md. The general funnel is
row 0 (bootstrap.py writes it); a new funnel gets the general funnel's default stages under its
prefix (`rules.funnels`). Only deals have funnels here.
"""

from __future__ import annotations

from typing import Any

from orderlink import coerce, errors
from orderlink.entity_types import DEAL, LEGACY_INVOICE
from orderlink.listing import PAGE_SIZE
from orderlink.records.days import today
from orderlink.registry import Call, MethodTable, Page
from orderlink.rules import funnels
from orderlink.schema import fit_text
from orderlink.storage.base import Condition, ListQuery, Row

table = MethodTable(scope="crm", docs="api-reference/crm/universal/category/")

OLD_DOCS = "api-reference/crm/outdated/category-old/"

# crm-category-fields.md, as printed: (name, type, required, read-only, title = upperName).
_FIELDS = (
    ("id", "integer", False, True, "ID"),
    ("name", "string", False, False, "NAME"),
    ("sort", "integer", False, False, "SORT"),
    ("entityTypeId", "integer", True, True, "ENTITY_TYPE_ID"),
    ("isDefault", "boolean", False, True, "IS_DEFAULT"),
    ("originId", "string", False, False, "ORIGIN_ID"),
    ("originatorId", "string", False, False, "ORIGINATOR_ID"),
)
# data-types.md's object types without funnels; other types but deals are no type here.
_NO_FUNNELS = {1: "LEAD", LEGACY_INVOICE: "INVOICE", 7: "QUOTE"}


def _entity_type(params: dict[str, Any]) -> None:
    raw = params.get("entityTypeId")
    if raw is None or raw == "":
        raise errors.MissingParameter("entityTypeId")
    type_id = coerce.to_int(raw)
    if type_id in _NO_FUNNELS:
        raise errors.EntityTypeNotSupported(f"Entity type {_NO_FUNNELS[type_id]} is not supported")
    if type_id != DEAL:
        raise errors.SmartProcessNotFound()


def _id(params: dict[str, Any]) -> int:
    raw = params.get("id")
    if raw is None or raw == "":
        raise errors.MissingParameter("id")
    found = coerce.to_int(raw)
    if found is None or found < 0:
        raise errors.ItemNotFound()
    return found


def render(row: Row) -> dict[str, Any]:
    """A category as crm-category-list.md prints it; the general funnel has no origin keys."""
    shown: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "sort": row["sort"],
        "entityTypeId": DEAL,
        "isDefault": row["is_default"],
    }
    if row["id"] != 0:
        shown.update(originId=row["origin_id"], originatorId=row["originator_id"])
    return shown


def _columns(fields: Any, *, new: bool) -> Row:
    """The columns `fields` writes (crm-category-add.md): a name that is not blank, a sort that
    is never negative; `isDefault` cannot change for deals and is ignored."""
    if not isinstance(fields, dict):
        fields = {}
    values: Row = {}
    if "name" in fields or new:
        name = fields.get("name")
        if not isinstance(name, str | int | float) or not str(name).strip():
            raise errors.CategoryError("Field 'NAME' is required")
        values["name"] = fit_text("name", str(name))
    if "sort" in fields:
        values["sort"] = max(coerce.to_int(fields["sort"]) or 0, 0)
    for key, column in (("originId", "origin_id"), ("originatorId", "originator_id")):
        if key in fields:
            values[column] = fit_text(column, str(fields[key] or ""))
    return values


async def _get(call: Call, category: int) -> Row:
    row = await call.store.get(call.portal, "deal_categories", category)
    if row is None:
        raise errors.ItemNotFound()
    return row


async def categories(
    call: Call, *, offset: int = 0, limit: int | None = None
) -> tuple[list[Row], int]:
    """The portal's funnels in list order (sort, then id) and how many there are."""
    found = await call.store.list(
        ListQuery(
            table="deal_categories",
            portal_id=call.portal,
            columns=["id", "name", "sort", "is_default", "origin_id", "originator_id"],
            order=[("sort", False), ("id", False)],
            offset=offset,
            limit=limit,
        )
    )
    return found.rows, found.total or 0


@table.method("crm.category.fields", page="crm-category-fields.md")
async def category_fields(call: Call) -> Any:
    """The funnel fields, `upperName` included."""
    _entity_type(call.params)
    return {
        "fields": {
            name: {
                "type": type_, "isRequired": required, "isReadOnly": read_only,
                "isImmutable": False, "isMultiple": False, "isDynamic": False, "title": title,
                "upperName": title,
            }
            for name, type_, required, read_only, title in _FIELDS
        }
    }  # fmt: skip


@table.method("crm.category.list", page="crm-category-list.md")
async def category_list(call: Call) -> Any:
    """The funnels, by sort then id, the general one (id 0) among them; 50 per page."""
    _entity_type(call.params)
    start = max(coerce.to_int(call.params.get("start")) or 0, 0)
    rows, total = await categories(call, offset=start, limit=PAGE_SIZE)
    following = start + PAGE_SIZE
    return Page({"categories": [render(r) for r in rows]}, total,
                following if total > following else None)  # fmt: skip


@table.method("crm.category.get", page="crm-category-get.md")
async def category_get(call: Call) -> Any:
    """One funnel."""
    _entity_type(call.params)
    return {"category": render(await _get(call, _id(call.params)))}


@table.method("crm.category.add", page="crm-category-add.md")
async def category_add(call: Call) -> Any:
    """A new funnel, with the default stages under its prefix (`C{id}:NEW`, ...)."""
    _entity_type(call.params)
    # CREATED_DATE is crm.dealcategory's (crm-deal-category-get.md).
    values = {"sort": 500, **_columns(call.params.get("fields"), new=True),
              "created_date": today(call.ctx.clock.now(), call.ctx.zone)}  # fmt: skip
    # One transaction: a funnel is never left without its stages.
    async with call.store.group() as group, group.step():
        category = await call.store.insert(call.portal, "deal_categories", values)
        for stage in funnels.default_stages(category):
            await call.store.insert(call.portal, "crm_statuses", stage)
    return {"category": render(await _get(call, category))}


@table.method("crm.category.update", page="crm-category-update.md")
async def category_update(call: Call) -> Any:
    """Change a funnel's name, sort or origin; the rest stays."""
    _entity_type(call.params)
    category = _id(call.params)
    await _get(call, category)
    values = _columns(call.params.get("fields"), new=False)
    row = await call.store.update(call.portal, "deal_categories", category, values)
    if row is None:
        raise errors.ItemNotFound()
    return {"category": render(row)}


@table.method("crm.category.delete", page="crm-category-delete.md")
async def category_delete(call: Call) -> Any:
    """Delete an empty funnel that is not the general one, and its stages; answers null."""
    _entity_type(call.params)
    category = _id(call.params)
    row = await _get(call, category)
    if category == 0:
        raise errors.CategoryError("Default deal category cannot be deleted")
    held = await call.store.list(
        ListQuery(table="deals", portal_id=call.portal, columns=["id"],
                  conditions=[Condition("category_id", "=", category)], limit=1, count=False)
    )  # fmt: skip
    if held.rows:
        raise errors.CategoryError(f"Deals related to the funnel {row['name']} found")
    stages = await call.store.list(
        ListQuery(table="crm_statuses", portal_id=call.portal, columns=["id"], limit=None,
                  conditions=[Condition("entity_id", "=", funnels.stage_entity(category))],
                  count=False)
    )  # fmt: skip
    async with call.store.group() as group, group.step():  # stages and funnel go together
        for stage in stages.rows:
            await call.store.delete(call.portal, "crm_statuses", stage["id"])
        await call.store.delete(call.portal, "deal_categories", category)
    return None
