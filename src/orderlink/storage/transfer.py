"""`orderlink db copy`: move every portal's rows from one store to another, safely re-runnable.

Tables go parents first (COPY_TABLES), in key order, in chunks; rows whose key the destination
already holds are skipped, so a copy interrupted half-way can simply be run again. Afterwards
every table's row count is compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orderlink.storage.base import COPY_TABLES, Store

__all__ = ["COPY_TABLES", "Copied", "copy"]

CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Copied:
    table: str
    source: int  # rows in the source
    added: int  # rows this run added to the destination
    destination: int  # rows in the destination afterwards

    @property
    def complete(self) -> bool:
        return self.destination >= self.source


Progress = Callable[[str, int], None]


async def copy(source: Store, destination: Store, progress: Progress | None = None) -> list[Copied]:
    report = []
    for table, keys in COPY_TABLES.items():
        total = await source.count(table)
        added = 0
        after: tuple[object, ...] | None = None
        while True:
            rows = await source.dump(table, after, CHUNK)
            if not rows:
                break
            added += await destination.load(table, rows)
            after = tuple(rows[-1][key] for key in keys)
            if progress is not None:
                progress(table, len(rows))
        report.append(Copied(table, total, added, await destination.count(table)))
    await destination.analyze()
    return report
