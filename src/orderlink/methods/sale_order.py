"""sale.order.*: online-store orders, plus the reference lists an order's fields point into.

Pages: api-reference/sale/order/{sale-order-add,sale-order-get,sale-order-list,
sale-order-update,sale-order-delete,sale-order-get-fields}.md, api-reference/sale/data-types.md,
api-reference/crm/currency/crm-currency-list.md (payer types: methods/sale_persontype.py).
The sale pages print digit error codes as JSON numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from orderlink import coerce, entity_types, errors, events
from orderlink.families import stages
from orderlink.families.family import Created, Family
from orderlink.families.sale import sale_family, serve_sale
from orderlink.methods import sale_basketitem, sale_contents, sale_payment, sale_shipment
from orderlink.methods.sale_property import order_property_values
from orderlink.records import values as wire
from orderlink.records.projection import View
from orderlink.records.reading import Changes
from orderlink.registry import Call, MethodTable, Page
from orderlink.rules import deals, orders
from orderlink.rules.portal import CURRENCIES
from orderlink.schema import Field, Schema, named
from orderlink.storage.base import Binding, Emit, Row

table = MethodTable(scope="sale", docs="api-reference/sale/order/")

# sale-order-get-fields.md, in its order; types as printed there (`lockedBy` and `recurringId`
# are `char`: strings on the wire, `"1"` or `""`).
SCHEMA = Schema(
    "orders",
    [
        named("accountNumber", "text", "string", flags="O", empty=""),
        named("additionalInfo", "text", "string", empty=""),
        named("affiliateId", "int", "integer"),
        named("canceled", "flag", "char", empty="N"),
        named("comments", "text", "string", empty=""),
        named("companyId", "int", "integer"),
        named("currency", "text", "string", flags="RI", empty=""),
        named("dateCanceled", "datetime", "datetime", flags="O"),
        named("dateInsert", "datetime", "datetime"),
        named("dateLock", "datetime", "datetime", flags="O"),
        named("dateMarked", "datetime", "datetime", flags="O"),
        named("dateStatus", "datetime", "datetime", flags="O"),
        named("dateUpdate", "datetime", "datetime", flags="O"),
        named("deducted", "flag", "char", flags="O", empty="N"),
        named("discountValue", "float", "double", empty=0.0),
        named("empCanceledId", "int", "integer"),
        named("empMarkedId", "int", "integer"),
        named("empStatusId", "int", "integer"),
        named("externalOrder", "flag", "char", empty="N"),
        named("id", "int", "integer", flags="O"),
        named("id1c", "text", "string", empty=""),
        named("lid", "text", "string", flags="RI", empty=""),
        named("lockedBy", "text", "char", empty=""),
        named("marked", "flag", "char", empty="N"),
        named("orderTopic", "text", "string", empty=""),
        named("payed", "flag", "char", flags="O", empty="N"),
        named("personTypeId", "int", "integer", flags="RI"),
        named("personTypeXmlId", "text", "string", flags="O", empty=""),
        named("price", "float", "double", empty=0.0),
        named("reasonCanceled", "text", "string", empty=""),
        named("reasonMarked", "text", "string", empty=""),
        named("recountFlag", "flag", "char", empty="N"),
        named("recurringId", "text", "char", empty=""),
        named("responsibleId", "int", "integer"),
        named("statusId", "text", "char", empty="N"),
        named("statusXmlId", "text", "string", flags="O", empty=""),
        named("taxValue", "float", "double", flags="O"),
        named("updated1c", "flag", "char", empty="N"),
        named("userDescription", "text", "string", empty=""),
        named("userId", "int", "integer", flags="I"),
        named("version", "int", "integer", flags="O"),
        named("version1c", "text", "string", empty=""),
        named("xmlId", "text", "string", empty=""),
    ],
)
# What sale-order-get.md embeds; orderlink keeps no clients or trade bindings (the basket,
# payments, shipments and property values are read by `_embedded`).
_COLLECTIONS = ("basketItems", "clients", "payments", "propertyValues", "requisiteLink",
                "shipments", "tradeBindings")  # fmt: skip
# add/update answers carry only these two (sale-order-add.md, sale-order-update.md).
_SAVED = ("clients", "requisiteLink")


def _present(
    family: Family, call: Call, row: Row, action: str, extra: dict[str, Any]
) -> dict[str, Any]:
    # Every example prints the order's keys in alphabetical order, collections included.
    zone = call.ctx.zone
    out = {f.name: wire.typed(f, row[f.column], zone) for f in SCHEMA}
    out.update({name: [] for name in (_COLLECTIONS if action == "get" else _SAVED)})
    out.update(extra)
    return dict(sorted(out.items()))


async def _deleting(call: Call, row: Row) -> None:
    # sale-order-delete.md: SALE_ORDER_CANCEL_PAYMENT_EXIST_ACTIVE, "the order has active
    # payments" (a paid one); its other contents go with it.
    payments = await sale_contents.rows_of(call, "payments", int(row["id"]), ("id", "paid"))
    if any(p["paid"] == "Y" for p in payments):
        raise errors.OrderPaid()


async def _delete_events(call: Call, row: Row, user: int, now: float) -> tuple[Emit, ...]:
    """sale/events/index.md: OnPaymentDeleted and OnShipmentDeleted fire "when a payment (a
    shipment) is deleted from the database", and deleting an order deletes its own: between
    the order's before-delete and deleted events, one per payment and shipment, in that order."""
    order_id = int(row["id"])
    before, *after = events.order_deleted(order_id, user, now)
    contents: list[Emit] = []
    for found in await sale_contents.rows_of(call, "payments", order_id, ("id",)):
        contents.extend(events.payment("DELETE", int(found["id"]), user, now))
    for found in await sale_contents.rows_of(call, "shipments", order_id, ("id",)):
        contents.extend(events.shipment("DELETE", int(found["id"]), user, now))
    return (before, *contents, *after)


async def _settled(call: Call, row: Row) -> None:
    """With `order_deals` (docs/decisions.md), a new order gets a deal of its own, bound to it,
    in the add's transaction: the general funnel's first stage, the order's amount, currency
    and responsible person, titled after its account number, raising ONCRMDEALADD."""
    if call.method.name != "sale.order.add" or not call.ctx.settings.order_deals:
        return
    funnel = await stages.funnel(call, 0)
    if funnel is None:  # the general funnel is there from the portal's first start
        return
    user, now = call.principal.user_id, call.ctx.clock.now()
    columns = {
        "title": f"Order #{row['account_number'] or row['id']}",
        "opportunity": float(row["price"] or 0),
        "currency_id": row["currency"],
        "assigned_by_id": row.get("responsible_id") or user,
    }
    values = deals.new_deal(columns, funnel=funnel, user=user, now=now, zone=call.ctx.zone)
    emits = await events.wanted(call.store, call.portal, (events.deal("ADD", user, now),))
    deal_id = await call.store.insert(call.portal, "deals", values, events=emits)
    binding = Binding(int(row["id"]), entity_types.DEAL, deal_id)
    await call.store.add_binding(call.portal, binding, owner_table="deals")


_CONTENTS = {"basketItems": sale_basketitem.BASKET_ITEMS, "payments": sale_payment.PAYMENTS,
             "shipments": sale_shipment.SHIPMENTS}  # fmt: skip


async def _embedded(call: Call, row: Row, action: str) -> dict[str, Any]:
    # sale-order-get.md embeds the order's contents and property values; add/update do not.
    if action != "get":
        return {}
    contents = await sale_contents.embedded(call, row, _CONTENTS)
    return {**contents, **await order_property_values(call, row)}


_BY_COLUMN = {f.column: f.name for f in SCHEMA}


async def _check(call: Call, changes: Changes) -> None:
    """Values that must name something the portal has."""
    # Payer types are rows now (sale.persontype.*): the one named must be there.
    type_id = changes.columns.get("person_type_id")
    found = type_id is not None and await call.store.get(call.portal, "person_types", type_id)
    unknown = orders.unknown_reference(changes.columns, {int(type_id or 0)} if found else ())
    if unknown is not None:
        column, why = unknown
        raise errors.SaveError(f'Invalid value for field "{_BY_COLUMN[column]}": {why}')


async def _create(call: Call, columns: Row, now: float) -> Created:
    values = orders.new_order(columns, user=call.principal.user_id, now=int(now))
    return Created(values, {"account_number": "{id}"})


async def _change(call: Call, old: Row, columns: Row, now: float) -> Row:
    # The update page's field table leaves out lid, personTypeId, currency and userId (immutable
    # in getFields): like read-only fields, they are ignored.
    return orders.changed_order(old, columns, user=call.principal.user_id, now=int(now))


def _events(action: str, user: int, now: float, order_id: int | str, row: Row) -> tuple[Emit, ...]:
    if action == "DELETE":
        return events.order_deleted(int(order_id), user, now)
    xml_id = str(row.get("xml_id") or "") if action == "ADD" else str(row["xml_id"])
    return events.order_saved(order_id, user, int(now), xml_id)


# sale-order-get.md's table says 201240400001 "Order not found"; its example, the update and
# delete pages and crm.orderentity all print 200540400001 "order does not exist".
ORDERS = sale_family(
    SCHEMA,
    "order",
    errors.OrderNotFound,
    view=View(SCHEMA, tuple(f.name for f in SCHEMA), wire.typed, str, str),
    events=_events,
    # Checked in the order the add page's table lists them.
    required=("lid", "personTypeId", "currency"),
    check=_check,
    create=_create,
    change=_change,
    present=_present,
    embedded=_embedded,
    deleting=_deleting,
    delete_events=_delete_events,
    settled=_settled,
)

serve_sale(
    table,
    ORDERS,
    "order",
    add="Create an order; answers it whole, with `version` 1 and `accountNumber` = its id.",
    get=(
        "One order with its basket items, payments, shipments and property values "
        "(clients and trade bindings always empty)."
    ),
    update="Change an order's writable fields; `version` goes up by one on every update.",
    delete="Delete an order; its binding to a deal or invoice goes with it.",
)


# -- reference lists -----------------------------------------------------------------------------

_UPPER_KEYS = Schema("currencies", [Field(k, k, "text", "string") for k in CURRENCIES[0]],
                     case_insensitive=True)  # fmt: skip


@table.method(
    "crm.currency.list",
    scope="crm",
    doc="api-reference/crm/currency/crm-currency-list.md",
)
async def currency_list(call: Call) -> Any:
    """The portal's currencies, sorted as asked; the page says `total` is always 0."""
    order = call.params.get("order")
    if order not in (None, "", []) and not isinstance(order, dict):
        raise errors.LegacyCrmError("Parameter 'order' must be array.")
    rows = _sorted(
        list(CURRENCIES), order or {"SORT": "asc"}, _UPPER_KEYS.get, errors.LegacyCrmError
    )
    zone = call.ctx.zone
    items = [{**c, "DATE_UPDATE": coerce.iso(datetime.fromisoformat(c["DATE_UPDATE"]), zone)}
             for c in rows]  # fmt: skip
    return Page(items, 0)


def _sorted(
    rows: list[dict[str, Any]],
    order: Any,
    lookup: Callable[[str], Field | None],
    error: Callable[[str], errors.B24Error],
) -> list[dict[str, Any]]:
    if not isinstance(order, dict):
        return rows
    for key, direction in reversed(list(order.items())):
        found = lookup(str(key))
        text = direction.strip().upper() if isinstance(direction, str) else ""
        if found is None:
            continue
        if text not in ("ASC", "DESC"):
            raise error(f"Invalid order: allowed sort directions are ASC, DESC. But got "
                        f"'{direction}' for field '{found.name}'")  # fmt: skip
        rows = sorted(
            rows, key=lambda r: coerce.comparable(r[found.column]), reverse=text == "DESC"
        )
    return rows
