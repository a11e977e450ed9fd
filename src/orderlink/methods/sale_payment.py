"""sale.payment.*: an order's payments, paid or not; the order's `payed` follows them.

Pages: api-reference/sale/payment/{sale-payment-add,sale-payment-get,sale-payment-list,
sale-payment-update,sale-payment-delete,sale-payment-get-fields}.md, api-reference/sale/
data-types.md (sale_order_payment), api-reference/sale/events/on-payment-*.md.
"""

from __future__ import annotations

from orderlink import errors, events
from orderlink.families.family import Created
from orderlink.families.handlers import crud, serve_sale
from orderlink.methods import sale_contents
from orderlink.registry import Call, MethodTable
from orderlink.rules import order_contents
from orderlink.schema import Schema, field
from orderlink.storage.base import Emit, Row

table = MethodTable()

DOCS = "api-reference/sale/payment/"

# sale-payment-get-fields.md, in its order, with its flags and types. `priceCod` is a double
# there but every answer prints it as a string ("100", "0"): stored as text.
SCHEMA = Schema(
    "payments",
    [
        field("accountNumber", "account_number", "text", "string", flags="O", empty=""),
        field("comments", "comments", "text", "string", empty=""),
        field("companyId", "company_id", "int", "integer"),
        field("currency", "currency", "text", "string", flags="O", empty=""),
        field("dateBill", "date_bill", "datetime", "datetime"),
        field("dateMarked", "date_marked", "datetime", "datetime", flags="O"),
        field("datePaid", "date_paid", "datetime", "datetime"),
        field("datePayBefore", "date_pay_before", "datetime", "datetime"),
        field("dateResponsibleId", "date_responsible_id", "datetime", "datetime", flags="O"),
        field("empMarkedId", "emp_marked_id", "int", "integer"),
        field("empPaidId", "emp_paid_id", "int", "integer"),
        field("empResponsibleId", "emp_responsible_id", "int", "integer"),
        field("empReturnId", "emp_return_id", "int", "integer"),
        field("externalPayment", "external_payment", "text", "char", empty="N"),
        field("id", "id", "int", "integer", flags="O"),
        field("id1c", "id1c", "text", "string", empty=""),
        field("isReturn", "is_return", "flag", "char", empty="N"),
        field("marked", "marked", "flag", "char", empty="N"),
        field("orderId", "order_id", "int", "integer", flags="RI"),
        field("paid", "paid", "flag", "char", empty="N"),
        field("payReturnComment", "pay_return_comment", "text", "string", empty=""),
        field("payReturnDate", "pay_return_date", "datetime", "datetime"),
        field("payReturnNum", "pay_return_num", "text", "string", empty=""),
        field("paySystemId", "pay_system_id", "int", "integer", flags="R"),
        field("paySystemIsCash", "pay_system_is_cash", "flag", "char", flags="O", empty="N"),
        field("paySystemName", "pay_system_name", "text", "string", flags="O", empty=""),
        field("paySystemXmlId", "pay_system_xml_id", "text", "string", flags="O", empty=""),
        field("payVoucherDate", "pay_voucher_date", "datetime", "datetime"),
        field("payVoucherNum", "pay_voucher_num", "text", "string", empty=""),
        field("priceCod", "price_cod", "text", "double", empty="0"),
        field("psCurrency", "ps_currency", "text", "string", empty=""),
        field("psInvoiceId", "ps_invoice_id", "text", "string"),
        field("psResponseDate", "ps_response_date", "datetime", "datetime"),
        field("psStatus", "ps_status", "flag", "char"),
        field("psStatusCode", "ps_status_code", "text", "string", empty=""),
        field("psStatusDescription", "ps_status_description", "text", "string", empty=""),
        field("psStatusMessage", "ps_status_message", "text", "string", empty=""),
        field("psSum", "ps_sum", "float", "double"),
        field("reasonMarked", "reason_marked", "text", "string", empty=""),
        field("responsibleId", "responsible_id", "int", "integer"),
        field("sum", "sum", "float", "double", empty=0.0),
        field("updated1c", "updated1c", "flag", "char", empty="N"),
        field("version1c", "version1c", "text", "string", empty=""),
        field("xmlId", "xml_id", "text", "string", empty=""),
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
    table="payments",
    schema=SCHEMA,
    not_found=errors.PaymentNotFound,
    events=_events,
    envelope="payment",
    list_envelope="payments",
    required=("orderId", "paySystemId"),
    create=_create,
    change=_change,
)

serve_sale(
    table,
    PAYMENTS,
    crud(
        "sale.payment",
        "sale-payment",
        "getFields",
        add="Add a payment to an order; a paid one counts towards the order's `payed`.",
        get="One payment.",
        update="Change a payment; `paid` stamps `datePaid` and moves the order's `payed`.",
        delete="Delete a payment; the order's `payed` follows.",
        list="Payments matching a filter, 50 per page, ascending by id unless told.",
        fields="Every payment field with its four descriptor flags.",
    ),
    DOCS,
)
