"""sale.shipment.*: an order's shipments; the order's `deducted` and price follow them.

Pages: api-reference/sale/shipment/{sale-shipment-add,sale-shipment-get,sale-shipment-list,
sale-shipment-update,sale-shipment-delete,sale-shipment-get-fields}.md, api-reference/sale/
data-types.md (sale_order_shipment), api-reference/sale/events/on-shipment-*.md.
"""

from __future__ import annotations

from typing import Any

from orderlink import errors, events
from orderlink.families.family import Created
from orderlink.families.sale import serve_sale
from orderlink.methods import sale_contents
from orderlink.registry import Call, MethodTable
from orderlink.rules import order_contents
from orderlink.schema import Schema, named
from orderlink.storage.base import Emit, Row

table = MethodTable(scope="sale", docs="api-reference/sale/shipment/")

# sale-shipment-get-fields.md, in its order, with its flags and types.
SCHEMA = Schema(
    "shipments",
    [
        named("accountNumber", "text", "string", flags="O", empty=""),
        named("allowDelivery", "flag", "char", flags="R", empty="N"),
        named("basePriceDelivery", "float", "double", empty=0.0),
        named("canceled", "flag", "char", flags="O", empty="N"),
        named("comments", "text", "string", empty=""),
        named("companyId", "int", "integer"),
        named("currency", "text", "string", flags="O", empty=""),
        named("customPriceDelivery", "flag", "char", flags="O", empty="N"),
        named("dateAllowDelivery", "datetime", "datetime", flags="O"),
        named("dateCanceled", "datetime", "datetime", flags="O"),
        named("dateDeducted", "datetime", "datetime", flags="O"),
        named("dateInsert", "datetime", "datetime", flags="O"),
        named("dateMarked", "datetime", "datetime", flags="O"),
        named("dateResponsibleId", "datetime", "datetime", flags="O"),
        named("deducted", "flag", "char", flags="R", empty="N"),
        named("deliveryDocDate", "datetime", "datetime"),
        named("deliveryDocNum", "text", "string", empty=""),
        named("deliveryId", "int", "integer", flags="R"),
        named("deliveryName", "text", "string", flags="O", empty=""),
        named("deliveryXmlId", "text", "string", flags="O", empty=""),
        named("discountPrice", "float", "double", flags="O", empty=0.0),
        named("empAllowDeliveryId", "int", "integer", flags="O"),
        named("empCanceledId", "int", "integer", flags="O"),
        named("empDeductedId", "int", "integer", flags="O"),
        named("empMarkedId", "int", "integer", flags="O"),
        named("empResponsibleId", "int", "integer", flags="O"),
        named("externalDelivery", "flag", "char", flags="O", empty="N"),
        named("id", "int", "integer", flags="O"),
        named("id1c", "text", "string", flags="O", empty=""),
        named("marked", "flag", "char", flags="O", empty="N"),
        named("orderId", "int", "integer", flags="RI"),
        named("priceDelivery", "float", "double", empty=0.0),
        named("reasonMarked", "text", "string", flags="O", empty=""),
        named("reasonUndoDeducted", "text", "string", flags="O", empty=""),
        named("responsibleId", "int", "integer"),
        named("statusId", "text", "char", empty="DN"),
        named("statusXmlId", "text", "char", flags="O", empty=""),
        named("system", "flag", "char", flags="O", empty="N"),
        named("trackingDescription", "text", "string", flags="O", empty=""),
        named("trackingLastCheck", "text", "string", flags="O", empty=""),
        named("trackingNumber", "text", "string", empty=""),
        named("trackingStatus", "text", "string", flags="O", empty=""),
        named("updated1c", "flag", "char", flags="O", empty="N"),
        named("version1c", "text", "string", flags="O", empty=""),
        named("xmlId", "text", "string", empty=""),
    ],
)
# sale_order_shipment in data-types.md; orderlink keeps no shipment line items.
_EMPTY: dict[str, Any] = {"shipmentItems": []}
# (flag, date, employee) a save stamps when the flag is set or changes (sale-shipment-add.md's
# answer: dateAllowDelivery, dateDeducted, dateResponsibleId at the save's time).
_STAMPED = (
    ("allow_delivery", "date_allow_delivery", "emp_allow_delivery_id"),
    ("deducted", "date_deducted", "emp_deducted_id"),
    ("responsible_id", "date_responsible_id", "emp_responsible_id"),
)


def _delivery(columns: Row) -> Row:
    found = order_contents.delivery(columns)
    if found is None:
        raise errors.WrongDeliveryService()
    return found


async def _create(call: Call, columns: Row, now: float) -> Created:
    """A new shipment also names a delivery service, whose name it copies."""
    values = await sale_contents.numbered(call, columns, now, {"date_insert": int(now)}, _STAMPED)
    values.update(_delivery(values))
    order_contents.delivery_prices(values, {})
    return Created(values, {})


async def _change(call: Call, old: Row, columns: Row, now: float) -> Row:
    values = dict(columns)
    if "delivery_id" in values:
        values.update(_delivery(values))
    order_contents.delivery_prices(values, old)
    order_contents.stamp(values, old, _STAMPED, call.principal.user_id, int(now))
    return values


async def _deleting(call: Call, row: Row) -> None:
    # sale-shipment-delete.md: a shipped shipment must be un-shipped (deducted N) first.
    if row["deducted"] == "Y":
        raise errors.ShipmentShipped()


def _events(action: str, user: int, now: float, item_id: int | str, row: Row) -> tuple[Emit, ...]:
    return events.shipment(action, item_id, user, now)


SHIPMENTS = sale_contents.content_family(
    schema=SCHEMA,
    empty=_EMPTY,
    not_found=errors.ShipmentNotFound,
    events=_events,
    envelope="shipment",
    # Checked in the order the add page's table lists them.
    required=("orderId", "allowDelivery", "deducted", "deliveryId"),
    create=_create,
    change=_change,
    deleting=_deleting,
)

serve_sale(
    table,
    SHIPMENTS,
    "shipment",
    add="Add a shipment to an order; its delivery price counts towards the order's.",
    update="Change a shipment; `deducted` stamps `dateDeducted` and moves the order's.",
    delete="Delete a shipment that is not shipped; the order's summary follows.",
)
