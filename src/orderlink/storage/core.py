"""The store logic both engines share, written once over a small connection interface.

`SQLStore` holds every operation whose statements and rules are the same on SQLite and
PostgreSQL. Its SQL is written once, with `?` marks and `{fragment}`s, and each engine's
connection renders it (`Dialect.render`, memoised by `sql.Rendered`). An engine module supplies
what truly differs: how a connection or a transaction is had (`_conn`, `_write`), locks, ids
after an explicit insert, bulk loads, `auth_version`, and `group`. Every driver error is mapped
by the engine's `Connection` (the one place), so no method here catches anything.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any, ClassVar, Literal, Protocol, TypeVar, get_args

import orjson

from orderlink import fresh_portal
from orderlink.sealing import KeySource, Sealer, is_sealed, token_context
from orderlink.storage import migrations
from orderlink.storage.base import (
    AUTH_TABLES,
    COPY_TABLES,
    JOURNAL_COLUMNS,
    OWNER_TYPES,
    PORTAL_IDS,
    PORTAL_TABLES,
    RESET_TABLES,
    ROW_OWNER_CODES,
    ROW_OWNERS,
    STATE_TABLES,
    AddBinding,
    App,
    Binding,
    DeleteBinding,
    Delivery,
    Emit,
    Fault,
    Grant,
    Group,
    Handler,
    Install,
    JournalQuery,
    ListQuery,
    ListResult,
    Portal,
    Row,
    RowsPlan,
    SavedRows,
    StoreUnavailable,
    Table,
    TokenPair,
    User,
    Webhook,
    fill_id,
)
from orderlink.storage.sql import Dialect, count_sql, ident, select_sql

_T = TypeVar("_T")

ENTITY_TABLES = frozenset(get_args(Table)) - {"bindings"}
# Advisory lock keys, (class, object) pairs in their own namespace (0x6f6c = "ol"); PostgreSQL
# takes them, SQLite's BEGIN IMMEDIATE already serialises every writer.
MIGRATE_LOCK = (0x6F6C, 1)
BOOTSTRAP_LOCK = (0x6F6C, 2)
_USERS_LOCK_CLASS = 0x6F6C0001  # with the portal id: user ids come from MAX(id) + 1
# With the portal id: a PORTAL_IDS table's new id is MAX(id) + 1 among the portal's rows.
_PORTAL_IDS_LOCK_CLASS = {
    table: _USERS_LOCK_CLASS if table == "users" else 0x6F6C0010 + n
    for n, table in enumerate(sorted(PORTAL_IDS))
}
_PORTAL_COLUMNS = "id, domain, member_id, name, plan, created_at"
_SNAP = "snap__"  # a snapshot table: `snap__<table>`
# Keys unique on the server that a portal's rows carry besides ids (`portal import`).
_SERVER_KEYS = (("webhooks", "code_hash"), ("apps", "client_id"))

_APP_COLUMNS = "id, portal_id, name, client_id, secret_hash, scopes, redirect_uri, handler_url"
_INSTALL_COLUMNS = "portal_id, app_id, installed, application_token, installed_by, allowed_users"
_DELIVERY_COLUMNS = (
    "id, portal_id, app_id, handler_id, handler, event, data, user_id, with_tokens, created_at, "
    "attempts, status, last_status, delivered_at"
)
_USER_COLUMNS = "id, portal_id, name, store_role, is_admin, last_name, email"
_WEBHOOK_COLUMNS = "id, portal_id, user_id, code_hash, scopes, active, created_at"
_HANDLER_COLUMNS = "id, portal_id, app_id, event, handler, auth_type, offline"
_FAULT_COLUMNS = (
    "id, portal_id, method, error, dropped, delay, times, fired, probability, seed, created_at"
)
_JOURNAL_INSERT = (
    f"INSERT INTO journal ({', '.join(JOURNAL_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in JOURNAL_COLUMNS)})"
)
# The newest `keep` rows of a portal stay: the one `keep - 1` rows below the newest is the
# oldest kept (none: the portal has no more than `keep`, and `id < NULL` deletes nothing).
_JOURNAL_TRIM = (
    "DELETE FROM journal WHERE portal_id = ? AND id < (SELECT id FROM journal "
    "WHERE portal_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)"
)
_GRANT = (
    "SELECT "
    + ", ".join("a." + c for c in _APP_COLUMNS.split(", "))
    + ", "
    + ", ".join("i." + c for c in _INSTALL_COLUMNS.split(", "))
    + ", u.id, u.portal_id, u.name, u.store_role, u.is_admin, u.last_name, u.email FROM apps a "
    "JOIN app_installs i ON i.app_id = a.id AND i.portal_id = ? "
    "JOIN users u ON u.portal_id = i.portal_id AND u.id = ? WHERE a.id = ?"
)
_OUTBOX = (
    "INSERT INTO event_outbox (portal_id, app_id, handler_id, handler, event, data, "
    "user_id, with_tokens, created_at, next_attempt_at) "
)
_TOKEN_LOOKUP = (
    "SELECT portal_id, app_id, user_id, access_expires_at, refresh_expires_at "
    "FROM tokens WHERE {column} = ?"
)


class Connection(Protocol):
    """One engine connection, in or out of a transaction, taking statements in the shared
    spelling. Rows are tuples by position (dicts from `fetch_named`); `execute` answers how many
    rows changed. Driver errors leave as StoreUnavailable or StoreRefused; constraint
    violations as the driver raised them (callers tell a duplicate key by them)."""

    bumped: bool  # an auth change was written in this transaction

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> builtins.list[Sequence[Any]]: ...

    async def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Sequence[Any] | None: ...

    async def fetch_named(self, sql: str, args: Sequence[Any] = ()) -> builtins.list[Row]: ...

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class SQLStore:
    """The shared half of SQLiteStore and PostgresStore (see the module docstring)."""

    engine: ClassVar[Literal["sqlite", "postgres"]]  # the migrations' engine name
    label: ClassVar[str]  # the engine's name in messages
    # The driver's constraint violation (a restore that meets one falls back: restore_snapshot).
    constraint_error: ClassVar[tuple[type[Exception], ...]]
    # restore_snapshot puts back only the rows that differ (else it copies the whole snapshot).
    restore_by_difference: ClassVar[bool] = False
    # `_bind` is one statement, whole by itself: an add without events needs no transaction.
    bind_is_one_statement: ClassVar[bool] = False

    def __init__(self, dialect: Dialect, keys: KeySource) -> None:
        self._dialect = dialect
        # application_token is sealed under this key (sealing.py).
        self._keys = keys
        self._sealer: Sealer | None = None
        # Auth writes this process committed: part of every engine's auth_version.
        self._auth_changes = 0
        # bound_events(): event names with a handler, per portal, valid for one auth version.
        self._bound: dict[int, frozenset[str]] = {}
        self._bound_version: object = None
        # Columns of each table a snapshot copies (_snapshot_columns), once made.
        self._snap_columns: dict[str, builtins.list[str]] = {}

    # -- what an engine supplies -----------------------------------------------------------------

    def _conn(self) -> AbstractAsyncContextManager[Connection]:
        """A connection for statements that each commit alone (or the group's, inside one)."""
        raise NotImplementedError

    def _write(self) -> AbstractAsyncContextManager[Connection]:
        """A transaction (in a group, a part of it); once committed, a connection it `bumped`
        adds one to `_auth_changes`."""
        raise NotImplementedError

    async def _matching(self, conn: Connection, on: bool) -> None:
        """Around a restore's row matching (`_restore_changes`): how the engine should plan
        statements that compare two whole tables. Nothing to say by default."""

    async def _lock(self, conn: Connection, key: tuple[int, int]) -> None:
        """Serialise writers on `key` until the transaction ends (where the engine needs it)."""

    async def _run_script(self, conn: Connection, script: str) -> None:
        raise NotImplementedError

    async def _prepare_schema(self, conn: Connection) -> None:
        """What must exist before schema_version can (PostgreSQL: the URL's schema)."""

    async def _ids_at_least(self, conn: Connection, table: str, past: int) -> None:
        """After rows went in with explicit ids: later generated ids go beyond `past`."""

    async def _reserve_ids(self, conn: Connection, table: str, span: int) -> int:
        """Set aside `span` ids of `table` that no insert will take; the first of them."""
        raise NotImplementedError

    async def _notify(self, conn: Connection) -> None:
        """Tell other processes' auth caches (PostgreSQL NOTIFY); SQLite's data_version does."""

    async def _bind(
        self, conn: Connection, portal_id: int, binding: Binding, owner_table: Table | None
    ) -> AddBinding:
        """Write the binding as `add_binding` describes (engines lock differently)."""
        raise NotImplementedError

    async def _insert_rows(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Row]
    ) -> int:
        """Insert rows keeping their keys, skipping present ones; how many went in."""
        raise NotImplementedError

    async def auth_version(self) -> object:
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------------

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            raise StoreUnavailable(f"the {self.label} store is not open")
        return self._sealer

    async def _read_one(
        self, sql: str, args: Sequence[Any], into: Callable[[Any], _T]
    ) -> _T | None:
        """The one row `sql` reads, made into a value; None when there is none."""
        async with self._conn() as conn:
            row = await conn.fetch_one(sql, args)
        return into(row) if row else None

    async def _read_all(
        self, sql: str, args: Sequence[Any], into: Callable[[Any], _T]
    ) -> builtins.list[_T]:
        async with self._conn() as conn:
            rows = await conn.fetch(sql, args)
        return [into(row) for row in rows]

    async def _bump_auth(self, conn: Connection) -> None:
        await conn.execute("UPDATE auth_version SET version = version + 1 WHERE id = 1")
        await self._notify(conn)
        conn.bumped = True

    async def _migrate(self, upgrade: bool) -> None:
        steps = migrations.migrations(self.engine)
        async with self._write() as conn:
            # Workers starting together queue here; the first applies, the others find it done.
            await self._lock(conn, MIGRATE_LOCK)
            await self._prepare_schema(conn)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at {applied_at})"
            )
            found = await conn.fetch_one("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            current = int(found[0]) if found else 0
            if current > len(steps):
                raise migrations.SchemaTooNew(current, len(steps))
            # An empty database too: `upgrade=False` (`orderlink db status`) never creates one.
            if current < len(steps) and not upgrade:
                raise migrations.SchemaTooOld(current, len(steps))
            for step in steps[current:]:
                await self._run_script(conn, step.sql)
                await conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, {now})",
                    (step.version, step.name),
                )

    async def _seal_stored(self) -> None:
        """Take the key (creating its file only while nothing is sealed yet), check it opens
        what is sealed, and seal application tokens stored in clear before sealing existed;
        idempotent, and safe with another process doing the same."""
        async with self._conn() as conn:
            rows = await conn.fetch("SELECT portal_id, app_id, application_token FROM app_installs")
        sample = next((row for row in rows if is_sealed(row[2])), None)
        sealer = self._keys.sealer(may_create=sample is None)
        if sample is not None:
            sealer.open(sample[2], token_context(sample[0], sample[1]))
        clear = [row for row in rows if row[2] and not is_sealed(row[2])]
        if clear:
            async with self._write() as conn:
                await conn.executemany(
                    "UPDATE app_installs SET application_token = ? "
                    "WHERE portal_id = ? AND app_id = ? AND application_token = ?",
                    [
                        (sealer.seal(token, token_context(p, a)), p, a, token)
                        for p, a, token in clear
                    ],
                )
        self._sealer = sealer

    async def _emit(
        self, conn: Connection, portal_id: int, events: Sequence[Emit], new_id: int | None = None
    ) -> None:
        """Queue each event for its handlers, inside the caller's transaction."""
        for emit in events:
            data = orjson.dumps(fill_id(emit.data, new_id)).decode()
            if emit.url is not None:
                await conn.execute(
                    _OUTBOX + "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
                    (portal_id, emit.app_id, emit.url, emit.event, data, emit.user_id,
                     int(emit.tokens), float(emit.at), float(emit.at)),
                )  # fmt: skip
                continue
            sql = (
                _OUTBOX + "SELECT portal_id, app_id, id, handler, event, ?, "
                "CASE WHEN auth_type > 0 THEN auth_type ELSE ? END, ?, ?, ? "
                "FROM event_handlers WHERE portal_id = ? AND event = ?"
            )
            args: builtins.list[Any] = [data, emit.user_id, int(emit.tokens), float(emit.at),
                                        float(emit.at), portal_id, emit.event]  # fmt: skip
            if emit.app_id is not None:
                sql += " AND app_id = ?"
                args.append(emit.app_id)
            await conn.execute(sql, args)

    async def _grant(
        self, conn: Connection, portal_id: int, app_id: int, user_id: int, *expiry: float
    ) -> Grant | None:
        """What a token of this app and user stands for; `expiry`: its access and refresh
        expiry, when there is a token."""
        found = await conn.fetch_one(_GRANT, (portal_id, user_id, app_id))
        if found is None:
            return None
        row = tuple(found)
        user = _user(row[14:21])
        return Grant(portal_id, _app(row[:8]), _install(row[8:14], self.sealer), user, *expiry)

    async def _insert_tokens(self, conn: Connection, pair: TokenPair, now: float) -> None:
        await conn.execute(
            "INSERT INTO tokens (access_hash, refresh_hash, portal_id, app_id, user_id, "
            "access_expires_at, refresh_expires_at, created_at, family) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (pair.access_hash, pair.refresh_hash, pair.portal_id, pair.app_id, pair.user_id,
             float(pair.access_expires_at), float(pair.refresh_expires_at), float(now),
             pair.family or pair.access_hash),
        )  # fmt: skip

    async def _spend(self, conn: Connection, digest: str, family: str, until: float) -> None:
        await conn.execute(
            "INSERT INTO spent_credentials (digest, family, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (digest) DO NOTHING",
            (digest, family, float(until)),
        )

    async def _next_portal_id(self, conn: Connection, portal_id: int, table: str) -> int:
        await self._lock(conn, (_PORTAL_IDS_LOCK_CLASS[table], portal_id))
        row = await conn.fetch_one(
            f"SELECT COALESCE(MAX(id), 0) + 1 FROM {ident(table)} WHERE portal_id = ?", (portal_id,)
        )
        assert row is not None
        return int(row[0])

    def _insert_sql(self, table: str, values: Row, returning: str = "") -> str:
        columns = ", ".join(["portal_id", *(ident(col) for col in values)])
        marks = ", ".join("?" * (len(values) + 1))
        return f"INSERT INTO {_entity(table)} ({columns}) VALUES ({marks}){returning}"

    # -- lifecycle -----------------------------------------------------------------------------

    async def ping(self) -> None:
        async with self._conn() as conn:
            await conn.fetch_one("SELECT 1")

    async def schema_version(self) -> int:
        async with self._conn() as conn:
            if not (found := await conn.fetch_one("{schema_version_exists}")) or not found[0]:
                return 0
            found = await conn.fetch_one("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        return int(found[0]) if found else 0

    async def schema(self) -> tuple[int, int]:
        return await self.schema_version(), migrations.latest(self.engine)

    # -- portals, users, webhooks -------------------------------------------------------------

    async def bootstrap(self, *, now: float) -> tuple[Portal, bool]:
        async with self._write() as conn:
            await self._lock(conn, BOOTSTRAP_LOCK)
            existing = await self._default_portal(conn)
            if existing is not None:
                return existing, False
            return await self._new_portal(conn, "", "standard", now), True

    async def _new_portal(self, conn: Connection, name: str, plan: str, now: float) -> Portal:
        """The portal row, user 1 (portal and store administrator) and the payer types."""
        member_id = secrets.token_hex(16)
        row = await conn.fetch_one(
            "INSERT INTO portals (domain, member_id, name, plan, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            ("orderlink.local", member_id, name, plan, float(now)),
        )
        assert row is not None
        portal_id = int(row[0])
        await conn.execute(
            "INSERT INTO users (portal_id, id, name, store_role, is_admin, date_register) "
            "VALUES (?, 1, 'Administrator', 2, 1, ?)",
            (portal_id, int(now)),
        )
        # The general funnel is written by bootstrap.ensure_funnels (also for a database made
        # before funnels).
        await self._seed_person_types(conn, portal_id)
        await self._bump_auth(conn)
        return Portal(portal_id, "orderlink.local", member_id, name, plan, float(now))

    # -- many portals ------------------------------------------------------------------------

    async def add_portal(self, *, name: str, plan: str, now: float) -> Portal:
        async with self._write() as conn:
            return await self._new_portal(conn, name, plan, now)

    async def portals(self) -> builtins.list[Portal]:
        return await self._read_all(
            f"SELECT {_PORTAL_COLUMNS} FROM portals ORDER BY id", (), _portal
        )

    async def portal(self, portal_id: int) -> Portal | None:
        return await self._read_one(
            f"SELECT {_PORTAL_COLUMNS} FROM portals WHERE id = ?", (portal_id,), _portal
        )

    async def delete_portal(self, portal_id: int) -> bool:
        async with self._write() as conn:
            await self._drop_snapshots(conn, portal_id)
            for table in reversed(PORTAL_TABLES):
                await conn.execute(f"DELETE FROM {ident(table)} WHERE portal_id = ?", (portal_id,))
            gone = await conn.execute("DELETE FROM portals WHERE id = ?", (portal_id,))
            await self._bump_auth(conn)
        self._bound.pop(portal_id, None)
        return gone > 0

    async def clear_portal(self, portal_id: int) -> None:
        async with self._write() as conn:
            for table in reversed(RESET_TABLES):
                await conn.execute(f"DELETE FROM {ident(table)} WHERE portal_id = ?", (portal_id,))
            await self._seed_person_types(conn, portal_id)
            await self._bump_auth(conn)  # event_handlers went

    async def portal_state(self, portal_id: int) -> dict[str, builtins.list[Row]]:
        state: dict[str, builtins.list[Row]] = {}
        async with self._write() as conn:  # one transaction: a consistent picture
            for table in STATE_TABLES:
                keys = ", ".join(COPY_TABLES[table])
                state[table] = await conn.fetch_named(
                    f"SELECT * FROM {ident(table)} WHERE portal_id = ? ORDER BY {keys}",
                    (portal_id,),
                )
        return state

    async def put_portal_state(self, portal_id: int, state: Mapping[str, Sequence[Row]]) -> None:
        unknown = set(state) - set(STATE_TABLES)
        if unknown:
            raise ValueError(f"not a portal table: {', '.join(sorted(unknown))}")
        async with self._write() as conn:
            for table in reversed(STATE_TABLES):
                await conn.execute(f"DELETE FROM {ident(table)} WHERE portal_id = ?", (portal_id,))
            for table in STATE_TABLES:
                rows = [{**row, "portal_id": portal_id} for row in state.get(table, ())]
                if not rows:
                    continue
                unknown = {c for row in rows for c in row} - set(
                    await self._columns_of(conn, table)
                )
                if unknown:
                    raise ValueError(f"{table} has no column {', '.join(sorted(unknown))}")
                if table == "app_installs":  # an export carries none (portals.py)
                    rows = [self._sealed_install(row) for row in rows]
                columns = [ident(c) for c in rows[0]]
                await self._insert_rows(conn, ident(table), columns, rows)
                if "id" in rows[0] and table not in PORTAL_IDS:
                    await self._ids_at_least(conn, table, max(int(row["id"]) for row in rows))
            await self._bump_auth(conn)
        self._bound.pop(portal_id, None)

    def _sealed_install(self, row: Row) -> Row:
        if row.get("application_token") is not None:
            return row
        context = token_context(row["portal_id"], row["app_id"])
        return {**row, "application_token": self.sealer.seal(secrets.token_hex(16), context)}

    # Snapshots are copied in SQL, table by table, into `snap__<table>` (made on the first
    # snapshot with the table's columns plus `snap_name`, and given any column a later
    # migration added): no row passes through Python, so a restore of thousands of rows is a
    # few INSERT ... SELECT statements.

    async def _columns_of(self, conn: Connection, table: str) -> dict[str, str]:
        """The table's columns and their declared types, in order."""
        raise NotImplementedError

    async def _snapshot_columns(self, conn: Connection, table: str) -> builtins.list[str]:
        """The columns `table` and its snapshot table share, creating or widening the latter
        (once per process: the schema changes only at `open`)."""
        if table in self._snap_columns:
            return self._snap_columns[table]
        copy = ident(_SNAP + table)
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {copy} AS SELECT CAST('' AS TEXT) AS snap_name, * "
            f"FROM {ident(table)} {{no_rows}}"
        )
        # One snapshot's rows by the table's key: what a restore matches live rows on.
        keyed = ", ".join(ident(c) for c in COPY_TABLES[table] if c != "portal_id")
        await conn.execute(
            f"CREATE INDEX IF NOT EXISTS {ident(_SNAP + table + '_keyed')} "
            f"ON {copy} (portal_id, snap_name, {keyed})"
        )
        await conn.execute(f"DROP INDEX IF EXISTS {ident(_SNAP + table + '_key')}")
        live = await self._columns_of(conn, table)
        kept = await self._columns_of(conn, _SNAP + table)
        for column, kind in live.items():
            if column not in kept:
                await conn.execute(f"ALTER TABLE {copy} ADD COLUMN {ident(column)} {kind}")
        self._snap_columns[table] = builtins.list(live)
        return self._snap_columns[table]

    async def save_snapshot(self, portal_id: int, name: str, now: float) -> None:
        async with self._write() as conn:
            await conn.execute(
                "INSERT INTO portal_snapshots (portal_id, name, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (portal_id, name) DO UPDATE SET created_at = excluded.created_at",
                (portal_id, name, float(now)),
            )
            for table in STATE_TABLES:
                columns = ", ".join(ident(c) for c in await self._snapshot_columns(conn, table))
                copy = ident(_SNAP + table)
                await conn.execute(
                    f"DELETE FROM {copy} WHERE portal_id = ? AND snap_name = ?", (portal_id, name)
                )
                await conn.execute(
                    f"INSERT INTO {copy} (snap_name, {columns}) SELECT ?, {columns} "
                    f"FROM {ident(table)} WHERE portal_id = ?",
                    (name, portal_id),
                )

    async def restore_snapshot(self, portal_id: int, name: str) -> bool:
        async with self._write() as conn:
            if not await conn.fetch_one(
                "SELECT 1 FROM portal_snapshots WHERE portal_id = ? AND name = ?",
                (portal_id, name),
            ):
                return False
            if self.restore_by_difference:
                await self._restore_by_difference(conn, portal_id, name)
            else:
                await self._restore_whole(conn, portal_id, name)
            await self._bump_auth(conn)
        self._bound.pop(portal_id, None)
        return True

    async def _restore_by_difference(self, conn: Connection, portal_id: int, name: str) -> None:
        """Most restores follow a test that changed a few rows: put back only what differs
        (on PostgreSQL a whole copy of 5,000 rows costs ~150 ms, mostly foreign-key triggers;
        SQLite copies them faster than it compares them). A changed row whose unchanged
        children hold a foreign key without ON DELETE CASCADE cannot go that way: then the
        whole copy, from where this began."""
        await conn.execute("SAVEPOINT orderlink_restore")
        try:
            await self._matching(conn, True)
            await self._restore_changes(conn, portal_id, name)
            await self._matching(conn, False)
        except self.constraint_error:
            await conn.execute("ROLLBACK TO SAVEPOINT orderlink_restore")
            await self._restore_whole(conn, portal_id, name)
        await conn.execute("RELEASE SAVEPOINT orderlink_restore")

    async def _restore_changes(self, conn: Connection, portal_id: int, name: str) -> None:
        """Delete each live row no snapshot row matches column for column (children first; a
        cascade takes unchanged children of a changed order, put back below), then insert each
        snapshot row no live row matches (parents first). After both, the portal holds the
        snapshot's rows exactly: every live row left matches one, every other one is added."""
        for table in reversed(STATE_TABLES):
            await conn.execute(
                await self._unmatched(conn, table, delete=True), (portal_id, portal_id, name)
            )
        for table in STATE_TABLES:
            await conn.execute(
                await self._unmatched(conn, table, delete=False), (portal_id, name, portal_id)
            )

    async def _unmatched(self, conn: Connection, table: str, *, delete: bool) -> str:
        """The DELETE of live rows, or the INSERT of snapshot rows, the other side lacks.
        Matched on the table's key (so the engine can hash the two sides), then on every
        column, NULL matching NULL (`{same}`)."""
        columns = await self._snapshot_columns(conn, table)
        live, copy = ident(table), ident(_SNAP + table)
        keys = " AND ".join(f"s.{ident(c)} = {live}.{ident(c)}" for c in COPY_TABLES[table])
        alike = " AND ".join(f"s.{ident(c)} {{same}} {live}.{ident(c)}" for c in columns)
        if delete:
            return (
                f"DELETE FROM {live} WHERE portal_id = ? AND NOT EXISTS (SELECT 1 FROM {copy} s "
                f"WHERE s.portal_id = ? AND s.snap_name = ? AND {keys} AND {alike})"
            )
        names = ", ".join(ident(c) for c in columns)
        picked = ", ".join(f"s.{ident(c)}" for c in columns)
        return (
            f"INSERT INTO {live} ({names}) SELECT {picked} FROM {copy} s "
            f"WHERE s.portal_id = ? AND s.snap_name = ? AND NOT EXISTS (SELECT 1 FROM {live} "
            f"WHERE {live}.portal_id = ? AND {keys} AND {alike})"
        )

    async def _restore_whole(self, conn: Connection, portal_id: int, name: str) -> None:
        for table in reversed(STATE_TABLES):
            await conn.execute(f"DELETE FROM {ident(table)} WHERE portal_id = ?", (portal_id,))
        for table in STATE_TABLES:
            columns = ", ".join(ident(c) for c in await self._snapshot_columns(conn, table))
            await conn.execute(
                f"INSERT INTO {ident(table)} ({columns}) SELECT {columns} FROM "
                f"{ident(_SNAP + table)} WHERE portal_id = ? AND snap_name = ?",
                (portal_id, name),
            )

    async def snapshot_state(
        self, portal_id: int, name: str
    ) -> dict[str, builtins.list[Row]] | None:
        async with self._write() as conn:
            if not await conn.fetch_one(
                "SELECT 1 FROM portal_snapshots WHERE portal_id = ? AND name = ?",
                (portal_id, name),
            ):
                return None
            state: dict[str, builtins.list[Row]] = {}
            for table in STATE_TABLES:
                columns = ", ".join(ident(c) for c in await self._snapshot_columns(conn, table))
                keys = ", ".join(COPY_TABLES[table])
                state[table] = await conn.fetch_named(
                    f"SELECT {columns} FROM {ident(_SNAP + table)} "
                    f"WHERE portal_id = ? AND snap_name = ? ORDER BY {keys}",
                    (portal_id, name),
                )
        return state

    async def _drop_snapshots(self, conn: Connection, portal_id: int) -> None:
        # Most portals (a test's) never saved one: then no snapshot table is even looked at.
        if not await conn.fetch_one(
            "SELECT 1 FROM portal_snapshots WHERE portal_id = ?", (portal_id,)
        ):
            return
        for table in STATE_TABLES:
            await self._snapshot_columns(conn, table)
            await conn.execute(
                f"DELETE FROM {ident(_SNAP + table)} WHERE portal_id = ?", (portal_id,)
            )

    async def snapshots(self, portal_id: int) -> builtins.list[tuple[str, float]]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT name, created_at FROM portal_snapshots WHERE portal_id = ? ORDER BY name",
                (portal_id,),
            )
        return [(str(row[0]), float(row[1])) for row in rows]

    async def reserve_ids(self, spans: Mapping[str, int]) -> dict[str, int]:
        async with self._write() as conn:
            return {
                table: await self._reserve_ids(conn, table, span) for table, span in spans.items()
            }

    async def taken_keys(self, state: Mapping[str, Sequence[Row]]) -> builtins.list[str]:
        taken: builtins.list[str] = []
        async with self._conn() as conn:
            for table, column in _SERVER_KEYS:
                values = [
                    row[column] for row in state.get(table, ()) if row.get(column) is not None
                ]
                for start in range(0, len(values), 500):
                    chunk = values[start : start + 500]
                    marks = ", ".join("?" for _ in chunk)
                    rows = await conn.fetch(
                        f"SELECT {ident(column)} FROM {ident(table)} "
                        f"WHERE {ident(column)} IN ({marks})",
                        chunk,
                    )
                    taken.extend(f"{table}.{column} {row[0]}" for row in rows)
        return taken

    async def _seed_person_types(self, conn: Connection, portal_id: int) -> None:
        for type_id, name, sort in fresh_portal.PERSON_TYPES:
            await conn.execute(
                "INSERT INTO person_types (id, portal_id, name, sort) VALUES (?, ?, ?, ?)",
                (type_id, portal_id, name, sort),
            )

    async def _default_portal(self, conn: Connection) -> Portal | None:
        row = await conn.fetch_one(f"SELECT {_PORTAL_COLUMNS} FROM portals ORDER BY id LIMIT 1")
        return _portal(row) if row else None

    async def default_portal(self) -> Portal | None:
        async with self._conn() as conn:
            return await self._default_portal(conn)

    async def set_info(self, key: str, value: str, now: float) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO server_info (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (key, value, float(now)),
            )

    async def info(self, key: str) -> str | None:
        async with self._conn() as conn:
            row = await conn.fetch_one("SELECT value FROM server_info WHERE key = ?", (key,))
        return None if row is None or row[0] is None else str(row[0])

    async def add_user(
        self,
        portal_id: int,
        name: str,
        store_role: int,
        *,
        profile: Row | None = None,
        now: float | None = None,
    ) -> User:
        values: Row = {"name": name, "store_role": store_role, "is_admin": 0, **(profile or {})}
        if now is not None:
            values.setdefault("date_register", int(now))
        columns = ", ".join(["portal_id", "id", *(ident(col) for col in values)])
        marks = ", ".join("?" * (len(values) + 2))
        async with self._write() as conn:
            await self._lock(conn, (_USERS_LOCK_CLASS, portal_id))
            row = await conn.fetch_one(
                "SELECT COALESCE(MAX(id), 0) + 1 FROM users WHERE portal_id = ?",
                (portal_id,),
            )
            assert row is not None
            user_id = int(row[0])
            await conn.execute(
                f"INSERT INTO users ({columns}) VALUES ({marks})",
                (portal_id, user_id, *values.values()),
            )
            await self._bump_auth(conn)
        return User(user_id, portal_id, name, store_role, False,
                    str(values.get("last_name") or ""), str(values.get("email") or ""))  # fmt: skip

    async def update_user(self, portal_id: int, user_id: int, values: Row) -> bool:
        if not values:
            return await self.get_user(portal_id, user_id) is not None
        assignments = ", ".join(f"{ident(col)} = ?" for col in values)
        async with self._write() as conn:
            changed = await conn.execute(
                f"UPDATE users SET {assignments} WHERE portal_id = ? AND id = ?",
                (*values.values(), portal_id, user_id),
            )
            if changed:
                await self._bump_auth(conn)
        return changed > 0

    async def get_user(self, portal_id: int, user_id: int) -> User | None:
        return await self._read_one(
            f"SELECT {_USER_COLUMNS} FROM users WHERE portal_id = ? AND id = ?",
            (portal_id, user_id),
            _user,
        )

    async def users(self, portal_id: int) -> builtins.list[User]:
        return await self._read_all(
            f"SELECT {_USER_COLUMNS} FROM users WHERE portal_id = ? ORDER BY id",
            (portal_id,),
            _user,
        )

    async def add_webhook(
        self, portal_id: int, user_id: int, code_hash: str, scopes: Sequence[str], now: float
    ) -> Webhook:
        async with self._write() as conn:
            row = await conn.fetch_one(
                "INSERT INTO webhooks (portal_id, user_id, code_hash, scopes, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (portal_id, user_id, code_hash, ",".join(scopes), float(now)),
            )
            assert row is not None
            await self._bump_auth(conn)
        return Webhook(int(row[0]), portal_id, user_id, code_hash, tuple(scopes), True, now)

    async def list_webhooks(self, portal_id: int) -> builtins.list[Webhook]:
        return await self._read_all(
            f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE portal_id = ? ORDER BY id",
            (portal_id,),
            _webhook,
        )

    async def revoke_webhook(self, portal_id: int, webhook_id: int) -> bool:
        async with self._write() as conn:
            changed = await conn.execute(
                "UPDATE webhooks SET active = 0 WHERE portal_id = ? AND id = ? AND active = 1",
                (portal_id, webhook_id),
            )
            if changed:
                await self._bump_auth(conn)
        return changed > 0

    async def webhooks_of_user(self, user_id: int) -> builtins.list[tuple[Webhook, User]]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT w.id, w.portal_id, w.user_id, w.code_hash, w.scopes, w.active, "
                "w.created_at, u.name, u.store_role, u.is_admin, u.last_name, u.email "
                "FROM webhooks w JOIN users u ON u.portal_id = w.portal_id AND u.id = w.user_id "
                # A dismissed employee's webhooks stop working (user-update.md: ACTIVE N).
                "WHERE w.user_id = ? AND w.active = 1 AND u.active = 'Y'",
                (user_id,),
            )
        return [(_webhook(r), _user((r[2], r[1], *r[7:12]))) for r in rows]

    # -- portal domains -----------------------------------------------------------------------

    async def add_portal_domain(self, portal_id: int, domain: str, now: float) -> int:
        async with self._write() as conn:
            added = await conn.execute(
                "INSERT INTO portal_domains (portal_id, domain, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (domain) DO NOTHING",
                (portal_id, domain, float(now)),
            )
            if added:
                await self._bump_auth(conn)
            row = await conn.fetch_one(
                "SELECT portal_id FROM portal_domains WHERE domain = ?", (domain,)
            )
        assert row is not None
        return int(row[0])

    async def remove_portal_domain(self, portal_id: int, domain: str) -> bool:
        async with self._write() as conn:
            removed = await conn.execute(
                "DELETE FROM portal_domains WHERE portal_id = ? AND domain = ?",
                (portal_id, domain),
            )
            if removed:
                await self._bump_auth(conn)
        return removed > 0

    async def portal_domains(self, portal_id: int) -> builtins.list[str]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT domain FROM portal_domains WHERE portal_id = ? ORDER BY id", (portal_id,)
            )
        return [str(row[0]) for row in rows]

    async def portal_of_domain(self, domain: str) -> Portal | None:
        async with self._conn() as conn:
            row = await conn.fetch_one(
                "SELECT p.id, p.domain, p.member_id FROM portal_domains d "
                "JOIN portals p ON p.id = d.portal_id WHERE d.domain = ?",
                (domain,),
            )
        return Portal(int(row[0]), row[1], row[2]) if row else None

    # -- bindings -----------------------------------------------------------------------------

    async def add_binding(
        self,
        portal_id: int,
        binding: Binding,
        *,
        owner_table: Table | None,
        events: Sequence[Emit] = (),
    ) -> AddBinding:
        if owner_table is not None and owner_table not in OWNER_TYPES:
            raise ValueError(f"not an owner table: {owner_table!r}")
        alone = self.bind_is_one_statement and not events
        async with self._conn() if alone else self._write() as conn:
            outcome = await self._bind(conn, portal_id, binding, owner_table)
            if events and (outcome is AddBinding.ADDED or outcome is AddBinding.REPLACED):
                await self._emit(conn, portal_id, events)
        return outcome

    async def delete_binding(
        self, portal_id: int, binding: Binding, *, events: Sequence[Emit] = ()
    ) -> DeleteBinding:
        args = (portal_id, binding.order_id, binding.owner_type_id, binding.owner_id)
        # Without events, the hot path: one autocommitted statement.
        async with self._write() if events else self._conn() as conn:
            if await conn.execute(
                "DELETE FROM bindings WHERE portal_id = ? AND order_id = ? "
                "AND owner_type_id = ? AND owner_id = ?",
                args,
            ):
                if events:
                    await self._emit(conn, portal_id, events)
                return DeleteBinding.DELETED
            if await conn.fetch_one(
                "SELECT 1 FROM orders WHERE portal_id = ? AND id = ?",
                (portal_id, binding.order_id),
            ):
                return DeleteBinding.NO_BINDING
        return DeleteBinding.NO_ORDER

    # -- entities -----------------------------------------------------------------------------

    async def insert(
        self,
        portal_id: int,
        table: Table,
        values: Row,
        *,
        templates: Mapping[str, str] | None = None,
        events: Sequence[Emit] = (),
    ) -> int:
        if table in PORTAL_IDS and "id" not in values:
            async with self._write() as conn:
                values = {"id": await self._next_portal_id(conn, portal_id, table), **values}
                await conn.execute(self._insert_sql(table, values), (portal_id, *values.values()))
                if events:
                    await self._emit(conn, portal_id, events, int(values["id"]))
            return int(values["id"])
        sql = self._insert_sql(table, values, " RETURNING id")
        args = (portal_id, *values.values())
        # Without templates or events, the hot path: one autocommitted statement.
        async with self._write() if templates or events else self._conn() as conn:
            row = await conn.fetch_one(sql, args)
            assert row is not None
            row_id = int(row[0])
            if templates:
                filled = {col: text.format(id=row_id) for col, text in templates.items()}
                assignments = ", ".join(f"{ident(col)} = ?" for col in filled)
                await conn.execute(
                    f"UPDATE {_entity(table)} SET {assignments} WHERE id = ?",
                    (*filled.values(), row_id),
                )
            if events:
                await self._emit(conn, portal_id, events, row_id)
        return row_id

    async def insert_with_id(self, portal_id: int, table: Table, values: Row) -> None:
        async with self._write() as conn:
            await conn.execute(self._insert_sql(table, values), (portal_id, *values.values()))
            await self._ids_at_least(conn, table, int(values["id"]))

    async def get(self, portal_id: int, table: Table, row_id: int) -> Row | None:
        async with self._conn() as conn:
            rows = await conn.fetch_named(
                f"SELECT * FROM {_entity(table)} WHERE portal_id = ? AND id = ?",
                (portal_id, row_id),
            )
        return rows[0] if rows else None

    async def update(
        self,
        portal_id: int,
        table: Table,
        row_id: int,
        values: Row,
        *,
        events: Sequence[Emit] = (),
    ) -> Row | None:
        if not values:
            return await self.get(portal_id, table, row_id)
        assignments = ", ".join(f"{ident(col)} = ?" for col in values)
        sql = f"UPDATE {_entity(table)} SET {assignments} WHERE portal_id = ? AND id = ?"
        args = (*values.values(), portal_id, row_id)
        stored = self._dialect.returns_stored
        row: Row | None = None
        async with self._write() if events or not stored else self._conn() as conn:
            if stored:
                rows = await conn.fetch_named(sql + " RETURNING *", args)
                row = rows[0] if rows else None
                changed = row is not None
            else:
                changed = await conn.execute(sql, args) > 0
            if changed:
                await self._emit(conn, portal_id, events, row_id)
        if not changed:
            return None
        return row if stored else await self.get(portal_id, table, row_id)

    async def delete(
        self, portal_id: int, table: Table, row_id: int, *, events: Sequence[Emit] = ()
    ) -> bool:
        owner_type = OWNER_TYPES.get(table)
        entity = _entity(table)
        async with self._write() as conn:
            if owner_type is not None:
                if self._dialect.row_locks:
                    # Lock first: an add_binding that already holds its share lock finishes
                    # before we look for bindings; one that comes later finds the row gone.
                    await conn.execute(
                        f"SELECT 1 FROM {entity} WHERE portal_id = ? AND id = ?{{for_update}}",
                        (portal_id, row_id),
                    )
                await conn.execute(
                    "DELETE FROM bindings WHERE portal_id = ? AND owner_type_id = ? "
                    "AND owner_id = ?",
                    (portal_id, owner_type, row_id),
                )
            if table in ROW_OWNER_CODES:
                await conn.execute(
                    "DELETE FROM product_rows WHERE portal_id = ? AND owner_type = ? "
                    "AND owner_id = ?",
                    (portal_id, ROW_OWNER_CODES[table], row_id),
                )
            if table == "deals":
                await conn.execute(
                    "UPDATE invoices SET parent_id2 = NULL WHERE portal_id = ? AND parent_id2 = ?",
                    (portal_id, row_id),
                )
            # crm-contact-delete.md / crm-company-delete.md: the deals (and contacts) that named
            # the deleted contact or company forget it.
            for linked, one, many, none in _LINKS.get(table, ()):
                await _unlink(conn, portal_id, row_id, linked, one, many, none)
            for owned, column in _OWNED.get(table, ()):
                await conn.execute(
                    f"DELETE FROM {owned} WHERE portal_id = ? AND {column} = ?",
                    (portal_id, row_id),
                )
            # A deleted order takes its binding with it through the foreign key.
            deleted = await conn.execute(
                f"DELETE FROM {entity} WHERE portal_id = ? AND id = ?",
                (portal_id, row_id),
            )
            if deleted:
                await self._emit(conn, portal_id, events, row_id)
        return deleted > 0

    async def save_rows(
        self,
        portal_id: int,
        owner_type: str,
        owner_id: int,
        plan: Callable[[Row, builtins.list[Row]], RowsPlan],
        *,
        events: Sequence[Emit] = (),
    ) -> SavedRows | None:
        owner_table = _entity(ROW_OWNERS[owner_type])
        select_rows = (
            "SELECT * FROM product_rows WHERE portal_id = ? AND owner_type = ? AND owner_id = ? "
            "ORDER BY sort, id"
        )
        key = (portal_id, owner_type, owner_id)
        async with self._write() as conn:
            owners = await conn.fetch_named(
                f"SELECT * FROM {owner_table} WHERE portal_id = ? AND id = ?{{for_update}}",
                (portal_id, owner_id),
            )
            if not owners:
                return None
            decided = plan(owners[0], await conn.fetch_named(select_rows, key))
            for row_id in decided.delete:
                await conn.execute(
                    "DELETE FROM product_rows WHERE portal_id = ? AND id = ?", (portal_id, row_id)
                )
            for row_id, values in decided.update.items():
                if values:
                    assignments = ", ".join(f"{ident(col)} = ?" for col in values)
                    await conn.execute(
                        f"UPDATE product_rows SET {assignments} WHERE portal_id = ? AND id = ?",
                        (*values.values(), portal_id, row_id),
                    )
            added = []
            for values in decided.insert:
                row = {"owner_type": owner_type, "owner_id": owner_id, **values}
                sql = self._insert_sql("product_rows", row, " RETURNING id")
                found = await conn.fetch_one(sql, (portal_id, *row.values()))
                assert found is not None
                added.append(int(found[0]))
            if decided.owner:
                assignments = ", ".join(f"{ident(col)} = ?" for col in decided.owner)
                await conn.execute(
                    f"UPDATE {owner_table} SET {assignments} WHERE portal_id = ? AND id = ?",
                    (*decided.owner.values(), portal_id, owner_id),
                )
            if decided.emit and events:
                await self._emit(conn, portal_id, events, owner_id)
            rows = await conn.fetch_named(select_rows, key)
        return SavedRows(rows, tuple(added))

    async def list(self, query: ListQuery) -> ListResult:
        sql, args = select_sql(query, self._dialect)
        names = query.columns if query.keys is None else query.keys
        assert len(names) == len(query.columns)
        async with self._conn() as conn:
            # Each row has exactly these columns: zip's strict check would double the cost.
            rows = [dict(zip(names, row)) for row in await conn.fetch(sql, args)]  # noqa: B905
            total = None
            if query.count:
                if query.offset == 0 and query.limit is not None and len(rows) < query.limit:
                    total = len(rows)
                else:
                    count, count_args = count_sql(query, self._dialect)
                    found = await conn.fetch_one(count, count_args)
                    total = int(found[0]) if found else 0
        return ListResult(rows, total)

    async def reset(self) -> None:
        async with self._write() as conn:
            for table in _RESET_TABLES:
                await conn.execute(f"DELETE FROM {table}")
            # What every portal has from its first start (fresh_portal.py), as bootstrap and
            # bootstrap.ensure_funnels wrote it.
            for (portal_id,) in await conn.fetch("SELECT id FROM portals ORDER BY id"):
                await self._seed_person_types(conn, portal_id)
                await conn.execute(
                    self._insert_sql("deal_categories", fresh_portal.GENERAL_FUNNEL),
                    (portal_id, *fresh_portal.GENERAL_FUNNEL.values()),
                )
                for stage in fresh_portal.general_stages():
                    await conn.execute(
                        self._insert_sql("crm_statuses", stage), (portal_id, *stage.values())
                    )

    # -- applications and tokens -------------------------------------------------------------

    async def add_app(
        self,
        portal_id: int,
        *,
        name: str,
        client_id: str,
        secret_hash: str,
        scopes: Sequence[str],
        redirect_uri: str,
        handler_url: str,
        now: float,
    ) -> App:
        async with self._write() as conn:
            row = await conn.fetch_one(
                "INSERT INTO apps (portal_id, name, client_id, secret_hash, scopes, "
                    "redirect_uri, handler_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    "RETURNING id",
                (portal_id, name, client_id, secret_hash, ",".join(scopes), redirect_uri,
                 handler_url, float(now)),
            )  # fmt: skip
            assert row is not None
            await self._bump_auth(conn)
        return App(int(row[0]), portal_id, name, client_id, secret_hash, tuple(scopes),
                   redirect_uri, handler_url)  # fmt: skip

    async def app(self, client_id: str) -> App | None:
        return await self._read_one(
            f"SELECT {_APP_COLUMNS} FROM apps WHERE client_id = ?", (client_id,), _app
        )

    async def apps(self, portal_id: int) -> builtins.list[App]:
        return await self._read_all(
            f"SELECT {_APP_COLUMNS} FROM apps WHERE portal_id = ? ORDER BY id",
            (portal_id,),
            _app,
        )

    async def install_app(
        self,
        portal_id: int,
        app_id: int,
        user_id: int,
        application_token: str,
        now: float,
        *,
        events: Sequence[Emit] = (),
    ) -> Install:
        sealed = self.sealer.seal(application_token, token_context(portal_id, app_id))
        async with self._write() as conn:
            row = await conn.fetch_one(
                "INSERT INTO app_installs (portal_id, app_id, installed, application_token, "
                "installed_by, installed_at) VALUES (?, ?, 1, ?, ?, ?) "
                "ON CONFLICT (portal_id, app_id) DO UPDATE SET installed = 1, "
                "installed_by = excluded.installed_by, installed_at = excluded.installed_at "
                f"RETURNING {_INSTALL_COLUMNS}",
                (portal_id, app_id, sealed, user_id, float(now)),
            )
            assert row is not None
            await self._emit(conn, portal_id, events)
            await self._bump_auth(conn)
        return _install(row, self.sealer)

    async def uninstall_app(
        self, portal_id: int, app_id: int, *, events: Sequence[Emit] = ()
    ) -> bool:
        async with self._write() as conn:
            if not await conn.execute(
                "UPDATE app_installs SET installed = 0 WHERE portal_id = ? AND app_id = ? "
                "AND installed = 1",
                (portal_id, app_id),
            ):
                return False
            # Queued first: the ONAPPUNINSTALL delivery goes to handlers deleted just below.
            await self._emit(conn, portal_id, events)
            for table in ("tokens", "oauth_codes", "event_handlers"):
                await conn.execute(
                    f"DELETE FROM {table} WHERE portal_id = ? AND app_id = ?",
                    (portal_id, app_id),
                )
            await self._bump_auth(conn)
        return True

    async def install_of(self, portal_id: int, app_id: int) -> Install | None:
        async with self._conn() as conn:
            row = await conn.fetch_one(
                f"SELECT {_INSTALL_COLUMNS} FROM app_installs WHERE portal_id = ? AND app_id = ?",
                (portal_id, app_id),
            )
        return _install(row, self.sealer) if row else None

    async def limit_app(self, portal_id: int, app_id: int, users: Sequence[int]) -> bool:
        async with self._write() as conn:
            changed = await conn.execute(
                "UPDATE app_installs SET allowed_users = ? WHERE portal_id = ? AND app_id = ?",
                (",".join(str(u) for u in users), portal_id, app_id),
            )
            await self._bump_auth(conn)
        return changed > 0

    async def save_code(
        self, code_hash: str, portal_id: int, app_id: int, user_id: int, expires_at: float
    ) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO oauth_codes (code_hash, portal_id, app_id, user_id, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (code_hash, portal_id, app_id, user_id, float(expires_at)),
            )

    async def take_code(self, code_hash: str, spent_until: float) -> tuple[Grant, float] | None:
        async with self._write() as conn:
            # DELETE ... RETURNING: of two concurrent uses of one code, exactly one gets a row.
            row = await conn.fetch_one(
                "DELETE FROM oauth_codes WHERE code_hash = ? "
                "RETURNING portal_id, app_id, user_id, expires_at",
                (code_hash,),
            )
            if row is None:
                return None
            await self._spend(conn, code_hash, code_hash, spent_until)
            grant = await self._grant(conn, row[0], row[1], row[2])
        return (grant, float(row[3])) if grant else None

    async def save_tokens(self, pair: TokenPair, now: float) -> None:
        async with self._conn() as conn:
            await self._insert_tokens(conn, pair, now)

    async def grant(self, access_hash: str) -> Grant | None:
        return await self._token_grant("access_hash", access_hash)

    async def refresh_grant(self, refresh_hash: str) -> Grant | None:
        return await self._token_grant("refresh_hash", refresh_hash)

    async def _token_grant(self, column: str, digest: str) -> Grant | None:
        async with self._conn() as conn:
            row = await conn.fetch_one(_TOKEN_LOOKUP.replace("{column}", column), (digest,))
            return await self._grant(conn, *row) if row else None

    async def grant_for(self, portal_id: int, app_id: int, user_id: int) -> Grant | None:
        async with self._conn() as conn:
            return await self._grant(conn, portal_id, app_id, user_id)

    async def refresh(self, refresh_hash: str, app_id: int, pair: TokenPair, now: float) -> bool:
        async with self._write() as conn:
            # The UPDATE's row lock makes a second, concurrent refresh with the same token find
            # nothing once the first commits: the old refresh token works exactly once, while
            # its access token lives out its lifetime (decisions.md).
            row = await conn.fetch_one(
                "UPDATE tokens SET refresh_hash = 'used:' || access_hash, "
                "refresh_expires_at = 0 WHERE refresh_hash = ? AND app_id = ? "
                "AND refresh_expires_at > ? RETURNING family",
                (refresh_hash, app_id, float(now)),
            )
            if row is None:
                return False
            await self._spend(conn, refresh_hash, row[0], pair.refresh_expires_at)
            await self._insert_tokens(conn, replace(pair, family=row[0]), now)
        return True

    async def revoke_replayed(self, digest: str) -> int:
        async with self._write() as conn:
            row = await conn.fetch_one(
                "SELECT family FROM spent_credentials WHERE digest = ?{for_update}",
                (digest,),
            )
            if row is None:
                return 0
            pairs = await conn.execute("DELETE FROM tokens WHERE family = ?", row)
            await conn.execute("DELETE FROM spent_credentials WHERE family = ?", row)
            await self._bump_auth(conn)  # cached tokens of the family must stop answering
        return pairs

    async def prune_deliveries(self, finished_before: float) -> int:
        async with self._conn() as conn:
            return await conn.execute(
                "DELETE FROM event_outbox WHERE status <> 'pending' "
                "AND COALESCE(delivered_at, next_attempt_at) < ?",
                (float(finished_before),),
            )

    async def prune_credentials(self, now: float, dead_access_before: float) -> int:
        async with self._write() as conn:
            codes = await conn.execute(
                "DELETE FROM oauth_codes WHERE expires_at < ?", (float(now),)
            )
            pairs = await conn.execute(
                "DELETE FROM tokens WHERE refresh_expires_at < ? AND access_expires_at < ?",
                (float(now), float(dead_access_before)),
            )
            spent = await conn.execute(
                "DELETE FROM spent_credentials WHERE expires_at < ? OR NOT EXISTS "
                "(SELECT 1 FROM tokens t WHERE t.family = spent_credentials.family)",
                (float(now),),
            )
            if pairs:
                await self._bump_auth(conn)  # cached tokens: a deleted one must stop answering
        return codes + pairs + spent

    # -- events -------------------------------------------------------------------------------

    async def bind_handler(
        self,
        portal_id: int,
        app_id: int,
        event: str,
        handler: str,
        *,
        auth_type: int,
        offline: bool,
        user_id: int,
        now: float,
    ) -> Handler | None:
        async with self._write() as conn:
            row = await conn.fetch_one(
                "INSERT INTO event_handlers (portal_id, app_id, event, handler, auth_type, "
                "offline, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (portal_id, app_id, event, handler, auth_type) DO NOTHING "
                "RETURNING id",
                (portal_id, app_id, event, handler, auth_type, int(offline), user_id, float(now)),
            )
            if row is None:
                return None
            await self._bump_auth(conn)
        return Handler(int(row[0]), portal_id, app_id, event, handler, auth_type, offline)

    async def unbind_handlers(
        self, portal_id: int, app_id: int, event: str, handler: str, auth_type: int | None
    ) -> int:
        sql = (
            "DELETE FROM event_handlers WHERE portal_id = ? AND app_id = ? AND event = ? "
            "AND handler = ?"
        )
        args: builtins.list[Any] = [portal_id, app_id, event, handler]
        if auth_type is not None:
            sql += " AND auth_type = ?"
            args.append(auth_type)
        async with self._write() as conn:
            count = await conn.execute(sql, args)
            if count:
                await self._bump_auth(conn)
        return count

    async def handlers(self, portal_id: int, app_id: int) -> builtins.list[Handler]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                f"SELECT {_HANDLER_COLUMNS} FROM event_handlers "
                "WHERE portal_id = ? AND app_id = ? ORDER BY id",
                (portal_id, app_id),
            )
        return [Handler(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    async def bound_events(self, portal_id: int) -> frozenset[str]:
        # Handler changes bump the auth version too, so it keeps this cache fresh.
        version = await self.auth_version()
        if version != self._bound_version:
            self._bound.clear()
            self._bound_version = version
        found = self._bound.get(portal_id)
        if found is None:
            async with self._conn() as conn:
                rows = await conn.fetch(
                    "SELECT DISTINCT event FROM event_handlers WHERE portal_id = ?",
                    (portal_id,),
                )
            found = self._bound[portal_id] = frozenset(row[0] for row in rows)
        return found

    async def claim_deliveries(
        self, now: float, limit: int, lease: float
    ) -> builtins.list[Delivery]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "UPDATE event_outbox SET claimed_until = ?, attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM event_outbox WHERE status = 'pending' "
                "AND next_attempt_at <= ? AND claimed_until <= ? ORDER BY id LIMIT ?"
                f"{{skip_locked}}) RETURNING {_DELIVERY_COLUMNS}",
                (float(now + lease), float(now), float(now), limit),
            )
        return sorted((_delivery(row) for row in rows), key=lambda d: d.id)

    async def finish_delivery(
        self, delivery_id: int, *, delivered: bool, status: str, retry_at: float | None, now: float
    ) -> None:
        args: tuple[Any, ...]
        if delivered:
            sql = "UPDATE event_outbox SET status = 'delivered', last_status = ?, delivered_at = ?"
            args = (status, float(now), delivery_id)
        elif retry_at is None:
            sql = "UPDATE event_outbox SET status = 'failed', last_status = ?"
            args = (status, delivery_id)
        else:
            sql = "UPDATE event_outbox SET last_status = ?, next_attempt_at = ?, claimed_until = 0"
            args = (status, float(retry_at), delivery_id)
        async with self._conn() as conn:
            await conn.execute(sql + " WHERE id = ?", args)

    async def deliveries(self, portal_id: int | None, limit: int) -> builtins.list[Delivery]:
        where, args = ("WHERE portal_id = ? ", [portal_id]) if portal_id is not None else ("", [])
        return await self._read_all(
            f"SELECT {_DELIVERY_COLUMNS} FROM event_outbox {where}ORDER BY id DESC LIMIT ?",
            (*args, limit),
            _delivery,
        )

    async def redeliver(self, portal_id: int, delivery_id: int, now: float) -> bool:
        async with self._conn() as conn:
            changed = await conn.execute(
                "UPDATE event_outbox SET status = 'pending', next_attempt_at = ?, "
                "claimed_until = 0 WHERE id = ? AND portal_id = ? "
                "AND (status <> 'pending' OR claimed_until <= ?)",
                (float(now), delivery_id, portal_id, float(now)),
            )
        return bool(changed)

    # -- faults and the journal (the test kit) ---------------------------------------------------

    async def add_fault(
        self,
        portal_id: int,
        *,
        method: str,
        error: str,
        dropped: bool,
        delay: float,
        times: int | None,
        probability: float,
        seed: int | None,
        now: float,
    ) -> Fault:
        async with self._write() as conn:
            row = await conn.fetch_one(
                "INSERT INTO faults (portal_id, method, error, dropped, delay, times, "
                "probability, seed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (portal_id, method, error, int(dropped), float(delay), times,
                 float(probability), seed, float(now)),
            )  # fmt: skip
            assert row is not None
            await self._bump_auth(conn)  # running servers reload their faults
        return Fault(int(row[0]), portal_id, method, error, dropped, float(delay), times, 0,
                     float(probability), seed, float(now))  # fmt: skip

    async def faults(self, portal_id: int | None) -> builtins.list[Fault]:
        where, args = ("WHERE portal_id = ? ", (portal_id,)) if portal_id is not None else ("", ())
        return await self._read_all(
            f"SELECT {_FAULT_COLUMNS} FROM faults {where}ORDER BY id", args, _fault
        )

    async def remove_fault(self, fault_id: int, portal_id: int | None = None) -> bool:
        sql, args = "DELETE FROM faults WHERE id = ?", [fault_id]
        if portal_id is not None:
            sql += " AND portal_id = ?"
            args.append(portal_id)
        async with self._write() as conn:
            removed = await conn.execute(sql, args)
            if removed:
                await self._bump_auth(conn)
        return removed > 0

    async def clear_faults(self, portal_id: int | None) -> int:
        where, args = ("WHERE portal_id = ?", (portal_id,)) if portal_id is not None else ("", ())
        async with self._write() as conn:
            removed = await conn.execute(f"DELETE FROM faults {where}", args)
            if removed:
                await self._bump_auth(conn)
        return removed

    async def fire_fault(self, fault_id: int) -> bool:
        async with self._conn() as conn:
            row = await conn.fetch_one(
                "UPDATE faults SET fired = fired + 1 "
                "WHERE id = ? AND (times IS NULL OR fired < times) RETURNING id",
                (fault_id,),
            )
        return row is not None

    async def write_journal(self, rows: Sequence[Sequence[Any]], keep: int) -> None:
        if not rows:
            return
        portals = sorted({int(row[0]) for row in rows})
        async with self._write() as conn:
            await conn.executemany(_JOURNAL_INSERT, rows)
            for portal_id in portals:
                await conn.execute(_JOURNAL_TRIM, (portal_id, portal_id, max(keep, 1) - 1))

    async def journal(self, query: JournalQuery) -> builtins.list[Row]:
        sql = f"SELECT id, {', '.join(JOURNAL_COLUMNS)} FROM journal WHERE portal_id = ?"
        args: builtins.list[Any] = [query.portal_id]
        if query.method:
            sql += " AND lower(method) = ?"
            args.append(query.method.lower())
        if query.status is not None:
            sql += " AND status = ?"
            args.append(query.status)
        if query.since is not None:
            sql += " AND at >= ?"
            args.append(float(query.since))
        if query.after is not None:
            sql += " AND id > ?"
            args.append(query.after)
        async with self._conn() as conn:
            return await conn.fetch_named(sql + " ORDER BY id DESC LIMIT ?", (*args, query.limit))

    # -- moving data between stores -----------------------------------------------------------

    async def dump(
        self, table: str, after: tuple[Any, ...] | None, limit: int
    ) -> builtins.list[Row]:
        keys = COPY_TABLES[table]
        key_list = ", ".join(keys)
        where = ""
        args: builtins.list[Any] = []
        if after is not None:
            where = f"WHERE ({key_list}) > ({', '.join('?' for _ in keys)}) "
            args.extend(after)
        async with self._conn() as conn:
            rows = await conn.fetch_named(
                f"SELECT * FROM {ident(table)} {where}ORDER BY {key_list} LIMIT ?",
                (*args, limit),
            )
        if table == "app_installs":  # in clear between stores: each seals under its own key
            for row in rows:
                context = token_context(row["portal_id"], row["app_id"])
                row["application_token"] = self.sealer.open(row["application_token"], context)
        return rows

    async def load(self, table: str, rows: Sequence[Row]) -> int:
        if table not in COPY_TABLES:
            raise ValueError(table)
        if not rows:
            return 0
        columns = [ident(c) for c in rows[0]]
        if table == "app_installs":
            rows = [
                {
                    **row,
                    "application_token": self.sealer.seal(
                        row["application_token"], token_context(row["portal_id"], row["app_id"])
                    ),
                }
                for row in rows
            ]
        async with self._write() as conn:
            added = await self._insert_rows(conn, ident(table), columns, rows)
            if "id" in columns:
                await self._ids_at_least(conn, table, max(int(row["id"]) for row in rows))
            if table in AUTH_TABLES:
                await self._bump_auth(conn)
        return added

    async def count(self, table: str) -> int:
        if table not in COPY_TABLES:
            raise ValueError(table)
        async with self._conn() as conn:
            row = await conn.fetch_one(f"SELECT COUNT(*) FROM {ident(table)}")
        return int(row[0]) if row else 0

    def group(self) -> AbstractAsyncContextManager[Group]:
        raise NotImplementedError


def _portal(row: Sequence[Any]) -> Portal:
    return Portal(int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), float(row[5]))


# What `reset` empties, children first: every entity table (users stay, with their credentials).
_RESET_TABLES = (
    "bindings", "product_rows", "property_values", "basket_items", "payments", "shipments",
    "orders", "deals", "invoices", "legacy_invoices", "crm_statuses", "deal_categories",
    "contact_companies", "contacts", "companies", "properties", "property_groups",
    "person_types", "crm_userfields", "crm_items", "crm_types",
)  # fmt: skip

# A deleted row's id, held elsewhere: (table, its single-id column, its id-list column or None,
# the single column's empty value).
_LINKS: dict[str, tuple[tuple[str, str, str | None, int | None], ...]] = {
    "contacts": (("deals", "contact_id", "contact_ids", 0),),
    "companies": (
        ("deals", "company_id", None, 0),
        ("contacts", "company_id", "company_ids", None),
    ),
}


# Rows that go with a deleted row: (table, the column naming it). A contact's or a company's
# links (crm-contact-delete.md, crm-company-delete.md); the contacts' COMPANY_IDS follow above.
_OWNED: dict[str, tuple[tuple[str, str], ...]] = {
    "contacts": (("contact_companies", "contact_id"),),
    "companies": (("contact_companies", "company_id"),),
}


async def _unlink(
    conn: Connection,
    portal_id: int,
    gone: int,
    table: str,
    one: str,
    many: str | None,
    none: int | None,
) -> None:
    """Take `gone` out of `table`'s links: the id list loses it, and the single id becomes the
    list's first (or `none`). The lists are JSON text in both engines, so they are rewritten
    here rather than in SQL."""
    if many is None:
        await conn.execute(
            f"UPDATE {table} SET {one} = ? WHERE portal_id = ? AND {one} = ?",
            (none, portal_id, gone),
        )
        return
    rows = await conn.fetch(
        f"SELECT id, {many} FROM {table} WHERE portal_id = ? AND ({one} = ? OR {many} LIKE ?)",
        (portal_id, gone, f"%{gone}%"),
    )
    for row_id, raw in rows:
        ids = [i for i in orjson.loads(raw or "[]") if int(i) != gone]
        await conn.execute(
            f"UPDATE {table} SET {one} = ?, {many} = ? WHERE portal_id = ? AND id = ?",
            (ids[0] if ids else none, orjson.dumps(ids).decode(), portal_id, row_id),
        )


def _entity(table: str) -> str:
    if table not in ENTITY_TABLES:
        raise ValueError(f"not an entity table: {table!r}")
    return table


def _app(row: Sequence[Any]) -> App:
    scopes = tuple(s for s in str(row[5]).split(",") if s)
    return App(int(row[0]), int(row[1]), row[2], row[3], row[4], scopes, row[6], row[7])


def _install(row: Sequence[Any], sealer: Sealer) -> Install:
    users = tuple(int(u) for u in str(row[5]).split(",") if u)
    token = sealer.open(row[3], token_context(row[0], row[1]))
    return Install(int(row[0]), int(row[1]), bool(row[2]), token, int(row[4]), users)


def _user(row: Sequence[Any]) -> User:
    """A User from `_USER_COLUMNS` in their order."""
    return User(int(row[0]), int(row[1]), row[2], int(row[3]), bool(row[4]), row[5], row[6])


def _webhook(row: Sequence[Any]) -> Webhook:
    scopes = tuple(s for s in str(row[4]).split(",") if s)
    return Webhook(int(row[0]), int(row[1]), int(row[2]), row[3], scopes, bool(row[5]), row[6])


def _fault(row: Sequence[Any]) -> Fault:
    return Fault(
        id=int(row[0]), portal_id=int(row[1]), method=row[2], error=row[3],
        dropped=bool(row[4]), delay=float(row[5]),
        times=None if row[6] is None else int(row[6]), fired=int(row[7]),
        probability=float(row[8]), seed=None if row[9] is None else int(row[9]),
        created_at=float(row[10]),
    )  # fmt: skip


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(
        id=int(row[0]), portal_id=int(row[1]), app_id=int(row[2]), handler_id=row[3],
        handler=row[4], event=row[5], data=orjson.loads(row[6]), user_id=int(row[7]),
        with_tokens=bool(row[8]), created_at=float(row[9]), attempts=int(row[10]),
        status=row[11], last_status=row[12], delivered_at=row[13],
    )  # fmt: skip
