"""crm.invoice.*: old invoices (entityTypeId 5), served only with `--legacy-invoices`.

Pages: api-reference/crm/outdated/invoice/{index,crm-invoice-add,crm-invoice-get,crm-invoice-list,
crm-invoice-update,crm-invoice-delete,crm-invoice-fields}.md; events in events-invoice/. The pages
print requests only, no answers and no errors, so the family answers like crm.deal.*: UPPER_SNAKE,
every scalar a string, money with two decimals, `"error": ""` with crm.deal's texts
(docs/decisions.md, "Old invoices").
"""

from __future__ import annotations

import dataclasses
from typing import Any

from orderlink import coerce, errors, events
from orderlink.families.family import Created, Family
from orderlink.families.handlers import crud, serve
from orderlink.families.legacy import SUMMARIES, legacy_family
from orderlink.families.readers import (
    id_or_zero,
    legacy_invalid,
    positive_id,
)
from orderlink.records import values as wire
from orderlink.records.custom_fields import (
    DYNAMIC,
    UF,
    parent_type,
    parent_upper,
    unchanged,
)
from orderlink.records.days import today
from orderlink.records.projection import View
from orderlink.records.reading import fields_object, read_fields
from orderlink.registry import Call, MethodTable
from orderlink.rules import legacy_invoices
from orderlink.rules.legacy_invoices import NEW_STATUS
from orderlink.rules.portal import BASE_CURRENCY, SITE
from orderlink.schema import Field, Schema, fit_text, named
from orderlink.storage.base import Emit, Row, Table

table = MethodTable(scope="crm", docs="api-reference/crm/outdated/invoice/")

# Every crm.invoice.* method exists only while this setting is on (registry.Method.setting).
SETTING = "legacy_invoices"
TABLE: Table = "legacy_invoices"

NOT_FOUND = "Not found."

# crm-invoice-fields.md's table in its order, titles and types, required marks (*) and read-only
# notes; IS_RECURRING and UF_QUOTE_ID come from crm-invoice-list.md's table, in its places.
# CURRENCY_ID is what crm-invoice-list.md's example selects for CURRENCY.
SCHEMA = Schema(
    TABLE,
    [
        named("ID", "int", "integer", "Identifier", "O"),
        named("ACCOUNT_NUMBER", "text", "string", "Number", "R", ""),
        named("COMMENTS", "text", "text", "Manager's comment"),
        named("CREATED_BY", "int", "integer", "Created by user", "O"),
        named("CURRENCY", "text", "crm_currency", "Currency identifier", "O",
              aliases=("CURRENCY_ID",)),
        named("DATE_BILL", "datetime", "date", "Billing date"),
        named("DATE_INSERT", "datetime", "datetime", "Creation date"),
        named("DATE_MARKED", "datetime", "datetime", "Rejection date"),
        named("DATE_PAY_BEFORE", "datetime", "date", "Payment due date"),
        named("DATE_PAYED", "datetime", "datetime", "Date changed to paid status", "O"),
        named("DATE_STATUS", "datetime", "datetime", "Date of status change", "O"),
        named("DATE_UPDATE", "datetime", "datetime", "Date of update", "O"),
        named("EMP_PAYED_ID", "int", "integer",
              "Identifier of the user who last marked the invoice as paid", "O"),
        named("EMP_STATUS_ID", "int", "integer",
              "Identifier of the user who last changed the invoice status", "O"),
        # The page types LID `integer`; its value is a site id such as "s1" (see decisions).
        named("LID", "text", "string", "Site identifier", "O"),
        named("IS_RECURRING", "flag", "char", "Flag for recurring deal template", "", "N"),
        named("XML_ID", "text", "string", "External code"),
        named("ORDER_TOPIC", "text", "string", "Subject", "R", ""),
        named("PAY_SYSTEM_ID", "int", "integer", "Identifier of the payment form", "R"),
        named("PAY_VOUCHER_DATE", "datetime", "date", "Payment date"),
        named("PAY_VOUCHER_NUM", "text", "string", "Payment document number"),
        named("PAYED", "flag", "char", "Payment status", "O", "N"),
        named("PERSON_TYPE_ID", "int", "integer", "Payer type identifier", "R"),
        named("PRICE", "float", "double", "Amount", "O", 0.0),
        named("REASON_MARKED", "text", "string", "Status comment"),
        named("RESPONSIBLE_EMAIL", "text", "string", "Responsible person's e-mail", "O"),
        named("RESPONSIBLE_ID", "int", "integer", "Identifier of the responsible person"),
        named("RESPONSIBLE_LAST_NAME", "text", "string",
              "Last name of the responsible person", "O"),
        named("RESPONSIBLE_LOGIN", "text", "string", "Login of the responsible person", "O"),
        named("RESPONSIBLE_NAME", "text", "string", "First name of the responsible person", "O"),
        named("RESPONSIBLE_PERSONAL_PHOTO", "int", "integer",
              "Identifier of the responsible person's photo", "O"),
        named("RESPONSIBLE_SECOND_NAME", "text", "string",
              "Middle name of the responsible person", "O"),
        named("RESPONSIBLE_WORK_POSITION", "text", "string",
              "Position of the responsible person", "O"),
        named("STATUS_ID", "text", "crm_status", "Status identifier", "", NEW_STATUS,
              statusType="INVOICE_STATUS"),
        named("TAX_VALUE", "float", "double", "Tax amount", "O", 0.0),
        named("UF_COMPANY_ID", "int", "integer", "Company identifier", "", 0),
        named("UF_CONTACT_ID", "int", "integer", "Contact identifier", "", 0),
        named("UF_MYCOMPANY_ID", "int", "integer", "Identifier of your company", "", 0),
        named("UF_DEAL_ID", "int", "integer", "Identifier of the associated deal", "", 0),
        named("UF_QUOTE_ID", "int", "integer", "Identifier of the related estimate", "", 0),
        named("USER_DESCRIPTION", "text", "string", "Comment"),
        named("PR_LOCATION", "int", "integer", "Location identifier"),
        named("INVOICE_PROPERTIES", "json", "array", "List of properties"),
        named("PRODUCT_ROWS", "json", "array", "List of product items"),
    ],
    case_insensitive=True,
)  # fmt: skip

# crm-invoice-list.md: "The method does not return properties and line items of the invoice";
# PR_LOCATION is the location property (not in the list page's table either).
_GET_ONLY = frozenset({"PR_LOCATION", "INVOICE_PROPERTIES", "PRODUCT_ROWS"})
LIST_FIELDS = Schema(TABLE, [f for f in SCHEMA if f.name not in _GET_ONLY], case_insensitive=True)
# The listing engine's schema: the list fields plus the custom-field column (no parent links:
# an old invoice has UF_DEAL_ID/UF_QUOTE_ID instead).
LIST_SCHEMA = Schema(TABLE, [*LIST_FIELDS, DYNAMIC[0]], case_insensitive=True)

_ROW_KEYS = (
    "ID", "PRODUCT_ID", "PRODUCT_NAME", "PRICE", "DISCOUNT_PRICE", "QUANTITY", "VAT_RATE",
    "VAT_INCLUDED", "MEASURE_CODE", "MEASURE_NAME", "CATALOG_XML_ID", "PRODUCT_XML_ID",
)  # fmt: skip
_MONEY = frozenset({"PRICE", "DISCOUNT_PRICE"})


def _value(field: Field, value: Any, zone: Any) -> Any:
    """crm.deal's string style; properties as a map of strings and product rows as objects of
    strings, each empty one as PHP's empty array `[]`."""
    if field.name == "INVOICE_PROPERTIES":
        found = wire.decode(value or "{}")
        return {str(k): wire.as_text(v) for k, v in found.items()} or []
    if field.name == "PRODUCT_ROWS":
        return [_row_wire(row) for row in wire.decode(value or "[]")]
    return wire.strings(field, value, zone)


def _row_wire(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _ROW_KEYS:
        value = row.get(key)
        if key in _MONEY:
            out[key] = f"{float(value or 0):.2f}"
        elif isinstance(value, float):
            out[key] = str(wire.number(value))
        else:
            out[key] = wire.as_text(value)
    return out


VIEW = View(
    SCHEMA,
    (*(f.name for f in SCHEMA), UF),
    _value,
    uf_name=unchanged,
    parent_name=parent_upper,
    dynamic_value=wire.as_text,
)
LIST_VIEW = dataclasses.replace(VIEW, schema=LIST_FIELDS, select_order=True,
                                layout=(*(f.name for f in LIST_FIELDS), UF))  # fmt: skip


# -- reading a request's fields -----------------------------------------------------------------


_invalid = legacy_invalid(SCHEMA)


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
    found = fields_object(raw) if raw not in (None, "") else {}
    if found is None:
        raise _invalid("INVOICE_PROPERTIES", None)
    out: dict[str, str] = {}
    for key, value in found.items():
        text = coerce.to_text(value)
        if text is not None:
            out[str(key)] = text
    return out


def _product_rows(raw: Any, old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """PRODUCT_ROWS replaces the invoice's rows. A row whose ID names an existing row keeps it;
    `ID: 0` (or an unknown ID) is a new row with the next number of this invoice."""
    found = fields_object(raw) if raw not in (None, "") else {}
    if found is None:
        raise _invalid("PRODUCT_ROWS", None)
    known = {int(row["ID"]) for row in old}
    following = max(known, default=0) + 1
    rows: list[dict[str, Any]] = []
    for item in found.values():
        given = fields_object(item)
        if given is None:
            raise _invalid("PRODUCT_ROWS", None)
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
                raise _invalid("PRODUCT_ROWS", None)
            row[key] = converted
        # The portal refuses a quantity of zero or less; a negative VAT rate means nothing.
        if row["QUANTITY"] <= 0 or (row["VAT_RATE"] or 0.0) < 0:
            raise _invalid("PRODUCT_ROWS", None)
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


async def _read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
    """The columns a request's `fields` write: the writable scalar fields, custom fields merged
    into the old ones, properties merged, product rows replaced (with the amounts they make)."""
    # An old invoice has no PARENT_ID_* links (UF_DEAL_ID/UF_QUOTE_ID instead): such keys are
    # unknown fields, ignored like any other.
    scalars = {k: v for k, v in fields.items() if parent_type(str(k)) is None}
    changes = read_fields(
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
        merged = {**(wire.decode(old["invoice_properties"]) if old else {}), **_properties(raw)}
        values["invoice_properties"] = wire.encode(merged)
    given, raw = _given(fields, "PRODUCT_ROWS")
    if given:
        rows = _product_rows(raw, wire.decode(old["product_rows"]) if old else [])
        values["product_rows"] = wire.encode(rows)
        values["price"], values["tax_value"] = legacy_invoices.totals(rows)
    return values


def _check(row: Row) -> None:
    """Every failure in one text, each ended by `<br />` and a newline (docs/decisions.md)."""
    failures = legacy_invoices.failures(row)
    if failures:
        raise errors.LegacyCrmError("".join(f"{text}<br />\n" for text in failures))


async def _responsible(call: Call, user_id: int | None) -> Row:
    """The RESPONSIBLE_* columns of a user: its NAME, LAST_NAME and e-mail; orderlink keeps no
    login or photo, so those are empty (null for an unknown user)."""
    user = await call.store.get_user(call.portal, user_id) if user_id else None
    if user is None:
        return dict.fromkeys(_RESPONSIBLE_COLUMNS)
    return {
        "responsible_email": user.email, "responsible_last_name": user.last_name,
        "responsible_login": "", "responsible_name": user.name,
        "responsible_personal_photo": None,
        "responsible_second_name": "", "responsible_work_position": "",
    }  # fmt: skip


_RESPONSIBLE_COLUMNS = (
    "responsible_email", "responsible_last_name", "responsible_login", "responsible_name",
    "responsible_personal_photo", "responsible_second_name", "responsible_work_position",
)  # fmt: skip


async def _create(call: Call, columns: Row, now: float) -> Created:
    user, stamp = call.principal.user_id, int(now)
    values: Row = {
        "lid": SITE,
        "currency": BASE_CURRENCY,
        "created_by": user,
        "responsible_id": user,
        "date_insert": stamp,
        "date_bill": today(now, call.ctx.zone),
        "date_update": stamp,
    }
    values.update({k: v for k, v in columns.items() if v is not None})
    if not values.get("status_id"):
        values["status_id"] = NEW_STATUS
    _check(values)
    values["person_type_id"] = legacy_invoices.payer(values)
    values.update(await _responsible(call, values["responsible_id"]))
    legacy_invoices.status(values, None, user, stamp)
    # crm-invoice-fields.md marks ACCOUNT_NUMBER required; a portal numbers an invoice left
    # without one, here with its id (set inside the insert).
    templates = {} if values.get("account_number") else {"account_number": "{id}"}
    return Created(values, templates)


async def _change(call: Call, old: Row, values: Row, now: float) -> Row:
    user, stamp = call.principal.user_id, int(now)
    if values.get("status_id") == "":
        del values["status_id"]
    if values.get("account_number") == "":
        del values["account_number"]
    merged = {**old, **values}
    _check(merged)
    values["person_type_id"] = legacy_invoices.payer(merged)
    if "responsible_id" in values and values["responsible_id"] != old["responsible_id"]:
        values.update(await _responsible(call, values["responsible_id"]))
    legacy_invoices.status(values, old["status_id"], user, stamp)
    values["date_update"] = stamp
    return values


def _events(action: str, user: int, at: float, invoice_id: int | str, row: Row) -> tuple[Emit, ...]:
    return (events.legacy_invoice(action, user, at, invoice_id),)


def _not_found() -> errors.B24Error:
    return errors.LegacyCrmError(NOT_FOUND)


def _bad_id() -> errors.B24Error:
    return errors.LegacyCrmError("Invalid identifier.")


def _descriptor(field: Field) -> dict[str, Any]:
    """The invoice service's own descriptor shape: type, size where the column has one, the
    required and read-only flags, title (crm module, restservice_invoice.php)."""
    out: dict[str, Any] = {"type": field.type}
    if "size" in field.extra:
        out["size"] = field.extra["size"]
    out.update(isRequired=field.required, isReadOnly=field.read_only, title=field.title)
    return out


INVOICES = legacy_family(
    schema=SCHEMA,
    view=VIEW,
    list_schema=LIST_SCHEMA,
    # crm-invoice-list.md: a bare array, `*` and `UF_*` selected by default; properties and
    # product rows are left out.
    list_view=LIST_VIEW,
    read_id=positive_id(_bad_id),
    # The crm module's invoice REST service reads a missing or bad id as 0: "Not found.".
    read_get_id=id_or_zero,
    not_found=_not_found,
    invalid=_invalid,
    events=_events,
    descriptor=_descriptor,
    answers=("id", "id", "id"),
    newest_first=True,
    read=_read,
    create=_create,
    change=_change,
)

serve(
    table,
    INVOICES,
    crud(
        "crm.invoice",
        "crm-invoice",
        noun="old invoice",
        standard=SUMMARIES,
        get="One old invoice with its properties and product rows, every value a string.",
        update="Change the fields given; product rows given replace the old ones.",
        delete="Delete an old invoice and the bindings of orders to it.",
        list="Old invoices matching a filter, 50 per page, newest first, without product rows.",
    ),
    setting=SETTING,
)
