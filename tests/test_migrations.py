"""Both engines build the same schema at every version, not only the last: a database may be
upgraded from any of them (storage/migrations/, the parity helpers of test_store_parity)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orderlink.settings import Settings
from orderlink.storage import create_store, migrations

from .conftest import drop_schema, fresh_schema_url, pg_execute
from .test_store_parity import _ENGINE_OWN, _columns, _schema

pytestmark = pytest.mark.anyio

# PostgreSQL text columns in the database's collation rather than "C": steps 5 and 6 were
# written so before the rule existed (they compare for equality only), and the store's own
# bookkeeping table.
_DEFAULT_COLLATION = {
    ("server_info", "key"),
    ("server_info", "value"),
    ("spent_credentials", "digest"),
    ("spent_credentials", "family"),
    ("tokens", "family"),
    ("schema_version", "name"),
}


@pytest.fixture
def both_engines(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    url, schema = fresh_schema_url(postgres_url)
    try:
        yield f"sqlite:///{tmp_path / 'orderlink.db'}", url
    finally:
        drop_schema(schema)


async def test_every_version_has_the_same_columns_on_both_engines(
    both_engines: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One step at a time from version 2 (opening a store reads a table step 2 makes)."""
    steps = {engine: migrations.migrations(engine) for engine in ("sqlite", "postgres")}
    assert len(steps["sqlite"]) == len(steps["postgres"])
    for version in range(2, len(steps["sqlite"]) + 1):
        monkeypatch.setattr(
            migrations, "migrations", lambda engine, upto=version: steps[engine][:upto]
        )
        for url in both_engines:
            store = create_store(Settings(database=url))
            await store.open()
            assert await store.schema() == (version, version)
            await store.close()
        sqlite, postgres = [await _columns(url) for url in both_engines]
        assert sorted(sqlite) == sorted(postgres), version
        differ = {
            key: (sqlite[key], postgres[key])
            for key in sqlite
            if key not in _ENGINE_OWN and sqlite[key] != postgres[key]
        }
        assert differ == {}, version
    rows = await pg_execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = $1 AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'",
        _schema(both_engines[1]),
    )
    assert {(row["table_name"], row["column_name"]) for row in rows} == _DEFAULT_COLLATION
