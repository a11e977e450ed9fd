"""sale.order.*: online-store orders, plus the reference lists an order's fields point into.

Pages: api-reference/sale/order/{sale-order-add,sale-order-get,sale-order-list,
sale-order-update,sale-order-delete,sale-order-get-fields}.md, api-reference/sale/data-types.md,
api-reference/sale/person-type/sale-person-type-list.md, api-reference/crm/currency/
crm-currency-list.md. The sale pages print digit error codes as JSON numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from orderlink import coerce, errors, events, listing, records
from orderlink.registry import Call, MethodTable, Page, Role
from orderlink.schema import Field, Kind, Schema, flag_descriptors
from orderlink.storage.base import Row

table = MethodTable()

DOCS = "api-reference/sale/order/"

# The one site of a portal: sale-order-add.md, `lid` "Has a constant value 's1'".
SITE = "s1"
# Payer types (api-reference/sale/data-types.md, sale_person_type; sort is a string on the wire).
PERSON_TYPES: tuple[dict[str, Any], ...] = (
    {"active": "Y", "code": None, "id": 1, "name": "Individual", "sort": "100", "xmlId": None},
    {"active": "Y", "code": None, "id": 2, "name": "Legal Entity", "sort": "110", "xmlId": None},
)
# Currencies (api-reference/crm/data-types.md, crm_currency): every value a string. USD, EUR and
# CAD as crm-currency-list.md prints them (its second, non-base USD row is a copy slip), plus RUB.
BASE_CURRENCY = "USD"
CURRENCIES: tuple[dict[str, Any], ...] = (
    {"CURRENCY": "USD", "AMOUNT_CNT": "1", "AMOUNT": "1.0000", "SORT": "100", "BASE": "Y",
     "FULL_NAME": "United States Dollar", "LID": "en", "FORMAT_STRING": "# $", "DEC_POINT": ".",
     "THOUSANDS_SEP": "&nbsp;", "DECIMALS": "2", "DATE_UPDATE": "2024-01-29T10:28:40+00:00"},
    {"CURRENCY": "RUB", "AMOUNT_CNT": "100", "AMOUNT": "1.0900", "SORT": "200", "BASE": "N",
     "FULL_NAME": "Russian Ruble", "LID": "en", "FORMAT_STRING": "# ₽", "DEC_POINT": ".",
     "THOUSANDS_SEP": "&nbsp;", "DECIMALS": "2", "DATE_UPDATE": "2023-03-21T13:19:50+00:00"},
    {"CURRENCY": "EUR", "AMOUNT_CNT": "1", "AMOUNT": "1.0800", "SORT": "300", "BASE": "N",
     "FULL_NAME": "Euro", "LID": "en", "FORMAT_STRING": "# €", "DEC_POINT": ".",
     "THOUSANDS_SEP": "&nbsp;", "DECIMALS": "2", "DATE_UPDATE": "2023-03-21T13:19:50+00:00"},
    {"CURRENCY": "CAD", "AMOUNT_CNT": "1", "AMOUNT": "0.7300", "SORT": "500", "BASE": "N",
     "FULL_NAME": "Canadian Dollar", "LID": "en", "FORMAT_STRING": "# CAD", "DEC_POINT": ".",
     "THOUSANDS_SEP": "&nbsp;", "DECIMALS": "2", "DATE_UPDATE": "2023-03-21T13:19:50+00:00"},
)  # fmt: skip
CURRENCY_CODES = frozenset(c["CURRENCY"] for c in CURRENCIES)


def _f(name: str, column: str, kind: Kind, type_: str, flags: str = "", empty: Any = None) -> Field:
    """A getFields entry; `flags` holds R(equired), O (read-only), I(mmutable)."""
    return Field(
        name, column, kind, type_,
        required="R" in flags, read_only="O" in flags, immutable="I" in flags,
        extra={"empty": empty},
    )  # fmt: skip


# sale-order-get-fields.md, in its order; types as printed there (`lockedBy` and `recurringId`
# are `char`: strings on the wire, `"1"` or `""`).
SCHEMA = Schema(
    "orders",
    [
        _f("accountNumber", "account_number", "text", "string", "O", ""),
        _f("additionalInfo", "additional_info", "text", "string", "", ""),
        _f("affiliateId", "affiliate_id", "int", "integer"),
        _f("canceled", "canceled", "flag", "char", "", "N"),
        _f("comments", "comments", "text", "string", "", ""),
        _f("companyId", "company_id", "int", "integer"),
        _f("currency", "currency", "text", "string", "RI", ""),
        _f("dateCanceled", "date_canceled", "datetime", "datetime", "O"),
        _f("dateInsert", "date_insert", "datetime", "datetime"),
        _f("dateLock", "date_lock", "datetime", "datetime", "O"),
        _f("dateMarked", "date_marked", "datetime", "datetime", "O"),
        _f("dateStatus", "date_status", "datetime", "datetime", "O"),
        _f("dateUpdate", "date_update", "datetime", "datetime", "O"),
        _f("deducted", "deducted", "flag", "char", "O", "N"),
        _f("discountValue", "discount_value", "float", "double", "", 0.0),
        _f("empCanceledId", "emp_canceled_id", "int", "integer"),
        _f("empMarkedId", "emp_marked_id", "int", "integer"),
        _f("empStatusId", "emp_status_id", "int", "integer"),
        _f("externalOrder", "external_order", "flag", "char", "", "N"),
        _f("id", "id", "int", "integer", "O"),
        _f("id1c", "id1c", "text", "string", "", ""),
        _f("lid", "lid", "text", "string", "RI", ""),
        _f("lockedBy", "locked_by", "text", "char", "", ""),
        _f("marked", "marked", "flag", "char", "", "N"),
        _f("orderTopic", "order_topic", "text", "string", "", ""),
        _f("payed", "payed", "flag", "char", "O", "N"),
        _f("personTypeId", "person_type_id", "int", "integer", "RI"),
        _f("personTypeXmlId", "person_type_xml_id", "text", "string", "O", ""),
        _f("price", "price", "float", "double", "", 0.0),
        _f("reasonCanceled", "reason_canceled", "text", "string", "", ""),
        _f("reasonMarked", "reason_marked", "text", "string", "", ""),
        _f("recountFlag", "recount_flag", "flag", "char", "", "N"),
        _f("recurringId", "recurring_id", "text", "char", "", ""),
        _f("responsibleId", "responsible_id", "int", "integer"),
        _f("statusId", "status_id", "text", "char", "", "N"),
        _f("statusXmlId", "status_xml_id", "text", "string", "O", ""),
        _f("taxValue", "tax_value", "float", "double", "O"),
        _f("updated1c", "updated1c", "flag", "char", "", "N"),
        _f("userDescription", "user_description", "text", "string", "", ""),
        _f("userId", "user_id", "int", "integer", "I"),
        _f("version", "version", "int", "integer", "O"),
        _f("version1c", "version1c", "text", "string", "", ""),
        _f("xmlId", "xml_id", "text", "string", "", ""),
    ],
)
# Checked in the order the add page's table lists them.
_REQUIRED = ("lid", "personTypeId", "currency")
# What sale-order-get.md embeds; orderlink keeps no baskets, payments, shipments or properties.
_COLLECTIONS = ("basketItems", "clients", "payments", "propertyValues", "requisiteLink",
                "shipments", "tradeBindings")  # fmt: skip
# add/update answers carry only these two (sale-order-add.md, sale-order-update.md).
_SAVED = ("clients", "requisiteLink")


def _render(row: Row, call: Call, embedded: tuple[str, ...]) -> dict[str, Any]:
    # Every example prints the order's keys in alphabetical order, collections included.
    out = {f.name: records.typed(f, row[f.column], call.ctx.zone) for f in SCHEMA}
    out.update({name: [] for name in embedded})
    return dict(sorted(out.items()))


def _invalid(name: str, exc: records.Unreadable) -> errors.B24Error:
    return errors.SaveError(f'Invalid value for field "{name}"')


def _fields(params: dict[str, Any]) -> dict[str, Any]:
    raw = params.get("fields")
    if raw is None or raw == "" or raw == [] or raw == {}:
        raise errors.FieldsNotSpecified()
    fields = records.fields_object(raw)
    if fields is None:
        raise errors.FieldsNotSpecified("Parameter `fields` must be an object")
    return fields


def _id(params: dict[str, Any]) -> int:
    raw = params.get("id")
    if raw is None or raw == "" or raw == []:
        raise errors.IdNotSpecified()
    number = coerce.to_int(raw)
    if number is None or number <= 0:
        raise errors.OrderNotFound()
    return number


def _check(columns: Row) -> None:
    """Values that must name something the portal has."""
    if "lid" in columns and columns["lid"] != SITE:
        raise errors.SaveError(f'Invalid value for field "lid": the only site is "{SITE}"')
    if "person_type_id" in columns and columns["person_type_id"] not in {
        p["id"] for p in PERSON_TYPES
    }:
        raise errors.SaveError('Invalid value for field "personTypeId": no such payer type')
    if "currency" in columns and columns["currency"] not in CURRENCY_CODES:
        raise errors.SaveError('Invalid value for field "currency": no such currency')


_STAMPED = (
    ("status_id", "date_status", "emp_status_id"),
    ("marked", "date_marked", "emp_marked_id"),
    ("canceled", "date_canceled", "emp_canceled_id"),
)


def _stamp(values: Row, old: Row, user: int, now: int) -> None:
    """The date and employee the sale module records when the status, the mark or the
    cancellation changes (sale-order-add.md's answer: `dateMarked`/`dateCanceled` = save time)."""
    for column, date, employee in _STAMPED:
        if column in values and values[column] != old.get(column, "N"):
            values[date] = now
            values.setdefault(employee, user)


@table.method(
    "sale.order.add",
    scope="sale",
    role=Role.STORE_ADMIN,
    denied=errors.WriteAccessDenied,
    numeric_codes=True,
    doc=DOCS + "sale-order-add.md",
)
async def add(call: Call) -> Any:
    """Create an order; answers it whole, with `version` 1 and `accountNumber` = its id."""
    fields = _fields(call.params)
    changes = records.read_fields(
        fields, SCHEMA, call.ctx.zone, accept=lambda f: not f.read_only, error=_invalid
    )
    columns = changes.columns
    missing = [n for n in _REQUIRED if columns.get(SCHEMA[n].column) in (None, "")]
    if missing:
        raise errors.RequiredFields(missing)
    _check(columns)
    now = int(call.ctx.clock.now())
    user = call.principal.user_id
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
    _stamp(values, {}, user, now)
    emits = events.order_saved("{id}", user, now, str(values.get("xml_id") or ""))
    order_id = await call.store.insert(
        call.portal,
        "orders",
        values,
        templates={"account_number": "{id}"},
        events=await events.wanted(call.store, call.portal, emits),
    )
    row = await call.store.get(call.portal, "orders", order_id)
    if row is None:
        raise errors.OrderNotFound()
    return {"order": _render(row, call, _SAVED)}


@table.method(
    "sale.order.get",
    scope="sale",
    role=Role.STORE_MANAGER,
    denied=errors.ReadAccessDenied,
    numeric_codes=True,
    doc=DOCS + "sale-order-get.md",
)
async def get(call: Call) -> Any:
    """One order with its (always empty) baskets, clients, payments, properties, shipments."""
    # sale-order-get.md's table says 201240400001 "Order not found"; its example, the update
    # and delete pages and crm.orderentity all print 200540400001 "order does not exist".
    row = await call.store.get(call.portal, "orders", _id(call.params))
    if row is None:
        raise errors.OrderNotFound()
    return {"order": _render(row, call, _COLLECTIONS)}


@table.method(
    "sale.order.update",
    scope="sale",
    role=Role.STORE_ADMIN,
    denied=errors.WriteAccessDenied,
    numeric_codes=True,
    doc=DOCS + "sale-order-update.md",
)
async def update(call: Call) -> Any:
    """Change an order's writable fields; `version` goes up by one on every update."""
    order_id = _id(call.params)
    fields = _fields(call.params)
    old = await call.store.get(call.portal, "orders", order_id)
    if old is None:
        raise errors.OrderNotFound()
    # The update page's field table leaves out lid, personTypeId, currency and userId (immutable
    # in getFields): like read-only fields, they are ignored.
    changes = records.read_fields(
        fields,
        SCHEMA,
        call.ctx.zone,
        accept=lambda f: not (f.read_only or f.immutable),
        error=_invalid,
    )
    now = int(call.ctx.clock.now())
    values = dict(changes.columns)
    _stamp(values, old, call.principal.user_id, now)
    values["date_update"] = now
    values["version"] = int(old["version"]) + 1
    emits = events.order_saved(order_id, call.principal.user_id, now, str(old["xml_id"]))
    row = await call.store.update(
        call.portal,
        "orders",
        order_id,
        values,
        events=await events.wanted(call.store, call.portal, emits),
    )
    if row is None:
        raise errors.OrderNotFound()
    return {"order": _render(row, call, _SAVED)}


@table.method(
    "sale.order.delete",
    scope="sale",
    role=Role.STORE_ADMIN,
    denied=errors.WriteAccessDenied,
    numeric_codes=True,
    doc=DOCS + "sale-order-delete.md",
)
async def delete(call: Call) -> Any:
    """Delete an order; its binding to a deal or invoice goes with it."""
    order_id = _id(call.params)
    emits = events.order_deleted(order_id, call.principal.user_id, call.ctx.clock.now())
    wanted = await events.wanted(call.store, call.portal, emits)
    if not await call.store.delete(call.portal, "orders", order_id, events=wanted):
        raise errors.OrderNotFound()
    return True


@table.method(
    "sale.order.list",
    scope="sale",
    role=Role.STORE_MANAGER,
    denied=errors.ReadAccessDenied,
    numeric_codes=True,
    doc=DOCS + "sale-order-list.md",
)
async def list_(call: Call) -> Any:
    """Orders matching a filter, 50 per page, ascending by id unless told otherwise."""
    parsed = listing.parse(
        call.params,
        SCHEMA,
        portal_id=call.portal,
        error=errors.SaveError,
        zone=call.ctx.zone,
        default_order=(("id", False),),
        tie_breaker="id",
        start_minus_one=call.ctx.settings.start_minus_one,
    )
    found = await call.store.list(parsed.query)
    picked = [f for f in SCHEMA if f in parsed.select]
    zone = call.ctx.zone
    orders = [{f.name: records.typed(f, row[f.column], zone) for f in picked} for row in found.rows]
    total, following = parsed.page(found)
    return Page({"orders": orders}, total, following)


@table.method(
    "sale.order.getFields",
    scope="sale",
    role=Role.STORE_MANAGER,
    denied=errors.ReadAccessDenied,
    numeric_codes=True,
    doc=DOCS + "sale-order-get-fields.md",
)
async def get_fields(call: Call) -> Any:
    """Every order field with its four descriptor flags."""
    return {"order": flag_descriptors(SCHEMA)}


# -- reference lists -----------------------------------------------------------------------------

_PERSON_TYPE_SCHEMA = Schema(
    "person_types",
    [
        Field("active", "active", "flag", "char"),
        Field("code", "code", "text", "string"),
        Field("id", "id", "int", "integer"),
        Field("name", "name", "text", "string"),
        Field("sort", "sort", "int", "integer"),
        Field("xmlId", "xmlId", "text", "string"),
    ],
)


@table.method(
    "sale.persontype.list",
    scope="sale",
    role=Role.STORE_MANAGER,
    denied=errors.ReadAccessDenied,
    numeric_codes=True,
    doc="api-reference/sale/person-type/sale-person-type-list.md",
)
async def person_type_list(call: Call) -> Any:
    """The portal's payer types (orderlink has two: 1 Individual, 2 Legal Entity)."""
    # The page's example lacks the `result` wrapper that its "Returned Data" table and the
    # sibling pages show; orderlink answers {"result": {"personTypes": [...]}, "total": ...}.
    rows = [p for p in PERSON_TYPES if _matches(p, call.params.get("filter"))]
    rows = _sorted(rows, call.params.get("order"), _PERSON_TYPE_SCHEMA.get, errors.SaveError)
    asked = set(records.names(call.params.get("select")))
    picked = {f.name for f in _PERSON_TYPE_SCHEMA if f.name in asked} or set(PERSON_TYPES[0])
    start = max(coerce.to_int(call.params.get("start")) or 0, 0)
    page = rows[start : start + listing.PAGE_SIZE]
    following = start + listing.PAGE_SIZE if len(rows) > start + listing.PAGE_SIZE else None
    items = [{k: v for k, v in p.items() if k in picked} for p in page]
    return Page({"personTypes": items}, len(rows), following)


_UPPER_KEYS = Schema("currencies", [Field(k, k, "text", "string") for k in CURRENCIES[0]],
                     case_insensitive=True)  # fmt: skip


@table.method(
    "crm.currency.list",
    scope="crm",
    doc="api-reference/crm/currency/crm-currency-list.md",
)
async def currency_list(call: Call) -> Any:
    """The portal's currencies, sorted as asked; the page says `total` is always 0."""
    order = call.params.get("order")
    if order not in (None, "", []) and not isinstance(order, dict):
        raise errors.LegacyCrmError("Parameter 'order' must be array.")
    rows = _sorted(
        list(CURRENCIES), order or {"SORT": "asc"}, _UPPER_KEYS.get, errors.LegacyCrmError
    )
    zone = call.ctx.zone
    items = [{**c, "DATE_UPDATE": coerce.iso(datetime.fromisoformat(c["DATE_UPDATE"]), zone)}
             for c in rows]  # fmt: skip
    return Page(items, 0)


_NUMERIC = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers (also as strings: `"110"`) before text, nulls first, as SQL would order them."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMERIC.match(value)):
        return (1, float(value))
    return (2, str(value).lower())


def _sorted(
    rows: list[dict[str, Any]],
    order: Any,
    lookup: Callable[[str], Field | None],
    error: Callable[[str], errors.B24Error],
) -> list[dict[str, Any]]:
    if not isinstance(order, dict):
        return rows
    for key, direction in reversed(list(order.items())):
        found = lookup(str(key))
        text = direction.strip().upper() if isinstance(direction, str) else ""
        if found is None:
            continue
        if text not in ("ASC", "DESC"):
            raise error(f"Invalid order: allowed sort directions are ASC, DESC. But got "
                        f"'{direction}' for field '{found.name}'")  # fmt: skip
        rows = sorted(rows, key=lambda r: _sort_key(r[found.column]), reverse=text == "DESC")
    return rows


def _matches(row: dict[str, Any], raw: Any) -> bool:
    """A payer type against a sale-style filter (the list page's prefixes), in memory."""
    if raw in (None, "", []):
        return True
    if not isinstance(raw, dict):
        raise errors.SaveError("Parameter 'filter' must be array.")
    for key, wanted in raw.items():
        prefix, name = listing.split_key(str(key), _PERSON_TYPE_SCHEMA)
        found = _PERSON_TYPE_SCHEMA.get(name)
        if found is None:
            raise errors.SaveError(f"Invalid filter: field '{name[:100]}' is not allowed in filter")
        if not _holds(prefix, found, row[found.column], wanted):
            return False
    return True


def _holds(prefix: str, f: Field, actual: Any, wanted: Any) -> bool:
    negate = prefix.startswith("!")
    op = prefix.lstrip("!") or "="
    if op == "@" or isinstance(wanted, list | dict):
        # The page: `=` "works with arrays as well", like `@`.
        options = list(wanted.values()) if isinstance(wanted, dict) else wanted
        options = options if isinstance(options, list) else [options]
        hit = any(_equal(f, actual, listing.filter_value(f, v, UTC)) for v in options)
        return hit != negate
    if "%" in op:
        text = str(actual or "").lower()
        pattern = str(wanted).lower()
        if op == "%":
            hit = pattern in text
        else:
            regex = ".*".join(re.escape(part) for part in pattern.split("%"))
            hit = re.fullmatch(regex, text, re.DOTALL) is not None
        return hit != negate
    value = listing.filter_value(f, wanted, UTC)
    if op == "=":
        return _equal(f, actual, value) != negate
    left, right = _sort_key(actual), _sort_key(value)
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def _equal(f: Field, actual: Any, value: Any) -> bool:
    return _sort_key(actual) == _sort_key(value) if f.kind == "int" else actual == value
