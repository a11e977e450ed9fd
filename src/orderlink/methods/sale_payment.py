"""sale.payment.*: an order's payments, paid or not; the order's `payed` follows them.

Pages: api-reference/sale/payment/{sale-payment-add,sale-payment-get,sale-payment-list,
sale-payment-update,sale-payment-delete,sale-payment-get-fields}.md, api-reference/sale/
data-types.md (sale_order_payment), api-reference/sale/events/on-payment-*.md.
"""

from __future__ import annotations

from orderlink import errors, events
from orderlink.families.family import Created
from orderlink.families.sale import serve_sale
from orderlink.methods import sale_contents
from orderlink.registry import Call, MethodTable
from orderlink.rules import order_contents
from orderlink.schema import Schema, named
from orderlink.storage.base import Emit, Row

table = MethodTable(scope="sale", docs="api-reference/sale/payment/")

# sale-payment-get-fields.md, in its order, with its flags and types. `priceCod` is a double
# there but every answer prints it as a string ("100", "0"): stored as text.
SCHEMA = Schema(
    "payments",
    [
        named("accountNumber", "text", "string", flags="O", empty=""),
        named("comments", "text", "string", empty=""),
        named("companyId", "int", "integer"),
        named("currency", "text", "string", flags="O", empty=""),
        named("dateBill", "datetime", "datetime"),
        named("dateMarked", "datetime", "datetime", flags="O"),
        named("datePaid", "datetime", "datetime"),
        named("datePayBefore", "datetime", "datetime"),
        named("dateResponsibleId", "datetime", "datetime", flags="O"),
        named("empMarkedId", "int", "integer"),
        named("empPaidId", "int", "integer"),
        named("empResponsibleId", "int", "integer"),
        named("empReturnId", "int", "integer"),
        named("externalPayment", "text", "char", empty="N"),
        named("id", "int", "integer", flags="O"),
        named("id1c", "text", "string", empty=""),
        named("isReturn", "flag", "char", empty="N"),
        named("marked", "flag", "char", empty="N"),
        named("orderId", "int", "integer", flags="RI"),
        named("paid", "flag", "char", empty="N"),
        named("payReturnComment", "text", "string", empty=""),
        named("payReturnDate", "datetime", "datetime"),
        named("payReturnNum", "text", "string", empty=""),
        named("paySystemId", "int", "integer", flags="R"),
        named("paySystemIsCash", "flag", "char", flags="O", empty="N"),
        named("paySystemName", "text", "string", flags="O", empty=""),
        named("paySystemXmlId", "text", "string", flags="O", empty=""),
        named("payVoucherDate", "datetime", "datetime"),
        named("payVoucherNum", "text", "string", empty=""),
        named("priceCod", "text", "double", empty="0"),
        named("psCurrency", "text", "string", empty=""),
        named("psInvoiceId", "text", "string"),
        named("psResponseDate", "datetime", "datetime"),
        named("psStatus", "flag", "char"),
        named("psStatusCode", "text", "string", empty=""),
        named("psStatusDescription", "text", "string", empty=""),
        named("psStatusMessage", "text", "string", empty=""),
        named("psSum", "float", "double"),
        named("reasonMarked", "text", "string", empty=""),
        named("responsibleId", "int", "integer"),
        named("sum", "float", "double", empty=0.0),
        named("updated1c", "flag", "char", empty="N"),
        named("version1c", "text", "string", empty=""),
        named("xmlId", "text", "string", empty=""),
    ],
)
# (flag, date, employee) a save stamps when the flag is set or changes (sale-payment-add.md's
# answer: dateMarked and dateResponsibleId at the save's time).
_STAMPED = (
    ("paid", "date_paid", "emp_paid_id"),
    ("marked", "date_marked", "emp_marked_id"),
    ("responsible_id", "date_responsible_id", "emp_responsible_id"),
)


def _pay_system(columns: Row) -> Row:
    found = order_contents.pay_system(columns)
    if found is None:
        # Not on the page: the sale module's text for an unknown payment system.
        raise errors.SaveError("Payment system not found")
    return found


async def _create(call: Call, columns: Row, now: float) -> Created:
    """A new payment also names a payment system, whose name it copies."""
    values = await sale_contents.numbered(call, columns, now, {"date_bill": int(now)}, _STAMPED)
    values.update(_pay_system(values))
    return Created(values, {})


async def _change(call: Call, old: Row, columns: Row, now: float) -> Row:
    values = dict(columns)
    if "pay_system_id" in values:
        values.update(_pay_system(values))
    order_contents.stamp(values, old, _STAMPED, call.principal.user_id, int(now))
    return values


def _events(action: str, user: int, now: float, item_id: int | str, row: Row) -> tuple[Emit, ...]:
    return events.payment(action, item_id, user, now)


PAYMENTS = sale_contents.content_family(
    schema=SCHEMA,
    not_found=errors.PaymentNotFound,
    events=_events,
    envelope="payment",
    required=("orderId", "paySystemId"),
    create=_create,
    change=_change,
)

serve_sale(
    table,
    PAYMENTS,
    "payment",
    add="Add a payment to an order; a paid one counts towards the order's `payed`.",
    update="Change a payment; `paid` stamps `datePaid` and moves the order's `payed`.",
    delete="Delete a payment; the order's `payed` follows.",
)
