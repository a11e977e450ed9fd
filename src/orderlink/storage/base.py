"""The storage contract: what every store (SQLite, PostgreSQL) does, method by method.

Stores speak in rows and outcomes, never in protocol errors: the handler decides what "not found"
means on the wire. Every operation is scoped to a portal; no query ever crosses portals.
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from orderlink.entity_types import DEAL, LEGACY_INVOICE, SMART_INVOICE

Row = dict[str, Any]

# Entity tables a list query or a generic CRUD call may name. Column names come from the
# schemas in code (methods/), never from a request.
Table = Literal[
    "orders",
    "deals",
    "invoices",
    "legacy_invoices",
    "bindings",
    "deal_categories",
    "crm_statuses",
    "contacts",
    "companies",
    "person_types",
    "property_groups",
    "properties",
    "property_values",
    "deal_userfields",
    "basket_items",
    "payments",
    "shipments",
    "product_rows",
]

# Tables `orderlink db copy` moves, parents first, with the key columns that order them.
COPY_TABLES: dict[str, tuple[str, ...]] = {
    "portals": ("id",),
    "users": ("portal_id", "id"),
    "webhooks": ("id",),
    "orders": ("id",),
    "deals": ("id",),
    "invoices": ("id",),
    "legacy_invoices": ("id",),
    "deal_categories": ("id",),
    "crm_statuses": ("id",),
    "contacts": ("id",),
    "companies": ("id",),
    "bindings": ("portal_id", "order_id"),
    "person_types": ("id",),
    "property_groups": ("id",),
    "properties": ("id",),
    "property_values": ("id",),
    "deal_userfields": ("id",),
    "basket_items": ("id",),
    "payments": ("id",),
    "shipments": ("id",),
    "product_rows": ("id",),
    "apps": ("id",),
    "app_installs": ("portal_id", "app_id"),
    "tokens": ("access_hash",),
    "spent_credentials": ("digest",),
    "event_handlers": ("id",),
    "faults": ("id",),
}

# The CRM owner types a binding may point at, and the table that holds each (5, old invoices, only
# with `legacy_invoices` on: methods/orderentity.py decides).
OWNER_TABLES: dict[int, Table] = {
    DEAL: "deals",
    SMART_INVOICE: "invoices",
    LEGACY_INVOICE: "legacy_invoices",
}
# The same map the other way round (what a store deletes with a row): one source, two views.
OWNER_TYPES: dict[str, int] = {table: owner_type for owner_type, table in OWNER_TABLES.items()}

# Product-row owners by short type code (api-reference/crm/data-types.md#object_type): a store
# deletes an owner's rows with it (crm.item.productrow.* work on deals and smart invoices).
ROW_OWNERS: dict[str, Table] = {"D": "deals", "SI": "invoices"}
ROW_OWNER_CODES: dict[str, str] = {table: code for code, table in ROW_OWNERS.items()}

# Tables whose rows an auth cache holds (Authenticator: users, webhooks, apps, installs, tokens;
# `bound_events`: event_handlers; portals; faults.py: faults): any write to one, a `load` too,
# moves auth_version.
AUTH_TABLES = frozenset(
    {"portals", "users", "webhooks", "apps", "app_installs", "tokens", "event_handlers", "faults"}
)


class StoreUnavailable(Exception):
    """The backing database cannot be reached; the request may be retried."""


class StoreRefused(Exception):
    """The database refused the request's own values (a LIKE pattern too complex for SQLite):
    retrying the same request cannot help, so the wire answer is a 400, not a 503."""


# SQLite errors that are about the statement's values, not about the database being reachable.
_REFUSED_BY_SQLITE = ("pattern too complex", "string or blob too big", "too many sql variables")


def sqlite_failure(exc: Exception) -> Exception:
    """The one mapping of a sqlite3 error: bad arguments are StoreRefused, the rest
    StoreUnavailable (a locked or unreadable database may recover)."""
    text = str(exc)
    if any(part in text.lower() for part in _REFUSED_BY_SQLITE):
        return StoreRefused(text)
    return StoreUnavailable(text)


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


@dataclass(frozen=True, slots=True)
class App:
    """A local application registered on a portal (`orderlink app add`)."""

    id: int
    portal_id: int
    name: str
    client_id: str
    secret_hash: str
    scopes: tuple[str, ...]
    redirect_uri: str
    handler_url: str


@dataclass(frozen=True, slots=True)
class Install:
    portal_id: int
    app_id: int
    installed: bool
    application_token: str
    installed_by: int
    # The users the app is limited to; empty: every user of the portal.
    allowed_users: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TokenPair:
    """A stored token pair (digests, never the tokens themselves)."""

    access_hash: str
    refresh_hash: str
    portal_id: int
    app_id: int
    user_id: int
    access_expires_at: float
    refresh_expires_at: float
    # The lineage the pair belongs to: the digest of the authorization code it descends from;
    # empty for a pair issued directly (it starts a family of its own, keyed by its access hash).
    family: str = ""


@dataclass(frozen=True, slots=True)
class Grant:
    """What an access token or authorization code stands for, with what auth checks need."""

    portal_id: int
    app: App
    install: Install
    user: User
    access_expires_at: float = 0.0
    refresh_expires_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Emit:
    """An event to put in the outbox in the same transaction as the change that caused it.

    By default every handler bound to `event` on the portal gets it (only `app_id`'s handlers
    when given); with `url` exactly one delivery goes to that address (the app's install
    handler). Strings equal to "{id}" in `data` become the id an insert creates."""

    event: str
    data: dict[str, Any]
    user_id: int
    at: float  # when the change happened
    app_id: int | None = None
    url: str | None = None
    tokens: bool = True


def fill_id(data: Any, new_id: int | None) -> Any:
    """`data` with every string "{id}" replaced by the new row's id (as text)."""
    if new_id is None:
        return data
    if isinstance(data, dict):
        return {key: fill_id(value, new_id) for key, value in data.items()}
    if isinstance(data, list):
        return [fill_id(value, new_id) for value in data]
    return str(new_id) if data == "{id}" else data


@dataclass(frozen=True, slots=True)
class Handler:
    id: int
    portal_id: int
    app_id: int
    event: str
    handler: str
    auth_type: int
    offline: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    portal_id: int
    app_id: int
    handler_id: int | None
    handler: str
    event: str
    data: dict[str, Any]
    user_id: int
    with_tokens: bool
    created_at: float
    attempts: int
    status: str
    last_status: str
    delivered_at: float | None


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault of a portal (faults.py): which calls it hits and what they get instead."""

    id: int
    portal_id: int
    method: str  # lower-case; "" every method
    error: str  # a system error code, an HTML page (`HTML_502`), or "" (a drop or a delay)
    dropped: bool
    delay: float
    times: int | None  # the next that many calls; None until removed
    fired: int
    probability: float
    seed: int | None
    created_at: float


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """Which journal rows to read, newest first: all filters optional."""

    portal_id: int
    method: str = ""  # compared case-insensitively
    status: int | None = None
    since: float | None = None  # calls at or after this unix time
    after: int | None = None  # rows with a larger id (following the journal)
    limit: int = 100


# The journal's columns in the order `write_journal` takes them.
JOURNAL_COLUMNS = (
    "portal_id", "at", "method", "transport", "user_id", "credential", "params", "status",
    "answer", "truncated", "duration", "detail", "batch",
)  # fmt: skip


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
    character; `as_text` compares the column's text form (LIKE on an integer column).

    With `key`, `column` is a JSON object column and the condition is on the value stored under
    `key`, compared as text (as a number for `<`/`>` when `value` is a float): it holds when any
    of the values holds it (an array is a multiple field), and a negated one when none does.
    `value` None means "empty": `=` holds when no non-empty value is stored, `!=` when one is."""

    column: str
    op: Op
    value: Any
    as_text: bool = False
    key: str | None = None


@dataclass(frozen=True, slots=True)
class ConditionGroup:
    """Conditions joined by AND or OR (crm.item.list's nested filters with `"logic": "OR"`)."""

    logic: Literal["and", "or"]
    items: Sequence[Condition | ConditionGroup]


@dataclass(frozen=True, slots=True)
class ListQuery:
    table: Table
    portal_id: int
    columns: Sequence[str]
    conditions: Sequence[Condition | ConditionGroup] = ()
    order: Sequence[tuple[str, bool]] = ()  # (column, descending)
    offset: int = 0
    limit: int | None = 50
    count: bool = True


@dataclass(frozen=True, slots=True)
class ListResult:
    rows: list[Row]
    total: int | None = None


@dataclass(frozen=True, slots=True)
class RowsPlan:
    """What a write of an owner's product rows does, decided from the owner and its rows as
    they are inside the transaction: rows deleted (ids), changed (id -> columns) and added, the
    owner's columns that follow (empty: unchanged), and whether the events are queued."""

    delete: tuple[int, ...] = ()
    update: Mapping[int, Row] = dataclasses.field(default_factory=dict)
    insert: tuple[Row, ...] = ()
    owner: Row = dataclasses.field(default_factory=dict)
    emit: bool = False


@dataclass(frozen=True, slots=True)
class SavedRows:
    """An owner's product rows after a write (by sort, then id), and the ids it added."""

    rows: list[Row]
    added: tuple[int, ...]


class Group(Protocol):
    """Steps of one store transaction (see `Store.group`)."""

    def step(self) -> AbstractAsyncContextManager[None]:
        """A savepoint: the operations inside it are undone if it raises, kept otherwise."""


class LifecycleStore(Protocol):
    """Opening, health and the batch transaction."""

    async def open(self, *, upgrade: bool = True) -> None:
        """Connect and apply pending migrations (`upgrade=False`: refuse with `SchemaTooOld`
        instead). A database newer than this code is refused with `SchemaTooNew`."""

    async def ping(self) -> None:
        """Return once the database answers a trivial query; raise StoreUnavailable otherwise."""

    async def schema(self) -> tuple[int, int]:
        """(schema version applied to the database, latest version this code knows)."""

    async def close(self) -> None:
        """Release connections; pending acknowledged writes are already durable."""

    def group(self) -> AbstractAsyncContextManager[Group]:
        """One transaction for many operations (`batch`): each `step()` succeeds or fails alone;
        nothing is durable before the group ends; an exception out of the group undoes it all."""


class AuthStore(Protocol):
    """Portals, users and webhooks, and the version auth caches compare."""

    async def bootstrap(self, *, now: float) -> tuple[Portal, bool]:
        """Ensure the default portal and its user 1 (portal and store administrator) exist.
        Returns the default portal and whether this call created it."""

    async def default_portal(self) -> Portal | None:
        """The portal created first, or None on an empty database."""

    async def set_info(self, key: str, value: str, now: float) -> None:
        """Record what the server tells the commands sharing its database (`server_info`)."""

    async def info(self, key: str) -> str | None:
        """What `set_info` last recorded under `key`, or None."""

    async def add_user(self, portal_id: int, name: str, store_role: int) -> User:
        """A new user of the portal with the next free id."""

    async def get_user(self, portal_id: int, user_id: int) -> User | None: ...

    async def users(self, portal_id: int) -> builtins.list[User]:
        """The portal's users, by id."""

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


class BindingStore(Protocol):
    """Order-to-owner bindings (crm.orderentity.*)."""

    async def add_binding(
        self,
        portal_id: int,
        binding: Binding,
        *,
        owner_table: Table | None,
        events: Sequence[Emit] = (),
    ) -> AddBinding:
        """Bind an order: at most one binding per order, the identical triple is a DUPLICATE,
        another owner replaces the old binding. Checks the order exists and, when
        `owner_table` is given, that the owner row exists there. `events` are queued only when
        the binding changed (ADDED or REPLACED)."""

    async def delete_binding(
        self, portal_id: int, binding: Binding, *, events: Sequence[Emit] = ()
    ) -> DeleteBinding:
        """Delete exactly this triple, after checking the order exists; `events` are queued only
        when something was deleted."""


class EntityStore(Protocol):
    """Entity rows (orders, deals, invoices) and list queries."""

    async def insert(
        self,
        portal_id: int,
        table: Table,
        values: Row,
        *,
        templates: Mapping[str, str] | None = None,
        events: Sequence[Emit] = (),
    ) -> int:
        """Insert a row; returns its new id. `templates` fill columns from the new id in the same
        transaction (`{"account_number": "{id}"}`, `{"title": "Deal #{id}"}`); so do `events`."""

    async def insert_with_id(self, portal_id: int, table: Table, values: Row) -> None:
        """Insert a row whose `id` is given (seeding fixed example ids)."""

    async def get(self, portal_id: int, table: Table, row_id: int) -> Row | None: ...

    async def update(
        self,
        portal_id: int,
        table: Table,
        row_id: int,
        values: Row,
        *,
        events: Sequence[Emit] = (),
    ) -> Row | None:
        """Change some columns of a row; returns the row after the change, None if absent."""

    async def delete(
        self, portal_id: int, table: Table, row_id: int, *, events: Sequence[Emit] = ()
    ) -> bool:
        """Delete a row and, in the same transaction, every binding that points at it (and, for a
        deal, the `parent_id2` links of invoices to it)."""

    async def save_rows(
        self,
        portal_id: int,
        owner_type: str,
        owner_id: int,
        plan: Callable[[Row, builtins.list[Row]], RowsPlan],
        *,
        events: Sequence[Emit] = (),
    ) -> SavedRows | None:
        """In one transaction, with the owner locked: read the owner (`ROW_OWNERS[owner_type]`)
        and its product rows, apply what `plan(owner, rows)` decides (it may raise: nothing is
        written), and return the rows after; None when the owner does not exist."""

    async def list(self, query: ListQuery) -> ListResult:
        """Rows matching the query, with the total count when `query.count`."""

    async def reset(self) -> None:
        """Delete every row of every table (tests)."""


class AppStore(Protocol):
    """Local applications, installs, OAuth codes and token pairs."""

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
    ) -> App: ...

    async def app(self, client_id: str) -> App | None:
        """The application with this client id, on any portal."""

    async def apps(self, portal_id: int) -> builtins.list[App]: ...

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
        """Install (or re-install) an app; keeps the application token of an earlier install."""

    async def uninstall_app(
        self, portal_id: int, app_id: int, *, events: Sequence[Emit] = ()
    ) -> bool:
        """Queue `events` (to the app's handlers), then revoke its tokens and codes, remove its
        handlers and mark it not installed; False if it was not installed."""

    async def install_of(self, portal_id: int, app_id: int) -> Install | None: ...

    async def limit_app(self, portal_id: int, app_id: int, users: Sequence[int]) -> bool:
        """Limit an installed app to these users (empty: everyone)."""

    async def save_code(
        self, code_hash: str, portal_id: int, app_id: int, user_id: int, expires_at: float
    ) -> None: ...

    async def take_code(self, code_hash: str, spent_until: float) -> tuple[Grant, float] | None:
        """Use an authorization code once: (what it grants, when it expires), or None. The
        code's digest is kept as spent until `spent_until`, so a replay can be told apart."""

    async def save_tokens(self, pair: TokenPair, now: float) -> None: ...

    async def grant(self, access_hash: str) -> Grant | None:
        """What an access token stands for (expired ones included: the caller decides)."""

    async def refresh(self, refresh_hash: str, app_id: int, pair: TokenPair, now: float) -> bool:
        """Store `pair` in place of the pair whose refresh token is `refresh_hash` (of this app),
        atomically: the old refresh token works exactly once, its access token lives out its
        lifetime, and its digest is kept as spent. `pair` joins the old pair's family. False if
        the refresh token is unknown, used or expired."""

    async def revoke_replayed(self, digest: str) -> int:
        """A code or refresh token presented again after its one use (RFC 9700 4.14.2, RFC 6749
        4.1.2): delete every pair of its family. Returns how many pairs went (0: not spent)."""

    async def refresh_grant(self, refresh_hash: str) -> Grant | None:
        """What a refresh token stands for, to build the next pair."""

    async def grant_for(self, portal_id: int, app_id: int, user_id: int) -> Grant | None:
        """What a new token for this user of an installed app would stand for (events)."""

    async def prune_deliveries(self, finished_before: float) -> int:
        """Delete log rows of deliveries that finished (delivered, or given up after their last
        attempt) before `finished_before`; a pending delivery is never touched."""

    async def prune_credentials(self, now: float, dead_access_before: float) -> int:
        """Delete what can never be used again: authorization codes past their expiry, and token
        pairs whose refresh token is used or expired and whose access token expired before
        `dead_access_before`, and spent digests past their time or whose family has no pair
        left. Returns how many rows went."""


class OutboxStore(Protocol):
    """Event handlers and the outbox of deliveries."""

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
        """Bind a handler; None when the same (event, handler, auth_type) is already bound."""

    async def unbind_handlers(
        self, portal_id: int, app_id: int, event: str, handler: str, auth_type: int | None
    ) -> int:
        """Remove matching handlers (any auth_type when None); returns how many."""

    async def handlers(self, portal_id: int, app_id: int) -> builtins.list[Handler]: ...

    async def bound_events(self, portal_id: int) -> frozenset[str]:
        """Events some handler of the portal listens to (cached; kept fresh like auth)."""

    async def claim_deliveries(
        self, now: float, limit: int, lease: float
    ) -> builtins.list[Delivery]:
        """Due pending deliveries, leased for `lease` seconds so no other worker takes them;
        each claim counts as an attempt."""

    async def finish_delivery(
        self, delivery_id: int, *, delivered: bool, status: str, retry_at: float | None, now: float
    ) -> None:
        """Record an attempt: delivered, due again at `retry_at`, or failed for good (None)."""

    async def deliveries(self, portal_id: int | None, limit: int) -> builtins.list[Delivery]:
        """The delivery log, newest first."""


class FaultStore(Protocol):
    """Faults portals answer with (faults.py). Adding or removing one moves `auth_version`,
    which every server compares before it trusts the faults it holds; firing does not."""

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
    ) -> Fault: ...

    async def faults(self, portal_id: int | None) -> builtins.list[Fault]:
        """The faults of one portal (None: of every portal), oldest first."""

    async def remove_fault(self, fault_id: int, portal_id: int | None = None) -> bool:
        """Remove one fault (of this portal, when given); False when there is none."""

    async def clear_faults(self, portal_id: int | None) -> int:
        """Remove every fault of the portal (None: of every portal); how many went."""

    async def fire_fault(self, fault_id: int) -> bool:
        """Count one firing of a fault, atomically across processes; False when the fault is
        gone or has fired its `times` already (the caller then lets the call through)."""


class JournalStore(Protocol):
    """The journal of calls (journal.py)."""

    async def portal_exists(self, portal_id: int) -> bool: ...

    async def write_journal(self, rows: Sequence[Sequence[Any]], keep: int) -> None:
        """Append rows (`JOURNAL_COLUMNS` order) in one transaction, then keep only the newest
        `keep` rows of each portal written to."""

    async def journal(self, query: JournalQuery) -> builtins.list[Row]:
        """Rows of one portal, newest first, as stored (`id` plus `JOURNAL_COLUMNS`)."""


class TransferStore(Protocol):
    """Moving data between stores (`orderlink db copy`)."""

    async def dump(
        self, table: str, after: tuple[Any, ...] | None, limit: int
    ) -> builtins.list[Row]:
        """Up to `limit` rows of a `COPY_TABLES` table in key order, after the key `after`."""

    async def load(self, table: str, rows: Sequence[Row]) -> int:
        """Insert rows keeping their keys, skipping keys already present; returns how many were
        new. Id sequences move past the largest id loaded; a table in AUTH_TABLES moves
        `auth_version`."""

    async def count(self, table: str) -> int:
        """Rows in a `COPY_TABLES` table, every portal."""

    async def analyze(self) -> None:
        """Refresh the query planner's statistics (after loading many rows at once): without
        them a list filtered by owner and ordered by order id reads every binding."""


class Store(
    LifecycleStore,
    AuthStore,
    BindingStore,
    EntityStore,
    AppStore,
    OutboxStore,
    FaultStore,
    JournalStore,
    TransferStore,
    Protocol,
):
    """What orderlink needs from a database. All methods are coroutines; each is atomic. Each
    role above names one consumer's share, so a consumer can ask for just that."""
