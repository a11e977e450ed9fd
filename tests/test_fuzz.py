"""A seeded fuzz of every request shape the webhook takes, on every store.

Generated requests: method names from the registry in any case (and unknown ones), parameters as
a JSON body, as a form body and as a GET query string with PHP bracket keys (`fields[TITLE]=x`,
`filter[>ID]=3`, `order[ID]=DESC`, `select[]=*`), values of the wrong type (lists for scalars,
objects, bools, null), huge and non-ASCII numbers, NUL and other control characters in strings and
keys, random filter operators, and `batch` with random commands, `$result[...]` references
included, good and bad. For every answer:

- the status is below 500 and the body is JSON;
- a refusal (status >= 400) is Bitrix24-shaped: an object with a string `error` (a number for the
  methods whose pages print digit codes, `numeric_codes`) and a string `error_description`;
- nothing was logged with a traceback;
- a refused request left every table of `COPY_TABLES` as it was.

The run is derandomized (the same examples every time) and bounded; the long version:

    ORDERLINK_FUZZ_EXAMPLES=100000 python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import anyio.from_thread
import anyio.to_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderlink.methods import (
    build_registry,
    crm_deal,
    crm_invoice,
    crm_item,
    crm_item_customers,
    crm_productrow,
    orderentity,
    sale_order,
)
from orderlink.schema import Schema
from orderlink.settings import Settings
from orderlink.storage.base import COPY_TABLES

from .conftest import Portal

pytestmark = pytest.mark.anyio

EXAMPLES = int(os.environ.get("ORDERLINK_FUZZ_EXAMPLES", "500"))

REGISTRY = build_registry()
FULL_WIDTH_123 = "\uff11\uff12\uff13"  # full-width digits: str.isdigit() says yes
KNOWN = sorted({name for m in REGISTRY for name in (m.name, *m.aliases)})
UNKNOWN = ["no.such", "crm.deal", "crm", "crm.deal.list.json", "sale.order.lis", "CRM..DEAL", "x"]

# Every table a request may write is compared whole. None of them changes on every call: the
# limiter, lockout and delivery state live outside COPY_TABLES, so nothing is excluded.
COMPARED = tuple(COPY_TABLES)


# -- values ------------------------------------------------------------------------------------

FIELD_NAMES = [
    "ID", "id", "TITLE", "title", "orderId", "ownerId", "ownerTypeId", "ORDER_ID", "OWNER_ID",
    "OWNER_TYPE_ID", "lid", "LID", "personTypeId", "currency", "CURRENCY", "price", "statusId",
    "STAGE_ID", "OPPORTUNITY", "opportunity", "CATEGORY_ID", "categoryId", "UF_CRM_1", "dateInsert",
    "DATE_CREATE", "userId", "comments", "*", "", "\x00", "ti\x00tle", "\uff34\uff49\uff54\uff4c\uff45", "fields",
]  # fmt: skip
OPERATORS = [
    "", "=", "!", "!=", ">", ">=", "<", "<=", "%", "@", "!@", "=%", "%=", "!%", "!=%", "!%=",
    ">>", "=<", "~", "?", "*", "!!", "%%", "\x00", "é",
]  # fmt: skip
WEIRD = [
    FULL_WIDTH_123, "1e400", 10**30, -(10**30), "-0", " 5 ", "5 ", "0x10", "1_000", "+7", "007", "9" * 40,
    "", "0", "1", "-1", "2", "3", 0, 1, 2, 3, -1, 1.5, 2**63, -(2**63), True, False, None, "Y", "N",
    "true", "null", "NaN", "inf", "\x00", "a\x00b", "\x1b[31m", "\r\n", "\u202e", "Ÿ", "日本",
    "2024-01-01T00:00:00+03:00", "2024-13-45", "DESC", "asc", "sideways", "USD", "s1", "%", "_",
    "$result[a]", "https://x.example/h", "ONCRMDEALADD", "'; DROP TABLE deals; --",
]  # fmt: skip
CONTROL = st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\ufeff")
# Mostly printable text: a NUL anywhere refuses the whole request (params.NUL_REFUSED), so text
# full of control characters would rarely reach a handler.
TEXT = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")) | CONTROL

scalars: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(WEIRD),
    st.integers(-(10**20), 10**20),
    st.text(TEXT, max_size=8),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
field_names = st.sampled_from(FIELD_NAMES) | st.text(TEXT, max_size=5)


@st.composite
def fields(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(values)  # not an object at all
    return draw(st.dictionaries(field_names, values, max_size=4))


@st.composite
def filters(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(values)
    found: dict[str, Any] = {}
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(OPERATORS)) + draw(field_names)
        found[key] = draw(values)
    return found


orders = st.one_of(
    st.dictionaries(field_names, st.sampled_from(["ASC", "DESC", "asc", "desc", "x", ""]) | values),
    values,
)
selects = st.one_of(st.lists(field_names | st.just("*"), max_size=3), values)
ids = st.one_of(st.integers(-1, 6), st.sampled_from(WEIRD))

PARAM_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "fields": fields(),
    "filter": filters(),
    "order": orders,
    "select": selects,
    "start": ids,
    "id": ids,
    "ID": ids,
    "entityTypeId": st.one_of(
        st.sampled_from([2, 31, 5, 1, 0, 3, 4, 128, 130, "2", "31", FULL_WIDTH_123]), values
    ),
    "moduleId": st.sampled_from(["crm", "crm", "rpa", "", "CRM"]) | values,
    "field": fields(),
    "halt": st.sampled_from([0, 1, "0", "1", "true", "Y", "N", None, [], {}]),
    "event": st.sampled_from(["ONCRMDEALADD", "onsaleorderadd", "", "NOSUCH"]) | values,
    "handler": st.sampled_from(["https://x.example/h", "ftp://x", "", "http://127.0.0.1/"])
    | values,
    "auth_type": ids,
    "useOriginalUfNames": st.sampled_from(["Y", "N", "x"]) | values,
    "full": values,
}


# -- plausible parameters: the real fields of each family, now and then one value gone wrong ----

SCHEMAS: dict[str, Schema] = {
    "crm.orderentity.": orderentity.SCHEMA,
    "crm.deal.": crm_deal.SCHEMA,
    "crm.invoice.": crm_invoice.SCHEMA,
    "sale.order.": sale_order.SCHEMA,
}
ITEM_SCHEMAS = {
    2: crm_item.DEAL_SCHEMA,
    3: crm_item_customers.CONTACT_SCHEMA,
    4: crm_item_customers.COMPANY_SCHEMA,
    31: crm_item.INVOICE_SCHEMA,
}
# Product rows (crm.item.productrow.* reads no entityTypeId; their owners are "D" and "SI").
ROW_SCHEMAS = {
    "crm.item.productrow.": crm_productrow.SCHEMA,
    "crm.deal.productrows.": crm_productrow.LEGACY_SCHEMA,
}
KIND_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "int": st.integers(-1, 6) | st.sampled_from(["1", "2", " 3 ", FULL_WIDTH_123, 10**30, "1e400"]),
    "float": st.sampled_from([0, 1.5, "2.50", 99.99, -0.0, "-0", 1e300, "1e400", 10**30]),
    "text": st.sampled_from(["Deal", "s1", "USD", "N", "", "日本", "a%b", "x\x01y", "D", "SI"]),
    "flag": st.sampled_from(["Y", "N", True, False, "y", "1", 0]),
    "datetime": st.sampled_from(
        ["2024-01-01T00:00:00+03:00", "2024-01-01", "2024-13-45T99:00:00", "yesterday", 0]
    ),
    "json": st.sampled_from([[], [1, 2], {}, "x", None]),
}


def schema_for(method: str, entity_type: Any) -> Schema | None:
    lowered = method.lower()
    rows = next((s for prefix, s in ROW_SCHEMAS.items() if lowered.startswith(prefix)), None)
    if rows is not None:
        return rows
    if lowered.startswith("crm.item."):
        return ITEM_SCHEMAS.get(entity_type) if isinstance(entity_type, int) else None
    return next((s for prefix, s in SCHEMAS.items() if lowered.startswith(prefix)), None)


@st.composite
def plausible(draw: st.DrawFn, method: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    entity_type = draw(st.sampled_from([2, 31, 2, 31, 3, 4, 5, "2"]))
    if method.lower().startswith("crm.item."):
        found["entityTypeId"] = entity_type
    if method.lower().startswith("userfieldconfig."):
        found["moduleId"] = "crm"
    schema = schema_for(method, entity_type)
    if schema is None:
        return found
    chosen = draw(st.lists(st.sampled_from([f for f in schema]), max_size=4, unique_by=id))
    names = [draw(st.sampled_from([f.name, *f.aliases, f.name.upper()])) for f in chosen]
    action = method.lower().rsplit(".", 1)[-1]
    if action in ("add", "update", "deletebyfilter"):
        found["fields"] = {n: draw(KIND_VALUES[f.kind]) for n, f in zip(names, chosen, strict=True)}
    if action in ("update", "get", "delete"):
        found["id"] = draw(KIND_VALUES["int"])
    if action == "list":
        found["filter"] = {
            draw(st.sampled_from(OPERATORS)) + n: draw(KIND_VALUES[f.kind])
            for n, f in zip(names, chosen, strict=True)
        }
        found["order"] = {n: draw(st.sampled_from(["ASC", "desc", "x"])) for n in names[:2]}
        found["select"] = draw(st.sampled_from([["*"], names, ["*", "UF_*"], []]))
        found["start"] = draw(st.sampled_from([0, 50, -1, "50", 10**30]))
    if draw(st.integers(0, 3)) == 0 and found:  # one value of the wrong type
        found[draw(st.sampled_from(sorted(found)))] = draw(values)
    return found


@st.composite
def params(draw: st.DrawFn, method: str = "") -> dict[str, Any]:
    if method and draw(st.integers(0, 2)):
        return draw(plausible(method))
    keys = draw(st.lists(st.sampled_from(sorted(PARAM_STRATEGIES)), max_size=4, unique=True))
    found = {key: draw(PARAM_STRATEGIES[key]) for key in keys}
    if draw(st.integers(0, 7)) == 0:  # a key nobody expects, control characters and all
        found[draw(field_names)] = draw(values)
    return found


# -- method names --------------------------------------------------------------------------------


@st.composite
def method_names(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(KNOWN) if draw(st.integers(0, 5)) else st.sampled_from(UNKNOWN))
    case = draw(st.sampled_from(["as is", "upper", "lower", "mixed"]))
    if case == "upper":
        return name.upper()
    if case == "lower":
        return name.lower()
    if case == "mixed":
        flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
        return "".join(c.upper() if flip else c for c, flip in zip(name, flips, strict=True))
    return name


# -- the encodings -------------------------------------------------------------------------------


def php_pairs(value: Any, prefix: str, list_style: str) -> Iterator[tuple[str, str]]:
    """`value` as the (key, text) pairs PHP's http_build_query would send under `prefix`."""
    if isinstance(value, dict):
        if not value:
            yield prefix, ""
        for key, item in value.items():
            yield from php_pairs(item, f"{prefix}[{key}]" if prefix else str(key), list_style)
    elif isinstance(value, list):
        if not value:
            yield prefix, ""
        for index, item in enumerate(value):
            inner = f"{prefix}[]" if list_style == "[]" else f"{prefix}[{index}]"
            yield from php_pairs(item, inner, list_style)
    elif value is None:
        yield prefix, ""
    elif isinstance(value, bool):
        yield prefix, "1" if value else "0"
    else:
        yield prefix, str(value)


def encode(value: Any, list_style: str, raw_brackets: bool) -> str:
    """A query string: keys percent-encoded (brackets kept literal if `raw_brackets`)."""
    safe = "[]" if raw_brackets else ""
    return "&".join(
        f"{quote(key, safe=safe)}={quote(text, safe='')}"
        for key, text in php_pairs(value, "", list_style)
    )


GARBAGE_QUERIES = [
    "%zz=1", "&&=&", "a[b=1", "a]]=2", "[]=1", "a[][]=1", "fields[=x", "=", "fields[TITLE]",
    "fields%00[TITLE]=x", "filter[>ID]=3&filter[>ID][]=4", "select[]=*&select=ID", "%E0%A4%A=1",
    "cmd[a]=crm.deal.list%3Ffilter%5B%3EID%5D%3D1&cmd[b]=crm.deal.get%3Fid%3D%24result%5Ba%5D%5B0%5D%5BID%5D",
]  # fmt: skip


# JSON bodies no encoder writes: number literals past float, non-objects, broken and deep text.
GARBAGE_JSON = [
    '{"id": 1e400}', '{"id": -1e400}', '{"id": -0}', '{"id": 1E+400, "fields": {"TITLE": 1e999}}',
    '{"filter": {">ID": 123456789012345678901234567890}}', '{"id": NaN}', '{"id": Infinity}',
    "[]", "[1, 2]", "null", '"x"', "1", "true", "{", "", " ", "\ufeff{}", '{"a": 1, "a": 2}',
    '{"fields": {"TITLE": "\\u0000"}}', '{"fields": {"TI\\u0000TLE": "x"}}', '{"id": "\\ud800"}',
    "[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000, '{"cmd": {"a": "crm.deal.list?filter[%3EID]=1e400"}}',
]  # fmt: skip


# -- batch ---------------------------------------------------------------------------------------

REFERENCES = [
    "$result[a]", "$result[a][ID]", "$result[a][0][ID]", "$result[a][0][id]", "$result[b][order][id]",
    "$result[zz]", "$result[]", "$result", "$result[a][", "$result_error[a][error]",
    "$result_total[a]", "$result_next[a]", "$result_time[a][start]", "x$result[a]y",
    "$result[0][0][orderId]", "$result[1]", "$result[a][item][id]",
]  # fmt: skip


@st.composite
def batch_params(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(["a", "b", "c", "0", "1", "2", "\x00"]), max_size=4))
    entries: list[tuple[str, Any]] = []
    for key in keys:
        if draw(st.integers(0, 9)) == 0:
            entries.append((key, draw(values)))  # not a command string
            continue
        name = draw(method_names())
        sub = draw(params(name))
        for _ in range(draw(st.integers(0, 2))):
            sub[draw(st.sampled_from(["id", "ID", "fields", "filter"]))] = draw(
                st.sampled_from(REFERENCES)
                | st.dictionaries(field_names, st.sampled_from(REFERENCES), max_size=2)
            )
        query = encode(sub, draw(st.sampled_from(["[]", "[0]"])), draw(st.booleans()))
        entries.append((key, f"{name}?{query}"))
    shape = draw(st.sampled_from(["object", "list", "other"]))
    cmd: Any
    if shape == "object":
        cmd = dict(entries)
    elif shape == "list":
        cmd = [value for _, value in entries]
    else:
        cmd = draw(values)
    found: dict[str, Any] = {"cmd": cmd}
    if draw(st.booleans()):
        found["halt"] = draw(PARAM_STRATEGIES["halt"])
    return found


# -- one request -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    params: dict[str, Any]
    encoding: str  # "json", "form", "query"; "raw-json", "raw-form", "raw-query" send `raw`
    list_style: str = "[]"
    raw_brackets: bool = True
    raw: str = ""

    def describe(self) -> str:
        """What went on the wire, ASCII-safe, to paste into a bug report."""
        if self.encoding.startswith("raw"):
            shown = ascii(self.raw)
        elif self.encoding == "json":
            shown = json.dumps(self.params, ensure_ascii=True, default=str)
        else:
            shown = encode(self.params, self.list_style, self.raw_brackets)
        return f"{self.method!r} as {self.encoding}: {shown}"


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = draw(method_names())
    if draw(st.integers(0, 3)) == 0:
        method = draw(st.sampled_from(["batch", "BATCH", "Batch"]))
    body = draw(batch_params()) if method.lower() == "batch" else draw(params(method))
    encoding = draw(
        st.sampled_from(["json", "json", "form", "query", "raw-form", "raw-query", "raw-json"])
    )
    if encoding == "raw-json":
        return Request(method, {}, encoding, raw=draw(st.sampled_from(GARBAGE_JSON)))
    if encoding.startswith("raw"):
        raw = draw(st.sampled_from(GARBAGE_QUERIES) | st.text(max_size=20).map(quote))
        return Request(method, {}, encoding, raw=raw)
    return Request(
        method, body, encoding, draw(st.sampled_from(["[]", "[0]"])), draw(st.booleans())
    )


# -- the checks ----------------------------------------------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def snapshot(portal: Portal) -> dict[str, list[Any]]:
    return {table: list(await portal.store.dump(table, None, 100000)) for table in COMPARED}


async def send(portal: Portal, request: Request) -> tuple[int, str]:
    if request.encoding == "json":
        response = await portal.call(request.method, request.params)
    elif request.encoding in ("form", "query"):
        text = encode(request.params, request.list_style, request.raw_brackets)
        if request.encoding == "form":
            response = await portal.call(request.method, form=text)
        else:
            response = await portal.call(request.method, query=text)
    elif request.encoding == "raw-json":
        response = await portal.client.post(
            portal.hook + request.method,
            content=request.raw.encode("utf-8", "surrogatepass"),
            headers={"content-type": "application/json"},
        )
    elif request.encoding == "raw-form":
        response = await portal.call(request.method, form=request.raw)
    else:
        response = await portal.call(request.method, query=request.raw)
    return response.status_code, response.text


def numeric_codes(method: str) -> bool:
    found = REGISTRY.get(method)
    return found is not None and found.numeric_codes


async def check(portal: Portal, records: Records, request: Request) -> None:
    before = await snapshot(portal)
    records.records.clear()
    status, text = await send(portal, request)
    where = f"{request.describe()} -> {status} {text[:500]}"
    assert status < 500, where
    try:
        body = json.loads(text)
    except ValueError:
        pytest.fail(f"not JSON: {where}")
    if status >= 400:
        assert isinstance(body, dict), where
        code = body.get("error")
        allowed: tuple[type, ...] = (str, int) if numeric_codes(request.method) else (str,)
        assert isinstance(code, allowed), where
        assert not isinstance(code, bool), where
        assert isinstance(body.get("error_description"), str), where
    for record in records.records:
        assert record.exc_info is None, f"{where}\nlogged: {record.getMessage()}"
        assert "Traceback" not in record.getMessage(), f"{where}\nlogged: {record.getMessage()}"
    if status >= 400:
        after = await snapshot(portal)
        for table in COMPARED:
            assert after[table] == before[table], f"{where}\nwrote to {table}"


@pytest.fixture(name="settings")
def legacy_invoices_on(database_url: str) -> Settings:
    """conftest's settings with the old invoices (crm.invoice.*, owner type 5) served too."""
    return Settings(database=database_url, rate_limit=False, legacy_invoices=True)


async def seed(portal: Portal) -> None:
    for number in range(1, 4):
        await portal.add_order(price=10.0 * number)
        await portal.add_deal(title=f"Deal {number}")
    await portal.add_invoice()
    await portal.ok(
        "crm.invoice.add",
        {
            "fields": {
                "ORDER_TOPIC": "Old",
                "PERSON_TYPE_ID": 1,
                "PAY_SYSTEM_ID": 6,
                "UF_CONTACT_ID": 3,
            }
        },
    )
    # A smart process (entityTypeId 128) with an item, and a custom field of it (CRM_1).
    await portal.ok("crm.type.add", {"fields": {"title": "SPA", "isStagesEnabled": "Y"}})
    await portal.ok("crm.item.add", {"entityTypeId": 128, "fields": {"title": "Item"}})
    field = {"entityId": "CRM_1", "fieldName": "UF_CRM_1_NOTE", "userTypeId": "string"}
    await portal.ok("userfieldconfig.add", {"moduleId": "crm", "field": field})
    await portal.ok("crm.item.add", {"entityTypeId": 3, "fields": {"name": "Contact"}})
    for order_id, owner_type, owner_id in ((1, 2, 1), (2, 2, 2), (3, 31, 1), (1, 5, 1)):
        await portal.ok(
            "crm.orderentity.add",
            {"fields": {"orderId": order_id, "ownerTypeId": owner_type, "ownerId": owner_id}},
        )


async def test_every_request_shape_is_answered_in_bitrix24_shape(portal: Portal) -> None:
    await seed(portal)
    seeded = await snapshot(portal)
    assert all(seeded[table] for table in ("orders", "deals", "invoices", "bindings"))
    records = Records()
    root = logging.getLogger()
    root.addHandler(records)

    @settings(
        derandomize=True,
        database=None,
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(request=requests())
    def fuzz(request: Request) -> None:
        anyio.from_thread.run(check, portal, records, request)

    try:
        await anyio.to_thread.run_sync(fuzz)
    finally:
        root.removeHandler(records)
