"""The two stores agree where they once drifted apart (issue 13): what `open(upgrade=False)`
does to an empty database, the schema the migrations build, and which bulk loads move the
auth version. Each test runs on both engines through `database_url` (conftest)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import pytest

from orderlink.bootstrap import ensure_funnels
from orderlink.settings import Settings
from orderlink.storage import create_store, migrations
from orderlink.storage.base import (
    AUTH_TABLES,
    COPY_TABLES,
    Binding,
    Row,
    RowsPlan,
    Store,
    Table,
    TokenPair,
)

from .conftest import drop_schema, fresh_schema_url, pg_execute

pytestmark = pytest.mark.anyio

# A column as both engines can state it: (type, NOT NULL, default). Not whether the database
# generates it: every lone INTEGER PRIMARY KEY is a rowid SQLite would fill, used or not.
Column = tuple[str, bool, str | None]

_TYPES = {
    "integer": "integer",
    "bigint": "integer",
    "real": "real",
    "double precision": "real",
    "text": "text",
    "character varying": "text",
}
# Bookkeeping, not data: when a migration ran is a julianday on SQLite and a timestamptz on
# PostgreSQL, and nothing but `orderlink db status` reads it.
_ENGINE_OWN = {("schema_version", "applied_at")}


def _schema(url: str) -> str:
    """The schema a test's PostgreSQL URL names (without importing asyncpg's store)."""
    return parse_qs(urlsplit(url).query)["schema"][0]


async def _tables_in(url: str) -> list[str]:
    if url.startswith("sqlite:"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        try:
            rows = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        finally:
            conn.close()
        return sorted(str(row[0]) for row in rows)
    rows = await pg_execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        _schema(url),
    )
    return sorted(str(row["table_name"]) for row in rows)


async def _columns(url: str) -> dict[tuple[str, str], Column]:
    found: dict[tuple[str, str], Column] = {}
    if url.startswith("sqlite:"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        try:
            for table in await _tables_in(url):
                info = conn.execute(f"PRAGMA table_info({table})").fetchall()
                for _, name, kind, not_null, default, pk in info:
                    found[(table, name)] = (
                        _TYPES.get(kind.lower(), kind.lower()),
                        bool(not_null or pk),  # a primary key is NOT NULL, as on PostgreSQL
                        default,
                    )
        finally:
            conn.close()
        return found
    rows = await pg_execute(
        "SELECT table_name, column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = $1",
        _schema(url),
    )
    for row in rows:
        default = row["column_default"]
        if default is not None:
            default = re.sub(r"::[a-z ]+$", "", default)  # `'N'::text` is SQLite's `'N'`
        found[(row["table_name"], row["column_name"])] = (
            _TYPES.get(row["data_type"], row["data_type"]),
            row["is_nullable"] == "NO",
            default,
        )
    return found


class TestOpenWithoutUpgrade:
    async def test_an_empty_database_is_refused_and_left_empty(self, database_url: str) -> None:
        store = create_store(Settings(database=database_url))
        with pytest.raises(migrations.SchemaTooOld):
            await store.open(upgrade=False)
        assert await _tables_in(database_url) == []
        await store.open()  # upgrading still builds it
        try:
            engine: Literal["sqlite", "postgres"] = (
                "sqlite" if database_url.startswith("sqlite:") else "postgres"
            )
            latest = migrations.latest(engine)
            assert await store.schema() == (latest, latest)
        finally:
            await store.close()


@pytest.fixture
def other_engine(
    database_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A fresh database of the engine `database_url` is not."""
    if not database_url.startswith("sqlite:"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    url, schema = fresh_schema_url(request.getfixturevalue("postgres_url"))
    try:
        yield url
    finally:
        drop_schema(schema)


class TestMigrations:
    async def test_both_engines_build_the_same_columns(
        self, database_url: str, other_engine: str
    ) -> None:
        """Same tables, columns, types (up to spelling), nullability and defaults: the
        migrations of this run's engine against the other's."""
        for url in (database_url, other_engine):
            store = create_store(Settings(database=url))
            await store.open()
            await store.close()
        mine, theirs = await _columns(database_url), await _columns(other_engine)
        assert sorted(mine) == sorted(theirs)
        differ = {
            key: (mine[key], theirs[key])
            for key in mine
            if key not in _ENGINE_OWN and mine[key] != theirs[key]
        }
        assert differ == {}


async def _seed(store: Store) -> None:
    """A row in every table `orderlink db copy` moves."""
    portal, _ = await store.bootstrap(now=1.0)
    await store.add_portal_domain(portal.id, "shop.bitrix24.test", 1.0)
    user = await store.add_user(portal.id, "Ann", 1)
    await store.add_webhook(portal.id, user.id, "h" * 64, ("crm",), 1.0)
    await ensure_funnels(store, portal.id)
    order = await store.insert(
        portal.id, "orders", {"lid": "s1", "person_type_id": 1, "currency": "USD"}
    )
    contents: tuple[tuple[Table, Row], ...] = (
        ("basket_items", {"product_id": 0, "quantity": 1.0}),
        ("payments", {"pay_system_id": 1}),
        ("shipments", {"delivery_id": 2}),
    )
    for table, values in contents:
        await store.insert(portal.id, table, {"order_id": order, **values})
    deal = await store.insert(portal.id, "deals", {"title": "d"})
    await store.insert(portal.id, "invoices", {"title": "i"})
    await store.insert(
        portal.id,
        "legacy_invoices",
        {"lid": "s1", "currency": "USD", "order_topic": "t", "pay_system_id": 6,
         "person_type_id": 1},
    )  # fmt: skip
    await store.insert(portal.id, "contacts", {"name": "c"})
    await store.insert(portal.id, "companies", {"title": "c"})
    await store.add_binding(portal.id, Binding(order, 2, deal), owner_table="deals")
    group = await store.insert(portal.id, "property_groups", {"person_type_id": 1, "name": "g"})
    prop = await store.insert(
        portal.id, "properties",
        {"person_type_id": 1, "props_group_id": group, "name": "p", "type": "STRING"},
    )  # fmt: skip
    await store.insert(portal.id, "property_values",
                       {"order_id": order, "order_props_id": prop, "value": '"v"'})  # fmt: skip
    await store.insert(portal.id, "crm_userfields", {"entity_id": "CRM_DEAL",
                       "field_name": "UF_CRM_X", "user_type_id": "string"})  # fmt: skip
    await store.insert(portal.id, "contact_companies", {"contact_id": 1, "company_id": 1})
    spa = await store.insert(portal.id, "crm_types", {"entity_type_id": 128, "title": "SPA"})
    await store.insert(portal.id, "crm_items", {"entity_type_id": 128, "title": f"SPA #{spa}"})
    await store.save_rows(
        portal.id, "D", deal, lambda owner, rows: RowsPlan(insert=({"product_name": "p"},))
    )
    app = await store.add_app(
        portal.id, name="a", client_id="local.1", secret_hash="s", scopes=("crm",),
        redirect_uri="", handler_url="", now=1.0,
    )  # fmt: skip
    await store.install_app(portal.id, app.id, 1, "token", 1.0)
    await store.save_tokens(TokenPair("a" * 64, "r" * 64, portal.id, app.id, 1, 9e9, 9e9), 1.0)
    await store.refresh("r" * 64, app.id, TokenPair("b" * 64, "q" * 64, portal.id, app.id, 1,
                                                   9e9, 9e9), 2.0)  # fmt: skip
    await store.bind_handler(
        portal.id, app.id, "ONCRMDEALADD", "https://example.test/h",
        auth_type=0, offline=False, user_id=1, now=1.0,
    )  # fmt: skip
    await store.add_fault(
        portal.id, method="crm.deal.list", error="QUERY_LIMIT_EXCEEDED", dropped=False,
        delay=0.5, times=2, probability=0.25, seed=7, now=1.0,
    )  # fmt: skip


class TestAuthVersionOnLoad:
    async def test_loading_any_table_an_auth_cache_reads_moves_the_version(
        self, database_url: str, more_databases: Callable[[], str]
    ) -> None:
        source = create_store(Settings(database=database_url))
        destination = create_store(Settings(database=more_databases()))
        await source.open()
        await destination.open()
        try:
            await _seed(source)
            moved: dict[str, bool] = {}
            for table in COPY_TABLES:
                rows = await source.dump(table, None, 100)
                assert rows, table  # the seed reaches every table
                before = await destination.auth_version()
                assert await destination.load(table, rows) == len(rows)
                moved[table] = await destination.auth_version() != before
            assert {table for table, yes in moved.items() if yes} >= AUTH_TABLES
        finally:
            await source.close()
            await destination.close()
