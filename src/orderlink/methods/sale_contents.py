"""What the three order-content families (sale.basketitem, sale.payment, sale.shipment) share:
the order an item must name, the order summary a change settles, the rows an order embeds.

Pages: api-reference/sale/order/sale-order-get.md (the order embeds its basketItems, payments
and shipments; its price is the basket's plus delivery), api-reference/sale/data-types.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from orderlink import errors
from orderlink.families import sale
from orderlink.families.family import Created, Events, Family
from orderlink.records import values as wire
from orderlink.records.projection import View
from orderlink.records.reading import ErrorFactory
from orderlink.registry import Call
from orderlink.rules import order_contents
from orderlink.schema import Schema
from orderlink.storage.base import Condition, ListQuery, Row, Table, entity_table

ORDERS: Table = "orders"
BASKET_ITEMS: Table = "basket_items"
PAYMENTS: Table = "payments"
SHIPMENTS: Table = "shipments"
# The columns the summary reads, per content table.
_SUMMED: dict[Table, tuple[str, ...]] = {
    BASKET_ITEMS: ("id", "price", "quantity"),
    PAYMENTS: ("id", "sum", "paid"),
    SHIPMENTS: ("id", "price_delivery", "deducted"),
}


async def rows_of(call: Call, table: Table, order_id: int, columns: tuple[str, ...]) -> list[Row]:
    """Every row of `table` that belongs to the order, ascending by id."""
    query = ListQuery(
        table=table,
        portal_id=call.portal,
        columns=columns,
        conditions=(Condition("order_id", "=", order_id),),
        order=(("id", False),),
        limit=None,
        count=False,
    )
    return (await call.store.list(query)).rows


async def order_of(
    call: Call, columns: Row, missing: Callable[[], errors.B24Error],
    unknown: Callable[[], errors.B24Error],
) -> Row:  # fmt: skip
    """The order a new row names in `orderId`: `missing()` when none is given, `unknown()` when
    it names no order of this portal."""
    order_id = columns.get("order_id")
    if order_id in (None, 0):
        raise missing()
    order = await call.store.get(call.portal, ORDERS, int(order_id))
    if order is None:
        raise unknown()
    return order


async def siblings(call: Call, order_id: int) -> int:
    """How many payments and shipments the order has (their account numbers count them)."""
    found = 0
    for table in (PAYMENTS, SHIPMENTS):
        found += len(await rows_of(call, table, order_id, ("id",)))
    return found


async def numbered(
    call: Call, columns: Row, now: float, first: Row, stamped: tuple[tuple[str, str, str], ...]
) -> Row:
    """A new payment's or shipment's columns: it names an order of this portal, takes the
    order's currency and a number after the order's, a generated xmlId, the save's stamps."""
    order = await order_of(call, columns, errors.FieldsNotSpecified, no_order)
    values: Row = {"currency": order["currency"], "xml_id": order_contents.xml_id(), **first}
    values.update({k: v for k, v in columns.items() if v is not None})
    count = await siblings(call, int(order["id"]))
    values["account_number"] = order_contents.account_number(order, count)
    order_contents.stamp(values, {}, stamped, call.principal.user_id, int(now))
    return values


def settler(table: Table) -> Callable[[Call, Row], Any]:
    """The `settled` hook of a content family: the order's summary follows its contents; only
    basket items and shipments move its price (payments only decide `payed`)."""

    async def settle(call: Call, row: Row) -> None:
        order_id = int(row["order_id"])
        order = await call.store.get(call.portal, ORDERS, order_id)
        if order is None:
            return
        found = {t: await rows_of(call, t, order_id, cols) for t, cols in _SUMMED.items()}
        summary = order_contents.summary(
            found[BASKET_ITEMS], found[PAYMENTS], found[SHIPMENTS],
            price=order["price"] if table == PAYMENTS else None,
        )  # fmt: skip
        changed = {k: v for k, v in summary.items() if order[k] != v}
        if changed:
            await call.store.update(call.portal, ORDERS, order_id, changed)

    return settle


async def embedded(call: Call, order: Row, families: dict[str, Family]) -> dict[str, Any]:
    """The collections sale-order-get.md embeds, each item as its own family's get prints it."""
    out: dict[str, Any] = {}
    for key, family in families.items():
        columns = tuple(f.column for f in family.schema)
        rows = await rows_of(call, family.table, int(order["id"]), columns)
        out[key] = [family.view.render(row, call.ctx.zone) for row in rows]
    return out


def no_order() -> errors.B24Error:
    # sale-shipment-add.md's example error for an order that is not there: code 0 "Unable to
    # load order"; sale-payment-add.md lists code 0 for it too.
    return errors.SaveError("Unable to load order")


def content_family(
    *,
    schema: Schema,
    not_found: Callable[[], errors.B24Error],
    events: Events,
    envelope: str,
    required: tuple[str, ...],
    create: Callable[[Call, Row, float], Awaitable[Created]],
    change: Callable[[Call, Row, Row, float], Awaitable[Row | None]],
    invalid: ErrorFactory = sale.invalid,
    deleting: Callable[[Call, Row], Awaitable[None]] | None = None,
    counted: bool = False,
    empty: Mapping[str, Any] | None = None,
) -> Family:
    """A content family the way the sale module serves them: `{"<envelope>": ...}` answers
    (add and update the entity, delete `true`), digit codes, its order settled on every write.
    An entity prints its keys in alphabetical order, typed, with the collections orderlink
    keeps none of (`empty`: a basket item's properties) as they are."""
    constants = dict(empty or {})
    layout = tuple(sorted((*(f.name for f in schema), *constants)))
    return sale.sale_family(
        schema,
        envelope,
        not_found,
        view=View(schema, layout, wire.typed, str, str, constants=constants),
        invalid=invalid,
        events=events,
        counted=counted,
        required=required,
        create=create,
        change=change,
        deleting=deleting,
        settled=settler(entity_table(schema.table)),
    )
