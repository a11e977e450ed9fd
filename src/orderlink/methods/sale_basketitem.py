"""sale.basketitem.*: the items (positions) in an order's basket.

Pages: api-reference/sale/basket-item/{sale-basket-item-add,sale-basket-item-get,
sale-basket-item-list,sale-basket-item-update,sale-basket-item-delete,
sale-basket-item-get-fields}.md, api-reference/sale/data-types.md (sale_basket_item).
"""

from __future__ import annotations

from typing import Any

from orderlink import errors
from orderlink.families.family import Created
from orderlink.families.sale import serve_sale
from orderlink.methods import sale_contents
from orderlink.records.reading import Unreadable
from orderlink.registry import Call, MethodTable
from orderlink.rules import order_contents
from orderlink.schema import Schema, named
from orderlink.storage.base import Emit, Row

table = MethodTable(scope="sale", docs="api-reference/sale/basket-item/")

# sale_basket_item in data-types.md, in the alphabetical order getFields prints, without
# `barcodeMulti` (b24phpsdk's integration test holds every getFields key of a real portal to its
# annotated list, which lacks it; sale-order-get.md's embedded item has it). getFields' example
# marks catalogXmlId immutable; orderId, productId and currency, which the update page leaves
# out, are immutable too. Without a catalog every product is "not on the site", so the fields
# the add page fills from the catalog (**) keep their empty values unless given.
SCHEMA = Schema(
    "basket_items",
    [
        named("basePrice", "float", "double", empty=0.0),
        named("canBuy", "flag", "string", empty="Y"),
        named("catalogXmlId", "text", "string", flags="I", empty=""),
        named("currency", "text", "string", flags="RI", empty=""),
        named("customPrice", "flag", "string", flags="I", empty="N"),
        named("dateInsert", "datetime", "datetime", flags="O"),
        named("dateUpdate", "datetime", "datetime", flags="O"),
        named("dimensions", "text", "string", empty=""),
        named("discountPrice", "float", "double", empty=0.0),
        named("id", "int", "integer", flags="O"),
        named("measureCode", "text", "string", empty=""),
        named("measureName", "text", "string", empty=""),
        named("name", "text", "string", empty=""),
        named("orderId", "int", "integer", flags="RI"),
        named("price", "float", "double", empty=0.0),
        named("productId", "int", "integer", flags="RI", empty=0),
        named("productXmlId", "text", "string", empty=""),
        named("quantity", "float", "double", flags="R"),
        named("sort", "int", "integer", empty=100),
        named("type", "int", "integer"),
        named("vatIncluded", "flag", "string", empty="N"),
        named("vatRate", "float", "double"),
        named("weight", "float", "double", empty=0.0),
        named("xmlId", "text", "string", empty=""),
    ],
)
# The answers' collections of properties and reservations: orderlink keeps none.
_EMPTY: dict[str, Any] = {"properties": [], "reservations": []}


def _invalid(name: str, exc: Unreadable) -> errors.B24Error:
    return errors.BasketItemNotSaved()


async def _create(call: Call, columns: Row, now: float) -> Created:
    """A new item names an order of this portal, in the order's currency."""
    order = await sale_contents.order_of(
        call, columns, errors.BasketOrderNotSpecified, errors.BasketOrderNotFound
    )
    if columns.get("currency") != order["currency"]:
        raise errors.BasketCurrencyMismatch()
    values: Row = {
        "date_insert": int(now),
        "date_update": int(now),
        "sort": 100,
        "dimensions": order_contents.NO_DIMENSIONS,
        "xml_id": order_contents.xml_id(),
    }
    values.update({k: v for k, v in columns.items() if v not in (None, "")})
    order_contents.prices(values, {})
    return Created(values, {})


async def _change(call: Call, old: Row, columns: Row, now: float) -> Row:
    values = dict(columns)
    if {"price", "base_price", "discount_price"} & set(values):
        # sale-basket-item-update.md: a price given by hand makes the price custom.
        values["custom_price"] = "Y"
    order_contents.prices(values, old)
    values["date_update"] = int(now)
    return values


def _events(action: str, user: int, now: float, item_id: int | str, row: Row) -> tuple[Emit, ...]:
    # api-reference/sale/events/ documents no basket-item events.
    return ()


BASKET_ITEMS = sale_contents.content_family(
    schema=SCHEMA,
    empty=_EMPTY,
    not_found=errors.BasketItemNotFound,
    invalid=_invalid,
    events=_events,
    envelope="basketItem",
    # The add and update answers print `"total": 1` ("number of processed records").
    counted=True,
    # Checked in the order the add page's table lists them (orderId after, with its own code).
    required=("productId", "currency", "quantity"),
    create=_create,
    change=_change,
)

serve_sale(
    table,
    BASKET_ITEMS,
    "basket item",
    add="Add an item to an order's basket; the order's price follows.",
    update="Change a basket item; a price given makes it custom, `basePrice` follows.",
    delete="Remove an item from its order's basket; the order's price follows.",
)
