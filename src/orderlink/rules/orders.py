"""Order rules (sale.order.*): what a new order starts with, what a save stamps.

Pages: api-reference/sale/order/sale-order-add.md, sale-order-update.md.
"""

from __future__ import annotations

from collections.abc import Collection

from orderlink.rules.portal import CURRENCY_CODES, SITE
from orderlink.storage.base import Row

_STAMPED = (
    ("status_id", "date_status", "emp_status_id"),
    ("marked", "date_marked", "emp_marked_id"),
    ("canceled", "date_canceled", "emp_canceled_id"),
)


def stamp(values: Row, old: Row, user: int, now: int) -> None:
    """The date and employee the sale module records when the status, the mark or the
    cancellation changes (sale-order-add.md's answer: `dateMarked`/`dateCanceled` = save time)."""
    for column, date, employee in _STAMPED:
        if column in values and values[column] != old.get(column, "N"):
            values[date] = now
            values.setdefault(employee, user)


def unknown_reference(columns: Row, person_types: Collection[int]) -> tuple[str, str] | None:
    """(column, why) for the first value that names nothing the portal has, else None;
    `person_types` holds the payer types the portal has among those `columns` name."""
    if "lid" in columns and columns["lid"] != SITE:
        return "lid", f'the only site is "{SITE}"'
    if "person_type_id" in columns and columns["person_type_id"] not in person_types:
        return "person_type_id", "no such payer type"
    if "currency" in columns and columns["currency"] not in CURRENCY_CODES:
        return "currency", "no such currency"
    return None


def new_order(columns: Row, *, user: int, now: int) -> Row:
    """A new order's columns: sale-order-add.md's defaults under the request's values, version 1,
    the status stamped."""
    values: Row = {
        "status_id": "N",
        "date_insert": now,
        "date_update": now,
        "user_id": user,
        "responsible_id": user,
        # sale-order-add.md: recountFlag "deprecated; default Y".
        "recount_flag": "Y",
        "version": 1,
    }
    values.update({k: v for k, v in columns.items() if v is not None})
    values.setdefault("emp_status_id", user)
    values["date_status"] = now
    stamp(values, {}, user, now)
    return values


def changed_order(old: Row, columns: Row, *, user: int, now: int) -> Row:
    """An update's columns: the request's, the stamps they imply, and `version` up by one."""
    values = dict(columns)
    stamp(values, old, user, now)
    values["date_update"] = now
    values["version"] = int(old["version"]) + 1
    return values
