"""ListQuery -> parameterised SQL, for every engine. Values are always bound, never spliced.

Column and table names come from the schemas in code; `ident()` still refuses anything that is
not a plain identifier, so a mistake there can never become an injection.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orderlink.storage.base import Condition, ConditionGroup, ListQuery

_IDENT = re.compile(r"[a-z_][a-z0-9_]*\Z")


def ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between engines in the SQL a list query needs."""

    placeholder: Callable[[int], str]  # 1-based parameter number -> "?" or "$1"
    text_cast: Callable[[str], str]  # column -> its text form
    like: str  # case-insensitive LIKE: "LIKE" (SQLite, ASCII) or "ILIKE" (PostgreSQL)
    # SQLite's NULL placement (first ascending, last descending) spelled out as ORDER BY suffixes
    # (ascending, descending) for engines that default to the opposite, so both stores page
    # alike. Left off the (table, column) pairs in `not_null`: on a NOT NULL column the clause
    # changes nothing but stops PostgreSQL from reading an index in order.
    nulls: tuple[str, str] = ("", "")
    not_null: frozenset[tuple[str, str]] = frozenset()


SQLITE = Dialect(lambda n: "?", lambda col: f"CAST({col} AS TEXT)", "LIKE")
POSTGRES = Dialect(
    lambda n: f"${n}", lambda col: f"{col}::text", "ILIKE", (" NULLS FIRST", " NULLS LAST")
)


class _Builder:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.args: list[Any] = []

    def bind(self, value: Any) -> str:
        self.args.append(value)
        return self.dialect.placeholder(len(self.args))

    def condition(self, cond: Condition | ConditionGroup) -> str:
        if isinstance(cond, ConditionGroup):
            if not cond.items:
                return "1=1"
            joined = f" {cond.logic.upper()} ".join(self.condition(c) for c in cond.items)
            return f"({joined})"
        col = ident(cond.column)
        target = self.dialect.text_cast(col) if cond.as_text else col
        op = cond.op
        if op in ("in", "not in"):
            values = list(cond.value)
            if not values:
                return "1=0" if op == "in" else "1=1"
            marks = ", ".join(self.bind(v) for v in values)
            if op == "in":
                return f"{col} IN ({marks})"
            return f"({col} IS NULL OR {col} NOT IN ({marks}))"
        if op in ("like", "not like"):
            clause = f"{target} {self.dialect.like} {self.bind(cond.value)} ESCAPE '\\'"
            return clause if op == "like" else f"({col} IS NULL OR NOT ({clause}))"
        if cond.value is None:
            return f"{col} IS NULL" if op == "=" else f"{col} IS NOT NULL"
        if op == "!=":
            return f"({col} IS NULL OR {col} <> {self.bind(cond.value)})"
        return f"{col} {op} {self.bind(cond.value)}"

    def where(self, query: ListQuery) -> str:
        parts = [f"portal_id = {self.bind(query.portal_id)}"]
        parts.extend(self.condition(c) for c in query.conditions)
        return " AND ".join(parts)


def select_sql(query: ListQuery, dialect: Dialect) -> tuple[str, list[Any]]:
    builder = _Builder(dialect)
    columns = ", ".join(ident(c) for c in query.columns)
    sql = f"SELECT {columns} FROM {ident(query.table)} WHERE {builder.where(query)}"
    if query.order:
        sql += " ORDER BY " + ", ".join(
            _order_term(query.table, col, desc, dialect) for col, desc in query.order
        )
    if query.limit is not None:
        sql += f" LIMIT {builder.bind(query.limit)}"
    if query.offset:
        sql += f" OFFSET {builder.bind(query.offset)}"
    return sql, builder.args


def _order_term(table: str, column: str, desc: bool, dialect: Dialect) -> str:
    nulls = "" if (table, column) in dialect.not_null else dialect.nulls[desc]
    return f"{ident(column)} {'DESC' if desc else 'ASC'}{nulls}"


def count_sql(query: ListQuery, dialect: Dialect) -> tuple[str, list[Any]]:
    builder = _Builder(dialect)
    return f"SELECT COUNT(*) FROM {ident(query.table)} WHERE {builder.where(query)}", builder.args
