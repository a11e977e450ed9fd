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
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

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
)
from orderlink.storage.sql import POSTGRES, Dialect, count_sql, ident, select_sql
from orderlink.storage.waiting import waiting

log = logging.getLogger("orderlink")

Connection: TypeAlias = "PoolConnectionProxy[asyncpg.Record] | asyncpg.Connection[asyncpg.Record]"

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

AUTH_CHANNEL = "orderlink_auth"
# Advisory lock keys: (class, object) pairs in their own namespace (0x6f6c = "ol").
_LOCK_CLASS = 0x6F6C
_MIGRATE_LOCK = 1
_BOOTSTRAP_LOCK = 2
_USERS_LOCK_CLASS = 0x6F6C0001
# How often the auth listener proves its connection is alive between notifications (seconds).
LISTENER_PING_EVERY = 5.0

_ENTITY_TABLES = frozenset({"orders", "deals", "invoices", "legacy_invoices"})
# Entities whose rows a binding may point at, with their owner type (`bindings.owner_type_id`).
_OWNER_TYPES: dict[str, int] = {"deals": 2, "invoices": 31, "legacy_invoices": 5}
# Tables whose `id` comes from an identity sequence.
_SEQUENCED = frozenset(
    {
        "portals",
        "webhooks",
        "orders",
        "deals",
        "invoices",
        "legacy_invoices",
        "apps",
        "event_handlers",
    }
)
# Tables whose rows auth caches (and `bound_events`) hold on to: a change to them notifies.
_AUTH_TABLES = frozenset({"portals", "users", "webhooks", "apps", "app_installs", "event_handlers"})
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
        raise StoreUnavailable(f"PostgreSQL: {type(exc).__name__}: {exc}") from exc


async def _keep_session(conn: object) -> None:
    """Pool reset: nothing to undo (no session state is ever set), so no query on release.
    asyncpg still rolls back a transaction left open before calling this."""


class PostgresStore:
    def __init__(
        self,
        url: str,
        *,
        command_timeout: float = 10.0,
        acquire_timeout: float = 5.0,
        keys: KeySource | None = None,
    ) -> None:
        self.target = parse_url(url)
        # application_token is sealed under this key (sealing.py).
        self._keys = keys if keys is not None else KeySource.for_database(url)
        self._sealer: Sealer | None = None
        self._command_timeout = command_timeout
        self._acquire_timeout = acquire_timeout
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._dialect: Dialect = POSTGRES
        # The schema the tables live in, as NOTIFY payload: several stores (or test schemas)
        # may share one database, and each listens only for changes to its own tables.
        self._schema_name = ""
        self._groups: dict[asyncio.Task[Any], Connection] = {}
        # auth_version(): auth notifications heard plus this process's own auth writes; worth
        # nothing while the listener is down.
        self._auth_seen = 0
        self._listening = False
        self._listener: asyncpg.Connection[asyncpg.Record] | None = None
        self._listener_task: asyncio.Task[None] | None = None
        self._listener_down = asyncio.Event()
        # bound_events(): event names with a handler, per portal, valid for one auth version.
        self._bound: dict[int, frozenset[str]] = {}
        self._bound_version: object = None

    def _server_settings(self) -> dict[str, str]:
        settings = {"application_name": "orderlink"}
        if "application_name=" in urlsplit(self.target.dsn).query:
            settings = {}  # the URL's own application_name wins
        if self.target.schema is not None:
            settings["search_path"] = self.target.schema
        return settings

    # -- lifecycle ----------------------------------------------------------------------------

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
            async with self._connection() as conn:
                self._schema_name = str(await conn.fetchval("SELECT current_schema()"))
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

    async def _seal_stored(self) -> None:
        """Take the key (creating its file only while nothing is sealed yet), check it opens
        what is sealed, and seal application tokens stored in clear before sealing existed;
        idempotent, and safe with other workers doing the same."""
        async with self._connection() as conn:
            rows = await conn.fetch("SELECT portal_id, app_id, application_token FROM app_installs")
        sample = next((row for row in rows if is_sealed(row[2])), None)
        sealer = self._keys.sealer(may_create=sample is None)
        if sample is not None:
            sealer.open(sample[2], token_context(sample[0], sample[1]))
        clear = [row for row in rows if row[2] and not is_sealed(row[2])]
        if clear:
            async with self._transaction() as conn:
                await conn.executemany(
                    "UPDATE app_installs SET application_token = $1 "
                    "WHERE portal_id = $2 AND app_id = $3 AND application_token = $4",
                    [
                        (sealer.seal(token, token_context(p, a)), p, a, token)
                        for p, a, token in clear
                    ],
                )
        self._sealer = sealer

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            raise StoreUnavailable("the PostgreSQL store is not open")
        return self._sealer

    async def _migrate(self, upgrade: bool) -> None:
        steps = migrations.migrations("postgres")
        async with self._transaction() as conn:
            # Workers starting together queue here; the first applies, the others find it done.
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_CLASS, _MIGRATE_LOCK)
            if self.target.schema is not None:
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(self.target.schema)}")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            current = int(
                await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            )
            if current > len(steps):
                raise migrations.SchemaTooNew(current, len(steps))
            if current < len(steps) and current > 0 and not upgrade:
                raise migrations.SchemaTooOld(current, len(steps))
            for step in steps[current:]:
                await conn.execute(step.sql)
                await conn.execute(
                    "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                    step.version,
                    step.name,
                )

    async def schema_version(self) -> int:
        async with self._connection() as conn:
            exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
            if not exists:
                return 0
            return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))

    async def schema(self) -> tuple[int, int]:
        return await self.schema_version(), migrations.latest("postgres")

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.fetchval("SELECT 1")

    # -- connections, transactions, groups ----------------------------------------------------

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
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
                yield conn
            except _UNAVAILABLE:
                conn.terminate()  # never reuse a connection that failed: the pool replaces it
                raise
            finally:
                await pool.release(conn)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        """A transaction, or inside a group a savepoint that undoes this operation alone."""
        async with self._connection() as conn, conn.transaction():
            yield conn

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
            async with _PgGroup(outer).step():
                yield _PgGroup(outer)
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
            self._groups[task] = conn
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
        self._auth_seen += 1
        self._listening = True

    def _heard(self, conn: object, pid: int, channel: str, payload: object) -> None:
        if payload == self._schema_name:
            self._auth_seen += 1

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
        return self._auth_seen

    async def _notify_auth(self, conn: Connection) -> None:
        await conn.execute("UPDATE auth_version SET version = version + 1 WHERE id = 1")
        await conn.execute("SELECT pg_notify($1, $2)", AUTH_CHANNEL, self._schema_name)

    # -- portals, users, webhooks -------------------------------------------------------------

    async def bootstrap(self, *, now: float) -> tuple[Portal, bool]:
        async with self._transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_CLASS, _BOOTSTRAP_LOCK)
            existing = await _default_portal(conn)
            if existing is not None:
                return existing, False
            member_id = secrets.token_hex(16)
            portal_id = await conn.fetchval(
                "INSERT INTO portals (domain, member_id, created_at) VALUES ($1, $2, $3) "
                "RETURNING id",
                "orderlink.local",
                member_id,
                float(now),
            )
            await conn.execute(
                "INSERT INTO users (portal_id, id, name, store_role, is_admin) "
                "VALUES ($1, 1, 'Administrator', 2, 1)",
                portal_id,
            )
            await self._notify_auth(conn)
        self._auth_seen += 1
        return Portal(int(portal_id), "orderlink.local", member_id), True

    async def default_portal(self) -> Portal | None:
        async with self._connection() as conn:
            return await _default_portal(conn)

    async def set_info(self, key: str, value: str, now: float) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO server_info (key, value, updated_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                key, value, float(now),
            )  # fmt: skip

    async def info(self, key: str) -> str | None:
        async with self._connection() as conn:
            value = await conn.fetchval("SELECT value FROM server_info WHERE key = $1", key)
        return None if value is None else str(value)

    async def add_user(self, portal_id: int, name: str, store_role: int) -> User:
        async with self._transaction() as conn:
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, $2::integer)", _USERS_LOCK_CLASS, portal_id
            )
            user_id = int(
                await conn.fetchval(
                    "SELECT COALESCE(MAX(id), 0) + 1 FROM users WHERE portal_id = $1", portal_id
                )
            )
            await conn.execute(
                "INSERT INTO users (portal_id, id, name, store_role, is_admin) "
                "VALUES ($1, $2, $3, $4, 0)",
                portal_id,
                user_id,
                name,
                store_role,
            )
            await self._notify_auth(conn)
        self._auth_seen += 1
        return User(user_id, portal_id, name, store_role, False)

    async def get_user(self, portal_id: int, user_id: int) -> User | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT id, portal_id, name, store_role, is_admin FROM users "
                "WHERE portal_id = $1 AND id = $2",
                portal_id,
                user_id,
            )
        return User(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    async def users(self, portal_id: int) -> builtins.list[User]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT id, portal_id, name, store_role, is_admin FROM users "
                "WHERE portal_id = $1 ORDER BY id",
                portal_id,
            )
        return [User(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    async def add_webhook(
        self, portal_id: int, user_id: int, code_hash: str, scopes: Sequence[str], now: float
    ) -> Webhook:
        async with self._transaction() as conn:
            webhook_id = await conn.fetchval(
                "INSERT INTO webhooks (portal_id, user_id, code_hash, scopes, created_at) "
                "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                portal_id,
                user_id,
                code_hash,
                ",".join(scopes),
                float(now),
            )
            await self._notify_auth(conn)
        self._auth_seen += 1
        return Webhook(int(webhook_id), portal_id, user_id, code_hash, tuple(scopes), True, now)

    async def list_webhooks(self, portal_id: int) -> list[Webhook]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT id, portal_id, user_id, code_hash, scopes, active, created_at "
                "FROM webhooks WHERE portal_id = $1 ORDER BY id",
                portal_id,
            )
        return [_webhook(row) for row in rows]

    async def revoke_webhook(self, portal_id: int, webhook_id: int) -> bool:
        async with self._transaction() as conn:
            status = await conn.execute(
                "UPDATE webhooks SET active = 0 WHERE portal_id = $1 AND id = $2 AND active = 1",
                portal_id,
                webhook_id,
            )
            changed = _rowcount(status) > 0
            if changed:
                await self._notify_auth(conn)
        if changed:
            self._auth_seen += 1
        return changed

    async def webhooks_of_user(self, user_id: int) -> list[tuple[Webhook, User]]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT w.id, w.portal_id, w.user_id, w.code_hash, w.scopes, w.active, "
                "w.created_at, u.name, u.store_role, u.is_admin "
                "FROM webhooks w JOIN users u ON u.portal_id = w.portal_id AND u.id = w.user_id "
                "WHERE w.user_id = $1 AND w.active = 1",
                user_id,
            )
        return [(_webhook(row), User(row[2], row[1], row[7], row[8], bool(row[9]))) for row in rows]

    # -- bindings -----------------------------------------------------------------------------

    async def add_binding(
        self,
        portal_id: int,
        binding: Binding,
        *,
        owner_table: Table | None,
        events: Sequence[Emit] = (),
    ) -> AddBinding:
        async with self._transaction() as conn:
            # The order's lock queues concurrent adds for this order and holds off its deletion
            # until we commit.
            if not await conn.fetchval(
                "SELECT 1 FROM orders WHERE portal_id = $1 AND id = $2 FOR UPDATE",
                portal_id,
                binding.order_id,
            ):
                return AddBinding.NO_ORDER
            # The owner's share lock: a concurrent delete of the deal/invoice waits for us and
            # then deletes this binding too, or went first and we find no row.
            if owner_table is not None and not await conn.fetchval(
                f"SELECT 1 FROM {_owner(owner_table)} WHERE portal_id = $1 AND id = $2 FOR SHARE",
                portal_id,
                binding.owner_id,
            ):
                return AddBinding.NO_OWNER
            # A statement of its own after the lock, so it sees the binding the add before us
            # committed (a join in the locking statement would not: PostgreSQL re-reads only the
            # locked row). `old` is the binding before this statement; an identical one is left
            # untouched.
            row = await conn.fetchrow(
                "WITH old AS (SELECT owner_type_id, owner_id FROM bindings "
                "WHERE portal_id = $1 AND order_id = $2), "
                "upsert AS (INSERT INTO bindings (portal_id, order_id, owner_type_id, owner_id) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (portal_id, order_id) DO UPDATE "
                "SET owner_type_id = EXCLUDED.owner_type_id, owner_id = EXCLUDED.owner_id "
                "WHERE (bindings.owner_type_id, bindings.owner_id) "
                "IS DISTINCT FROM (EXCLUDED.owner_type_id, EXCLUDED.owner_id) RETURNING 1) "
                "SELECT EXISTS (SELECT 1 FROM old), EXISTS (SELECT 1 FROM upsert)",
                portal_id,
                binding.order_id,
                binding.owner_type_id,
                binding.owner_id,
            )
            assert row is not None
            existed, written = row
            if not written:
                return AddBinding.DUPLICATE
            await _emit(conn, portal_id, events)
        return AddBinding.REPLACED if existed else AddBinding.ADDED

    async def delete_binding(
        self, portal_id: int, binding: Binding, *, events: Sequence[Emit] = ()
    ) -> DeleteBinding:
        args = (portal_id, binding.order_id, binding.owner_type_id, binding.owner_id)
        # Without events, the hot path: one autocommitted statement.
        async with self._transaction() if events else self._connection() as conn:
            status = await conn.execute(
                "DELETE FROM bindings WHERE portal_id = $1 AND order_id = $2 "
                "AND owner_type_id = $3 AND owner_id = $4",
                *args,
            )
            if _rowcount(status):
                await _emit(conn, portal_id, events)
                return DeleteBinding.DELETED
            if await conn.fetchval(
                "SELECT 1 FROM orders WHERE portal_id = $1 AND id = $2",
                portal_id,
                binding.order_id,
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
        if not templates and not events:  # the hot path: one autocommitted statement
            columns, marks, args = _insert_parts(portal_id, values)
            async with self._connection() as conn:
                return int(
                    await conn.fetchval(
                        f"INSERT INTO {_entity(table)} ({columns}) VALUES ({marks}) RETURNING id",
                        *args,
                    )
                )
        async with self._transaction() as conn:
            # The id first, so templated columns go in with the row in one statement.
            row_id = int(
                await conn.fetchval(
                    "SELECT nextval(pg_get_serial_sequence($1, 'id'))", _entity(table)
                )
            )
            filled = {col: text.format(id=row_id) for col, text in (templates or {}).items()}
            columns, marks, args = _insert_parts(portal_id, {**values, **filled, "id": row_id})
            await conn.execute(f"INSERT INTO {_entity(table)} ({columns}) VALUES ({marks})", *args)
            await _emit(conn, portal_id, events, row_id)
        return row_id

    async def insert_with_id(self, portal_id: int, table: Table, values: Row) -> None:
        columns, marks, args = _insert_parts(portal_id, values)
        async with self._transaction() as conn:
            await conn.execute(f"INSERT INTO {_entity(table)} ({columns}) VALUES ({marks})", *args)
            await _move_sequence(conn, table, int(values["id"]))

    async def get(self, portal_id: int, table: Table, row_id: int) -> Row | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT * FROM {_entity(table)} WHERE portal_id = $1 AND id = $2",
                portal_id,
                row_id,
            )
        return dict(row) if row is not None else None

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
        assignments = ", ".join(f"{ident(col)} = ${n}" for n, col in enumerate(values, start=3))
        async with self._transaction() if events else self._connection() as conn:
            row = await conn.fetchrow(
                f"UPDATE {_entity(table)} SET {assignments} WHERE portal_id = $1 AND id = $2 "
                "RETURNING *",
                portal_id,
                row_id,
                *values.values(),
            )
            if row is not None:
                await _emit(conn, portal_id, events, row_id)
        return dict(row) if row is not None else None

    async def delete(
        self, portal_id: int, table: Table, row_id: int, *, events: Sequence[Emit] = ()
    ) -> bool:
        owner_type = _OWNER_TYPES.get(table)
        async with self._transaction() as conn:
            if owner_type is not None:
                # Lock first: an add_binding that already holds its share lock finishes before
                # we look for bindings; one that comes later finds the row gone.
                await conn.execute(
                    f"SELECT 1 FROM {_entity(table)} WHERE portal_id = $1 AND id = $2 FOR UPDATE",
                    portal_id,
                    row_id,
                )
                await conn.execute(
                    "DELETE FROM bindings WHERE portal_id = $1 AND owner_type_id = $2 "
                    "AND owner_id = $3",
                    portal_id,
                    owner_type,
                    row_id,
                )
            if table == "deals":
                await conn.execute(
                    "UPDATE invoices SET parent_id2 = NULL "
                    "WHERE portal_id = $1 AND parent_id2 = $2",
                    portal_id,
                    row_id,
                )
            # A deleted order takes its binding with it through the foreign key.
            status = await conn.execute(
                f"DELETE FROM {_entity(table)} WHERE portal_id = $1 AND id = $2",
                portal_id,
                row_id,
            )
            deleted = _rowcount(status) > 0
            if deleted:
                await _emit(conn, portal_id, events, row_id)
        return deleted

    async def list(self, query: ListQuery) -> ListResult:
        sql, args = select_sql(query, self._dialect)
        async with self._connection() as conn:
            names = builtins.list(query.columns)
            rows = [dict(zip(names, row, strict=True)) for row in await conn.fetch(sql, *args)]
            total = None
            if query.count:
                if query.offset == 0 and query.limit is not None and len(rows) < query.limit:
                    total = len(rows)
                else:
                    count, count_args = count_sql(query, self._dialect)
                    total = int(await conn.fetchval(count, *count_args))
        return ListResult(rows, total)

    async def reset(self) -> None:
        async with self._transaction() as conn:
            for table in ("bindings", "orders", "deals", "invoices", "legacy_invoices"):
                await conn.execute(f"DELETE FROM {table}")

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
        async with self._transaction() as conn:
            app_id = await conn.fetchval(
                "INSERT INTO apps (portal_id, name, client_id, secret_hash, scopes, redirect_uri, "
                "handler_url, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                portal_id, name, client_id, secret_hash, ",".join(scopes), redirect_uri,
                handler_url, float(now),
            )  # fmt: skip
            await self._notify_auth(conn)
        self._auth_seen += 1
        return App(int(app_id), portal_id, name, client_id, secret_hash, tuple(scopes),
                   redirect_uri, handler_url)  # fmt: skip

    async def app(self, client_id: str) -> App | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_APP_COLUMNS} FROM apps WHERE client_id = $1", client_id
            )
        return _app(row) if row else None

    async def apps(self, portal_id: int) -> builtins.list[App]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_APP_COLUMNS} FROM apps WHERE portal_id = $1 ORDER BY id", portal_id
            )
        return [_app(row) for row in rows]

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
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "INSERT INTO app_installs (portal_id, app_id, installed, application_token, "
                "installed_by, installed_at) VALUES ($1, $2, 1, $3, $4, $5) "
                "ON CONFLICT (portal_id, app_id) DO UPDATE SET installed = 1, "
                "installed_by = EXCLUDED.installed_by, installed_at = EXCLUDED.installed_at "
                f"RETURNING {_INSTALL_COLUMNS}",
                portal_id, app_id,
                self.sealer.seal(application_token, token_context(portal_id, app_id)),
                user_id, float(now),
            )  # fmt: skip
            await _emit(conn, portal_id, events)
            await self._notify_auth(conn)
        self._auth_seen += 1
        assert row is not None
        return _install(row, self.sealer)

    async def uninstall_app(
        self, portal_id: int, app_id: int, *, events: Sequence[Emit] = ()
    ) -> bool:
        async with self._transaction() as conn:
            status = await conn.execute(
                "UPDATE app_installs SET installed = 0 WHERE portal_id = $1 AND app_id = $2 "
                "AND installed = 1",
                portal_id,
                app_id,
            )
            if not _rowcount(status):
                return False
            # Queued first: the ONAPPUNINSTALL delivery goes to handlers deleted just below.
            await _emit(conn, portal_id, events)
            for table in ("tokens", "oauth_codes", "event_handlers"):
                await conn.execute(
                    f"DELETE FROM {table} WHERE portal_id = $1 AND app_id = $2", portal_id, app_id
                )
            await self._notify_auth(conn)
        self._auth_seen += 1
        return True

    async def install_of(self, portal_id: int, app_id: int) -> Install | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_INSTALL_COLUMNS} FROM app_installs WHERE portal_id = $1 AND app_id = $2",
                portal_id,
                app_id,
            )
        return _install(row, self.sealer) if row else None

    async def limit_app(self, portal_id: int, app_id: int, users: Sequence[int]) -> bool:
        async with self._transaction() as conn:
            status = await conn.execute(
                "UPDATE app_installs SET allowed_users = $3 WHERE portal_id = $1 AND app_id = $2",
                portal_id,
                app_id,
                ",".join(str(u) for u in users),
            )
            await self._notify_auth(conn)
        self._auth_seen += 1
        return _rowcount(status) > 0

    async def save_code(
        self, code_hash: str, portal_id: int, app_id: int, user_id: int, expires_at: float
    ) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO oauth_codes (code_hash, portal_id, app_id, user_id, expires_at) "
                "VALUES ($1, $2, $3, $4, $5)",
                code_hash, portal_id, app_id, user_id, float(expires_at),
            )  # fmt: skip

    async def take_code(self, code_hash: str, spent_until: float) -> tuple[Grant, float] | None:
        async with self._transaction() as conn:
            # DELETE ... RETURNING: of two concurrent uses of one code, exactly one gets a row.
            row = await conn.fetchrow(
                "DELETE FROM oauth_codes WHERE code_hash = $1 "
                "RETURNING portal_id, app_id, user_id, expires_at",
                code_hash,
            )
            if row is None:
                return None
            await _spend(conn, code_hash, code_hash, spent_until)
            grant = await _grant(conn, self.sealer, row[0], row[1], row[2])
        return (grant, float(row[3])) if grant else None

    async def save_tokens(self, pair: TokenPair, now: float) -> None:
        async with self._connection() as conn:
            await _insert_tokens(conn, pair, now)

    async def grant(self, access_hash: str) -> Grant | None:
        return await self._token_grant("access_hash", access_hash)

    async def refresh_grant(self, refresh_hash: str) -> Grant | None:
        return await self._token_grant("refresh_hash", refresh_hash)

    async def _token_grant(self, column: str, digest: str) -> Grant | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT portal_id, app_id, user_id, access_expires_at, refresh_expires_at "
                f"FROM tokens WHERE {ident(column)} = $1",
                digest,
            )
            return await _grant(conn, self.sealer, *row) if row else None

    async def grant_for(self, portal_id: int, app_id: int, user_id: int) -> Grant | None:
        async with self._connection() as conn:
            return await _grant(conn, self.sealer, portal_id, app_id, user_id)

    async def refresh(self, refresh_hash: str, app_id: int, pair: TokenPair, now: float) -> bool:
        async with self._transaction() as conn:
            # The UPDATE's row lock makes a second, concurrent refresh with the same token find
            # nothing once the first commits: the old refresh token works exactly once, while
            # its access token lives out its lifetime (decisions.md).
            family = await conn.fetchval(
                "UPDATE tokens SET refresh_hash = 'used:' || access_hash, refresh_expires_at = 0 "
                "WHERE refresh_hash = $1 AND app_id = $2 AND refresh_expires_at > $3 "
                "RETURNING family",
                refresh_hash,
                app_id,
                float(now),
            )
            if family is None:
                return False
            await _spend(conn, refresh_hash, family, pair.refresh_expires_at)
            await _insert_tokens(conn, replace(pair, family=family), now)
        return True

    async def revoke_replayed(self, digest: str) -> int:
        async with self._transaction() as conn:
            family = await conn.fetchval(
                "SELECT family FROM spent_credentials WHERE digest = $1 FOR UPDATE", digest
            )
            if family is None:
                return 0
            status = await conn.execute("DELETE FROM tokens WHERE family = $1", family)
            await conn.execute("DELETE FROM spent_credentials WHERE family = $1", family)
            await self._notify_auth(conn)  # cached tokens of the family must stop answering
        self._auth_seen += 1
        return _rowcount(status)

    async def prune_deliveries(self, finished_before: float) -> int:
        async with self._transaction() as conn:
            status = await conn.execute(
                "DELETE FROM event_outbox WHERE status <> 'pending' "
                "AND COALESCE(delivered_at, next_attempt_at) < $1",
                float(finished_before),
            )
        return _rowcount(status)

    async def prune_credentials(self, now: float, dead_access_before: float) -> int:
        async with self._transaction() as conn:
            codes = await conn.execute("DELETE FROM oauth_codes WHERE expires_at < $1", float(now))
            pairs = await conn.execute(
                "DELETE FROM tokens WHERE refresh_expires_at < $1 AND access_expires_at < $2",
                float(now),
                float(dead_access_before),
            )
            spent = await conn.execute(
                "DELETE FROM spent_credentials WHERE expires_at < $1 OR NOT EXISTS "
                "(SELECT 1 FROM tokens t WHERE t.family = spent_credentials.family)",
                float(now),
            )
            if _rowcount(pairs):
                await self._notify_auth(conn)  # cached tokens: a deleted one must stop answering
        if _rowcount(pairs):
            self._auth_seen += 1
        return _rowcount(codes) + _rowcount(pairs) + _rowcount(spent)

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
        async with self._transaction() as conn:
            handler_id = await conn.fetchval(
                "INSERT INTO event_handlers (portal_id, app_id, event, handler, auth_type, "
                "offline, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (portal_id, app_id, event, handler, auth_type) DO NOTHING "
                "RETURNING id",
                portal_id, app_id, event, handler, auth_type, int(offline), user_id, float(now),
            )  # fmt: skip
            if handler_id is None:
                return None
            await self._notify_auth(conn)
        self._auth_seen += 1
        return Handler(int(handler_id), portal_id, app_id, event, handler, auth_type, offline)

    async def unbind_handlers(
        self, portal_id: int, app_id: int, event: str, handler: str, auth_type: int | None
    ) -> int:
        sql = (
            "DELETE FROM event_handlers WHERE portal_id = $1 AND app_id = $2 AND event = $3 "
            "AND handler = $4"
        )
        args: builtins.list[Any] = [portal_id, app_id, event, handler]
        if auth_type is not None:
            sql += " AND auth_type = $5"
            args.append(auth_type)
        async with self._transaction() as conn:
            count = _rowcount(await conn.execute(sql, *args))
            if count:
                await self._notify_auth(conn)
        if count:
            self._auth_seen += 1
        return count

    async def handlers(self, portal_id: int, app_id: int) -> builtins.list[Handler]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT id, portal_id, app_id, event, handler, auth_type, offline "
                "FROM event_handlers WHERE portal_id = $1 AND app_id = $2 ORDER BY id",
                portal_id,
                app_id,
            )
        return [Handler(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    async def bound_events(self, portal_id: int) -> frozenset[str]:
        # Handler changes notify like auth changes, so the auth version keeps this cache fresh.
        version = await self.auth_version()
        if version != self._bound_version:
            self._bound.clear()
            self._bound_version = version
        found = self._bound.get(portal_id)
        if found is None:
            async with self._connection() as conn:
                rows = await conn.fetch(
                    "SELECT DISTINCT event FROM event_handlers WHERE portal_id = $1", portal_id
                )
            found = self._bound[portal_id] = frozenset(row[0] for row in rows)
        return found

    async def claim_deliveries(
        self, now: float, limit: int, lease: float
    ) -> builtins.list[Delivery]:
        async with self._connection() as conn:
            # SKIP LOCKED: workers claiming at the same moment take disjoint rows instead of
            # waiting for each other (and never both take one row).
            rows = await conn.fetch(
                "UPDATE event_outbox SET claimed_until = $1, attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM event_outbox WHERE status = 'pending' "
                "AND next_attempt_at <= $2 AND claimed_until <= $2 ORDER BY id LIMIT $3 "
                f"FOR UPDATE SKIP LOCKED) RETURNING {_DELIVERY_COLUMNS}",
                float(now + lease),
                float(now),
                limit,
            )
        return sorted((_delivery(row) for row in rows), key=lambda d: d.id)

    async def finish_delivery(
        self, delivery_id: int, *, delivered: bool, status: str, retry_at: float | None, now: float
    ) -> None:
        if delivered:
            sql = (
                "UPDATE event_outbox SET status = 'delivered', last_status = $2, "
                "delivered_at = $3 WHERE id = $1"
            )
            args: tuple[Any, ...] = (delivery_id, status, float(now))
        elif retry_at is None:
            sql = "UPDATE event_outbox SET status = 'failed', last_status = $2 WHERE id = $1"
            args = (delivery_id, status)
        else:
            sql = (
                "UPDATE event_outbox SET last_status = $2, next_attempt_at = $3, "
                "claimed_until = 0 WHERE id = $1"
            )
            args = (delivery_id, status, float(retry_at))
        async with self._connection() as conn:
            await conn.execute(sql, *args)

    async def deliveries(self, portal_id: int | None, limit: int) -> builtins.list[Delivery]:
        async with self._connection() as conn:
            if portal_id is None:
                rows = await conn.fetch(
                    f"SELECT {_DELIVERY_COLUMNS} FROM event_outbox ORDER BY id DESC LIMIT $1",
                    limit,
                )
            else:
                rows = await conn.fetch(
                    f"SELECT {_DELIVERY_COLUMNS} FROM event_outbox WHERE portal_id = $1 "
                    "ORDER BY id DESC LIMIT $2",
                    portal_id,
                    limit,
                )
        return [_delivery(row) for row in rows]

    # -- moving data between stores -----------------------------------------------------------

    async def dump(
        self, table: str, after: tuple[Any, ...] | None, limit: int
    ) -> builtins.list[Row]:
        keys = COPY_TABLES[table]
        key_list = ", ".join(keys)
        where = ""
        args: builtins.list[Any] = []
        if after is not None:
            marks = ", ".join(f"${n}" for n in range(1, len(keys) + 1))
            where = f"WHERE ({key_list}) > ({marks})"
            args.extend(after)
        args.append(limit)
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT * FROM {ident(table)} {where} ORDER BY {key_list} LIMIT ${len(args)}",
                *args,
            )
        dumped = [dict(row) for row in rows]
        if table == "app_installs":  # in clear between stores: each seals under its own key
            for one in dumped:
                context = token_context(one["portal_id"], one["app_id"])
                one["application_token"] = self.sealer.open(one["application_token"], context)
        return dumped

    async def load(self, table: str, rows: Sequence[Row]) -> int:
        if table not in COPY_TABLES:
            raise ValueError(table)
        if not rows:
            return 0
        columns = builtins.list(rows[0])
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
        names = ", ".join(ident(c) for c in columns)
        per_statement = max(1, _MAX_PARAMS // len(columns))
        added = 0
        async with self._transaction() as conn:
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                status = await conn.execute(
                    f"INSERT INTO {ident(table)} ({names}) "
                    f"VALUES {_value_lists(len(chunk), len(columns))} ON CONFLICT DO NOTHING",
                    *(row[c] for row in chunk for c in columns),
                )
                added += _rowcount(status)
            if table in _SEQUENCED:
                await _move_sequence(conn, table, max(int(row["id"]) for row in rows))
            if table in _AUTH_TABLES:
                await self._notify_auth(conn)
        if table in _AUTH_TABLES:
            self._auth_seen += 1
        return added

    async def count(self, table: str) -> int:
        if table not in COPY_TABLES:
            raise ValueError(table)
        async with self._connection() as conn:
            return int(await conn.fetchval(f"SELECT COUNT(*) FROM {ident(table)}"))

    async def analyze(self) -> None:
        # Autovacuum analyzes in time for steady growth; a bulk load needs it at once.
        async with self._connection() as conn:
            for table in COPY_TABLES:
                await conn.execute(f"ANALYZE {ident(table)}")


class _PgGroup:
    def __init__(self, conn: Connection) -> None:
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


_APP_COLUMNS = "id, portal_id, name, client_id, secret_hash, scopes, redirect_uri, handler_url"
_INSTALL_COLUMNS = "portal_id, app_id, installed, application_token, installed_by, allowed_users"
_DELIVERY_COLUMNS = (
    "id, portal_id, app_id, handler_id, handler, event, data, user_id, with_tokens, created_at, "
    "attempts, status, last_status, delivered_at"
)


async def _emit(
    conn: Connection, portal_id: int, events: Sequence[Emit], new_id: int | None = None
) -> None:
    """Queue each event for its handlers, inside the caller's transaction."""
    for emit in events:
        data = orjson.dumps(fill_id(emit.data, new_id)).decode()
        if emit.url is not None:
            await conn.execute(
                "INSERT INTO event_outbox (portal_id, app_id, handler_id, handler, event, data, "
                "user_id, with_tokens, created_at, next_attempt_at) "
                "VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $8)",
                portal_id, emit.app_id, emit.url, emit.event, data, emit.user_id,
                int(emit.tokens), float(emit.at),
            )  # fmt: skip
            continue
        sql = (
            "INSERT INTO event_outbox (portal_id, app_id, handler_id, handler, event, data, "
            "user_id, with_tokens, created_at, next_attempt_at) "
            "SELECT portal_id, app_id, id, handler, event, $1, "
            "CASE WHEN auth_type > 0 THEN auth_type ELSE $2 END, $3, $4, $4 "
            "FROM event_handlers WHERE portal_id = $5 AND event = $6"
        )
        args: list[Any] = [data, emit.user_id, int(emit.tokens), float(emit.at), portal_id,
                           emit.event]  # fmt: skip
        if emit.app_id is not None:
            sql += " AND app_id = $7"
            args.append(emit.app_id)
        await conn.execute(sql, *args)


async def _grant(
    conn: Connection,
    sealer: Sealer,
    portal_id: int,
    app_id: int,
    user_id: int,
    access: float = 0,
    refresh: float = 0,
) -> Grant | None:
    row = await conn.fetchrow(
        "SELECT a.id, a.portal_id, a.name, a.client_id, a.secret_hash, a.scopes, a.redirect_uri, "
        "a.handler_url, i.portal_id, i.app_id, i.installed, i.application_token, "
        "i.installed_by, i.allowed_users, u.id, u.portal_id, u.name, u.store_role, u.is_admin "
        "FROM apps a JOIN app_installs i ON i.app_id = a.id AND i.portal_id = $1 "
        "JOIN users u ON u.portal_id = i.portal_id AND u.id = $2 WHERE a.id = $3",
        portal_id,
        user_id,
        app_id,
    )
    if row is None:
        return None
    values = tuple(row)
    user = User(values[14], values[15], values[16], values[17], bool(values[18]))
    return Grant(portal_id, _app(values[:8]), _install(values[8:14], sealer), user, access, refresh)


async def _insert_tokens(conn: Connection, pair: TokenPair, now: float) -> None:
    await conn.execute(
        "INSERT INTO tokens (access_hash, refresh_hash, portal_id, app_id, user_id, "
        "access_expires_at, refresh_expires_at, created_at, family) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        pair.access_hash, pair.refresh_hash, pair.portal_id, pair.app_id, pair.user_id,
        float(pair.access_expires_at), float(pair.refresh_expires_at), float(now),
        pair.family or pair.access_hash,
    )  # fmt: skip


async def _spend(conn: Connection, digest: str, family: str, until: float) -> None:
    await conn.execute(
        "INSERT INTO spent_credentials (digest, family, expires_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (digest) DO NOTHING",
        digest, family, float(until),
    )  # fmt: skip


def _app(row: Sequence[Any] | asyncpg.Record) -> App:
    scopes = tuple(s for s in str(row[5]).split(",") if s)
    return App(int(row[0]), int(row[1]), row[2], row[3], row[4], scopes, row[6], row[7])


def _install(row: Sequence[Any] | asyncpg.Record, sealer: Sealer) -> Install:
    users = tuple(int(u) for u in str(row[5]).split(",") if u)
    token = sealer.open(row[3], token_context(row[0], row[1]))
    return Install(int(row[0]), int(row[1]), bool(row[2]), token, int(row[4]), users)


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(
        id=int(row[0]), portal_id=int(row[1]), app_id=int(row[2]), handler_id=row[3],
        handler=row[4], event=row[5], data=orjson.loads(row[6]), user_id=int(row[7]),
        with_tokens=bool(row[8]), created_at=float(row[9]), attempts=int(row[10]),
        status=row[11], last_status=row[12], delivered_at=row[13],
    )  # fmt: skip


async def _default_portal(conn: Connection) -> Portal | None:
    row = await conn.fetchrow("SELECT id, domain, member_id FROM portals ORDER BY id LIMIT 1")
    return Portal(int(row[0]), row[1], row[2]) if row else None


async def _not_null_columns(conn: Connection) -> frozenset[tuple[str, str]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_nullable = 'NO'"
    )
    return frozenset((str(row[0]), str(row[1])) for row in rows)


async def _move_sequence(conn: Connection, table: str, past: int) -> None:
    """Move the id sequence of `table` to at least `past`, never back: `nextval` first takes a
    value beyond every id handed out so far, then the sequence jumps to the larger of the two."""
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence($1, 'id'), "
        "GREATEST($2::bigint, nextval(pg_get_serial_sequence($1, 'id'))))",
        table,
        past,
    )


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


def _entity(table: str) -> str:
    if table not in _ENTITY_TABLES:
        raise ValueError(f"not an entity table: {table!r}")
    return table


def _owner(table: str) -> str:
    if table not in _OWNER_TYPES:
        raise ValueError(f"not an owner table: {table!r}")
    return table


def _insert_parts(portal_id: int, values: Row) -> tuple[str, str, builtins.list[Any]]:
    columns = ["portal_id", *(ident(col) for col in values)]
    marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    return ", ".join(columns), marks, [portal_id, *values.values()]


def _webhook(row: asyncpg.Record) -> Webhook:
    scopes = tuple(s for s in str(row[4]).split(",") if s)
    return Webhook(int(row[0]), int(row[1]), int(row[2]), row[3], scopes, bool(row[5]), row[6])
