"""crm.item.productrow.*: product rows of deals ("D") and smart invoices ("SI"), camelCase and
typed; and the legacy crm.deal.productrows.get/set, UPPER_SNAKE, over the same rows.

Pages: api-reference/crm/universal/product-rows/{crm-item-productrow-add,-update,-get,-list,
-delete,-set,-fields}.md and api-reference/crm/deals/crm-deal-productrows-{get,set}.md. The
prices a row derives and the owner's amount are `rules.product_rows`; every write goes through
the store's `save_rows`, so a row and its owner's OPPORTUNITY change in one transaction. No
product-row event is documented: a write that changes the owner's amount raises the owner's
update event (ONCRMDEALUPDATE, ONCRMDYNAMICITEMUPDATE), as an update of the owner would.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from orderlink import coerce, errors, events
from orderlink.entity_types import DEAL, SMART_INVOICE
from orderlink.families.crm_fields import descriptor
from orderlink.families.handlers import crud, list_, serve
from orderlink.families.items import universal_family
from orderlink.families.readers import item_fields, legacy_invalid, positive_id, top_level
from orderlink.records import values as wire
from orderlink.records.custom_fields import parent_camel, unchanged
from orderlink.records.projection import View
from orderlink.records.reading import Unreadable, fields_object, read_fields
from orderlink.registry import Call, MethodTable, Page
from orderlink.rules import product_rows as rules
from orderlink.schema import Field, Schema, named
from orderlink.storage.base import ROW_OWNERS, Condition, ListQuery, Row, RowsPlan, SavedRows

table = MethodTable(scope="crm", docs="api-reference/crm/universal/product-rows/")

LEGACY_DOCS = "api-reference/crm/deals/"

# crm-item-productrow-fields.md, in its order, with its titles and flags.
FIELDS = (
    named("id", "int", "integer", "ID", "O"),
    named("ownerId", "int", "integer", "Owner ID", "RI"),
    named("ownerType", "text", "string", "Owner Type", "RI"),
    named("productId", "int", "integer", "Product", "R"),
    named("productName", "text", "string", "Product Name"),
    named("price", "float", "double", "Price"),
    named("priceExclusive", "float", "double", "Discounted price excluding tax", "O"),
    named("priceNetto", "float", "double", "PRICE_NETTO", "O"),
    named("priceBrutto", "float", "double", "PRICE_BRUTTO", "O"),
    named("quantity", "float", "double", "Quantity"),
    named("discountTypeId", "int", "integer", "Discount Type"),
    named("discountRate", "float", "double", "Discount Amount"),
    named("discountSum", "float", "double", "Discount Total"),
    named("taxRate", "float", "double", "Tax"),
    named("taxIncluded", "flag", "char", "Tax included in price"),
    named("customized", "flag", "char", "Modified"),
    named("measureCode", "int", "integer", "Unit of Measure Code"),
    named("measureName", "text", "string", "Unit of Measure"),
    named("sort", "int", "integer", "Sorting"),
    named("type", "int", "integer", "TYPE", "O"),
    named("storeId", "int", "integer", "STORE_ID", "O"),
)  # fmt: skip
# Every answer also prints `priceAccount` and `xmlId`, which the fields answer leaves out.
SCHEMA = Schema(
    "product_rows",
    [*FIELDS, named("priceAccount", "float", "double", "", "O"),
     named("xmlId", "text", "string", "", "O")],
)  # fmt: skip

# crm-item-productrow-get.md's key order; add/update/set answer the same keys without `storeId`
# (their examples print none).
_LAYOUT = (
    "id", "ownerId", "ownerType", "productId", "productName", "price", "priceAccount",
    "priceExclusive", "priceNetto", "priceBrutto", "quantity", "discountTypeId",
    "discountRate", "discountSum", "taxRate", "taxIncluded", "customized", "measureCode",
    "measureName", "sort", "xmlId", "type",
)  # fmt: skip
VIEW = View(SCHEMA, (*_LAYOUT, "storeId"), wire.typed, uf_name=unchanged,
            parent_name=parent_camel)  # fmt: skip
SAVED_VIEW = dataclasses.replace(VIEW, layout=_LAYOUT)

# data-types.md#object_type: the owners this server holds rows for; "I" (old invoices) is
# refused by index.md; the other CRM types exist on a portal but hold nothing here.
_OTHER_OWNERS = frozenset({"L", "C", "CO", "Q"})
_OWNER_EVENTS = {"D": DEAL, "SI": SMART_INVOICE}


def _not_found() -> errors.B24Error:
    return errors.ItemNotFound("Item not found")  # the pages' example text


def _invalid(name: str, exc: Unreadable) -> errors.B24Error:
    return errors.FieldValueNotValid(name)


def _owner_type(raw: Any) -> str:
    """An `ownerType` this server holds rows for; `T..._` codes are smart processes."""
    code = coerce.to_text(raw) if raw is not None else None
    if code in ROW_OWNERS:
        return code
    if code in _OTHER_OWNERS or (code and code.startswith("T") and code.endswith("_")):
        raise errors.OwnerNotFound()
    raise errors.EntityTypeNotSupported()


def _saved(call: Call, row: Row) -> dict[str, Any]:
    return SAVED_VIEW.render(row, call.ctx.zone)


async def _save(
    call: Call, owner_type: str, owner_id: int, plan: Callable[[Row, list[Row]], RowsPlan]
) -> SavedRows:
    """Write through `plan`, raising the owner's update event when its amount changes."""
    user, now = call.principal.user_id, call.ctx.clock.now()
    emits = (events.crm_item(_OWNER_EVENTS[owner_type], "UPDATE", user, now, owner_id),)
    saved = await call.store.save_rows(
        call.portal, owner_type, owner_id, plan,
        events=await events.wanted(call.store, call.portal, emits),
    )  # fmt: skip
    if saved is None:
        raise errors.OwnerNotFound()
    return saved


def _planned(
    owner: Row,
    rows: list[Row],
    *,
    delete: tuple[int, ...] = (),
    update: dict[int, Row] | None = None,
    insert: tuple[Row, ...] = (),
) -> RowsPlan:
    """The plan for these changes, with the owner's amount over the rows they leave."""
    changed = update or {}
    after = [{**row, **changed.get(row["id"], {})} for row in rows if row["id"] not in delete]
    amount = rules.owner_amount(owner, [*after, *insert])
    return RowsPlan(delete=delete, update=changed, insert=insert, owner=amount, emit=bool(amount))


def _checked(columns: Row, schema: Schema, invalid: Callable[[str, Unreadable], Any]) -> Row:
    """`columns`, unless a value is out of the range a row holds (`invalid` for its field)."""
    column = rules.out_of_range(columns)
    if column is not None:
        name = next(f.name for f in schema if f.column == column)
        raise invalid(name, Unreadable(columns[column]))
    return columns


def _columns(fields: dict[str, Any], call: Call, *, new: bool) -> Row:
    accept: Callable[[Field], bool] = (
        (lambda f: not f.read_only) if new else (lambda f: not (f.read_only or f.immutable))
    )
    changes = read_fields(fields, SCHEMA, call.ctx.zone, accept=accept, error=_invalid)
    return _checked(changes.columns, SCHEMA, _invalid)


# -- crm.item.productrow.* ---------------------------------------------------------------------


@table.method("crm.item.productrow.add", page="crm-item-productrow-add.md")
async def add(call: Call) -> Any:
    """Add a row to a deal or smart invoice; answers it in `productRow`."""
    columns = _columns(item_fields(call.params), call, new=True)
    owner_type = _owner_type(columns.pop("owner_type", None))
    owner_id = columns.pop("owner_id", None)
    if not owner_id or owner_id <= 0:
        raise errors.OwnerNotFound()
    new = rules.new_row(columns)
    saved = await _save(call, owner_type, owner_id,
                        lambda owner, rows: _planned(owner, rows, insert=(new,)))  # fmt: skip
    row = next(r for r in saved.rows if r["id"] == saved.added[0])
    return {"productRow": _saved(call, row)}


def _changes(old: Row, columns: Row) -> Row:
    """An update's columns: the request's, with the derived prices of the row they make."""
    after = rules.priced({**old, **columns})
    return {k: v for k, v in after.items() if old.get(k) != v}


@table.method("crm.item.productrow.update", page="crm-item-productrow-update.md")
async def update(call: Call) -> Any:
    """Change the fields given of one row; answers it in `productRow`."""
    row_id = positive_id(_not_found)(call.params)
    fields = item_fields(call.params)
    for name in fields:
        found = SCHEMA.get(str(name))
        if found is not None and (found.read_only or found.immutable):
            # crm-item-productrow-update.md: INVALID_ARG_VALUE for a field "not available for
            # update"; the text is ours (none is documented).
            raise errors.InvalidArgValue(f"Field {found.name} is not available for update")
    columns = _columns(fields, call, new=False)
    old = await call.store.get(call.portal, "product_rows", row_id)
    if old is None:
        raise _not_found()

    def plan(owner: Row, rows: list[Row]) -> RowsPlan:
        current = next((r for r in rows if r["id"] == row_id), None)
        if current is None:
            raise _not_found()
        return _planned(owner, rows, update={row_id: _changes(current, columns)})

    saved = await _save(call, old["owner_type"], old["owner_id"], plan)
    return {"productRow": _saved(call, next(r for r in saved.rows if r["id"] == row_id))}


@table.method("crm.item.productrow.delete", page="crm-item-productrow-delete.md")
async def delete(call: Call) -> Any:
    """Delete one row; answers null."""
    row_id = positive_id(_not_found)(call.params)
    old = await call.store.get(call.portal, "product_rows", row_id)
    if old is None:
        raise _not_found()

    def plan(owner: Row, rows: list[Row]) -> RowsPlan:
        if not any(r["id"] == row_id for r in rows):
            raise _not_found()
        return _planned(owner, rows, delete=(row_id,))

    await _save(call, old["owner_type"], old["owner_id"], plan)
    return None


def _row_list(raw: Any, name: str) -> list[dict[str, Any]]:
    """A list of row objects (`[]`, a JSON array or PHP's `rows[0][...]` map)."""
    if raw is None or raw == "":
        return []
    rows = fields_object(raw)
    if rows is None or not all(isinstance(r, dict) for r in rows.values()):
        raise errors.InvalidArgValue(f"Invalid value of parameter {{{name}}}")
    return list(rows.values())


def _replace(owner: Row, rows: list[Row], new: tuple[Row, ...]) -> RowsPlan:
    return _planned(owner, rows, delete=tuple(r["id"] for r in rows), insert=new)


@table.method("crm.item.productrow.set", page="crm-item-productrow-set.md")
async def set_(call: Call) -> Any:
    """Replace every row of an owner with those given; answers them all in `productRows`."""
    for name in ("ownerType", "ownerId", "productRows"):
        if call.params.get(name) is None:
            raise errors.MissingParameter(name)
    owner_type = _owner_type(call.params["ownerType"])
    owner_id = coerce.to_int(call.params["ownerId"])
    if owner_id is None or owner_id <= 0:
        raise errors.OwnerNotFound()
    given = _row_list(call.params["productRows"], "productRows")
    new = tuple(rules.new_row(_columns(f, call, new=True)) for f in given)
    for row in new:  # the owner comes from the call, never from a row
        row.pop("owner_type", None)
        row.pop("owner_id", None)
    saved = await _save(call, owner_type, owner_id,
                        lambda owner, rows: _replace(owner, rows, new))  # fmt: skip
    return {"productRows": [_saved(call, r) for r in saved.rows]}


@table.method("crm.item.productrow.fields", page="crm-item-productrow-fields.md")
async def fields(call: Call) -> Any:
    """Every product-row field with its descriptor, in `fields`."""
    return {"fields": {f.name: descriptor(f) for f in FIELDS}}


PRODUCT_ROWS = universal_family(
    schema=SCHEMA,
    view=VIEW,
    not_found=_not_found,
    invalid=_invalid,
    events=lambda action, user, at, row_id, row: (),
    envelope="productRow",
)

serve(
    table,
    PRODUCT_ROWS,
    crud("crm.item.productrow", "crm-item-productrow", get="One product row, in `productRow`."),
)  # fmt: skip

_OWNER_KEYS = (("=ownerType", "ownerType"), ("=ownerId", "ownerId"))


@table.method("crm.item.productrow.list", page="crm-item-productrow-list.md")
async def list_rows(call: Call) -> Page:
    """An owner's rows, 50 per page, by id: `filter` must name `=ownerType` and `=ownerId`."""
    raw = call.params.get("filter")
    if raw is None or raw == "":
        raise errors.MissingParameter("filter")
    given = fields_object(raw)
    if given is None or any(not any(k in given for k in keys) for keys in _OWNER_KEYS):
        # crm-item-productrow-list.md: "The following keys must be present: =ownerType,
        # =ownerId"; the text is ours.
        raise errors.InvalidArgValue("Filter must contain =ownerType and =ownerId")
    return await list_(PRODUCT_ROWS, call)


@table.method("crm.item.productrow.getAvailableForPayment",
              page="crm-item-productrow-get-available-for-payment.md")  # fmt: skip
async def available_for_payment(call: Call) -> Any:
    """An owner's rows not yet billed to the customer (no payments here: every row), in
    `productRows`, by SORT then id."""
    for name in ("ownerType", "ownerId"):
        if call.params.get(name) is None or call.params.get(name) == "":
            raise errors.MissingParameter(name)
    owner_type = _owner_type(call.params["ownerType"])
    owner_id = coerce.to_int(call.params["ownerId"]) or 0
    if owner_id <= 0 or await call.store.get(call.portal, ROW_OWNERS[owner_type], owner_id) is None:
        # The page's one example error: a portal checks read access to the owner, which an
        # owner that does not exist fails (inferred; no not-found error is listed).
        raise errors.ItemAccessDenied()
    found = await call.store.list(ListQuery(
        "product_rows", call.portal, SCHEMA.columns,
        (Condition("owner_type", "=", owner_type), Condition("owner_id", "=", owner_id)),
        (("sort", False), ("id", False)), limit=None, count=False,
    ))  # fmt: skip
    return {"productRows": [_saved(call, row) for row in found.rows]}


# -- crm.deal.productrows.get / set (legacy) ---------------------------------------------------


def _upper(name: str) -> str:
    """`discountTypeId` -> `DISCOUNT_TYPE_ID`."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper()


# crm-deal-productrows-set.md's fields. PRICE_EXCLUSIVE, PRICE_NETTO and PRICE_BRUTTO are listed
# there too; here they are derived from PRICE, as on crm.item.productrow.*, and ignored.
_WRITABLE = (
    "productId", "productName", "price", "quantity", "discountTypeId", "discountRate",
    "discountSum", "taxRate", "taxIncluded", "measureCode", "measureName", "sort",
)  # fmt: skip
LEGACY_SCHEMA = Schema(
    "product_rows",
    [dataclasses.replace(SCHEMA[n], name=_upper(n), required=False) for n in _WRITABLE],
    case_insensitive=True,
)
_legacy_invalid = legacy_invalid(LEGACY_SCHEMA)

# crm-deal-productrows-get.md's key order: the ids as strings, PRICE_ACCOUNT as money text, the
# rest typed; no catalog here, so ORIGINAL_PRODUCT_NAME is the row's name, and no reserves.
_LEGACY_LAYOUT = (
    "ID", "OWNER_ID", "OWNER_TYPE", "PRODUCT_ID", "PRODUCT_NAME", "ORIGINAL_PRODUCT_NAME",
    "PRODUCT_DESCRIPTION", "PRICE", "PRICE_EXCLUSIVE", "PRICE_NETTO", "PRICE_BRUTTO",
    "PRICE_ACCOUNT", "QUANTITY", "DISCOUNT_TYPE_ID", "DISCOUNT_RATE", "DISCOUNT_SUM", "TAX_RATE",
    "TAX_INCLUDED", "CUSTOMIZED", "MEASURE_CODE", "MEASURE_NAME", "SORT", "XML_ID", "TYPE",
    "STORE_ID", "RESERVE_ID", "DATE_RESERVE_END", "RESERVE_QUANTITY",
)  # fmt: skip
_LEGACY_COLUMNS = {_upper(f.name): f for f in SCHEMA}
_LEGACY_COLUMNS["ORIGINAL_PRODUCT_NAME"] = SCHEMA["productName"]


def _legacy_row(call: Call, row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _LEGACY_LAYOUT:
        f = _LEGACY_COLUMNS.get(key)
        value = None if f is None else row[f.column]
        if key in ("ID", "OWNER_ID"):
            out[key] = str(value)
        elif key == "PRICE_ACCOUNT":
            out[key] = wire.strings(SCHEMA["priceAccount"], value, call.ctx.zone)
        else:
            out[key] = None if f is None else wire.typed(f, value, call.ctx.zone)
    return out


def _bad_deal_id() -> errors.B24Error:
    return errors.LegacyCrmError("The parameter id is invalid or not defined.")


_deal_id = positive_id(_bad_deal_id)


@table.method("crm.deal.productrows.get", doc=LEGACY_DOCS + "crm-deal-productrows-get.md")
async def legacy_get(call: Call) -> Any:
    """A deal's product rows, by SORT then ID: a bare array, UPPER_SNAKE."""
    deal_id = _deal_id(top_level(call.params))
    if await call.store.get(call.portal, "deals", deal_id) is None:
        raise errors.LegacyNotFound()
    found = await call.store.list(ListQuery(
        "product_rows", call.portal, SCHEMA.columns,
        (Condition("owner_type", "=", "D"), Condition("owner_id", "=", deal_id)),
        (("sort", False), ("id", False)), limit=None, count=False,
    ))  # fmt: skip
    return [_legacy_row(call, row) for row in found.rows]


def _legacy_new(call: Call, fields: dict[str, Any]) -> Row:
    changes = read_fields(fields, LEGACY_SCHEMA, call.ctx.zone, accept=lambda f: True,
                          error=_legacy_invalid)  # fmt: skip
    columns = _checked(changes.columns, LEGACY_SCHEMA, _legacy_invalid)
    try:
        rules.check_discount(columns)
    except rules.DiscountMissing as exc:
        raise errors.LegacyCoreError(str(exc)) from None
    return rules.new_row(columns)


@table.method("crm.deal.productrows.set", doc=LEGACY_DOCS + "crm-deal-productrows-set.md")
async def legacy_set(call: Call) -> Any:
    """Replace a deal's product rows with `rows` (none given: none left); answers true."""
    params = top_level(call.params)
    deal_id = _deal_id(params)
    raw = params.get("rows")
    rows = fields_object(raw) if raw not in (None, "") else {}
    if rows is None or not all(isinstance(r, dict) for r in rows.values()):
        raise errors.LegacyCrmError("Parameter 'rows' must be array.")
    new = tuple(_legacy_new(call, r) for r in rows.values())
    user, now = call.principal.user_id, call.ctx.clock.now()
    emits = (events.deal("UPDATE", user, now, deal_id),)
    saved = await call.store.save_rows(
        call.portal, "D", deal_id, lambda owner, old: _replace(owner, old, new),
        events=await events.wanted(call.store, call.portal, emits),
    )  # fmt: skip
    if saved is None:
        raise errors.LegacyNotFound()
    return True
