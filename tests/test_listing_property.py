"""The listing engine against a plain-Python reference: random rows, random filters, every store.

The reference below reads the filter the way the list pages describe it (prefix operators,
AND-ed, LIKE with and without explicit `%`, negations as the complement), sorts with NULLs
first ascending and last descending, and pages by 50; the engine (listing.parse -> SQL -> the
store) must return exactly the same rows, in the same order, with the same total. A custom
field (`UF_CRM_1`, kept in the JSON column) is filtered as listing.CustomFields describes.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import UTC
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orderlink import coerce as coercion
from orderlink import errors, listing
from orderlink.clock import FrozenClock
from orderlink.schema import Field, Schema
from orderlink.settings import Settings
from orderlink.storage import create_store
from orderlink.storage.base import ListQuery, Store, Table

SCHEMA = Schema(
    "deals",
    [
        Field("id", "id", "int", "integer"),
        Field("title", "title", "text", "string"),
        Field("categoryId", "category_id", "int", "integer"),
        Field("probability", "probability", "int", "integer"),
        Field("opportunity", "opportunity", "float", "double"),
        Field("opened", "opened", "flag", "char"),
        Field("comments", "comments", "text", "string"),
    ],
)
WORDS = ["alpha", "Alpha", "beta", "ALPHA_1", "a%b", "gamma", "", "al"]
CUSTOM = "UF_CRM_1"
CUSTOM_FIELDS = listing.CustomFields("user_fields", lambda name: name if name == CUSTOM else None)
# Strings, numbers as text (and one that only looks like a number), JSON numbers, arrays.
CUSTOM_SCALARS = st.sampled_from(["", "alpha", "beta", "5", "10", "-3", "2.5", "1.2.3", "007"])
CUSTOM_STORED = st.one_of(
    st.none(), CUSTOM_SCALARS, st.integers(-5, 20), st.lists(CUSTOM_SCALARS | st.integers(0, 9))
)

rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.sampled_from(WORDS),
            "category_id": st.integers(0, 3),
            "probability": st.none() | st.integers(-5, 120),
            "opportunity": st.sampled_from([0.0, 1.5, 10.0, 99.99, 1000.0]),
            "opened": st.sampled_from(["Y", "N"]),
            "comments": st.none() | st.sampled_from(WORDS),
            "user_fields": st.one_of(
                st.just("{}"), CUSTOM_STORED.map(lambda value: json.dumps({CUSTOM: value}))
            ),
        }
    ),
    max_size=60,
)

SIMPLE = ["", "=", "!=", "!", ">", ">=", "<", "<="]
LIKE = ["%", "=%", "%=", "!%", "!=%", "!%="]
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "title": st.sampled_from([*WORDS, "lph", "a_", "%ph%", "al%", "%a"]),
    "categoryId": st.integers(-1, 4),
    "probability": st.integers(-5, 120),
    "opportunity": st.sampled_from([0, 1.5, 10, 99.99, 500]),
    "opened": st.sampled_from(["Y", "N"]),
    "comments": st.sampled_from([*WORDS, "lph"]),
    CUSTOM: st.one_of(CUSTOM_SCALARS, st.integers(-5, 20), st.sampled_from(["al", "5.0", " 7"])),
}


@st.composite
def filters(draw: st.DrawFn) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(FIELD_VALUES)))
        textual = name in ("title", "comments", "categoryId", "probability", CUSTOM)
        kinds = ["simple", "in", "notin"] + (["like"] if textual else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "simple":
            found[draw(st.sampled_from(SIMPLE)) + name] = draw(FIELD_VALUES[name])
        elif kind == "in":
            found["@" + name] = draw(st.lists(FIELD_VALUES[name], min_size=1, max_size=3))
        elif kind == "notin":
            found["!@" + name] = draw(st.lists(FIELD_VALUES[name], min_size=1, max_size=3))
        else:
            value = draw(FIELD_VALUES[name])
            found[draw(st.sampled_from(LIKE)) + name] = str(value)
    return found


def custom_row(value: Any) -> dict[str, Any]:
    """A row that only has the custom field set."""
    return {
        "title": "", "category_id": 0, "probability": None, "opportunity": 0.0, "opened": "N",
        "comments": None, "user_fields": json.dumps({CUSTOM: value}),
    }  # fmt: skip


orders_strategy = st.lists(
    st.tuples(st.sampled_from([f.name for f in SCHEMA]), st.sampled_from(["asc", "DESC"])),
    max_size=2,
    unique_by=lambda pair: pair[0],
)


# -- the reference ---------------------------------------------------------------------------

PREFIXES = ["!%=", "!=%", ">=", "<=", "!@", "=%", "%=", "!%", "!=", ">", "<", "@", "%", "=", "!"]


def text_of(value: Any) -> str:
    return str(value)


def like(value: Any, pattern: str, own_wildcards: bool) -> bool:
    """SQL LIKE, case-insensitive for ASCII, `_` literal; `%` a wildcard only when the prefix
    says the value carries its own."""
    text = text_of(value).lower()
    if not own_wildcards:
        return pattern.lower() in text
    parts = [re.escape(part) for part in pattern.lower().split("%")]
    return re.fullmatch(".*".join(parts), text, re.DOTALL) is not None


def coerce(field: Field, value: Any) -> Any:
    if field.kind == "float":
        return float(value)
    if field.kind == "int":
        return int(value)
    return value


PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def custom_matches(row: dict[str, Any], prefix: str, value: Any) -> bool:
    """Any stored value (a scalar, or each element of an array) as text; negations as "none"."""
    stored = json.loads(row["user_fields"]).get(CUSTOM)
    items = stored if isinstance(stored, list) else [stored]
    texts = [str(item) for item in items if item is not None]
    if prefix in ("@", "!@"):
        hit = any(text in {str(v) for v in value} for text in texts)
        return hit if prefix == "@" else not hit
    wanted = str(value)
    if prefix in ("%", "=%", "%=", "!%", "!=%", "!%="):
        hit = any(like(text, wanted, prefix not in ("%", "!%")) for text in texts)
        return hit if not prefix.startswith("!") else not hit
    if prefix in ("", "=", "!=", "!"):
        # An empty value means "empty": `=` when no non-empty value is stored, `!=` when one is.
        hit = any(text != "" for text in texts) if wanted == "" else wanted in texts
        positive = prefix in ("", "=")
        return (not hit if positive else hit) if wanted == "" else (hit if positive else not hit)
    number = coercion.to_float(wanted)
    if number is None:
        return any(compare(text, prefix, wanted) for text in texts)
    return any(compare(float(t), prefix, number) for t in texts if PLAIN_NUMBER.fullmatch(t))


def compare(cell: Any, prefix: str, wanted: Any) -> bool:
    compared = {">": cell > wanted, ">=": cell >= wanted, "<": cell < wanted, "<=": cell <= wanted}
    return bool(compared[prefix])


def matches(row: dict[str, Any], key: str, value: Any, schema: Schema = SCHEMA) -> bool:
    prefix = next((p for p in PREFIXES if key.startswith(p) and len(key) > len(p)), "")
    if key[len(prefix) :] == CUSTOM:
        return custom_matches(row, prefix, value)
    field = schema[key[len(prefix) :]]
    cell = row[field.column]
    if prefix in ("%", "=%", "%=", "!%", "!=%", "!%="):
        hit = cell is not None and like(cell, str(value), prefix not in ("%", "!%"))
        return hit if not prefix.startswith("!") else not hit
    if prefix in ("@", "!@"):
        hit = cell is not None and cell in {coerce(field, v) for v in value}
        return hit if prefix == "@" else not hit
    wanted = coerce(field, value)
    if prefix in ("", "="):
        return cell is not None and cell == wanted
    if prefix in ("!=", "!"):
        return cell is None or cell != wanted
    if cell is None:
        return False
    return compare(cell, prefix, wanted)


def reference(
    rows: list[dict[str, Any]],
    filter_: dict[str, Any],
    order: list[tuple[str, str]],
    start: int,
    schema: Schema = SCHEMA,
) -> tuple[list[int], int]:
    kept = [r for r in rows if all(matches(r, k, v, schema) for k, v in filter_.items())]
    keys = [(schema[name].column, direction.lower() == "desc") for name, direction in order]
    if not keys:
        keys = [("id", False)]
    if "id" not in (col for col, _ in keys):
        keys.append(("id", False))
    for column, desc in reversed(keys):  # stable sorts, least significant key first
        present = [r for r in kept if r[column] is not None]
        missing = [r for r in kept if r[column] is None]
        present.sort(key=lambda r, c=column: r[c], reverse=desc)  # type: ignore[misc]
        kept = present + missing if desc else missing + present
    page = kept[start : start + listing.PAGE_SIZE]
    return [r["id"] for r in page], len(kept)


# -- the engine on every store -----------------------------------------------------------------


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop:
        yield loop


@pytest.fixture
def engine(runner: asyncio.Runner, database_url: str) -> Iterator[tuple[Store, int]]:
    store = create_store(Settings(database=database_url))
    runner.run(store.open())
    portal, _ = runner.run(store.bootstrap(now=FrozenClock().now()))
    yield store, portal.id
    runner.run(store.close())


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=rows_strategy, filter_=filters(), order=orders_strategy, page=st.integers(0, 1))
# Custom-field cases too rare to leave to chance: text that only looks like a number is not one;
# text compares in byte order ("B" < "a") on every store.
@example(rows=[custom_row("1.2.3"), custom_row("2")], filter_={"<UF_CRM_1": 5}, order=[], page=0)
@example(
    rows=[custom_row("B"), custom_row(["x", "b"])], filter_={">UF_CRM_1": "a"}, order=[], page=0
)
def test_engine_matches_the_reference(
    runner: asyncio.Runner,
    engine: tuple[Store, int],
    rows: list[dict[str, Any]],
    filter_: dict[str, Any],
    order: list[tuple[str, str]],
    page: int,
) -> None:
    store, portal_id = engine

    async def scenario() -> tuple[list[dict[str, Any]], tuple[list[int], int]]:
        await store.reset()
        stored = []
        for row in rows:
            new_id = await store.insert(portal_id, "deals", row)
            stored.append({"id": new_id, **row})
        parsed = listing.parse(
            {"filter": filter_, "order": dict(order), "start": page * listing.PAGE_SIZE},
            SCHEMA,
            portal_id=portal_id,
            error=errors.InvalidArgValue,
            zone=UTC,
            default_order=(("id", False),),
            tie_breaker="id",
            custom=CUSTOM_FIELDS,
        )
        found = await store.list(parsed.query)
        total, _ = parsed.page(found)
        return stored, ([r["id"] for r in found.rows], total)

    stored, got = runner.run(scenario())
    assert got == reference(stored, filter_, order, page * listing.PAGE_SIZE)


# -- the commerce families (issue 14): each family's own list schema, on its own table ----------

# Per family: (text field, second text field, number field) by wire name, and the columns a row
# needs besides them ("{order}"/"{deal}": a parent made for the test).
FAMILIES: dict[str, tuple[str, tuple[str, str, str], dict[str, Any]]] = {
    "contacts": ("crm_contact", ("NAME", "POST", "ASSIGNED_BY_ID"), {}),
    "companies": ("crm_company", ("TITLE", "ADDRESS_CITY", "ASSIGNED_BY_ID"), {}),
    "basket_items": ("sale_basketitem", ("name", "measureName", "basePrice"),
                     {"order_id": "{order}", "currency": "USD"}),
    "payments": ("sale_payment", ("comments", "currency", "sum"),
                 {"order_id": "{order}", "pay_system_id": 1}),
    "shipments": ("sale_shipment", ("comments", "currency", "deliveryId"),
                  {"order_id": "{order}", "delivery_id": 1}),
    "product_rows": ("crm_productrow", ("productName", "measureName", "price"),
                     {"owner_type": "D", "owner_id": "{deal}"}),
}  # fmt: skip


def family_schema(table: str) -> Schema:
    import importlib

    module = importlib.import_module(f"orderlink.methods.{FAMILIES[table][0]}")
    found = [v for v in vars(module).values() if type(v).__name__ == "Family" and v.table == table]
    schema: Schema = found[0].list_schema
    return schema


def number_values(kind: str) -> st.SearchStrategy[Any]:
    if kind == "float":
        return st.sampled_from([0.0, 1.5, 10.0, 99.99])
    return st.integers(0, 4)


@st.composite
def family_case(draw: st.DrawFn, table: str) -> tuple[list[dict[str, Any]], dict[str, Any], Any]:
    schema = family_schema(table)
    text_a, text_b, number = (schema[name] for name in FAMILIES[table][1])
    rows = draw(st.lists(st.fixed_dictionaries({
        text_a.column: st.sampled_from(WORDS), text_b.column: st.sampled_from(WORDS),
        number.column: number_values(number.kind),
    }), max_size=60))  # fmt: skip
    found: dict[str, Any] = {}
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from([text_a, text_b, number]))
        values = (
            st.sampled_from([*WORDS, "lph", "a_", "%ph%", "al%"])
            if field.kind == "text"
            else number_values(field.kind)
        )
        kinds = ["simple", "in", "notin"] + (["like"] if field.kind == "text" else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "simple":
            found[draw(st.sampled_from(SIMPLE)) + field.name] = draw(values)
        elif kind in ("in", "notin"):
            prefix = "@" if kind == "in" else "!@"
            found[prefix + field.name] = draw(st.lists(values, min_size=1, max_size=3))
        else:
            found[draw(st.sampled_from(LIKE)) + field.name] = str(draw(values))
    order = draw(st.lists(
        st.tuples(st.sampled_from([text_a.name, text_b.name, number.name, "ID" if schema.get("ID")
                                   else "id"]), st.sampled_from(["asc", "DESC"])),
        max_size=2, unique_by=lambda pair: pair[0],
    ))  # fmt: skip
    return rows, found, (order, draw(st.integers(0, 1)))


@pytest.mark.parametrize("table", sorted(FAMILIES))
def test_family_lists_match_the_reference(
    runner: asyncio.Runner, engine: tuple[Store, int], table: str
) -> None:
    """contacts, companies, basket items, payments, shipments and product rows: each family's
    own list schema (its names, kinds and aliases) filters, orders and pages its own table as
    the reference reads the list pages."""
    store, portal_id = engine
    schema = family_schema(table)
    typed = cast(Table, table)
    parents = {
        "order": runner.run(store.insert(portal_id, "orders", {"lid": "s1", "person_type_id": 1,
                                                               "currency": "USD"})),
        "deal": runner.run(store.insert(portal_id, "deals", {"title": "Deal"})),
    }  # fmt: skip
    needed = {k: parents[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v
              for k, v in FAMILIES[table][2].items()}  # fmt: skip

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=family_case(table))
    def check(case: tuple[list[dict[str, Any]], dict[str, Any], Any]) -> None:
        rows, filter_, (order, page) = case

        async def scenario() -> tuple[list[dict[str, Any]], tuple[list[int], int]]:
            every = ListQuery(typed, portal_id, ["id"], limit=None, count=False)
            for row_id in [r["id"] for r in (await store.list(every)).rows]:
                await store.delete(portal_id, typed, row_id)
            stored = []
            for row in rows:
                new_id = await store.insert(portal_id, typed, {**needed, **row})
                stored.append({"id": new_id, **row})
            parsed = listing.parse(
                {"filter": filter_, "order": dict(order), "start": page * listing.PAGE_SIZE},
                schema, portal_id=portal_id, error=errors.InvalidArgValue, zone=UTC,
                default_order=(("id", False),), tie_breaker="id",
            )  # fmt: skip
            found = await store.list(parsed.query)
            total, _ = parsed.page(found)
            return stored, ([r["id"] for r in found.rows], total)

        stored, got = runner.run(scenario())
        assert got == reference(stored, filter_, order, page * listing.PAGE_SIZE, schema)

    check()
