"""Versioned schema migrations: one list, a SQL file per engine for each step.

`NNNN_name.<engine>.sql` files; a database records the highest version applied and refuses to
open under code that knows fewer versions than it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Engine = Literal["sqlite", "postgres"]

_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.(sqlite|postgres)\.sql\Z")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(engine: Engine) -> list[Migration]:
    """Every migration for `engine`, in version order; versions run 1, 2, 3 without gaps."""
    found: list[Migration] = []
    for entry in resources.files(__package__).iterdir():
        match = _FILE.match(entry.name)
        if match and match.group(3) == engine:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(
                f"{engine} migrations skip from {expected - 1} to {migration.version}"
            )
    return found


def latest(engine: Engine) -> int:
    return len(migrations(engine))


class SchemaTooNew(Exception):
    """The database was migrated by a newer orderlink than this one."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"the database is at schema version {found}, but this orderlink knows only up to "
            f"{known}: upgrade orderlink (or point it at another database)"
        )


class SchemaTooOld(Exception):
    """The database lacks migrations and automatic upgrade is off."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"the database is at schema version {found} and this orderlink needs {known}: "
            "run `orderlink db upgrade` (or start without --no-auto-upgrade)"
        )
