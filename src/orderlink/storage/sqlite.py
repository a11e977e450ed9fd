"""The embedded store: stdlib sqlite3 in WAL mode, one connection, called on the event loop.

Each operation is a handful of indexed statements that take microseconds, so they run inline
rather than on a thread pool (STYLE.md pattern 5); the one slow thing SQLite does, the WAL
checkpoint, runs on a background thread with its own connection. Writes that read first take
`BEGIN IMMEDIATE`, so another process on the same file (the CLI, a second worker) cannot slip in
between the check and the write. A committed transaction is in the WAL before `COMMIT` returns,
so it survives a killed process (`synchronous=NORMAL`; `FULL` also survives power loss).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from orderlink.sealing import KeySource, Sealer, is_sealed, token_context
from orderlink.storage import migrations
from orderlink.storage.base import (
    COPY_TABLES,
    AddBinding,
    App,
    Binding,
    DeleteBinding,
    Delivery,
    Emit,
    Grant,
    Group,
    Handler,
    Install,
    ListQuery,
    ListResult,
    Portal,
    Row,
    StoreUnavailable,
    Table,
    TokenPair,
    User,
    Webhook,
    fill_id,
    sqlite_failure,
)
from orderlink.storage.sql import SQLITE, count_sql, ident, select_sql
from orderlink.storage.waiting import waiting

# Another process's commit is noticed within this many seconds (auth and event-handler caches).
DATA_VERSION_TTL = 0.005
# Statistics are refreshed this often (seconds) as tables grow.
ANALYZE_EVERY = 300.0
_ENTITY_TABLES = frozenset({"orders", "deals", "invoices", "legacy_invoices"})
# Entities whose rows a binding may point at, by owner type (the `bindings` owner columns).
_OWNER_TYPES: dict[str, tuple[int, ...]] = {
    "deals": (2,),
    "invoices": (31,),
    "legacy_invoices": (5,),
}


def path_from_url(url: str) -> str:
    """`sqlite:///rel.db`, `sqlite:////abs.db` or `sqlite:///:memory:` -> a sqlite3 path."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r} (expected sqlite:///path.db)")
    return url[len("sqlite:///") :] or ":memory:"


class SQLiteStore:
    def __init__(
        self,
        url: str,
        *,
        synchronous: str = "NORMAL",
        cache_mb: int = 64,
        checkpoint_every: float = 1.0,
        keys: KeySource | None = None,
    ):
        self.path = path_from_url(url)
        # application_token is sealed under this key (sealing.py).
        self._keys = keys if keys is not None else KeySource.for_database(url)
        self._sealer: Sealer | None = None
        self._synchronous = synchronous if synchronous in ("NORMAL", "FULL") else "NORMAL"
        self._checkpoint_every = checkpoint_every
        self._cache_kib = max(cache_mb, 1) * 1024
        self._conn: sqlite3.Connection | None = None
        self._auth_writes = 0
        self._data_version: object = None
        self._data_version_at = -1.0
        self._bound: dict[int, frozenset[str]] = {}
        self._bound_version: object = None
        self._grouped = False
        self._group_task: asyncio.Task[Any] | None = None
        self._group_lock = asyncio.Lock()
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    async def open(self, *, upgrade: bool = True) -> None:
        self.open_sync(upgrade=upgrade)

    def open_sync(self, *, upgrade: bool = True) -> None:
        memory = self.path == ":memory:"
        if not memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        conn.execute("PRAGMA busy_timeout = 10000")
        if not memory:
            conn.execute("PRAGMA journal_mode = WAL")
            # Checkpoints run on the background thread instead of inside some request's COMMIT.
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        # A page cache that holds the hot part of the bindings and their indexes; the default
        # (2 MB) makes random order ids miss on nearly every lookup.
        conn.execute(f"PRAGMA cache_size = -{self._cache_kib}")
        conn.execute("PRAGMA foreign_keys = ON")
        self._conn = conn
        try:
            self._migrate(upgrade)
            self._seal_stored()
        except BaseException:
            conn.close()
            self._conn = None
            raise
        # The planner needs row statistics to prefer a selective index over the primary key
        # (a list filtered by ownerId and ordered by orderId otherwise scans every binding).
        with contextlib.suppress(sqlite3.OperationalError):
            _analyze(conn)
        if not memory:
            self._stop.clear()
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="orderlink-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    async def close(self) -> None:
        self.close_sync()

    def close_sync(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
            self._checkpointer = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _checkpoint_loop(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        analyzed = time.monotonic()
        try:
            while not self._stop.wait(self._checkpoint_every):
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                if time.monotonic() - analyzed > ANALYZE_EVERY:
                    analyzed = time.monotonic()
                    with contextlib.suppress(sqlite3.Error):
                        _analyze(conn)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailable("the SQLite store is not open")
        return self._conn

    def schema_version(self) -> int:
        cur = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        )
        if cur.fetchone() is None:
            return 0
        row = self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def _seal_stored(self) -> None:
        """Take the key (creating its file only while nothing is sealed yet), check it opens
        what is sealed, and seal application tokens stored in clear before sealing existed;
        idempotent, and safe with another process doing the same."""
        rows = self.conn.execute(
            "SELECT portal_id, app_id, application_token FROM app_installs"
        ).fetchall()
        sample = next((row for row in rows if is_sealed(row[2])), None)
        sealer = self._keys.sealer(may_create=sample is None)
        if sample is not None:
            sealer.open(sample[2], token_context(sample[0], sample[1]))
        clear = [row for row in rows if row[2] and not is_sealed(row[2])]
        if clear:
            with self._write() as conn:
                conn.executemany(
                    "UPDATE app_installs SET application_token = ? "
                    "WHERE portal_id = ? AND app_id = ? AND application_token = ?",
                    [
                        (sealer.seal(token, token_context(p, a)), p, a, token)
                        for p, a, token in clear
                    ],
                )
        self._sealer = sealer

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            raise StoreUnavailable("the SQLite store is not open")
        return self._sealer

    def _migrate(self, upgrade: bool) -> None:
        steps = migrations.migrations("sqlite")
        with self._write():
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            current = self.schema_version()
            if current > len(steps):
                raise migrations.SchemaTooNew(current, len(steps))
            if current < len(steps) and not upgrade:
                raise migrations.SchemaTooOld(current, len(steps))
            for step in steps[current:]:
                for statement in _statements(step.sql):
                    self.conn.execute(statement)
                self.conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) "
                    "VALUES (?, ?, julianday('now'))",
                    (step.version, step.name),
                )

    @contextlib.asynccontextmanager
    async def group(self) -> AsyncIterator[Group]:
        """One transaction for several operations (a `batch`): each step is a savepoint that
        succeeds or fails alone, and nothing is durable, or answered, before the final COMMIT.
        Other requests of this process wait at their next store call until the group ends."""
        with waiting():
            await self._group_lock.acquire()
        self._group_task = asyncio.current_task()
        try:
            with _transaction(self.conn) as conn:
                self._grouped = True
                yield _SavepointGroup(conn)
        finally:
            self._grouped = False
            self._group_task = None
            self._group_lock.release()

    async def _turn(self) -> None:
        """Wait while another task's group holds the connection (its own steps pass)."""
        if not self._grouped or asyncio.current_task() is self._group_task:
            return
        with waiting():
            while self._grouped and asyncio.current_task() is not self._group_task:
                async with self._group_lock:
                    pass

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        if self._grouped:
            # Inside a group the transaction is open and the group's step is a savepoint that
            # undoes this write if the step fails.
            yield conn
            return
        with _transaction(conn):
            yield conn

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        try:
            return self.conn.execute(sql, args).fetchone()
        except sqlite3.OperationalError as exc:
            raise sqlite_failure(exc) from exc

    # -- portals, users, webhooks -------------------------------------------------------------

    async def bootstrap(self, *, now: float) -> tuple[Portal, bool]:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            existing = self._default_portal()
            if existing is not None:
                return existing, False
            member_id = secrets.token_hex(16)
            cur = conn.execute(
                "INSERT INTO portals (domain, member_id, created_at) VALUES (?, ?, ?)",
                ("orderlink.local", member_id, now),
            )
            portal_id = int(cur.lastrowid or 0)
            conn.execute(
                "INSERT INTO users (portal_id, id, name, store_role, is_admin) "
                "VALUES (?, 1, 'Administrator', 2, 1)",
                (portal_id,),
            )
            self._bump_auth(conn)
            return Portal(portal_id, "orderlink.local", member_id), True

    def _default_portal(self) -> Portal | None:
        row = self._one("SELECT id, domain, member_id FROM portals ORDER BY id LIMIT 1")
        return Portal(int(row[0]), row[1], row[2]) if row else None

    async def default_portal(self) -> Portal | None:
        if self._grouped:
            await self._turn()
        return self._default_portal()

    async def set_info(self, key: str, value: str, now: float) -> None:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO server_info (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (key, value, now),
            )

    async def info(self, key: str) -> str | None:
        if self._grouped:
            await self._turn()
        row = self._one("SELECT value FROM server_info WHERE key = ?", (key,))
        return str(row[0]) if row else None

    def _bump_auth(self, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE auth_version SET version = version + 1 WHERE id = 1")
        self._auth_writes += 1

    async def add_user(self, portal_id: int, name: str, store_role: int) -> User:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            row = conn.execute(
                "SELECT COALESCE(MAX(id), 0) + 1 FROM users WHERE portal_id = ?", (portal_id,)
            ).fetchone()
            user_id = int(row[0])
            conn.execute(
                "INSERT INTO users (portal_id, id, name, store_role, is_admin) "
                "VALUES (?, ?, ?, ?, 0)",
                (portal_id, user_id, name, store_role),
            )
            self._bump_auth(conn)
        return User(user_id, portal_id, name, store_role, False)

    async def get_user(self, portal_id: int, user_id: int) -> User | None:
        if self._grouped:
            await self._turn()
        row = self._one(
            "SELECT id, portal_id, name, store_role, is_admin FROM users "
            "WHERE portal_id = ? AND id = ?",
            (portal_id, user_id),
        )
        return User(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    async def users(self, portal_id: int) -> builtins.list[User]:
        if self._grouped:
            await self._turn()
        try:
            rows = self.conn.execute(
                "SELECT id, portal_id, name, store_role, is_admin FROM users "
                "WHERE portal_id = ? ORDER BY id",
                (portal_id,),
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise sqlite_failure(exc) from exc
        return [User(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    async def add_webhook(
        self, portal_id: int, user_id: int, code_hash: str, scopes: Sequence[str], now: float
    ) -> Webhook:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO webhooks (portal_id, user_id, code_hash, scopes, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (portal_id, user_id, code_hash, ",".join(scopes), now),
            )
            self._bump_auth(conn)
        return Webhook(
            int(cur.lastrowid or 0), portal_id, user_id, code_hash, tuple(scopes), True, now
        )

    async def list_webhooks(self, portal_id: int) -> list[Webhook]:
        if self._grouped:
            await self._turn()
        cur = self.conn.execute(
            "SELECT id, portal_id, user_id, code_hash, scopes, active, created_at FROM webhooks "
            "WHERE portal_id = ? ORDER BY id",
            (portal_id,),
        )
        return [_webhook(row) for row in cur.fetchall()]

    async def revoke_webhook(self, portal_id: int, webhook_id: int) -> bool:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE webhooks SET active = 0 WHERE portal_id = ? AND id = ? AND active = 1",
                (portal_id, webhook_id),
            )
            if cur.rowcount:
                self._bump_auth(conn)
            return cur.rowcount > 0

    async def webhooks_of_user(self, user_id: int) -> list[tuple[Webhook, User]]:
        if self._grouped:
            await self._turn()
        try:
            cur = self.conn.execute(
                "SELECT w.id, w.portal_id, w.user_id, w.code_hash, w.scopes, w.active, "
                "w.created_at, u.name, u.store_role, u.is_admin "
                "FROM webhooks w JOIN users u ON u.portal_id = w.portal_id AND u.id = w.user_id "
                "WHERE w.user_id = ? AND w.active = 1",
                (user_id,),
            )
            rows = cur.fetchall()
        except sqlite3.OperationalError as exc:
            raise sqlite_failure(exc) from exc
        return [
            (_webhook(row[:7]), User(row[2], row[1], row[7], row[8], bool(row[9]))) for row in rows
        ]

    async def auth_version(self) -> object:
        if self._grouped:
            await self._turn()
        # `data_version` changes when another connection (the CLI, another worker) commits;
        # this connection's own user/webhook writes count in `_auth_writes`. Reading it at most
        # every few milliseconds keeps it off the per-request path; another process's change
        # (a revoked webhook) is seen that much later, this process's at once.
        now = time.monotonic()
        if now - self._data_version_at > DATA_VERSION_TTL:
            self._data_version = self._one("PRAGMA data_version")[0]
            self._data_version_at = now
        return (self._data_version, self._auth_writes)

    # -- bindings -----------------------------------------------------------------------------

    async def add_binding(
        self,
        portal_id: int,
        binding: Binding,
        *,
        owner_table: Table | None,
        events: Sequence[Emit] = (),
    ) -> AddBinding:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            found = conn.execute(
                "SELECT b.owner_type_id, b.owner_id FROM orders o LEFT JOIN bindings b "
                "ON b.portal_id = o.portal_id AND b.order_id = o.id "
                "WHERE o.portal_id = ? AND o.id = ?",
                (portal_id, binding.order_id),
            ).fetchone()
            if found is None:
                return AddBinding.NO_ORDER
            if (
                owner_table is not None
                and not conn.execute(
                    f"SELECT 1 FROM {ident(owner_table)} WHERE portal_id = ? AND id = ?",
                    (portal_id, binding.owner_id),
                ).fetchone()
            ):
                return AddBinding.NO_OWNER
            current = None if found[0] is None else tuple(found)
            if current is None:
                conn.execute(
                    "INSERT INTO bindings (portal_id, order_id, owner_type_id, owner_id) "
                    "VALUES (?, ?, ?, ?)",
                    (portal_id, binding.order_id, binding.owner_type_id, binding.owner_id),
                )
                _emit(conn, portal_id, events)
                return AddBinding.ADDED
            if current == (binding.owner_type_id, binding.owner_id):
                return AddBinding.DUPLICATE
            conn.execute(
                "UPDATE bindings SET owner_type_id = ?, owner_id = ? "
                "WHERE portal_id = ? AND order_id = ?",
                (binding.owner_type_id, binding.owner_id, portal_id, binding.order_id),
            )
            _emit(conn, portal_id, events)
            return AddBinding.REPLACED

    async def delete_binding(
        self, portal_id: int, binding: Binding, *, events: Sequence[Emit] = ()
    ) -> DeleteBinding:
        if self._grouped:
            await self._turn()
        delete = (
            "DELETE FROM bindings WHERE portal_id = ? AND order_id = ? "
            "AND owner_type_id = ? AND owner_id = ?"
        )
        args = (portal_id, binding.order_id, binding.owner_type_id, binding.owner_id)
        if events:
            with self._write() as conn:
                deleted = conn.execute(delete, args).rowcount > 0
                if deleted:
                    _emit(conn, portal_id, events)
        else:
            try:  # the hot path: one autocommitted statement
                deleted = self.conn.execute(delete, args).rowcount > 0
            except sqlite3.OperationalError as exc:
                raise sqlite_failure(exc) from exc
        if deleted:
            return DeleteBinding.DELETED
        if self._one(
            "SELECT 1 FROM orders WHERE portal_id = ? AND id = ?", (portal_id, binding.order_id)
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
        if self._grouped:
            await self._turn()
        columns, marks, args = _insert_parts(portal_id, values)
        with self._write() as conn:
            cur = conn.execute(f"INSERT INTO {_entity(table)} ({columns}) VALUES ({marks})", args)
            row_id = int(cur.lastrowid or 0)
            if templates:
                filled = {col: text.format(id=row_id) for col, text in templates.items()}
                assignments = ", ".join(f"{ident(col)} = ?" for col in filled)
                conn.execute(
                    f"UPDATE {_entity(table)} SET {assignments} WHERE id = ?",
                    (*filled.values(), row_id),
                )
            _emit(conn, portal_id, events, row_id)
        return row_id

    async def insert_with_id(self, portal_id: int, table: Table, values: Row) -> None:
        if self._grouped:
            await self._turn()
        columns, marks, args = _insert_parts(portal_id, values)
        with self._write() as conn:
            conn.execute(f"INSERT INTO {_entity(table)} ({columns}) VALUES ({marks})", args)

    async def get(self, portal_id: int, table: Table, row_id: int) -> Row | None:
        if self._grouped:
            await self._turn()
        cur = self.conn.execute(
            f"SELECT * FROM {_entity(table)} WHERE portal_id = ? AND id = ?", (portal_id, row_id)
        )
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    async def update(
        self,
        portal_id: int,
        table: Table,
        row_id: int,
        values: Row,
        *,
        events: Sequence[Emit] = (),
    ) -> Row | None:
        if self._grouped:
            await self._turn()
        if values:
            assignments = ", ".join(f"{ident(col)} = ?" for col in values)
            with self._write() as conn:
                cur = conn.execute(
                    f"UPDATE {_entity(table)} SET {assignments} WHERE portal_id = ? AND id = ?",
                    (*values.values(), portal_id, row_id),
                )
                if not cur.rowcount:
                    return None
                _emit(conn, portal_id, events, row_id)
        return await self.get(portal_id, table, row_id)

    async def delete(
        self, portal_id: int, table: Table, row_id: int, *, events: Sequence[Emit] = ()
    ) -> bool:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            for owner_type in _OWNER_TYPES.get(table, ()):
                conn.execute(
                    "DELETE FROM bindings WHERE portal_id = ? AND owner_type_id = ? "
                    "AND owner_id = ?",
                    (portal_id, owner_type, row_id),
                )
            if table == "deals":
                conn.execute(
                    "UPDATE invoices SET parent_id2 = NULL WHERE portal_id = ? AND parent_id2 = ?",
                    (portal_id, row_id),
                )
            # A deleted order takes its binding with it through the foreign key.
            cur = conn.execute(
                f"DELETE FROM {_entity(table)} WHERE portal_id = ? AND id = ?", (portal_id, row_id)
            )
            if cur.rowcount:
                _emit(conn, portal_id, events, row_id)
            return cur.rowcount > 0

    async def list(self, query: ListQuery) -> ListResult:
        if self._grouped:
            await self._turn()
        sql, args = select_sql(query, SQLITE)
        try:
            cur = self.conn.execute(sql, args)
            names = list(query.columns)
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            total = None
            if query.count:
                if query.offset == 0 and query.limit is not None and len(rows) < query.limit:
                    total = len(rows)
                else:
                    count, count_args = count_sql(query, SQLITE)
                    total = int(self.conn.execute(count, count_args).fetchone()[0])
        except sqlite3.OperationalError as exc:
            raise sqlite_failure(exc) from exc
        return ListResult(rows, total)

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
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO apps (portal_id, name, client_id, secret_hash, scopes, redirect_uri, "
                "handler_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (portal_id, name, client_id, secret_hash, ",".join(scopes), redirect_uri,
                 handler_url, now),
            )  # fmt: skip
            self._bump_auth(conn)
        return App(int(cur.lastrowid or 0), portal_id, name, client_id, secret_hash,
                   tuple(scopes), redirect_uri, handler_url)  # fmt: skip

    async def app(self, client_id: str) -> App | None:
        if self._grouped:
            await self._turn()
        row = self._one(f"SELECT {_APP_COLUMNS} FROM apps WHERE client_id = ?", (client_id,))
        return _app(row) if row else None

    async def apps(self, portal_id: int) -> builtins.list[App]:
        if self._grouped:
            await self._turn()
        cur = self.conn.execute(
            f"SELECT {_APP_COLUMNS} FROM apps WHERE portal_id = ? ORDER BY id", (portal_id,)
        )
        return [_app(row) for row in cur.fetchall()]

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
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO app_installs (portal_id, app_id, installed, application_token, "
                "installed_by, installed_at) VALUES (?, ?, 1, ?, ?, ?) "
                "ON CONFLICT (portal_id, app_id) DO UPDATE SET installed = 1, "
                "installed_by = excluded.installed_by, installed_at = excluded.installed_at",
                (
                    portal_id,
                    app_id,
                    self.sealer.seal(application_token, token_context(portal_id, app_id)),
                    user_id,
                    now,
                ),
            )
            _emit(conn, portal_id, events)
            self._bump_auth(conn)
            row = conn.execute(
                f"SELECT {_INSTALL_COLUMNS} FROM app_installs WHERE portal_id = ? AND app_id = ?",
                (portal_id, app_id),
            ).fetchone()
        return _install(row, self.sealer)

    async def uninstall_app(
        self, portal_id: int, app_id: int, *, events: Sequence[Emit] = ()
    ) -> bool:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE app_installs SET installed = 0 WHERE portal_id = ? AND app_id = ? "
                "AND installed = 1",
                (portal_id, app_id),
            )
            if not cur.rowcount:
                return False
            _emit(conn, portal_id, events)
            for table in ("tokens", "oauth_codes", "event_handlers"):
                conn.execute(
                    f"DELETE FROM {table} WHERE portal_id = ? AND app_id = ?", (portal_id, app_id)
                )
            self._bump_auth(conn)
            return True

    async def install_of(self, portal_id: int, app_id: int) -> Install | None:
        if self._grouped:
            await self._turn()
        row = self._one(
            f"SELECT {_INSTALL_COLUMNS} FROM app_installs WHERE portal_id = ? AND app_id = ?",
            (portal_id, app_id),
        )
        return _install(row, self.sealer) if row else None

    async def limit_app(self, portal_id: int, app_id: int, users: Sequence[int]) -> bool:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE app_installs SET allowed_users = ? WHERE portal_id = ? AND app_id = ?",
                (",".join(str(u) for u in users), portal_id, app_id),
            )
            self._bump_auth(conn)
            return cur.rowcount > 0

    async def save_code(
        self, code_hash: str, portal_id: int, app_id: int, user_id: int, expires_at: float
    ) -> None:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO oauth_codes (code_hash, portal_id, app_id, user_id, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (code_hash, portal_id, app_id, user_id, expires_at),
            )

    async def take_code(self, code_hash: str, spent_until: float) -> tuple[Grant, float] | None:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            row = conn.execute(
                "DELETE FROM oauth_codes WHERE code_hash = ? "
                "RETURNING portal_id, app_id, user_id, expires_at",
                (code_hash,),
            ).fetchone()
            if row is not None:
                _spend(conn, code_hash, code_hash, spent_until)
        if row is None:
            return None
        grant = self._grant(row[0], row[1], row[2])
        return (grant, float(row[3])) if grant else None

    def _grant(
        self, portal_id: int, app_id: int, user_id: int, access: float = 0, refresh: float = 0
    ) -> Grant | None:
        row = self._one(
            f"SELECT {_APP_COLUMNS_A}, {_INSTALL_COLUMNS_I}, u.id, u.portal_id, u.name, "
            "u.store_role, u.is_admin FROM apps a "
            "JOIN app_installs i ON i.app_id = a.id AND i.portal_id = ? "
            "JOIN users u ON u.portal_id = i.portal_id AND u.id = ? WHERE a.id = ?",
            (portal_id, user_id, app_id),
        )
        if row is None:
            return None
        user = User(row[14], row[15], row[16], row[17], bool(row[18]))
        return Grant(
            portal_id, _app(row[:8]), _install(row[8:14], self.sealer), user, access, refresh
        )

    async def save_tokens(self, pair: TokenPair, now: float) -> None:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            _insert_tokens(conn, pair, now)

    async def grant(self, access_hash: str) -> Grant | None:
        if self._grouped:
            await self._turn()
        row = self._one(
            "SELECT portal_id, app_id, user_id, access_expires_at, refresh_expires_at "
            "FROM tokens WHERE access_hash = ?",
            (access_hash,),
        )
        return self._grant(*row) if row else None

    async def refresh_grant(self, refresh_hash: str) -> Grant | None:
        if self._grouped:
            await self._turn()
        row = self._one(
            "SELECT portal_id, app_id, user_id, access_expires_at, refresh_expires_at "
            "FROM tokens WHERE refresh_hash = ?",
            (refresh_hash,),
        )
        return self._grant(*row) if row else None

    async def grant_for(self, portal_id: int, app_id: int, user_id: int) -> Grant | None:
        if self._grouped:
            await self._turn()
        return self._grant(portal_id, app_id, user_id)

    async def refresh(self, refresh_hash: str, app_id: int, pair: TokenPair, now: float) -> bool:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            # The old refresh token dies; its access token lives out its hour (decisions.md).
            row = conn.execute(
                "UPDATE tokens SET refresh_hash = 'used:' || access_hash, refresh_expires_at = 0 "
                "WHERE refresh_hash = ? AND app_id = ? AND refresh_expires_at > ? "
                "RETURNING family",
                (refresh_hash, app_id, now),
            ).fetchone()
            if row is None:
                return False
            _spend(conn, refresh_hash, row[0], pair.refresh_expires_at)
            _insert_tokens(conn, replace(pair, family=row[0]), now)
            return True

    async def revoke_replayed(self, digest: str) -> int:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            row = conn.execute(
                "SELECT family FROM spent_credentials WHERE digest = ?", (digest,)
            ).fetchone()
            if row is None:
                return 0
            pairs = conn.execute("DELETE FROM tokens WHERE family = ?", (row[0],)).rowcount
            conn.execute("DELETE FROM spent_credentials WHERE family = ?", (row[0],))
            self._bump_auth(conn)  # cached tokens of the family must stop answering
            return int(pairs)

    async def prune_deliveries(self, finished_before: float) -> int:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM event_outbox WHERE status <> 'pending' "
                "AND COALESCE(delivered_at, next_attempt_at) < ?",
                (finished_before,),
            ).rowcount

    async def prune_credentials(self, now: float, dead_access_before: float) -> int:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            codes = conn.execute("DELETE FROM oauth_codes WHERE expires_at < ?", (now,)).rowcount
            pairs = conn.execute(
                "DELETE FROM tokens WHERE refresh_expires_at < ? AND access_expires_at < ?",
                (now, dead_access_before),
            ).rowcount
            spent = conn.execute(
                "DELETE FROM spent_credentials WHERE expires_at < ? OR NOT EXISTS "
                "(SELECT 1 FROM tokens t WHERE t.family = spent_credentials.family)",
                (now,),
            ).rowcount
            if pairs:
                self._bump_auth(conn)  # cached tokens: a deleted one must stop answering
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
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO event_handlers (portal_id, app_id, event, handler, auth_type, "
                "offline, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (portal_id, app_id, event, handler, auth_type) DO NOTHING",
                (portal_id, app_id, event, handler, auth_type, int(offline), user_id, now),
            )
            if not cur.rowcount:
                return None
            self._bump_auth(conn)
        return Handler(int(cur.lastrowid or 0), portal_id, app_id, event, handler, auth_type,
                       offline)  # fmt: skip

    async def unbind_handlers(
        self, portal_id: int, app_id: int, event: str, handler: str, auth_type: int | None
    ) -> int:
        if self._grouped:
            await self._turn()
        sql = (
            "DELETE FROM event_handlers WHERE portal_id = ? AND app_id = ? AND event = ? "
            "AND handler = ?"
        )
        args: list[Any] = [portal_id, app_id, event, handler]
        if auth_type is not None:
            sql += " AND auth_type = ?"
            args.append(auth_type)
        with self._write() as conn:
            count = int(conn.execute(sql, args).rowcount)
            if count:
                self._bump_auth(conn)
            return count

    async def handlers(self, portal_id: int, app_id: int) -> builtins.list[Handler]:
        if self._grouped:
            await self._turn()
        cur = self.conn.execute(
            "SELECT id, portal_id, app_id, event, handler, auth_type, offline "
            "FROM event_handlers WHERE portal_id = ? AND app_id = ? ORDER BY id",
            (portal_id, app_id),
        )
        return [
            Handler(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]))
            for row in cur.fetchall()
        ]

    async def bound_events(self, portal_id: int) -> frozenset[str]:
        if self._grouped:
            await self._turn()
        version = await self.auth_version()
        if version != self._bound_version:
            self._bound.clear()
            self._bound_version = version
        found = self._bound.get(portal_id)
        if found is None:
            cur = self.conn.execute(
                "SELECT DISTINCT event FROM event_handlers WHERE portal_id = ?", (portal_id,)
            )
            found = self._bound[portal_id] = frozenset(row[0] for row in cur.fetchall())
        return found

    async def claim_deliveries(
        self, now: float, limit: int, lease: float
    ) -> builtins.list[Delivery]:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            rows = conn.execute(
                f"UPDATE event_outbox SET claimed_until = ?, attempts = attempts + 1 "
                f"WHERE id IN (SELECT id FROM event_outbox WHERE status = 'pending' "
                f"AND next_attempt_at <= ? AND claimed_until <= ? ORDER BY id LIMIT ?) "
                f"RETURNING {_DELIVERY_COLUMNS}",
                (now + lease, now, now, limit),
            ).fetchall()
        return sorted((_delivery(row) for row in rows), key=lambda d: d.id)

    async def finish_delivery(
        self, delivery_id: int, *, delivered: bool, status: str, retry_at: float | None, now: float
    ) -> None:
        if self._grouped:
            await self._turn()
        args: tuple[Any, ...]
        if delivered:
            sql, args = (
                "UPDATE event_outbox SET status = 'delivered', last_status = ?, delivered_at = ? "
                "WHERE id = ?",
                (status, now, delivery_id),
            )
        elif retry_at is None:
            sql, args = (
                "UPDATE event_outbox SET status = 'failed', last_status = ? WHERE id = ?",
                (status, delivery_id),
            )
        else:
            sql, args = (
                "UPDATE event_outbox SET last_status = ?, next_attempt_at = ?, claimed_until = 0 "
                "WHERE id = ?",
                (status, retry_at, delivery_id),
            )
        with self._write() as conn:
            conn.execute(sql, args)

    async def deliveries(self, portal_id: int | None, limit: int) -> builtins.list[Delivery]:
        if self._grouped:
            await self._turn()
        where, args = ("WHERE portal_id = ?", [portal_id]) if portal_id is not None else ("", [])
        cur = self.conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM event_outbox {where} ORDER BY id DESC LIMIT ?",
            (*args, limit),
        )
        return [_delivery(row) for row in cur.fetchall()]

    async def ping(self) -> None:
        self._one("SELECT 1")

    async def schema(self) -> tuple[int, int]:
        return self.schema_version(), migrations.latest("sqlite")

    async def dump(
        self, table: str, after: tuple[Any, ...] | None, limit: int
    ) -> builtins.list[Row]:
        keys = COPY_TABLES[table]
        key_list = ", ".join(keys)
        where = ""
        args: list[Any] = []
        if after is not None:
            where = f"WHERE ({key_list}) > ({', '.join('?' for _ in keys)})"
            args.extend(after)
        cur = self.conn.execute(
            f"SELECT * FROM {ident(table)} {where} ORDER BY {key_list} LIMIT ?", (*args, limit)
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
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
        columns = list(rows[0])
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
        sql = (
            f"INSERT OR IGNORE INTO {ident(table)} ({', '.join(ident(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        with self._write() as conn:
            before = conn.total_changes
            conn.executemany(sql, [tuple(row[c] for c in columns) for row in rows])
            if table in ("portals", "users", "webhooks"):
                self._bump_auth(conn)
                return conn.total_changes - before - 1
            return conn.total_changes - before

    async def analyze(self) -> None:
        if self._grouped:
            await self._turn()
        _analyze(self.conn)

    async def count(self, table: str) -> int:
        if table not in COPY_TABLES:
            raise ValueError(table)
        return int(self._one(f"SELECT COUNT(*) FROM {ident(table)}")[0])

    async def reset(self) -> None:
        if self._grouped:
            await self._turn()
        with self._write() as conn:
            for table in ("bindings", "orders", "deals", "invoices", "legacy_invoices"):
                conn.execute(f"DELETE FROM {table}")


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE (the write lock up front, so no other process slips in between a check
    and the write) ... COMMIT, or ROLLBACK on any exception."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise sqlite_failure(exc) from exc
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise sqlite_failure(exc) from exc


@contextlib.contextmanager
def _savepoint(conn: sqlite3.Connection, name: str) -> Iterator[None]:
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")


class _SavepointGroup:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @contextlib.asynccontextmanager
    async def step(self) -> AsyncIterator[None]:
        with _savepoint(self._conn, "step"):
            yield


_APP_COLUMNS = "id, portal_id, name, client_id, secret_hash, scopes, redirect_uri, handler_url"
_APP_COLUMNS_A = ", ".join("a." + c.strip() for c in _APP_COLUMNS.split(","))
_INSTALL_COLUMNS = "portal_id, app_id, installed, application_token, installed_by, allowed_users"
_INSTALL_COLUMNS_I = ", ".join("i." + c.strip() for c in _INSTALL_COLUMNS.split(","))
_DELIVERY_COLUMNS = (
    "id, portal_id, app_id, handler_id, handler, event, data, user_id, with_tokens, created_at, "
    "attempts, status, last_status, delivered_at"
)


def _app(row: Sequence[Any]) -> App:
    scopes = tuple(s for s in str(row[5]).split(",") if s)
    return App(int(row[0]), int(row[1]), row[2], row[3], row[4], scopes, row[6], row[7])


def _install(row: Sequence[Any], sealer: Sealer) -> Install:
    users = tuple(int(u) for u in str(row[5]).split(",") if u)
    token = sealer.open(row[3], token_context(row[0], row[1]))
    return Install(int(row[0]), int(row[1]), bool(row[2]), token, int(row[4]), users)


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(
        id=int(row[0]), portal_id=int(row[1]), app_id=int(row[2]), handler_id=row[3],
        handler=row[4], event=row[5], data=orjson.loads(row[6]), user_id=int(row[7]),
        with_tokens=bool(row[8]), created_at=float(row[9]), attempts=int(row[10]),
        status=row[11], last_status=row[12], delivered_at=row[13],
    )  # fmt: skip


def _insert_tokens(conn: sqlite3.Connection, pair: TokenPair, now: float) -> None:
    conn.execute(
        "INSERT INTO tokens (access_hash, refresh_hash, portal_id, app_id, user_id, "
        "access_expires_at, refresh_expires_at, created_at, family) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (pair.access_hash, pair.refresh_hash, pair.portal_id, pair.app_id, pair.user_id,
         pair.access_expires_at, pair.refresh_expires_at, now, pair.family or pair.access_hash),
    )  # fmt: skip


def _spend(conn: sqlite3.Connection, digest: str, family: str, until: float) -> None:
    conn.execute(
        "INSERT INTO spent_credentials (digest, family, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT (digest) DO NOTHING",
        (digest, family, until),
    )


def _emit(
    conn: sqlite3.Connection, portal_id: int, events: Sequence[Emit], new_id: int | None = None
) -> None:
    """Queue each event for its handlers, inside the caller's transaction."""
    for emit in events:
        data = orjson.dumps(fill_id(emit.data, new_id)).decode()
        if emit.url is not None:
            conn.execute(
                "INSERT INTO event_outbox (portal_id, app_id, handler_id, handler, event, data, "
                "user_id, with_tokens, created_at, next_attempt_at) "
                "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
                (portal_id, emit.app_id, emit.url, emit.event, data, emit.user_id,
                 int(emit.tokens), emit.at, emit.at),
            )  # fmt: skip
            continue
        sql = (
            "INSERT INTO event_outbox (portal_id, app_id, handler_id, handler, event, data, "
            "user_id, with_tokens, created_at, next_attempt_at) "
            "SELECT portal_id, app_id, id, handler, event, ?, "
            "CASE WHEN auth_type > 0 THEN auth_type ELSE ? END, ?, ?, ? "
            "FROM event_handlers WHERE portal_id = ? AND event = ?"
        )
        args: list[Any] = [data, emit.user_id, int(emit.tokens), emit.at, emit.at, portal_id,
                           emit.event]  # fmt: skip
        if emit.app_id is not None:
            sql += " AND app_id = ?"
            args.append(emit.app_id)
        conn.execute(sql, args)


def _analyze(conn: sqlite3.Connection) -> None:
    """Refresh the planner's statistics from a sample of each index (milliseconds)."""
    conn.execute("PRAGMA analysis_limit = 1000")
    conn.execute("ANALYZE")


def _entity(table: str) -> str:
    if table not in _ENTITY_TABLES:
        raise ValueError(f"not an entity table: {table!r}")
    return table


def _insert_parts(portal_id: int, values: Row) -> tuple[str, str, list[Any]]:
    columns = ["portal_id", *(ident(col) for col in values)]
    return ", ".join(columns), ", ".join("?" for _ in columns), [portal_id, *values.values()]


def _webhook(row: Sequence[Any]) -> Webhook:
    scopes = tuple(s for s in str(row[4]).split(",") if s)
    return Webhook(int(row[0]), int(row[1]), int(row[2]), row[3], scopes, bool(row[5]), row[6])


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (our scripts have no `;` inside literals)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
