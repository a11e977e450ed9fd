"""The server store: PostgreSQL through asyncpg, a pool of connections, hand-written SQL.

Several orderlink processes may share one database, each at READ COMMITTED, so the invariants
are kept by the schema and by row locks, never by process-local state:
- one binding per order: the bindings primary key (portal_id, order_id);
- no binding points at a deleted order, deal or invoice: `add_binding` locks the order row
  (`FOR UPDATE`) and the owner row (`FOR SHARE`) before it writes; `delete` of a deal or
  invoice locks the row `FOR UPDATE` before it deletes the bindings pointing at it, so a
  concurrent add either finds the owner gone or has its binding deleted with it (the order's
  binding also goes by the foreign key's ON DELETE CASCADE);
- user ids per portal come from MAX(id) + 1 under a per-portal advisory lock; migrations run
  under a database-wide advisory lock, so workers starting together migrate exactly once.

Auth caches learn about user and webhook changes without a query per request: every such
change sends `NOTIFY orderlink_auth` in its transaction, and one listening connection per store
counts the notifications (see `auth_version`).

Every connection or I/O failure becomes `StoreUnavailable` (HTTP 503); the pool replaces dead
connections on the next acquire, so the store recovers by itself when the server is back.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from orderlink.sealing import KeySource
from orderlink.storage.base import (
    COPY_TABLES,
    PORTAL_IDS,
    AddBinding,
    Binding,
    Group,
    Row,
    StoreUnavailable,
    Table,
)
from orderlink.storage.core import ENTITY_TABLES, Connection, SQLStore
from orderlink.storage.sql import POSTGRES, Rendered, ident
from orderlink.storage.waiting import waiting

log = logging.getLogger("orderlink")

Raw: TypeAlias = "PoolConnectionProxy[asyncpg.Record] | asyncpg.Connection[asyncpg.Record]"

# Failures that mean "the database cannot be reached or gave up on us", not "the query is
# wrong": a lost or refused connection, a server shutting down or refusing connections, a
# timeout, and a deadlock or serialization failure (the whole request may simply be retried).
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # A connection whose server went away mid-exchange can leave asyncpg's protocol in a state
    # it reports as an internal error ("cannot switch to state ...").
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
    OSError,
    TimeoutError,
)

# What makes a pooled connection unfit to reuse: a raw failure, or one `_Connection` mapped.
_FAILED: tuple[type[BaseException], ...] = (StoreUnavailable, *_UNAVAILABLE)

AUTH_CHANNEL = "orderlink_auth"
# How often the auth listener proves its connection is alive between notifications (seconds).
LISTENER_PING_EVERY = 5.0

# Tables whose `id` comes from an identity sequence (user ids and PORTAL_IDS are per portal).
_SEQUENCED = (ENTITY_TABLES - PORTAL_IDS) | {
    "portals", "portal_domains", "webhooks", "apps", "event_handlers", "faults",
}  # fmt: skip
# Bind parameters one statement may carry (the protocol's limit is 65535).
_MAX_PARAMS = 30_000


@dataclass(frozen=True, slots=True)
class Target:
    """What a `postgresql://` URL names: the DSN asyncpg connects with, plus orderlink's own
    query parameters `schema` (every table lives there; created if missing), `pool_size` and
    `connect_timeout` (seconds), which asyncpg would otherwise send to the server as settings."""

    dsn: str
    schema: str | None
    pool_size: int
    connect_timeout: float


def parse_url(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {url!r} (expected postgresql://...)")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    schema = query.pop("schema", None)
    if schema is not None:
        try:
            ident(schema)
        except ValueError:
            raise ValueError(
                f"schema={schema!r}: use lower-case letters, digits and underscores"
            ) from None
    pool_size = int(query.pop("pool_size", "10"))
    connect_timeout = float(query.pop("connect_timeout", "3"))
    if pool_size < 1 or connect_timeout <= 0:
        raise ValueError(f"pool_size and connect_timeout must be positive in {url!r}")
    dsn = urlunsplit(parts._replace(query=urlencode(query)))
    return Target(dsn, schema, pool_size, connect_timeout)


@contextlib.contextmanager
def _unavailable() -> Iterator[None]:
    """Turn a connection or I/O failure into StoreUnavailable; let anything else through."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise _failure(exc) from exc


def _failure(exc: BaseException) -> StoreUnavailable:
    return StoreUnavailable(f"PostgreSQL: {type(exc).__name__}: {exc}")


# The shared store SQL (core.py) in this engine's spelling, each statement rendered once.
_render = Rendered(POSTGRES).__getitem__


class _Connection:
    """core.Connection over one asyncpg connection: a lost connection, a timeout or a
    deadlock leaves as StoreUnavailable; a constraint violation as asyncpg raised it."""

    __slots__ = ("bumped", "raw")

    def __init__(self, raw: Raw) -> None:
        self.raw = raw
        self.bumped = False

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> builtins.list[Any]:
        try:
            return await self.raw.fetch(_render(sql), *args)
        except _UNAVAILABLE as exc:
            raise _failure(exc) from exc

    async def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        try:
            return await self.raw.fetchrow(_render(sql), *args)
        except _UNAVAILABLE as exc:
            raise _failure(exc) from exc

    async def fetch_named(self, sql: str, args: Sequence[Any] = ()) -> builtins.list[Row]:
        return [dict(row) for row in await self.fetch(sql, args)]

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        try:
            return _rowcount(await self.raw.execute(_render(sql), *args))
        except _UNAVAILABLE as exc:
            raise _failure(exc) from exc

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            await self.raw.executemany(_render(sql), rows)
        except _UNAVAILABLE as exc:
            raise _failure(exc) from exc


async def _keep_session(conn: object) -> None:
    """Pool reset: nothing to undo (no session state is ever set), so no query on release.
    asyncpg still rolls back a transaction left open before calling this."""


class PostgresStore(SQLStore):
    engine: ClassVar[Literal["sqlite", "postgres"]] = "postgres"
    label: ClassVar[str] = "PostgreSQL"
    constraint_error: ClassVar[tuple[type[Exception], ...]] = (
        asyncpg.IntegrityConstraintViolationError,
    )
    restore_by_difference: ClassVar[bool] = True
    bind_is_one_statement: ClassVar[bool] = True

    def __init__(
        self,
        url: str,
        *,
        command_timeout: float = 10.0,
        acquire_timeout: float = 5.0,
        keys: KeySource | None = None,
    ) -> None:
        super().__init__(POSTGRES, keys if keys is not None else KeySource.for_database(url))
        self.target = parse_url(url)
        self._command_timeout = command_timeout
        self._acquire_timeout = acquire_timeout
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        # The schema the tables live in, as NOTIFY payload: several stores (or test schemas)
        # may share one database, and each listens only for changes to its own tables.
        self._schema_name = ""
        self._groups: dict[asyncio.Task[Any], _Connection] = {}
        # auth_version(): `_auth_changes` counts the auth notifications heard too; worth
        # nothing while the listener is down.
        self._listening = False
        self._listener: asyncpg.Connection[asyncpg.Record] | None = None
        self._listener_task: asyncio.Task[None] | None = None
        self._listener_down = asyncio.Event()

    def _server_settings(self) -> dict[str, str]:
        settings = {"application_name": "orderlink"}
        if "application_name=" in urlsplit(self.target.dsn).query:
            settings = {}  # the URL's own application_name wins
        if self.target.schema is not None:
            settings["search_path"] = self.target.schema
        return settings

    async def _matching(self, conn: Connection, on: bool) -> None:
        # Snapshot tables are fresh and rarely analysed, so the planner guesses one row a
        # side and picks nested loops: 1,000 x 1,000 comparisons per table. Hash and merge
        # anti-joins compare each side once (this transaction only).
        await conn.execute(f"SET LOCAL enable_nestloop = {'off' if on else 'DEFAULT'}")

    async def open(self, *, upgrade: bool = True) -> None:
        with _unavailable():
            self._pool = await asyncpg.create_pool(
                self.target.dsn,
                min_size=1,
                max_size=self.target.pool_size,
                timeout=self.target.connect_timeout,
                command_timeout=self._command_timeout,
                server_settings=self._server_settings(),
                reset=_keep_session,
                max_inactive_connection_lifetime=300.0,
            )
        try:
            await self._migrate(upgrade)
            await self._seal_stored()
            async with self._conn() as conn:
                row = await conn.fetch_one("SELECT current_schema()")
                self._schema_name = str(row[0]) if row else ""
                self._dialect = replace(POSTGRES, not_null=await _not_null_columns(conn))
            await self._listen()
        except BaseException:
            await self.close()
            raise
        self._listener_task = asyncio.create_task(self._keep_listening())

    async def close(self) -> None:
        task, self._listener_task = self._listener_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._drop_listener()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=self._command_timeout)
            except _UNAVAILABLE:
                pool.terminate()

    # -- connections, transactions, groups ----------------------------------------------------

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[_Connection]:
        """The calling task's group connection, or one from the pool for this operation."""
        task = asyncio.current_task()
        grouped = self._groups.get(task) if task is not None else None
        if grouped is not None:
            with _unavailable():
                yield grouped
            return
        if self._pool is None:
            raise StoreUnavailable("the PostgreSQL store is not open")
        pool = self._pool
        with _unavailable():
            with waiting():  # queueing for a connection is not the method's own time
                conn = await pool.acquire(timeout=self._acquire_timeout)
            try:
                yield _Connection(conn)
            except _FAILED:
                conn.terminate()  # never reuse a connection that failed: the pool replaces it
                raise
            finally:
                await pool.release(conn)

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[_Connection]:
        """A transaction, or inside a group a savepoint that undoes this operation alone."""
        async with self._conn() as conn:
            async with conn.raw.transaction():
                yield conn
            # Counted once committed, so no task of this process trusts a cache filled from
            # the rows before the commit under the new version.
            if conn.bumped:
                conn.bumped = False
                self._auth_changes += 1

    @contextlib.asynccontextmanager
    async def group(self) -> AsyncIterator[Group]:
        """One transaction on one pooled connection for a whole `batch`: each step is a
        savepoint, nothing is visible to others or durable before the final COMMIT. Store calls
        of the task that opened the group run on its connection; other tasks (other requests)
        use the pool as usual and see the group's work only once it commits."""
        task = asyncio.current_task()
        assert task is not None
        outer = self._groups.get(task)
        if outer is not None:  # a group inside a group: a savepoint of the outer one
            async with _PgGroup(outer.raw).step():
                yield _PgGroup(outer.raw)
            return
        pool = self._pool
        if pool is None:
            raise StoreUnavailable("the PostgreSQL store is not open")
        with _unavailable(), waiting():
            conn = await pool.acquire(timeout=self._acquire_timeout)
        broken = True  # until the transaction has ended one way or the other
        try:
            with _unavailable():
                transaction = conn.transaction()
                await transaction.start()
            self._groups[task] = _Connection(conn)
            try:
                yield _PgGroup(conn)
            except BaseException:
                with contextlib.suppress(*_UNAVAILABLE):
                    await transaction.rollback()
                    broken = False
                raise
            finally:
                del self._groups[task]
            with _unavailable():
                await transaction.commit()
            broken = False
        finally:
            with contextlib.suppress(*_UNAVAILABLE):
                if broken:
                    conn.terminate()
                await pool.release(conn)

    # -- auth_version: LISTEN/NOTIFY ----------------------------------------------------------

    async def _listen(self) -> None:
        """Open the listening connection; from now on every auth change reaches `_heard`."""
        self._listener_down.clear()
        with _unavailable():
            conn = await asyncpg.connect(
                self.target.dsn,
                timeout=self.target.connect_timeout,
                command_timeout=self._command_timeout,
                server_settings=self._server_settings(),
            )
            try:
                await conn.add_listener(AUTH_CHANNEL, self._heard)
            except BaseException:
                conn.terminate()
                raise
        conn.add_termination_listener(self._listener_lost)
        self._listener = conn
        # Whatever changed while nobody listened is in the database now: count a change.
        self._auth_changes += 1
        self._listening = True

    def _heard(self, conn: object, pid: int, channel: str, payload: object) -> None:
        if payload == self._schema_name:
            self._auth_changes += 1

    def _listener_lost(self, conn: object) -> None:
        self._listening = False
        self._listener_down.set()

    def _drop_listener(self) -> None:
        self._listening = False
        conn, self._listener = self._listener, None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    async def _keep_listening(self) -> None:
        """Reconnect the listener as soon as it is lost; between losses, prove it alive every
        LISTENER_PING_EVERY seconds (a silently dropped connection never reports its loss)."""
        delay = 0.05
        while True:
            if not self._listening:
                self._drop_listener()
                try:
                    await self._listen()
                except Exception as exc:  # this task must outlive any failure: log and retry
                    log.warning("auth listener: %s; retrying in %.2fs", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                delay = 0.05
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listener_down.wait(), LISTENER_PING_EVERY)
            conn = self._listener
            if self._listening and conn is not None:
                try:
                    await conn.fetchval("SELECT 1", timeout=self.target.connect_timeout)
                except _UNAVAILABLE:
                    self._drop_listener()

    async def auth_version(self) -> object:
        """A counter of auth notifications (and this process's own auth writes) while the
        listener is up; while it is down, a new object on every call, so no cache trusts what
        it holds until the listener is back."""
        if not self._listening:
            return object()
        return self._auth_changes

    # -- what differs from SQLite -------------------------------------------------------------

    async def _notify(self, conn: Connection) -> None:
        await conn.execute("SELECT pg_notify($1, $2)", (AUTH_CHANNEL, self._schema_name))

    async def _lock(self, conn: Connection, key: tuple[int, int]) -> None:
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2::integer)", key)

    async def _prepare_schema(self, conn: Connection) -> None:
        if self.target.schema is not None:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(self.target.schema)}")

    async def _run_script(self, conn: Connection, script: str) -> None:
        await conn.execute(script)  # no arguments: the simple protocol runs the whole script

    async def _columns_of(self, conn: Connection, table: str) -> dict[str, str]:
        # pg_catalog, not information_schema: the view's generic plan (what a prepared
        # statement gets after five runs) took ~1 s a call on a database with many schemas.
        rows = await conn.fetch(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(quote_ident(current_schema()) || '.' || "
            "quote_ident($1)) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (table,),
        )
        return {str(row[0]): str(row[1]) for row in rows}

    async def _reserve_ids(self, conn: Connection, table: str, span: int) -> int:
        # nextval takes the first; setval moves the sequence to the last: concurrent inserts
        # get ids beyond the block.
        row = await conn.fetch_one(
            "SELECT setval(pg_get_serial_sequence($1, 'id'), "
            "nextval(pg_get_serial_sequence($1, 'id')) + $2::bigint - 1)",
            (table, max(span, 1)),
        )
        assert row is not None
        return int(row[0]) - max(span, 1) + 1

    async def _ids_at_least(self, conn: Connection, table: str, past: int) -> None:
        """Move the id sequence of `table` to at least `past`, never back: `nextval` first
        takes a value beyond every id handed out so far, then the sequence jumps to the larger
        of the two."""
        if table in _SEQUENCED:
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence($1, 'id'), "
                "GREATEST($2::bigint, nextval(pg_get_serial_sequence($1, 'id'))))",
                (table, past),
            )

    async def _bind(
        self, conn: Connection, portal_id: int, binding: Binding, owner_table: Table | None
    ) -> AddBinding:
        # One call of orderlink_bind (migration 0018), one round trip: the order's lock queues
        # concurrent adds for this order and holds off its deletion until we commit; the
        # owner's share lock makes a concurrent delete of the deal/invoice wait for us and then
        # delete this binding too (or it went first and we find no row); then the upsert, in a
        # statement of its own so it sees the binding the add before us committed (a join in
        # the locking statement would not: PostgreSQL re-reads only the locked row).
        row = await conn.fetch_one(
            _BIND,
            (portal_id, binding.order_id, binding.owner_type_id, binding.owner_id, owner_table),
        )
        assert row is not None
        return _BIND_OUTCOMES[int(row[0])]

    async def _insert_rows(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Row]
    ) -> int:
        # Many rows per statement: a copy of a million bindings would otherwise take a round
        # trip each.
        # Straight to asyncpg: statements this big are not worth keeping rendered.
        assert isinstance(conn, _Connection)
        per_statement = max(1, _MAX_PARAMS // len(columns))
        added = 0
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            with _unavailable():
                status = await conn.raw.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES {_value_lists(len(chunk), len(columns))} ON CONFLICT DO NOTHING",
                    *(row[c] for row in chunk for c in columns),
                )
            added += _rowcount(status)
        return added

    async def analyze(self) -> None:
        # Autovacuum analyzes in time for steady growth; a bulk load needs it at once.
        async with self._conn() as conn:
            for table in COPY_TABLES:
                await conn.execute(f"ANALYZE {ident(table)}")


_BIND = "SELECT orderlink_bind(?, ?, ?, ?, ?)"
_BIND_OUTCOMES = (
    AddBinding.NO_ORDER, AddBinding.NO_OWNER, AddBinding.DUPLICATE, AddBinding.REPLACED,
    AddBinding.ADDED,
)  # fmt: skip


class _PgGroup:
    def __init__(self, conn: Raw) -> None:
        self._conn = conn

    @contextlib.asynccontextmanager
    async def step(self) -> AsyncIterator[None]:
        with _unavailable():
            savepoint = self._conn.transaction()
            await savepoint.start()
        try:
            yield
        except BaseException:
            # If the connection is gone the rollback fails too; the group's COMMIT then
            # reports the store unavailable.
            with contextlib.suppress(*_UNAVAILABLE):
                await savepoint.rollback()
            raise
        with _unavailable():
            await savepoint.commit()


async def _not_null_columns(conn: Connection) -> frozenset[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_nullable = 'NO'"
    )
    return frozenset((str(row[0]), str(row[1])) for row in rows)


def _value_lists(rows: int, width: int) -> str:
    """`($1, $2), ($3, $4)` for 2 rows of 2 columns."""
    return ", ".join(
        "(" + ", ".join(f"${n}" for n in range(i * width + 1, (i + 1) * width + 1)) + ")"
        for i in range(rows)
    )


def _rowcount(status: str) -> int:
    """The row count at the end of a command tag: 'UPDATE 3', 'INSERT 0 1', 'DELETE 0'."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isascii() and tail.isdigit() else 0
