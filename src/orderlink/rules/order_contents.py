"""Order contents (sale.basketitem.*, sale.payment.*, sale.shipment.*): what a new basket item,
payment or shipment starts with, what a save stamps, and the order summary they add up to.

Pages: api-reference/sale/basket-item/*.md, api-reference/sale/payment/*.md,
api-reference/sale/shipment/*.md, api-reference/sale/order/sale-order-get.md,
api-reference/sale/data-types.md (sale_paysystem, sale_delivery_service).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from orderlink.rules.portal import BASE_CURRENCY, INDIVIDUAL
from orderlink.storage.base import Row


# The portal's payment systems (sale_paysystem, with the keys in the order
# sale-pay-system-list.md prints; sale-payment-add.md answers paySystemId 1 as "Bank Transfer
# (Company)").
def _pay_system(id_: int, name: str, cash: str, action: str, sort: int) -> dict[str, Any]:
    return {
        "NAME": name, "PSA_NAME": name, "DESCRIPTION": "", "ACTION_FILE": action,
        "RESULT_FILE": None, "NEW_WINDOW": "N", "PS_MODE": None, "HAVE_PAYMENT": "N",
        "HAVE_ACTION": "N", "HAVE_RESULT": "N", "HAVE_PREPAY": "N", "HAVE_PRICE": "N",
        "HAVE_RESULT_RECEIVE": "N", "ENCODING": None, "ACTIVE": "Y", "ALLOW_EDIT_PAYMENT": "Y",
        "IS_CASH": cash, "AUTO_CHANGE_1C": "N", "CAN_PRINT_CHECK": "N",
        "ENTITY_REGISTRY_TYPE": "ORDER", "XML_ID": "", "ID": id_, "PERSON_TYPE_ID": INDIVIDUAL,
        "SORT": sort, "TARIFF": None,
    }  # fmt: skip


PAY_SYSTEMS: tuple[dict[str, Any], ...] = (
    _pay_system(1, "Bank Transfer (Company)", "N", "bill", 100),
    _pay_system(2, "Cash", "Y", "cash", 200),
    _pay_system(3, "Card Payment", "N", "resthandlerform", 300),
)
# The portal's delivery services (sale_delivery_service, in sale-delivery-get-list.md's key
# order; sale-shipment-add.md answers deliveryId 2 as "Courier Delivery", sale-shipment-
# update.md moves a shipment to 3).
DELIVERY_SERVICES: tuple[dict[str, Any], ...] = (
    {"NAME": "No Delivery", "ACTIVE": "Y", "DESCRIPTION": "", "CURRENCY": BASE_CURRENCY,
     "ID": 1, "PARENT_ID": None, "SORT": 100},
    {"NAME": "Courier Delivery", "ACTIVE": "Y", "DESCRIPTION": "", "CURRENCY": BASE_CURRENCY,
     "ID": 2, "PARENT_ID": None, "SORT": 200},
    {"NAME": "Pickup", "ACTIVE": "Y", "DESCRIPTION": "", "CURRENCY": BASE_CURRENCY,
     "ID": 3, "PARENT_ID": None, "SORT": 300},
)  # fmt: skip
_PAY_SYSTEMS = {p["ID"]: p for p in PAY_SYSTEMS}
_DELIVERIES = {d["ID"]: d for d in DELIVERY_SERVICES}
# sale-basket-item-add.md's answer: the dimensions of a product that has none, serialized.
NO_DIMENSIONS = 'a:3:{s:5:"WIDTH";N;s:6:"HEIGHT";N;s:6:"LENGTH";N;}'


def xml_id() -> str:
    """An external code as the sale module generates one (`bx_6627bec8c4fdc`: PHP uniqid)."""
    return "bx_" + secrets.token_hex(7)[:13]


def pay_system(columns: Row) -> Row | None:
    """The payment-system columns a payment copies, or None when the id names none."""
    found = _PAY_SYSTEMS.get(columns.get("pay_system_id"))
    if found is None:
        return None
    return {"pay_system_name": found["NAME"], "pay_system_xml_id": found["XML_ID"],
            "pay_system_is_cash": found["IS_CASH"]}  # fmt: skip


def delivery(columns: Row) -> Row | None:
    """The delivery-service columns a shipment copies, or None when the id names none."""
    found = _DELIVERIES.get(columns.get("delivery_id"))
    if found is None:
        return None
    return {"delivery_name": found["NAME"], "delivery_xml_id": ""}


def stamp(
    values: Row, old: Row, flags: Iterable[tuple[str, str, str]], user: int, now: int
) -> None:
    """Each (flag, date, employee) whose flag the save changes gets the save's time and, unless
    the request names one, the saving user. A new row's flags start at N: an add that sets one
    to N changes nothing (its responsible person starts unset)."""
    for column, date, employee in flags:
        if column not in values:
            continue
        before = old.get(column, "N" if values[column] in ("Y", "N") else None)
        if values[column] != before:
            values.setdefault(date, now)
            if employee:
                values.setdefault(employee, user)


def prices(values: Row, old: Row) -> None:
    """sale_basket_item: `basePrice = price + discountPrice` always holds; of the three, the ones
    the request leaves out follow the ones it gives (the update example sends price 10 and
    discountPrice 990 and is answered basePrice 1000)."""
    given = {k for k in ("price", "base_price", "discount_price") if k in values}
    if not given:
        return
    price = _number(values.get("price", old.get("price")))
    base = _number(values.get("base_price", old.get("base_price")))
    discount = _number(values.get("discount_price", old.get("discount_price")))
    if "base_price" not in given:
        base = price + discount
    elif "price" not in given:
        price = base - discount
    else:
        discount = base - price
    values.update(price=price, base_price=base, discount_price=discount)


def delivery_prices(values: Row, old: Row) -> None:
    """sale_order_shipment: the delivery price is the base price less its discount; one set by
    hand (`priceDelivery`) makes `customPriceDelivery` Y."""
    if "price_delivery" in values:
        values["custom_price_delivery"] = "Y"
        base = _number(values.get("base_price_delivery", old.get("base_price_delivery")))
        values.setdefault("base_price_delivery", base)
        values["discount_price"] = base - float(values["price_delivery"])
    elif "base_price_delivery" in values and old.get("custom_price_delivery") != "Y":
        values["price_delivery"] = float(values["base_price_delivery"])
        values["discount_price"] = 0.0


def _number(value: Any) -> float:
    return float(value or 0)


def account_number(order: Row, siblings: int) -> str:
    """A payment's or shipment's number: the order's, a slash, its place among the order's
    payments and shipments together (sale-order-get.md: payment 392/1, shipment 392/2)."""
    return f"{order['account_number'] or order['id']}/{siblings + 1}"


def summary(
    baskets: list[Row], payments: list[Row], shipments: list[Row], *, price: float | None = None
) -> Row:
    """The order columns its contents decide (sale-order-get.md: price 1480 is the basket's 980
    plus the shipment's 500): `price` (unless given: the order's own), `payed` (paid payments
    cover the price) and `deducted` (every shipment shipped)."""
    if price is None:
        price = sum(float(b["price"] or 0) * float(b["quantity"] or 0) for b in baskets)
        price += sum(float(s["price_delivery"] or 0) for s in shipments)
    price = round(float(price), 2)
    paid = sum(float(p["sum"] or 0) for p in payments if p["paid"] == "Y")
    payed = bool(payments) and round(paid, 2) >= price
    deducted = bool(shipments) and all(s["deducted"] == "Y" for s in shipments)
    return {"price": price, "payed": "Y" if payed else "N", "deducted": "Y" if deducted else "N"}
