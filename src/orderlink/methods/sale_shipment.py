"""sale.shipment.*: an order's shipments; the order's `deducted` and price follow them.

Pages: api-reference/sale/shipment/{sale-shipment-add,sale-shipment-get,sale-shipment-list,
sale-shipment-update,sale-shipment-delete,sale-shipment-get-fields}.md, api-reference/sale/
data-types.md (sale_order_shipment), api-reference/sale/events/on-shipment-*.md.
"""

from __future__ import annotations

from typing import Any

from orderlink import errors, events
from orderlink.families.family import Created
from orderlink.families.handlers import crud, serve_sale
from orderlink.methods import sale_contents
from orderlink.registry import Call, MethodTable
from orderlink.rules import order_contents
from orderlink.schema import Schema, field
from orderlink.storage.base import Emit, Row

table = MethodTable()

DOCS = "api-reference/sale/shipment/"

# sale-shipment-get-fields.md, in its order, with its flags and types.
SCHEMA = Schema(
    "shipments",
    [
        field("accountNumber", "account_number", "text", "string", flags="O", empty=""),
        field("allowDelivery", "allow_delivery", "flag", "char", flags="R", empty="N"),
        field("basePriceDelivery", "base_price_delivery", "float", "double", empty=0.0),
        field("canceled", "canceled", "flag", "char", flags="O", empty="N"),
        field("comments", "comments", "text", "string", empty=""),
        field("companyId", "company_id", "int", "integer"),
        field("currency", "currency", "text", "string", flags="O", empty=""),
        field("customPriceDelivery", "custom_price_delivery", "flag", "char", flags="O", empty="N"),
        field("dateAllowDelivery", "date_allow_delivery", "datetime", "datetime", flags="O"),
        field("dateCanceled", "date_canceled", "datetime", "datetime", flags="O"),
        field("dateDeducted", "date_deducted", "datetime", "datetime", flags="O"),
        field("dateInsert", "date_insert", "datetime", "datetime", flags="O"),
        field("dateMarked", "date_marked", "datetime", "datetime", flags="O"),
        field("dateResponsibleId", "date_responsible_id", "datetime", "datetime", flags="O"),
        field("deducted", "deducted", "flag", "char", flags="R", empty="N"),
        field("deliveryDocDate", "delivery_doc_date", "datetime", "datetime"),
        field("deliveryDocNum", "delivery_doc_num", "text", "string", empty=""),
        field("deliveryId", "delivery_id", "int", "integer", flags="R"),
        field("deliveryName", "delivery_name", "text", "string", flags="O", empty=""),
        field("deliveryXmlId", "delivery_xml_id", "text", "string", flags="O", empty=""),
        field("discountPrice", "discount_price", "float", "double", flags="O", empty=0.0),
        field("empAllowDeliveryId", "emp_allow_delivery_id", "int", "integer", flags="O"),
        field("empCanceledId", "emp_canceled_id", "int", "integer", flags="O"),
        field("empDeductedId", "emp_deducted_id", "int", "integer", flags="O"),
        field("empMarkedId", "emp_marked_id", "int", "integer", flags="O"),
        field("empResponsibleId", "emp_responsible_id", "int", "integer", flags="O"),
        field("externalDelivery", "external_delivery", "flag", "char", flags="O", empty="N"),
        field("id", "id", "int", "integer", flags="O"),
        field("id1c", "id1c", "text", "string", flags="O", empty=""),
        field("marked", "marked", "flag", "char", flags="O", empty="N"),
        field("orderId", "order_id", "int", "integer", flags="RI"),
        field("priceDelivery", "price_delivery", "float", "double", empty=0.0),
        field("reasonMarked", "reason_marked", "text", "string", flags="O", empty=""),
        field("reasonUndoDeducted", "reason_undo_deducted", "text", "string", flags="O", empty=""),
        field("responsibleId", "responsible_id", "int", "integer"),
        field("statusId", "status_id", "text", "char", empty="DN"),
        field("statusXmlId", "status_xml_id", "text", "char", flags="O", empty=""),
        field("system", "system", "flag", "char", flags="O", empty="N"),
        field("trackingDescription", "tracking_description", "text", "string", flags="O", empty=""),
        field("trackingLastCheck", "tracking_last_check", "text", "string", flags="O", empty=""),
        field("trackingNumber", "tracking_number", "text", "string", empty=""),
        field("trackingStatus", "tracking_status", "text", "string", flags="O", empty=""),
        field("updated1c", "updated1c", "flag", "char", flags="O", empty="N"),
        field("version1c", "version1c", "text", "string", flags="O", empty=""),
        field("xmlId", "xml_id", "text", "string", empty=""),
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
    table="shipments",
    schema=SCHEMA,
    empty=_EMPTY,
    not_found=errors.ShipmentNotFound,
    events=_events,
    envelope="shipment",
    list_envelope="shipments",
    # Checked in the order the add page's table lists them.
    required=("orderId", "allowDelivery", "deducted", "deliveryId"),
    create=_create,
    change=_change,
    deleting=_deleting,
)

serve_sale(
    table,
    SHIPMENTS,
    crud(
        "sale.shipment",
        "sale-shipment",
        "getFields",
        add="Add a shipment to an order; its delivery price counts towards the order's.",
        get="One shipment.",
        update="Change a shipment; `deducted` stamps `dateDeducted` and moves the order's.",
        delete="Delete a shipment that is not shipped; the order's summary follows.",
        list="Shipments matching a filter, 50 per page, ascending by id unless told.",
        fields="Every shipment field with its four descriptor flags.",
    ),
    DOCS,
)
