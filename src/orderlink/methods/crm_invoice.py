"""crm.invoice.*: old invoices (entityTypeId 5), served only with `--legacy-invoices`.

Pages: api-reference/crm/outdated/invoice/{index,crm-invoice-add,crm-invoice-get,crm-invoice-list,
crm-invoice-update,crm-invoice-delete,crm-invoice-fields}.md; events in events-invoice/. The pages
print requests only, no answers and no errors, so the family answers like crm.deal.*: UPPER_SNAKE,
every scalar a string, money with two decimals, `"error": ""` with crm.deal's texts
(docs/decisions.md, "Old invoices").
"""

from __future__ import annotations

from typing import Any

from orderlink import coerce, errors, events, records
from orderlink.methods.crm_deal import legacy_fields, legacy_list, top_level
from orderlink.methods.sale_order import BASE_CURRENCY, SITE
from orderlink.registry import Call, MethodTable
from orderlink.schema import Field, Schema, described, fit_text
from orderlink.storage.base import Row, Table

table = MethodTable()

DOCS = "api-reference/crm/outdated/invoice/"
# Every crm.invoice.* method exists only while this setting is on (registry.Method.setting).
SETTING = "legacy_invoices"
TABLE: Table = "legacy_invoices"

# The status a new invoice gets, and the one that means paid: crm-invoice-add.md's examples send
# `STATUS_ID: "P"` with a payment voucher and "Invoice paid immediately.".
NEW_STATUS, PAID_STATUS = "N", "P"
# Payer types (sale.persontype.list): a company buyer makes the invoice a legal entity's.
INDIVIDUAL, LEGAL_ENTITY = 1, 2


_f = described  # the crm.*.fields entries of this family


NOT_FOUND = "Not found."

# crm-invoice-fields.md's table in its order, titles and types, required marks (*) and read-only
# notes; IS_RECURRING and UF_QUOTE_ID come from crm-invoice-list.md's table, in its places.
# CURRENCY_ID is what crm-invoice-list.md's example selects for CURRENCY.
SCHEMA = Schema(
    TABLE,
    [
        _f("ID", "id", "int", "integer", "Identifier", "O"),
        _f("ACCOUNT_NUMBER", "account_number", "text", "string", "Number", "R", ""),
        _f("COMMENTS", "comments", "text", "text", "Manager's comment"),
        _f("CREATED_BY", "created_by", "int", "integer", "Created by user", "O"),
        Field("CURRENCY", "currency", "text", "crm_currency", title="Currency identifier",
              read_only=True, aliases=("CURRENCY_ID",)),
        _f("DATE_BILL", "date_bill", "datetime", "date", "Billing date"),
        _f("DATE_INSERT", "date_insert", "datetime", "datetime", "Creation date"),
        _f("DATE_MARKED", "date_marked", "datetime", "datetime", "Rejection date"),
        _f("DATE_PAY_BEFORE", "date_pay_before", "datetime", "date", "Payment due date"),
        _f("DATE_PAYED", "date_payed", "datetime", "datetime", "Date changed to paid status",
           "O"),
        _f("DATE_STATUS", "date_status", "datetime", "datetime", "Date of status change", "O"),
        _f("DATE_UPDATE", "date_update", "datetime", "datetime", "Date of update", "O"),
        _f("EMP_PAYED_ID", "emp_payed_id", "int", "integer",
           "Identifier of the user who last marked the invoice as paid", "O"),
        _f("EMP_STATUS_ID", "emp_status_id", "int", "integer",
           "Identifier of the user who last changed the invoice status", "O"),
        # The page types LID `integer`; its value is a site id such as "s1" (see decisions).
        _f("LID", "lid", "text", "string", "Site identifier", "O"),
        _f("IS_RECURRING", "is_recurring", "flag", "char", "Flag for recurring deal template", "",
           "N"),
        _f("XML_ID", "xml_id", "text", "string", "External code"),
        _f("ORDER_TOPIC", "order_topic", "text", "string", "Subject", "R", ""),
        _f("PAY_SYSTEM_ID", "pay_system_id", "int", "integer", "Identifier of the payment form",
           "R"),
        _f("PAY_VOUCHER_DATE", "pay_voucher_date", "datetime", "date", "Payment date"),
        _f("PAY_VOUCHER_NUM", "pay_voucher_num", "text", "string", "Payment document number"),
        _f("PAYED", "payed", "flag", "char", "Payment status", "O", "N"),
        _f("PERSON_TYPE_ID", "person_type_id", "int", "integer", "Payer type identifier", "R"),
        _f("PRICE", "price", "float", "double", "Amount", "O", 0.0),
        _f("REASON_MARKED", "reason_marked", "text", "string", "Status comment"),
        _f("RESPONSIBLE_EMAIL", "responsible_email", "text", "string",
           "Responsible person's e-mail", "O"),
        _f("RESPONSIBLE_ID", "responsible_id", "int", "integer",
           "Identifier of the responsible person"),
        _f("RESPONSIBLE_LAST_NAME", "responsible_last_name", "text", "string",
           "Last name of the responsible person", "O"),
        _f("RESPONSIBLE_LOGIN", "responsible_login", "text", "string",
           "Login of the responsible person", "O"),
        _f("RESPONSIBLE_NAME", "responsible_name", "text", "string",
           "First name of the responsible person", "O"),
        _f("RESPONSIBLE_PERSONAL_PHOTO", "responsible_personal_photo", "int", "integer",
           "Identifier of the responsible person's photo", "O"),
        _f("RESPONSIBLE_SECOND_NAME", "responsible_second_name", "text", "string",
           "Middle name of the responsible person", "O"),
        _f("RESPONSIBLE_WORK_POSITION", "responsible_work_position", "text", "string",
           "Position of the responsible person", "O"),
        _f("STATUS_ID", "status_id", "text", "crm_status", "Status identifier", "", NEW_STATUS,
           statusType="INVOICE_STATUS"),
        _f("TAX_VALUE", "tax_value", "float", "double", "Tax amount", "O", 0.0),
        _f("UF_COMPANY_ID", "uf_company_id", "int", "integer", "Company identifier", "", 0),
        _f("UF_CONTACT_ID", "uf_contact_id", "int", "integer", "Contact identifier", "", 0),
        _f("UF_MYCOMPANY_ID", "uf_mycompany_id", "int", "integer", "Identifier of your company",
           "", 0),
        _f("UF_DEAL_ID", "uf_deal_id", "int", "integer", "Identifier of the associated deal", "",
           0),
        _f("UF_QUOTE_ID", "uf_quote_id", "int", "integer", "Identifier of the related estimate",
           "", 0),
        _f("USER_DESCRIPTION", "user_description", "text", "string", "Comment"),
        _f("PR_LOCATION", "pr_location", "int", "integer", "Location identifier"),
        _f("INVOICE_PROPERTIES", "invoice_properties", "json", "array", "List of properties"),
        _f("PRODUCT_ROWS", "product_rows", "json", "array", "List of product items"),
    ],
    case_insensitive=True,
)  # fmt: skip

# crm-invoice-list.md: "The method does not return properties and line items of the invoice";
# PR_LOCATION is the location property (not in the list page's table either).
_GET_ONLY = frozenset({"PR_LOCATION", "INVOICE_PROPERTIES", "PRODUCT_ROWS"})
LIST_FIELDS = Schema(TABLE, [f for f in SCHEMA if f.name not in _GET_ONLY], case_insensitive=True)
# The listing engine's schema: the list fields plus the custom-field column (no parent links:
# an old invoice has UF_DEAL_ID/UF_QUOTE_ID instead).
LIST_SCHEMA = Schema(TABLE, [*LIST_FIELDS, records.DYNAMIC[0]], case_insensitive=True)

_ROW_KEYS = (
    "ID", "PRODUCT_ID", "PRODUCT_NAME", "PRICE", "DISCOUNT_PRICE", "QUANTITY", "VAT_RATE",
    "VAT_INCLUDED", "MEASURE_CODE", "MEASURE_NAME", "CATALOG_XML_ID", "PRODUCT_XML_ID",
)  # fmt: skip
_MONEY = frozenset({"PRICE", "DISCOUNT_PRICE"})


def _value(field: Field, value: Any, zone: Any) -> Any:
    """crm.deal's string style; properties as a map of strings and product rows as objects of
    strings, each empty one as PHP's empty array `[]`."""
    if field.name == "INVOICE_PROPERTIES":
        found = records.decode(value or "{}")
        return {str(k): records.as_text(v) for k, v in found.items()} or []
    if field.name == "PRODUCT_ROWS":
        return [_row_wire(row) for row in records.decode(value or "[]")]
    return records.strings(field, value, zone)


def _row_wire(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _ROW_KEYS:
        value = row.get(key)
        if key in _MONEY:
            out[key] = f"{float(value or 0):.2f}"
        elif isinstance(value, float):
            out[key] = str(records.number(value))
        else:
            out[key] = records.as_text(value)
    return out


VIEW = records.View(
    SCHEMA,
    (*(f.name for f in SCHEMA), records.UF),
    _value,
    uf_name=lambda name: name,
    parent_name=lambda type_id: f"PARENT_ID_{type_id}",
    dynamic_value=records.as_text,
)
LIST_VIEW = records.View(
    LIST_FIELDS,
    (*(f.name for f in LIST_FIELDS), records.UF),
    _value,
    uf_name=lambda name: name,
    parent_name=lambda type_id: f"PARENT_ID_{type_id}",
    dynamic_value=records.as_text,
    select_order=True,
)


# -- reading a request's fields -----------------------------------------------------------------


def _invalid(name: str, exc: records.Unreadable | None = None) -> errors.B24Error:
    # crm.deal's wording (crm-deal-add.md): the field named by its title.
    found = SCHEMA.get(name)
    return errors.LegacyCrmError(f'Invalid value for the "{found.title if found else name}" field')


def _given(fields: dict[str, Any], name: str) -> tuple[bool, Any]:
    """Whether `fields` carries `name` (in any case, the exact spelling winning) and its value."""
    if name in fields:
        return True, fields[name]
    for key, value in fields.items():
        if str(key).upper() == name:
            return True, value
    return False, None


def _properties(raw: Any) -> dict[str, str]:
    """INVOICE_PROPERTIES: codes to text values; nested arrays are dropped, as the portal does."""
    found = records.fields_object(raw) if raw not in (None, "") else {}
    if found is None:
        raise _invalid("INVOICE_PROPERTIES")
    out: dict[str, str] = {}
    for key, value in found.items():
        text = coerce.to_text(value)
        if text is not None:
            out[str(key)] = text
    return out


def _product_rows(raw: Any, old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PRODUCT_ROWS replaces the invoice's rows. A row whose ID names an existing row keeps it;
    `ID: 0` (or an unknown ID) is a new row with the next number of this invoice."""
    found = records.fields_object(raw) if raw not in (None, "") else {}
    if found is None:
        raise _invalid("PRODUCT_ROWS")
    known = {int(row["ID"]) for row in old}
    following = max(known, default=0) + 1
    rows: list[dict[str, Any]] = []
    for item in found.values():
        given = records.fields_object(item)
        if given is None:
            raise _invalid("PRODUCT_ROWS")
        upper = {str(k).upper(): v for k, v in given.items()}
        row_id = coerce.to_int(upper.get("ID"))
        if row_id is None or row_id not in known or any(r["ID"] == row_id for r in rows):
            row_id, following = following, following + 1
        row: dict[str, Any] = {"ID": row_id}
        for key, kind, default in _ROW_FIELDS:
            value = upper.get(key)
            if value is None or value == "":
                row[key] = default
                continue
            converted = _ROW_READERS[kind](value)
            if converted is None:
                raise _invalid("PRODUCT_ROWS")
            row[key] = converted
        # The portal refuses a quantity of zero or less; a negative VAT rate means nothing.
        if row["QUANTITY"] <= 0 or (row["VAT_RATE"] or 0.0) < 0:
            raise _invalid("PRODUCT_ROWS")
        rows.append(row)
    return rows


_ROW_FIELDS: tuple[tuple[str, str, Any], ...] = (
    ("PRODUCT_ID", "int", 0), ("PRODUCT_NAME", "text", ""), ("PRICE", "float", 0.0),
    ("DISCOUNT_PRICE", "float", 0.0), ("QUANTITY", "float", 1.0), ("VAT_RATE", "float", None),
    ("VAT_INCLUDED", "flag", "Y"), ("MEASURE_CODE", "int", None), ("MEASURE_NAME", "text", ""),
    ("CATALOG_XML_ID", "none", ""), ("PRODUCT_XML_ID", "none", ""),
)  # fmt: skip


def _flag(value: Any) -> str | None:
    flag = coerce.to_flag(value)
    return None if flag is None else "Y" if flag else "N"


_ROW_READERS: dict[str, Any] = {
    "int": coerce.to_int,
    "float": coerce.to_float,
    "text": lambda value: None if (text := coerce.to_text(value)) is None else fit_text("", text),
    "flag": _flag,
    "none": lambda _value: "",  # read-only (crm-invoice-fields.md): never taken from a request
}


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


def _read(call: Call, fields: dict[str, Any], old: Row | None) -> Row:
    """The columns a request's `fields` write: the writable scalar fields, custom fields merged
    into the old ones, properties merged, product rows replaced (with the amounts they make)."""
    # An old invoice has no PARENT_ID_* links (UF_DEAL_ID/UF_QUOTE_ID instead): such keys are
    # unknown fields, ignored like any other.
    scalars = {k: v for k, v in fields.items() if records.parent_type(str(k)) is None}
    changes = records.read_fields(
        scalars,
        SCHEMA,
        call.ctx.zone,
        accept=lambda f: not f.read_only and f.kind != "json",
        error=_invalid,
        dynamic=True,
    )
    values = changes.merged(old or {})
    given, raw = _given(fields, "INVOICE_PROPERTIES")
    if given:
        merged = {**(records.decode(old["invoice_properties"]) if old else {}), **_properties(raw)}
        values["invoice_properties"] = records.encode(merged)
    given, raw = _given(fields, "PRODUCT_ROWS")
    if given:
        rows = _product_rows(raw, records.decode(old["product_rows"]) if old else [])
        values["product_rows"] = records.encode(rows)
        values["price"], values["tax_value"] = totals(rows)
    return values


def _check(row: Row) -> None:
    """What a saved invoice needs, checked as the portal's CCrmInvoice::CheckFields does: a
    subject, a payer type with a buyer (company or contact), a payment form; every failure in
    one text, each ended by `<br />` and a newline (docs/decisions.md)."""
    failures = []
    if not row.get("order_topic"):
        failures.append('The field "Subject" is required.')
    buyer = (row.get("uf_company_id") or 0) > 0 or (row.get("uf_contact_id") or 0) > 0
    if (row.get("person_type_id") or 0) <= 0 or not buyer:
        failures.append("The counterparty is not specified. Select a company or a contact.")
    if (row.get("pay_system_id") or 0) <= 0:
        failures.append('The field "Invoice print form" is required.')
    if failures:
        raise errors.LegacyCrmError("".join(f"{text}<br />\n" for text in failures))


def _payer(row: Row) -> int:
    """The payer type follows the buyer: a company makes it a legal entity's, else a contact an
    individual's (crm-invoice-add.md's examples pair UF_COMPANY_ID 5 with type 2 and a bare
    UF_CONTACT_ID with type 1)."""
    if (row.get("uf_company_id") or 0) > 0:
        return LEGAL_ENTITY
    return INDIVIDUAL


async def _responsible(call: Call, user_id: int | None) -> Row:
    """The RESPONSIBLE_* columns of a user: its name split as `profile` splits it; orderlink
    keeps no e-mail, login, photo or position, so those are empty (null for an unknown user)."""
    user = await call.store.get_user(call.portal, user_id) if user_id else None
    if user is None:
        return dict.fromkeys(_RESPONSIBLE_COLUMNS)
    first, _, last = user.name.partition(" ")
    return {
        "responsible_email": "", "responsible_last_name": last, "responsible_login": "",
        "responsible_name": first, "responsible_personal_photo": None,
        "responsible_second_name": "", "responsible_work_position": "",
    }  # fmt: skip


_RESPONSIBLE_COLUMNS = (
    "responsible_email", "responsible_last_name", "responsible_login", "responsible_name",
    "responsible_personal_photo", "responsible_second_name", "responsible_work_position",
)  # fmt: skip


def _status(values: Row, old_status: str | None, user: int, now: int) -> None:
    """A status change stamps who and when; entering PAID_STATUS stamps the payment, leaving it
    clears the payment."""
    status = values.get("status_id")
    if status is None or status == old_status:
        return
    values.update(date_status=now, emp_status_id=user)
    if status == PAID_STATUS:
        values.update(payed="Y", date_payed=now, emp_payed_id=user)
    elif old_status == PAID_STATUS:
        values.update(payed="N", date_payed=None, emp_payed_id=None)


# -- crm.invoice.* -------------------------------------------------------------------------------


@table.method("crm.invoice.add", scope="crm", doc=DOCS + "crm-invoice-add.md", setting=SETTING)
async def add(call: Call) -> Any:
    """Create an old invoice; answers its id as a number."""
    fields = legacy_fields(top_level(call.params))
    user, now = call.principal.user_id, call.ctx.clock.now()
    stamp = int(now)
    values: Row = {
        "lid": SITE,
        "currency": BASE_CURRENCY,
        "created_by": user,
        "responsible_id": user,
        "date_insert": stamp,
        "date_bill": records.today(now, call.ctx.zone),
        "date_update": stamp,
    }
    values.update({k: v for k, v in _read(call, fields, None).items() if v is not None})
    if not values.get("status_id"):
        values["status_id"] = NEW_STATUS
    _check(values)
    values["person_type_id"] = _payer(values)
    values.update(await _responsible(call, values["responsible_id"]))
    _status(values, None, user, stamp)
    # crm-invoice-fields.md marks ACCOUNT_NUMBER required; a portal numbers an invoice left
    # without one, here with its id (set inside the insert).
    templates = {} if values.get("account_number") else {"account_number": "{id}"}
    emits = (events.legacy_invoice("ADD", user, now),)
    return await call.store.insert(
        call.portal,
        TABLE,
        values,
        templates=templates,
        events=await events.wanted(call.store, call.portal, emits),
    )


@table.method("crm.invoice.get", scope="crm", doc=DOCS + "crm-invoice-get.md", setting=SETTING)
async def get(call: Call) -> Any:
    """One old invoice with its properties and product rows, every value a string."""
    # The crm module's invoice REST service reads a missing or bad id as 0: "Not found.".
    invoice_id = coerce.to_int(top_level(call.params).get("id")) or 0
    row = await call.store.get(call.portal, TABLE, invoice_id) if invoice_id > 0 else None
    if row is None:
        raise errors.LegacyCrmError(NOT_FOUND)
    return VIEW.render(row, call.ctx.zone)


@table.method(
    "crm.invoice.update", scope="crm", doc=DOCS + "crm-invoice-update.md", setting=SETTING
)
async def update(call: Call) -> Any:
    """Change the fields given; product rows given replace the old ones."""
    params = top_level(call.params)
    invoice_id = _invoice_id(params)
    fields = legacy_fields(params)
    old = await call.store.get(call.portal, TABLE, invoice_id)
    if old is None:
        raise errors.LegacyCrmError(NOT_FOUND)
    user, now = call.principal.user_id, call.ctx.clock.now()
    stamp = int(now)
    values = _read(call, fields, old)
    if values.get("status_id") == "":
        del values["status_id"]
    if values.get("account_number") == "":
        del values["account_number"]
    merged = {**old, **values}
    _check(merged)
    values["person_type_id"] = _payer(merged)
    if "responsible_id" in values and values["responsible_id"] != old["responsible_id"]:
        values.update(await _responsible(call, values["responsible_id"]))
    _status(values, old["status_id"], user, stamp)
    values["date_update"] = stamp
    emits = (events.legacy_invoice("UPDATE", user, now, invoice_id),)
    wanted = await events.wanted(call.store, call.portal, emits)
    if await call.store.update(call.portal, TABLE, invoice_id, values, events=wanted) is None:
        raise errors.LegacyCrmError(NOT_FOUND)
    return invoice_id


@table.method(
    "crm.invoice.delete", scope="crm", doc=DOCS + "crm-invoice-delete.md", setting=SETTING
)
async def delete(call: Call) -> Any:
    """Delete an old invoice and the bindings of orders to it."""
    invoice_id = _invoice_id(top_level(call.params))
    emits = (events.legacy_invoice("DELETE", call.principal.user_id, call.ctx.clock.now(),
                                   invoice_id),)  # fmt: skip
    wanted = await events.wanted(call.store, call.portal, emits)
    if not await call.store.delete(call.portal, TABLE, invoice_id, events=wanted):
        raise errors.LegacyCrmError(NOT_FOUND)
    return invoice_id


@table.method("crm.invoice.list", scope="crm", doc=DOCS + "crm-invoice-list.md", setting=SETTING)
async def list_(call: Call) -> Any:
    """Old invoices matching a filter, 50 per page, newest first, without product rows.

    A bare array, `*` and `UF_*` selected by default; properties and product rows are left out
    (crm-invoice-list.md)."""
    return await legacy_list(call, LIST_VIEW, LIST_SCHEMA, newest_first=True)


@table.method(
    "crm.invoice.fields", scope="crm", doc=DOCS + "crm-invoice-fields.md", setting=SETTING
)
async def get_fields(call: Call) -> Any:
    """Every old-invoice field with its descriptor."""
    return {f.name: _descriptor(f) for f in SCHEMA}


def _descriptor(field: Field) -> dict[str, Any]:
    """The invoice service's own descriptor shape: type, size where the column has one, the
    required and read-only flags, title (crm module, restservice_invoice.php)."""
    out: dict[str, Any] = {"type": field.type}
    if "size" in field.extra:
        out["size"] = field.extra["size"]
    out.update(isRequired=field.required, isReadOnly=field.read_only, title=field.title)
    return out


def _invoice_id(params: dict[str, Any]) -> int:
    number = coerce.to_int(params.get("id"))
    if number is None or number <= 0:
        raise errors.LegacyCrmError("Invalid identifier.")
    return number
