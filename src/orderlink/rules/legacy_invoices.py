"""Old-invoice rules (crm.invoice.*, entityTypeId 5): totals, payer, status stamps, what a saved
invoice needs. Pages: api-reference/crm/outdated/invoice/{crm-invoice-add,crm-invoice-fields}.md.
"""

from __future__ import annotations

from typing import Any

from orderlink.rules.portal import INDIVIDUAL, LEGAL_ENTITY
from orderlink.storage.base import Row

# The status a new invoice gets, and the one that means paid: crm-invoice-add.md's examples send
# `STATUS_ID: "P"` with a payment voucher and "Invoice paid immediately.".
NEW_STATUS, PAID_STATUS = "N", "P"


def totals(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """(PRICE, TAX_VALUE) of product rows: price x quantity each; VAT_RATE is a coefficient
    (crm-invoice-fields.md), included in the price unless VAT_INCLUDED is N, then added to it."""
    price = tax = 0.0
    for row in rows:
        amount = float(row["PRICE"]) * float(row["QUANTITY"])
        rate = float(row.get("VAT_RATE") or 0.0)
        if row.get("VAT_INCLUDED") == "N":
            vat = amount * rate
            amount += vat
        else:
            vat = amount - amount / (1 + rate)
        price += amount
        tax += vat
    return round(price, 2), round(tax, 2)


def failures(row: Row) -> list[str]:
    """What a saved invoice lacks, checked as the portal's CCrmInvoice::CheckFields does: a
    subject, a payer type with a buyer (company or contact), a payment form."""
    found = []
    if not row.get("order_topic"):
        found.append('The field "Subject" is required.')
    buyer = (row.get("uf_company_id") or 0) > 0 or (row.get("uf_contact_id") or 0) > 0
    if (row.get("person_type_id") or 0) <= 0 or not buyer:
        found.append("The counterparty is not specified. Select a company or a contact.")
    if (row.get("pay_system_id") or 0) <= 0:
        found.append('The field "Invoice print form" is required.')
    return found


def payer(row: Row) -> int:
    """The payer type follows the buyer: a company makes it a legal entity's, else a contact an
    individual's (crm-invoice-add.md's examples pair UF_COMPANY_ID 5 with type 2 and a bare
    UF_CONTACT_ID with type 1)."""
    if (row.get("uf_company_id") or 0) > 0:
        return LEGAL_ENTITY
    return INDIVIDUAL


def status(values: Row, old_status: str | None, user: int, now: int) -> None:
    """A status change stamps who and when; entering PAID_STATUS stamps the payment, leaving it
    clears the payment."""
    new = values.get("status_id")
    if new is None or new == old_status:
        return
    values.update(date_status=now, emp_status_id=user)
    if new == PAID_STATUS:
        values.update(payed="Y", date_payed=now, emp_payed_id=user)
    elif old_status == PAID_STATUS:
        values.update(payed="N", date_payed=None, emp_payed_id=None)
