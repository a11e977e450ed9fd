"""Product-row prices and the owner's amount (rules.product_rows), against the numbers the
pages print (api-reference/crm/universal/product-rows/, crm/deals/crm-deal-productrows-*.md)."""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.rules import product_rows as rules


def row(**given: Any) -> dict[str, Any]:
    return rules.new_row(given)


@pytest.mark.parametrize(
    ("given", "exclusive", "netto", "brutto", "discount"),
    [
        # crm-item-productrow-add.md: 20% tax included, 20% off.
        ({"price": 80000, "tax_rate": 20, "discount_rate": 20}, 66666.67, 83333.34, 100000.01,
         16666.67),
        # crm-item-productrow-update.md: 10% tax, 10% off.
        ({"price": 90000, "tax_rate": 10, "discount_rate": 10}, 81818.18, 90909.09, 100000,
         9090.91),
        # crm-deal-productrows-get.md: no tax, 10% off.
        ({"price": 899.1, "discount_rate": 10}, 899.1, 999, 999, 99.9),
        # crm-item-productrow-get.md: neither.
        ({"price": 79999}, 79999, 79999, 79999, 0),
    ],
)  # fmt: skip
def test_the_documented_prices(
    given: dict[str, Any], exclusive: float, netto: float, brutto: float, discount: float
) -> None:
    priced = row(**given)
    assert (priced["price_exclusive"], priced["price_netto"]) == (exclusive, netto)
    assert (priced["price_brutto"], priced["discount_sum"]) == (brutto, discount)
    assert priced["price_account"] == given["price"]


def test_an_absolute_discount_derives_its_rate() -> None:
    priced = row(price=900, discount_type_id=rules.ABSOLUTE, discount_sum=100)
    assert (priced["price_netto"], priced["discount_rate"]) == (1000, 10)


def test_a_full_percentage_discount_takes_its_sum() -> None:
    priced = row(price=0, discount_rate=100, discount_sum=50)
    assert (priced["price_netto"], priced["discount_sum"]) == (50, 50)


def test_the_defaults_and_the_measure_name_of_a_known_code() -> None:
    new = row(measure_code=796)
    assert (new["quantity"], new["discount_type_id"], new["tax_included"]) == (1.0, 2, "N")
    assert new["measure_name"] == "pcs"
    assert row(measure_code=796, measure_name="box")["measure_name"] == "box"


@pytest.mark.parametrize(
    ("columns", "missing"),
    [
        ({"discount_type_id": 2}, "Discount Rate (DISCOUNT_RATE) is required"),
        ({"discount_type_id": 2, "discount_rate": 100}, "Discount Sum (DISCOUNT_SUM) is required"),
        ({"discount_type_id": 1}, "Monetary Discount Type"),
    ],
)
def test_a_discount_type_needs_its_value(columns: dict[str, Any], missing: str) -> None:
    with pytest.raises(
        rules.DiscountMissing, match=missing.replace("(", r"\(").replace(")", r"\)")
    ):
        rules.check_discount(columns)


def test_no_discount_type_needs_nothing() -> None:
    rules.check_discount({})
    rules.check_discount({"discount_type_id": 2, "discount_rate": 5})


def test_the_amount_is_price_times_quantity_and_its_tax() -> None:
    rows = [
        row(price=80000, tax_rate=20, discount_rate=20, quantity=2),
        row(price=99.99, quantity=3),
    ]
    assert rules.owner_amount({"opportunity": 0}, rows) == {
        "opportunity": 160299.97, "tax_value": 26666.66
    }  # fmt: skip


def test_a_manual_or_unchanged_amount_writes_nothing() -> None:
    rows = [row(price=10)]
    assert rules.owner_amount({"is_manual_opportunity": "Y", "opportunity": 1}, rows) == {}
    assert rules.owner_amount({"opportunity": 10.0, "tax_value": 0.0}, rows) == {}
    assert rules.owner_amount({"opportunity": 10.0, "tax_value": 0.0}, []) == {
        "opportunity": 0, "tax_value": 0
    }  # fmt: skip


def test_cents_round_halves_up() -> None:
    assert rules.cents(0.125) == 0.13
    assert rules.cents(2.675) == 2.68


def test_out_of_range_names_the_first_column_no_row_holds() -> None:
    assert rules.out_of_range({"price": 1.0, "tax_rate": 20.0}) is None
    assert rules.out_of_range({"price": 1e15}) == "price"
    assert rules.out_of_range({"discount_sum": -2e15, "tax_rate": -100.0}) == "discount_sum"
    assert rules.out_of_range({"tax_rate": -100.0}) == "tax_rate"


def test_cents_keep_large_amounts_exact() -> None:
    assert rules.cents(1e29) == 1e29
