"""Product-row rules, whichever family writes the row (crm.item.productrow.*, the legacy
crm.deal.productrows.set): defaults, the derived prices, and the owner's amount.

Pages: api-reference/crm/universal/product-rows/crm-item-productrow-add.md (defaults, the
example's derived prices), api-reference/crm/data-types.md#crm_item_product_row (what each price
means), api-reference/crm/deals/crm-deal-productrows-set.md (defaults, discount errors).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal

from orderlink.storage.base import Row

PERCENT = 2  # discountTypeId: 1 absolute, 2 percentage (the default)
ABSOLUTE = 1

# The documented defaults of a new row (crm-item-productrow-add.md, crm-deal-productrows-set.md).
DEFAULTS: Row = {
    "product_id": 0,
    "product_name": "",
    "price": 0.0,
    "quantity": 1.0,
    "discount_type_id": PERCENT,
    "discount_rate": 0.0,
    "discount_sum": 0.0,
    "tax_rate": None,
    "tax_included": "N",
    "customized": "Y",
    "measure_code": 0,
    "measure_name": "",
    "sort": 0,
    "xml_id": "",
    "type": 1,
    "store_id": 0,
}

# Unit names of the measure codes the pages' examples show (796 "pcs", 6 "m"); a row names
# another code's unit only when the request does (there is no catalog here).
MEASURE_NAMES = {796: "pcs", 6: "m"}

# The columns `priced` derives; a request's values for them are not kept.
DERIVED = ("price_account", "price_exclusive", "price_netto", "price_brutto")


# A portal stores prices and quantities as MySQL decimal(18, 2) / double: a value this large or
# larger cannot be a row's (and keeps every product of two within exact decimal arithmetic).
LIMIT = 1e15
_NUMBERS = ("price", "quantity", "discount_rate", "discount_sum", "tax_rate")
_EXACT = Context(prec=60)


def cents(value: float) -> float:
    """Money rounded to two decimals, halves up, as the portal prints it."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), ROUND_HALF_UP, _EXACT))


def out_of_range(columns: Row) -> str | None:
    """The first column whose value no row can hold: a number past LIMIT, or a tax rate of
    -100% or less (no price without tax is left to derive); None when every value fits."""
    for column in _NUMBERS:
        value = columns.get(column)
        if value is not None and abs(float(value)) >= LIMIT:
            return column
    tax = columns.get("tax_rate")
    return "tax_rate" if tax is not None and tax <= -100 else None


class DiscountMissing(Exception):
    """A discount type given without the value it needs (crm-deal-productrows-set.md)."""


def new_row(columns: Row) -> Row:
    """A new row's columns: the defaults under the request's, priced."""
    values = {**DEFAULTS, **{k: v for k, v in columns.items() if v is not None}}
    if "measure_name" not in columns or not columns["measure_name"]:
        values["measure_name"] = MEASURE_NAMES.get(values["measure_code"], "")
    return priced(values)


def priced(values: Row) -> Row:
    """`values` with the derived prices. `price` is the final unit price, with discount and tax
    (data-types.md); the page's example fixes the order and the rounding: price 80000 at 20% tax
    and 20% off gives exclusive 66666.67, netto 83333.34 (from the rounded exclusive), discount
    16666.67 and brutto 100000.01."""
    out = dict(values)
    price = float(out["price"])
    tax = float(out["tax_rate"] or 0)
    exclusive = cents(price / (1 + tax / 100))
    if out["discount_type_id"] == ABSOLUTE:
        discount = cents(float(out["discount_sum"] or 0))
        netto = cents(exclusive + discount)
        out["discount_rate"] = cents(discount / netto * 100) if netto else 0.0
    else:
        rate = float(out["discount_rate"] or 0)
        if rate >= 100:
            netto = cents(exclusive + float(out["discount_sum"] or 0))
        else:
            netto = cents(exclusive / (1 - rate / 100))
        discount = cents(netto - exclusive)
    out.update(
        discount_sum=discount,
        price_account=price,
        price_exclusive=exclusive,
        price_netto=netto,
        price_brutto=cents(netto * (1 + tax / 100)),
    )
    return out


def check_discount(columns: Row) -> None:
    """crm-deal-productrows-set.md: a percentage discount needs its rate (and, at 100%, its
    sum); an absolute one its sum. Raises DiscountMissing with the page's text."""
    kind = columns.get("discount_type_id")
    if kind == PERCENT:
        if columns.get("discount_rate") is None:
            raise DiscountMissing(
                "Discount Rate (DISCOUNT_RATE) is required if Percentage Discount Type "
                "(DISCOUNT_TYPE_ID) is defined"
            )
        if columns["discount_rate"] == 100 and columns.get("discount_sum") is None:
            raise DiscountMissing(
                "Discount Sum (DISCOUNT_SUM) is required if Percentage Discount Type "
                "(DISCOUNT_TYPE_ID) is defined and Discount Rate (DISCOUNT_RATE) is 100%"
            )
    elif kind == ABSOLUTE and columns.get("discount_sum") is None:
        raise DiscountMissing(
            "Discount Sum (DISCOUNT_SUM) is required if Monetary Discount Type "
            "(DISCOUNT_TYPE_ID) is defined"
        )


def owner_amount(owner: Row, rows: Iterable[Row]) -> Row:
    """The owner's columns its rows decide: OPPORTUNITY is the sum of price x quantity, TAX_VALUE
    the tax in it; nothing while the amount is manual (IS_MANUAL_OPPORTUNITY = "Y",
    crm-deal-add.md) or when both already hold (empty: unchanged)."""
    if owner.get("is_manual_opportunity") == "Y":
        return {}
    total = Decimal(0)
    tax = Decimal(0)
    for row in rows:
        quantity = Decimal(repr(float(row["quantity"])))
        total += Decimal(repr(float(row["price"]))) * quantity
        tax += (
            Decimal(repr(float(row["price"]))) - Decimal(repr(float(row["price_exclusive"])))
        ) * quantity
    amount = {"opportunity": cents(float(total)), "tax_value": cents(float(tax))}
    same = all(float(owner.get(k) or 0) == v for k, v in amount.items())
    return {} if same else amount
