"""Old-invoice rules: totals of product rows, payer type, status stamps, what a save needs."""

from __future__ import annotations

import pytest

from orderlink.rules import legacy_invoices
from orderlink.rules.portal import INDIVIDUAL, LEGAL_ENTITY


def _row(
    price: float, quantity: float, rate: float | None, included: str = "Y"
) -> dict[str, object]:
    return {"PRICE": price, "QUANTITY": quantity, "VAT_RATE": rate, "VAT_INCLUDED": included}


def test_totals_with_vat_included() -> None:
    assert legacy_invoices.totals([_row(120.0, 1, 0.2)]) == (120.0, 20.0)


def test_totals_with_vat_added() -> None:
    assert legacy_invoices.totals([_row(100.0, 2, 0.2, "N")]) == (240.0, 40.0)


def test_totals_without_vat_and_without_rows() -> None:
    assert legacy_invoices.totals([_row(9.99, 3, None)]) == (29.97, 0.0)
    assert legacy_invoices.totals([]) == (0.0, 0.0)


def test_payer_follows_the_buyer() -> None:
    assert legacy_invoices.payer({"uf_company_id": 5}) == LEGAL_ENTITY
    assert legacy_invoices.payer({"uf_contact_id": 3}) == INDIVIDUAL


def test_failures_name_every_missing_part() -> None:
    assert len(legacy_invoices.failures({})) == 3
    complete = {"order_topic": "x", "person_type_id": 1, "uf_contact_id": 2, "pay_system_id": 1}
    assert legacy_invoices.failures(complete) == []


@pytest.mark.parametrize(("old", "payed"), [(None, "Y"), ("N", "Y")])
def test_paying_stamps_the_payment(old: str | None, payed: str) -> None:
    values: dict[str, object] = {"status_id": "P"}
    legacy_invoices.status(values, old, 4, 100)
    assert (values["payed"], values["date_payed"], values["emp_payed_id"]) == (payed, 100, 4)


def test_leaving_paid_clears_the_payment() -> None:
    values: dict[str, object] = {"status_id": "N"}
    legacy_invoices.status(values, "P", 4, 100)
    assert (values["payed"], values["date_payed"]) == ("N", None)
    unchanged: dict[str, object] = {"status_id": "N"}
    legacy_invoices.status(unchanged, "N", 4, 100)
    assert unchanged == {"status_id": "N"}
