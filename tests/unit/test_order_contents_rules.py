"""Order-content rules: basket prices, delivery prices, stamps, numbers and the order summary
(api-reference/sale/basket-item/, payment/, shipment/, order/sale-order-get.md)."""

from __future__ import annotations

from orderlink.rules import order_contents as rules
from orderlink.storage.base import Row


def test_base_price_is_price_plus_discount_whichever_two_are_given() -> None:
    values: Row = {"price": 10.0, "discount_price": 990.0}
    rules.prices(values, {"base_price": 5.0})
    assert values == {"price": 10.0, "base_price": 1000.0, "discount_price": 990.0}
    values = {"base_price": 100.0}
    rules.prices(values, {"price": 90.0, "discount_price": 10.0})
    assert (values["price"], values["discount_price"]) == (90.0, 10.0)
    values = {"base_price": 100.0, "price": 70.0}
    rules.prices(values, {})
    assert values["discount_price"] == 30.0
    untouched: Row = {"quantity": 2.0}
    rules.prices(untouched, {"price": 1.0})
    assert untouched == {"quantity": 2.0}


def test_a_hand_set_delivery_price_is_custom() -> None:
    values: Row = {"base_price_delivery": 500.0}
    rules.delivery_prices(values, {})
    assert (values["price_delivery"], values["discount_price"]) == (500.0, 0.0)
    values = {"price_delivery": 400.0}
    rules.delivery_prices(values, {"base_price_delivery": 500.0})
    assert values["custom_price_delivery"] == "Y"
    assert values["discount_price"] == 100.0
    kept: Row = {"base_price_delivery": 900.0}
    rules.delivery_prices(kept, {"custom_price_delivery": "Y"})
    assert "price_delivery" not in kept


def test_stamps_only_what_the_save_sets_or_changes() -> None:
    flags = (("paid", "date_paid", "emp_paid_id"),)
    values: Row = {"paid": "Y"}
    rules.stamp(values, {"paid": "N"}, flags, 7, 100)
    assert (values["date_paid"], values["emp_paid_id"]) == (100, 7)
    same: Row = {"paid": "Y"}
    rules.stamp(same, {"paid": "Y"}, flags, 7, 100)
    assert same == {"paid": "Y"}
    given: Row = {"paid": "Y", "date_paid": 5, "emp_paid_id": 1}
    rules.stamp(given, {}, flags, 7, 100)
    assert (given["date_paid"], given["emp_paid_id"]) == (5, 1)


def test_account_numbers_count_payments_and_shipments_together() -> None:
    assert rules.account_number({"id": 392, "account_number": "392"}, 1) == "392/2"
    assert rules.account_number({"id": 5, "account_number": ""}, 0) == "5/1"


def test_the_summary_of_an_order() -> None:
    """sale-order-get.md: a 980 basket and a 500 delivery make a 1480 order."""
    baskets = [{"price": 980.0, "quantity": 1.0}]
    shipments = [{"price_delivery": 500.0, "deducted": "N"}]
    paid = [{"sum": 1000.0, "paid": "Y"}, {"sum": 480.0, "paid": "N"}]
    assert rules.summary(baskets, paid, shipments) == {
        "price": 1480.0, "payed": "N", "deducted": "N"}  # fmt: skip
    paid[1]["paid"] = "Y"
    shipments[0]["deducted"] = "Y"
    assert rules.summary(baskets, paid, shipments) == {
        "price": 1480.0, "payed": "Y", "deducted": "Y"}  # fmt: skip
    assert rules.summary([], [], [], price=100.0) == {
        "price": 100.0, "payed": "N", "deducted": "N"}  # fmt: skip


def test_reference_look_ups() -> None:
    assert rules.pay_system({"pay_system_id": 2}) == {
        "pay_system_name": "Cash", "pay_system_xml_id": "", "pay_system_is_cash": "Y"}  # fmt: skip
    assert rules.pay_system({"pay_system_id": 9}) is None
    assert rules.delivery({"delivery_id": 2}) == {
        "delivery_name": "Courier Delivery", "delivery_xml_id": ""}  # fmt: skip
    assert rules.delivery({}) is None
    assert rules.xml_id().startswith("bx_")
    assert len(rules.xml_id()) == 16
