"""The storage contract: what every store (SQLite, PostgreSQL) does, method by method.

Stores speak in rows and outcomes, never in protocol errors: the handler decides what "not found"
means on the wire. Every operation is scoped to a portal; no query ever crosses portals.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Row = dict[str, Any]

# Entity tables a list query or a generic CRUD call may name. Column names come from the
# schemas in code (methods/), never from a request.
Table = Literal["orders", "deals", "invoices", "bindings"]

# Tables `orderlink db copy` moves, parents first, with the key columns that order them.
COPY_TABLES: dict[str, tuple[str, ...]] = {
    "portals": ("id",),
    "users": ("portal_id", "id"),
    "webhooks": ("id",),
    "orders": ("id",),
    "deals": ("id",),
    "invoices": ("id",),
    "bindings": ("portal_id", "order_id"),
}

# The CRM owner types a binding may point at, and the table that holds each.
OWNER_TABLES: dict[int, Table] = {2: "deals", 31: "invoices"}


class StoreUnavailable(Exception):
    """The backing database cannot be reached; the request may be retried."""


@dataclass(frozen=True, slots=True)
class Portal:
    id: int
    domain: str
    member_id: str


@dataclass(frozen=True, slots=True)
class User:
    id: int
    portal_id: int
    name: str
    store_role: int
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    portal_id: int
    user_id: int
    code_hash: str
    scopes: tuple[str, ...]
    active: bool
    created_at: float


@dataclass(frozen=True, slots=True)
class Binding:
    order_id: int
    owner_type_id: int
    owner_id: int


class AddBinding(enum.Enum):
    ADDED = "added"
    REPLACED = "replaced"
    DUPLICATE = "duplicate"
    NO_ORDER = "no_order"
    NO_OWNER = "no_owner"


class DeleteBinding(enum.Enum):
    DELETED = "deleted"
    NO_ORDER = "no_order"
    NO_BINDING = "no_binding"


# -- list queries ------------------------------------------------------------------------------

Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in", "like", "not like"]


@dataclass(frozen=True, slots=True)
class Condition:
    """`column op value`. For `like`, `value` is a LIKE pattern with `\\` as the escape
    character; `as_text` compares the column's text form (LIKE on an integer column)."""

    column: str
    op: Op
    value: Any
    as_text: bool = False


@dataclass(frozen=True, slots=True)
class ListQuery:
    table: Table
    portal_id: int
    columns: Sequence[str]
    conditions: Sequence[Condition] = ()
    order: Sequence[tuple[str, bool]] = ()  # (column, descending)
    offset: int = 0
    limit: int | None = 50
    count: bool = True


@dataclass(frozen=True, slots=True)
class ListResult:
    rows: list[Row]
    total: int | None = None


class Group(Protocol):
    """Steps of one store transaction (see `Store.group`)."""

    def step(self) -> AbstractAsyncContextManager[None]:
        """A savepoint: the operations inside it are undone if it raises, kept otherwise."""


class Store(Protocol):
    """What orderlink needs from a database. All methods are coroutines; each is atomic."""

    async def open(self, *, upgrade: bool = True) -> None:
        """Connect and apply pending migrations (`upgrade=False`: refuse with `SchemaTooOld`
        instead). A database newer than this code is refused with `SchemaTooNew`."""

    async def ping(self) -> None:
        """Return once the database answers a trivial query; raise StoreUnavailable otherwise."""

    async def schema(self) -> tuple[int, int]:
        """(schema version applied to the database, latest version this code knows)."""

    async def close(self) -> None:
        """Release connections; pending acknowledged writes are already durable."""

    # -- portals, users, webhooks -----------------------------------------------------------

    async def bootstrap(self, *, now: float) -> tuple[Portal, bool]:
        """Ensure the default portal and its user 1 (portal and store administrator) exist.
        Returns the default portal and whether this call created it."""

    async def default_portal(self) -> Portal | None:
        """The portal created first, or None on an empty database."""

    async def add_user(self, portal_id: int, name: str, store_role: int) -> User:
        """A new user of the portal with the next free id."""

    async def get_user(self, portal_id: int, user_id: int) -> User | None: ...

    async def add_webhook(
        self, portal_id: int, user_id: int, code_hash: str, scopes: Sequence[str], now: float
    ) -> Webhook: ...

    async def list_webhooks(self, portal_id: int) -> list[Webhook]: ...

    async def revoke_webhook(self, portal_id: int, webhook_id: int) -> bool:
        """Deactivate a webhook; False when there is none with that id."""

    async def webhooks_of_user(self, user_id: int) -> list[tuple[Webhook, User]]:
        """Active webhooks owned by this user id (any portal), with the owner; for auth."""

    async def auth_version(self) -> object:
        """An opaque value that changes whenever users or webhooks may have changed, in this
        process or another (auth caches compare it before trusting what they hold)."""

    # -- bindings ---------------------------------------------------------------------------

    async def add_binding(
        self, portal_id: int, binding: Binding, *, owner_table: Table | None
    ) -> AddBinding:
        """Bind an order: at most one binding per order, the identical triple is a DUPLICATE,
        another owner replaces the old binding. Checks the order exists and, when
        `owner_table` is given, that the owner row exists there."""

    async def delete_binding(self, portal_id: int, binding: Binding) -> DeleteBinding:
        """Delete exactly this triple, after checking the order exists."""

    # -- entities and listing ---------------------------------------------------------------

    async def insert(
        self,
        portal_id: int,
        table: Table,
        values: Row,
        *,
        templates: Mapping[str, str] | None = None,
    ) -> int:
        """Insert a row; returns its new id. `templates` fill columns from the new id in the same
        transaction (`{"account_number": "{id}"}`, `{"title": "Deal #{id}"}`)."""

    async def insert_with_id(self, portal_id: int, table: Table, values: Row) -> None:
        """Insert a row whose `id` is given (seeding fixed example ids)."""

    async def get(self, portal_id: int, table: Table, row_id: int) -> Row | None: ...

    async def update(self, portal_id: int, table: Table, row_id: int, values: Row) -> Row | None:
        """Change some columns of a row; returns the row after the change, None if absent."""

    async def delete(self, portal_id: int, table: Table, row_id: int) -> bool:
        """Delete a row and, in the same transaction, every binding that points at it (and, for a
        deal, the `parent_id2` links of invoices to it)."""

    async def list(self, query: ListQuery) -> ListResult:
        """Rows matching the query, with the total count when `query.count`."""

    async def reset(self) -> None:
        """Delete every row of every table (tests)."""

    # -- moving data between stores (`orderlink db copy`) --------------------------------------

    async def dump(
        self, table: str, after: tuple[Any, ...] | None, limit: int
    ) -> builtins.list[Row]:
        """Up to `limit` rows of a `COPY_TABLES` table in key order, after the key `after`."""

    async def load(self, table: str, rows: Sequence[Row]) -> int:
        """Insert rows keeping their keys, skipping keys already present; returns how many were
        new. Id sequences move past the largest id loaded."""

    async def count(self, table: str) -> int:
        """Rows in a `COPY_TABLES` table, every portal."""

    def group(self) -> AbstractAsyncContextManager[Group]:
        """One transaction for many operations (`batch`): each `step()` succeeds or fails alone;
        nothing is durable before the group ends; an exception out of the group undoes it all."""
