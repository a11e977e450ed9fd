"""Order rules: defaults, stamps, references that must exist (sale-order-add.md)."""

from __future__ import annotations

from orderlink.rules import orders


def test_a_new_order_is_version_1_with_its_status_stamped() -> None:
    values = orders.new_order({"marked": "Y", "price": None}, user=9, now=50)
    assert (values["version"], values["status_id"], values["recount_flag"]) == (1, "N", "Y")
    assert (values["date_status"], values["emp_status_id"]) == (50, 9)
    assert (values["date_marked"], values["emp_marked_id"]) == (50, 9)
    assert "price" not in values


def test_an_update_bumps_the_version_and_stamps_changes_only() -> None:
    old = {"version": 3, "canceled": "N", "status_id": "N"}
    values = orders.changed_order(old, {"canceled": "Y", "status_id": "N"}, user=2, now=70)
    assert values["version"] == 4
    assert values["date_canceled"] == 70
    assert "date_status" not in values


def test_unknown_references() -> None:
    known = {2}
    columns = {"lid": "s1", "currency": "EUR", "person_type_id": 2}
    assert orders.unknown_reference(columns, known) is None
    assert orders.unknown_reference({"lid": "s2"}, known) == ("lid", 'the only site is "s1"')
    assert orders.unknown_reference({"currency": "XXX"}, known) == ("currency", "no such currency")
    assert orders.unknown_reference({"person_type_id": 3}, known) == (
        "person_type_id",
        "no such payer type",
    )
