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


_KEY = re.compile(r"[A-Za-z0-9_]+\Z")


def ident_key(key: str) -> str:
    """A key inside a JSON column (`UF_CRM_1721244482250`); it is bound, and still checked."""
    if not _KEY.match(key):
        raise ValueError(f"not a plain JSON key: {key!r}")
    return key


Bind = Callable[[Any], str]  # binds a value, returns its placeholder


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between engines in the SQL a list query needs."""

    placeholder: Callable[[int], str]  # 1-based parameter number -> "?" or "$1"
    text_cast: Callable[[str], str]  # column -> its text form
    like: str  # case-insensitive LIKE: "LIKE" (SQLite, ASCII) or "ILIKE" (PostgreSQL)
    # The values a JSON object column stores under a key, as rows: (column, key, bind) -> (a
    # FROM source with one row per value, one for a scalar and one per element of an array, none
    # when the key is absent; that row's value as text). See Condition.key.
    elements: Callable[[str, str, Bind], tuple[str, str]]
    number: Callable[[str], str]  # a text expression as a number; NULL if it is not one
    # The elements of a JSON array-of-objects column, as rows: (column, item key) -> (a FROM
    # source with one row per element, that row's `key` value as text). See Condition.item.
    items: Callable[[str, str], tuple[str, str]]
    # SQLite's NULL placement (first ascending, last descending) spelled out as ORDER BY suffixes
    # (ascending, descending) for engines that default to the opposite, so both stores page
    # alike. Left off the (table, column) pairs in `not_null`: on a NOT NULL column the clause
    # changes nothing but stops PostgreSQL from reading an index in order.
    nulls: tuple[str, str] = ("", "")
    not_null: frozenset[tuple[str, str]] = frozenset()
    # The store's own statements (storage/core.py) are written once, with `?` marks and these
    # `{name}` fragments, and rendered per engine by `render`.
    fragments: tuple[tuple[str, str], ...] = ()
    numbered: bool = False  # marks become $1, $2, ... (asyncpg) instead of staying `?`
    # UPDATE ... RETURNING gives the values as stored; SQLite returns them before the column's
    # type affinity applies (a REAL column would answer 3 for 3.0), so it reads the row again.
    returns_stored: bool = False
    row_locks: bool = False  # FOR UPDATE / FOR SHARE exist (else the write lock covers it)

    def render(self, text: str) -> str:
        """A statement of the shared store SQL in this engine's spelling: its `{name}`
        fragments filled in, and (`numbered`) each `?` outside a string literal made `$n`."""
        for name, value in self.fragments:
            text = text.replace("{" + name + "}", value)
        if not self.numbered or "?" not in text:
            return text
        out: list[str] = []
        n = 0
        # Even pieces between single quotes are outside literals (a doubled '' inside one
        # splits it in two and keeps the parity).
        for i, piece in enumerate(text.split("'")):
            if i % 2 == 0 and "?" in piece:
                marks = piece.split("?")
                piece = marks[0]
                for mark in marks[1:]:
                    n += 1
                    piece += f"${n}{mark}"
            out.append(piece)
        return "'".join(out)


class Rendered(dict[str, str]):
    """Statements already rendered for one dialect, by their shared spelling: a statement is
    rendered on first use, then found by a plain dict lookup (a C call, on every hot path)."""

    MAX = 4096  # list queries vary without end; their memo must not grow forever

    def __init__(self, dialect: Dialect) -> None:
        super().__init__()
        self.dialect = dialect

    def __missing__(self, text: str) -> str:
        if len(self) >= self.MAX:
            self.clear()
        found = self[text] = self.dialect.render(text)
        return found


def _sqlite_elements(col: str, key: str, bind: Bind) -> tuple[str, str]:
    # An array's elements, or the one value as a one-element array (an object too, as on
    # PostgreSQL below); the binds are made in the order their placeholders appear.
    path = '$."' + key + '"'
    values = (
        f"CASE json_type({col}, {bind(path)}) WHEN 'array' THEN json_extract({col}, {bind(path)}) "
        f"ELSE json_array(json_extract({col}, {bind(path)})) END"
    )
    return f"json_each({values})", "CAST(value AS TEXT)"


def _sqlite_items(col: str, key: str) -> tuple[str, str]:
    # The key is a checked identifier (ident_key), spelled into the path; an array is all a
    # multi-field column holds, anything else yields no element.
    source = f"json_each(CASE json_type({col}) WHEN 'array' THEN {col} ELSE '[]' END)"
    return source, f"CAST(json_extract(value, '$.\"{key}\"') AS TEXT)"


def _sqlite_number(text: str) -> str:
    # GLOBs spelling out PostgreSQL's `^-?[0-9]+(\.[0-9]+)?$` below: a digit or `-digit` first,
    # then digits and dots only, at most one dot, and not last.
    plain = (
        f"({text} GLOB '[0-9]*' OR {text} GLOB '-[0-9]*') "
        f"AND substr({text}, 2) NOT GLOB '*[^0-9.]*' "
        f"AND {text} NOT GLOB '*.*.*' AND {text} NOT GLOB '*.'"
    )
    return f"CASE WHEN {plain} THEN CAST({text} AS REAL) END"


def _postgres_elements(col: str, key: str, bind: Bind) -> tuple[str, str]:
    found = f"({col}::jsonb -> {bind(key)})"
    values = (
        f"CASE jsonb_typeof({found}) WHEN 'array' THEN {found} ELSE jsonb_build_array({found}) END"
    )
    # Byte order, as every text column here is declared (`COLLATE "C"`) and SQLite compares.
    return f"jsonb_array_elements_text({values}) AS e(v)", '(e.v COLLATE "C")'


def _postgres_items(col: str, key: str) -> tuple[str, str]:
    found = f"({col}::jsonb)"
    values = f"CASE jsonb_typeof({found}) WHEN 'array' THEN {found} ELSE '[]'::jsonb END"
    return f"jsonb_array_elements({values}) AS e(v)", f"((e.v ->> '{key}') COLLATE \"C\")"


def _postgres_number(text: str) -> str:
    return f"CASE WHEN {text} ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN {text}::float8 END"


SQLITE = Dialect(
    placeholder=lambda n: "?",
    text_cast=lambda col: f"CAST({col} AS TEXT)",
    like="LIKE",
    elements=_sqlite_elements,
    number=_sqlite_number,
    items=_sqlite_items,
    fragments=(
        # BEGIN IMMEDIATE already holds the database's write lock: no row locks.
        ("for_update", ""),
        ("for_share", ""),
        ("skip_locked", ""),
        ("now", "julianday('now')"),
        ("applied_at", "REAL NOT NULL"),
        ("schema_version_exists", "SELECT 1 FROM sqlite_master WHERE name = 'schema_version'"),
        ("no_rows", "WHERE 0"),  # CREATE TABLE ... AS SELECT: the columns, no rows
        ("same", "IS"),  # equal, NULL matching NULL
    ),
)
POSTGRES = Dialect(
    placeholder=lambda n: f"${n}",
    text_cast=lambda col: f"{col}::text",
    like="ILIKE",
    elements=_postgres_elements,
    number=_postgres_number,
    items=_postgres_items,
    nulls=(" NULLS FIRST", " NULLS LAST"),
    fragments=(
        ("for_update", " FOR UPDATE"),
        ("for_share", " FOR SHARE"),
        # Workers claiming at the same moment take disjoint rows instead of waiting.
        ("skip_locked", " FOR UPDATE SKIP LOCKED"),
        ("now", "now()"),
        ("applied_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"),
        ("schema_version_exists", "SELECT to_regclass('schema_version') IS NOT NULL"),
        ("no_rows", "WITH NO DATA"),
        ("same", "IS NOT DISTINCT FROM"),
    ),
    numbered=True,
    returns_stored=True,
    row_locks=True,
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
        if cond.key is not None:
            return self.stored_under_key(cond, cond.key)
        if cond.item is not None:
            return self.stored_in_items(cond, cond.item)
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

    def stored_under_key(self, cond: Condition, key: str) -> str:
        """A condition on the values a JSON column stores under `key` (Condition.key)."""
        source, text = self.dialect.elements(ident(cond.column), ident_key(key), self.bind)
        op, value = cond.op, cond.value
        negated = op in ("!=", "not in", "not like")
        if value is None:
            test, negated = f"{text} <> ''", op == "="
        elif op in ("in", "not in"):
            test = f"{text} IN ({', '.join(self.bind(v) for v in value)})" if value else "1=0"
        elif op in ("like", "not like"):
            test = f"{text} {self.dialect.like} {self.bind(value)} ESCAPE '\\'"
        elif op in ("=", "!="):
            test = f"{text} = {self.bind(value)}"
        elif isinstance(value, float):
            test = f"{self.dialect.number(text)} {op} {self.bind(value)}"
        else:
            test = f"{text} {op} {self.bind(value)}"
        return f"{'NOT ' if negated else ''}EXISTS (SELECT 1 FROM {source} WHERE {test})"

    def stored_in_items(self, cond: Condition, key: str) -> str:
        """A condition on the `key` values of a JSON array column's elements (Condition.item):
        equality and IN only, as multi-field filters are exact (crm-contact-list.md)."""
        source, text = self.dialect.items(ident(cond.column), ident_key(key))
        op, value = cond.op, cond.value
        if op in ("in", "not in"):
            test = f"{text} IN ({', '.join(self.bind(v) for v in value)})" if value else "1=0"
        elif op in ("=", "!="):
            test = f"{text} = {self.bind(value)}"
        else:
            raise ValueError(f"no {op!r} on the items of {cond.column}")
        negated = op in ("!=", "not in")
        return f"{'NOT ' if negated else ''}EXISTS (SELECT 1 FROM {source} WHERE {test})"

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
