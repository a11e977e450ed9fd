"""Stores by URL: `sqlite:///path.db` (default, embedded) and, later, `postgresql://...`."""

from __future__ import annotations

from orderlink.settings import Settings
from orderlink.storage.base import Store


def create_store(settings: Settings) -> Store:
    url = settings.database
    if url.startswith("sqlite:"):
        from orderlink.storage.sqlite import SQLiteStore

        return SQLiteStore(
            url, synchronous=settings.sqlite_synchronous, cache_mb=settings.sqlite_cache_mb
        )
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path.db")
