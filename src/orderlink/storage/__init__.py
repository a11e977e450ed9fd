"""Stores by URL: `sqlite:///path.db` (default, embedded) and `postgresql://...` (a server)."""

from __future__ import annotations

from orderlink.sealing import KeySource
from orderlink.settings import Settings
from orderlink.storage.base import Store


def create_store(settings: Settings) -> Store:
    url = settings.database
    keys = KeySource.for_database(url, settings.secret_key, settings.secret_key_file)
    if url.startswith("sqlite:"):
        from orderlink.storage.sqlite import SQLiteStore

        return SQLiteStore(
            url,
            synchronous=settings.sqlite_synchronous,
            cache_mb=settings.sqlite_cache_mb,
            keys=keys,
        )
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from orderlink.storage.postgres import PostgresStore
        except ModuleNotFoundError as exc:
            if exc.name != "asyncpg":
                raise
            raise RuntimeError(
                "a postgresql:// database needs the asyncpg driver: "
                "pip install 'orderlink[postgres]'"
            ) from None
        return PostgresStore(url, keys=keys)
    raise ValueError(
        f"unsupported database URL {url!r}: use sqlite:///path.db or postgresql://user@host/db"
    )
