"""The embedded store: stdlib sqlite3 in WAL mode, one connection, called on the event loop.

Each operation is a handful of indexed statements that take microseconds, so they run inline
rather than on a thread pool (STYLE.md pattern 5): the shared core (core.py) is async, and this
module's `_Connection` runs each sqlite3 call synchronously inside its coroutines, which never
suspend. The one slow thing SQLite does, the WAL checkpoint, runs on a background thread with its
own connection. Writes take `BEGIN IMMEDIATE`, so another process on the same file (the CLI, a
second worker) cannot slip in between a check and the write. A committed transaction is in the
WAL before `COMMIT` returns, so it survives a killed process (`synchronous=NORMAL`; `FULL` also
survives power loss).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from orderlink.sealing import KeySource
from orderlink.storage.base import (
    OWNER_TYPES,
    AddBinding,
    Binding,
    Group,
    Row,
    StoreUnavailable,
    Table,
    sqlite_failure,
)
from orderlink.storage.core import Connection, SQLStore
from orderlink.storage.sql import SQLITE, Rendered, ident
from orderlink.storage.waiting import waiting

# Another process's commit is noticed within this many seconds (auth and event-handler caches).
DATA_VERSION_TTL = 0.005
# Statistics are refreshed this often (seconds) as tables grow.
ANALYZE_EVERY = 300.0
# A WAL longer than this many frames (4 KiB pages) is started over after a checkpoint.
RESTART_FRAMES = 1000
CHECKPOINT_BUSY_MS = 10_000  # the checkpoint connection's wait for a lock (its `timeout`)
WAL_KEEP_BYTES = 64 * 1024 * 1024

_BOUND = (
    "SELECT b.owner_type_id, b.owner_id FROM orders o LEFT JOIN bindings b "
    "ON b.portal_id = o.portal_id AND b.order_id = o.id WHERE o.portal_id = ? AND o.id = ?"
)
_OWNER_EXISTS = {t: f"SELECT 1 FROM {t} WHERE portal_id = ? AND id = ?" for t in OWNER_TYPES}


def path_from_url(url: str) -> str:
    """`sqlite:///rel.db`, `sqlite:////abs.db` or `sqlite:///:memory:` -> a sqlite3 path."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r} (expected sqlite:///path.db)")
    return url[len("sqlite:///") :] or ":memory:"


# The shared store SQL (core.py) in this engine's spelling, each statement rendered once.
_render = Rendered(SQLITE).__getitem__


class _Failures:
    """`with _FAILURES:` around a statement: every sqlite3 error but a constraint violation
    leaves as `sqlite_failure` maps it (a class, not a generator context manager: it wraps
    every statement)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _: object
    ) -> None:
        if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
            raise sqlite_failure(exc) from exc


_FAILURES = _Failures()


class _Connection:
    """core.Connection over the store's one sqlite3 connection: each call runs at once."""

    __slots__ = ("bumped", "raw")

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self.bumped = False

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> builtins.list[Any]:
        with _FAILURES:
            return self.raw.execute(_render(sql), args).fetchall()

    async def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        # fetchall, not fetchone: a statement left half-read would hold its implicit
        # transaction (and an INSERT ... RETURNING its write lock) open.
        with _FAILURES:
            rows = self.raw.execute(_render(sql), args).fetchall()
        return rows[0] if rows else None

    async def fetch_named(self, sql: str, args: Sequence[Any] = ()) -> builtins.list[Row]:
        with _FAILURES:
            cur = self.raw.execute(_render(sql), args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        with _FAILURES:
            return int(self.raw.execute(_render(sql), args).rowcount)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with _FAILURES:
            self.raw.executemany(_render(sql), rows)


class _Use:
    """`_conn()`: the connection, once no other task's group holds it."""

    __slots__ = ("store",)

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    async def __aenter__(self) -> _Connection:
        store = self.store
        if store._grouped:  # the serialisation guard (and in _Write): another task's batch
            await store._turn()
        if store._db is None:
            raise StoreUnavailable("the SQLite store is not open")
        return store._db

    async def __aexit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        return None


class _Write(_Use):
    """`_write()`: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception; inside the
    calling task's group, the group's transaction (its step's savepoint undoes a failure)."""

    __slots__ = ("conn", "own")

    async def __aenter__(self) -> _Connection:
        store = self.store
        if store._grouped:
            await store._turn()
        conn = store._db
        if conn is None:
            raise StoreUnavailable("the SQLite store is not open")
        self.own = not store._grouped
        if self.own:
            _begin(conn.raw)
        self.conn = conn
        return conn

    async def __aexit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        conn = self.conn
        if self.own:
            if kind is not None:
                conn.raw.execute("ROLLBACK")
                conn.bumped = False
                return None
            _commit(conn.raw)
        if conn.bumped and kind is None:
            conn.bumped = False
            self.store._auth_changes += 1
        return None


class SQLiteStore(SQLStore):
    engine: ClassVar[Literal["sqlite", "postgres"]] = "sqlite"
    label: ClassVar[str] = "SQLite"
    constraint_error: ClassVar[tuple[type[Exception], ...]] = (sqlite3.IntegrityError,)

    def __init__(
        self,
        url: str,
        *,
        synchronous: str = "NORMAL",
        cache_mb: int = 64,
        checkpoint_every: float = 1.0,
        keys: KeySource | None = None,
    ):
        super().__init__(SQLITE, keys if keys is not None else KeySource.for_database(url))
        self.path = path_from_url(url)
        self._synchronous = synchronous if synchronous in ("NORMAL", "FULL") else "NORMAL"
        self._checkpoint_every = checkpoint_every
        self._cache_kib = max(cache_mb, 1) * 1024
        self._db: _Connection | None = None
        self._data_version: object = None
        self._data_version_at = -1.0
        self._grouped = False
        self._group_task: asyncio.Task[Any] | None = None
        self._group_lock = asyncio.Lock()
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._use = _Use(self)  # holds no state: one for every call

    # -- lifecycle ----------------------------------------------------------------------------

    async def open(self, *, upgrade: bool = True) -> None:
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
            # When the log starts over (_checkpoint), a file grown by a burst is cut back.
            conn.execute(f"PRAGMA journal_size_limit = {WAL_KEEP_BYTES}")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        # A page cache that holds the hot part of the bindings and their indexes; the default
        # (2 MB) makes random order ids miss on nearly every lookup.
        conn.execute(f"PRAGMA cache_size = -{self._cache_kib}")
        conn.execute("PRAGMA foreign_keys = ON")
        self._db = _Connection(conn)
        try:
            await self._migrate(upgrade)
            await self._seal_stored()
        except BaseException:
            conn.close()
            self._db = None
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
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
            self._checkpointer = None
        if self._db is not None:
            self._db.raw.close()
            self._db = None

    def _checkpoint_loop(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=CHECKPOINT_BUSY_MS / 1000)
        analyzed = time.monotonic()
        try:
            while not self._stop.wait(self._checkpoint_every):
                with contextlib.suppress(sqlite3.Error):
                    _checkpoint(conn)
                if time.monotonic() - analyzed > ANALYZE_EVERY:
                    analyzed = time.monotonic()
                    with contextlib.suppress(sqlite3.Error):
                        _analyze(conn)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    async def _run_script(self, conn: Connection, script: str) -> None:
        for statement in _statements(script):
            await conn.execute(statement)

    # -- connections, transactions, groups ----------------------------------------------------

    def _conn(self) -> _Use:
        return self._use

    def _write(self) -> _Write:
        return _Write(self)

    @contextlib.asynccontextmanager
    async def group(self) -> AsyncIterator[Group]:
        """One transaction for several operations (a `batch`): each step is a savepoint that
        succeeds or fails alone, and nothing is durable, or answered, before the final COMMIT.
        Other requests of this process wait at their next store call until the group ends.
        Inside a group of the same task (a method that groups its own writes, run by `batch`)
        it is that group again: its steps are savepoints of the one transaction."""
        if self._group_task is not None and self._group_task is asyncio.current_task():
            assert self._db is not None
            yield _SavepointGroup(self._db.raw)
            return
        with waiting():
            await self._group_lock.acquire()
        self._group_task = asyncio.current_task()
        try:
            if self._db is None:
                raise StoreUnavailable("the SQLite store is not open")
            raw = self._db.raw
            _begin(raw)
            try:
                self._grouped = True
                yield _SavepointGroup(raw)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            _commit(raw)
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

    # -- what differs from PostgreSQL ---------------------------------------------------------

    async def auth_version(self) -> object:
        # `data_version` changes when another connection (the CLI, another worker) commits;
        # this connection's own auth writes count in `_auth_changes`. Reading it at most every
        # few milliseconds keeps it off the per-request path; another process's change (a
        # revoked webhook) is seen that much later, this process's at once.
        now = time.monotonic()
        if now - self._data_version_at > DATA_VERSION_TTL:
            async with self._conn() as conn:
                row = await conn.fetch_one("PRAGMA data_version")
            self._data_version = row[0] if row else None
            self._data_version_at = now
        return (self._data_version, self._auth_changes)

    async def _bind(
        self, conn: Connection, portal_id: int, binding: Binding, owner_table: Table | None
    ) -> AddBinding:
        # Under BEGIN IMMEDIATE nothing can change between these statements: one read finds
        # the order and its binding together.
        found = await conn.fetch_one(_BOUND, (portal_id, binding.order_id))
        if found is None:
            return AddBinding.NO_ORDER
        if owner_table is not None and not await conn.fetch_one(
            _OWNER_EXISTS[owner_table], (portal_id, binding.owner_id)
        ):
            return AddBinding.NO_OWNER
        if found[0] is None:
            await conn.execute(
                "INSERT INTO bindings (portal_id, order_id, owner_type_id, owner_id) "
                "VALUES (?, ?, ?, ?)",
                (portal_id, binding.order_id, binding.owner_type_id, binding.owner_id),
            )
            return AddBinding.ADDED
        if tuple(found) == (binding.owner_type_id, binding.owner_id):
            return AddBinding.DUPLICATE
        await conn.execute(
            "UPDATE bindings SET owner_type_id = ?, owner_id = ? "
            "WHERE portal_id = ? AND order_id = ?",
            (binding.owner_type_id, binding.owner_id, portal_id, binding.order_id),
        )
        return AddBinding.REPLACED

    async def _columns_of(self, conn: Connection, table: str) -> dict[str, str]:
        rows = await conn.fetch(f"SELECT name, type FROM pragma_table_info('{ident(table)}')")
        return {str(row[0]): str(row[1]) for row in rows}

    async def _reserve_ids(self, conn: Connection, table: str, span: int) -> int:
        # Inside the write transaction no other insert runs; AUTOINCREMENT then goes on past
        # whatever goes in (sqlite_sequence keeps the largest id ever used).
        row = await conn.fetch_one(f"SELECT COALESCE(MAX(id), 0) FROM {ident(table)}")
        seq = await conn.fetch_one("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
        return max(int(row[0]) if row else 0, int(seq[0]) if seq else 0) + 1

    async def _insert_rows(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Row]
    ) -> int:
        assert isinstance(conn, _Connection)
        sql = (
            f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        raw = conn.raw
        before = raw.total_changes
        await conn.executemany(sql, [tuple(row[c] for c in columns) for row in rows])
        return int(raw.total_changes - before)

    async def analyze(self) -> None:
        async with self._conn() as conn:
            _analyze(conn.raw)


def _begin(raw: sqlite3.Connection) -> None:
    # The write lock up front, so no other process slips in between a check and the write.
    with _FAILURES:
        raw.execute("BEGIN IMMEDIATE")


def _commit(raw: sqlite3.Connection) -> None:
    try:
        raw.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        with contextlib.suppress(sqlite3.Error):
            raw.execute("ROLLBACK")
        raise sqlite_failure(exc) from exc


class _SavepointGroup:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @contextlib.asynccontextmanager
    async def step(self) -> AsyncIterator[None]:
        self._conn.execute("SAVEPOINT step")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK TO step")
            self._conn.execute("RELEASE step")
            raise
        self._conn.execute("RELEASE step")


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the database, and let the writer start it again from the top.

    A PASSIVE checkpoint never waits, but under steady writes it never catches up either: frames
    keep coming while it copies, so the log is never wholly backfilled and the writer keeps
    appending (a `batch` benchmark grew a 470 MB WAL in ten seconds, every frame an extending
    write, which on ext4 costs several times an overwrite). So the bulk is copied PASSIVE, then,
    once the log is long, a RESTART copies the few frames written meanwhile while holding off
    the writer (milliseconds) and makes the next transaction overwrite the log from its start.
    """
    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if frames >= RESTART_FRAMES:
        # Without waiting: a RESTART that waits for readers holds off every writer meanwhile
        # (a quiet-machine batch run showed p99 1.6 s). Busy now, it is tried again next time.
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("PRAGMA wal_checkpoint(RESTART)")
        finally:
            conn.execute(f"PRAGMA busy_timeout = {CHECKPOINT_BUSY_MS}")


def _analyze(conn: sqlite3.Connection) -> None:
    """Refresh the planner's statistics from a sample of each index (milliseconds)."""
    conn.execute("PRAGMA analysis_limit = 1000")
    conn.execute("ANALYZE")


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (our scripts have no `;` inside literals)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
