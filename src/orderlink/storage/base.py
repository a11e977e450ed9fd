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
from typing import Any, Literal, Protocol, get_args

from orderlink.entity_types import DEAL, LEGACY_INVOICE, SMART_INVOICE

Row = dict[str, Any]

# Entity tables a list query or a generic CRUD call may name. Column names come from the
# schemas in code (methods/), never from a request.
Table = Literal[
    "users",
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
    "crm_userfields",
    "contact_companies",
    "basket_items",
    "payments",
    "shipments",
    "product_rows",
    "crm_types",
    "crm_items",
]


def entity_table(name: str) -> Table:
    """`name` as an entity table (a schema names its table as a string); ValueError for none."""
    if name not in get_args(Table):
        raise ValueError(name)
    return name  # type: ignore[return-value]


# Tables `orderlink db copy` moves, parents first, with the key columns that order them.
COPY_TABLES: dict[str, tuple[str, ...]] = {
    "portals": ("id",),
    "portal_domains": ("id",),
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
    "contact_companies": ("id",),
    "bindings": ("portal_id", "order_id"),
    "person_types": ("id",),
    "property_groups": ("id",),
    "properties": ("id",),
    "property_values": ("id",),
    "crm_userfields": ("id",),
    "basket_items": ("id",),
    "payments": ("id",),
    "shipments": ("id",),
    "product_rows": ("id",),
    "crm_types": ("id",),
    "crm_items": ("id",),
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

# A portal's own rows, parents first (delete goes the other way): every table with a portal_id
# but `portals` itself. A test keeps this list complete (tests/test_portals.py).
PORTAL_TABLES: tuple[str, ...] = (
    *(t for t in COPY_TABLES if t not in ("portals", "spent_credentials")),
    "oauth_codes",
    "event_outbox",
    "portal_snapshots",
    "journal",
)
# What stays through `portal reset`: who may call the portal, and its saved snapshots.
KEPT_ON_RESET = frozenset(
    {"users", "webhooks", "apps", "app_installs", "tokens", "oauth_codes", "portal_snapshots",
     "portal_domains"}
)  # fmt: skip
RESET_TABLES: tuple[str, ...] = tuple(t for t in PORTAL_TABLES if t not in KEPT_ON_RESET)
# What a snapshot holds: the whole portal but its snapshots, what is in flight (the outbox,
# authorization codes that live for 30 seconds) and its domains (a domain names one portal of
# the server, so a copy cannot take it; a restore leaves the portal's domains as they are).
STATE_TABLES: tuple[str, ...] = tuple(
    t
    for t in PORTAL_TABLES
    if t
    not in (
        "portal_snapshots",
        "event_outbox",
        "oauth_codes",
        "portal_domains",
        "faults",
        "journal",
    )
)
# Tables whose ids are the portal's own (migration 12): payer types 1, 2 and the general funnel
# 0 exist in every portal, and user 1 is every portal's administrator; a smart process's id is
# its number in the portal (userfieldconfig's `CRM_{id}` names it, user-defined-object-types/
# index.md). Every other id is unique on the server.
PORTAL_IDS = frozenset({"person_types", "deal_categories", "users", "crm_types"})

# How a portal's rows name each other by server-wide id, for `portal import` (which moves a
# file's ids to free ones): (table, column) -> the table whose id it holds. A test classifies
# every *_id column of a portal table (tests/test_portals.py), so a new one cannot be missed.
REFERENCES: dict[tuple[str, str], str] = {
    ("webhooks", "id"): "webhooks",
    ("apps", "id"): "apps",
    ("app_installs", "app_id"): "apps",
    ("tokens", "app_id"): "apps",
    ("event_handlers", "id"): "event_handlers",
    ("event_handlers", "app_id"): "apps",
    **{(t, "id"): t for t in get_args(Table) if t != "bindings" and t not in PORTAL_IDS},
    ("bindings", "order_id"): "orders",
    ("basket_items", "order_id"): "orders",
    ("payments", "order_id"): "orders",
    ("shipments", "order_id"): "orders",
    ("property_values", "order_id"): "orders",
    ("property_values", "order_props_id"): "properties",
    ("properties", "props_group_id"): "property_groups",
    ("deals", "contact_id"): "contacts",
    ("deals", "company_id"): "companies",
    ("contacts", "company_id"): "companies",
    ("contact_companies", "contact_id"): "contacts",
    ("contact_companies", "company_id"): "companies",
    ("invoices", "contact_id"): "contacts",
    ("invoices", "company_id"): "companies",
    ("invoices", "mycompany_id"): "companies",
    ("invoices", "parent_id2"): "deals",
    ("crm_items", "contact_id"): "contacts",
    ("crm_items", "company_id"): "companies",
    ("crm_items", "mycompany_id"): "companies",
    ("legacy_invoices", "uf_deal_id"): "deals",
    ("legacy_invoices", "uf_contact_id"): "contacts",
    ("legacy_invoices", "uf_company_id"): "companies",
    ("legacy_invoices", "uf_mycompany_id"): "companies",
}
# Columns holding a JSON list of such ids.
REFERENCE_LISTS: dict[tuple[str, str], str] = {
    ("deals", "contact_ids"): "contacts",
    ("invoices", "contact_ids"): "contacts",
    ("crm_items", "contact_ids"): "contacts",
    ("contacts", "company_ids"): "companies",
}
# Columns whose table depends on another column of the row.
REFERENCE_BY: dict[tuple[str, str], tuple[str, Mapping[Any, str]]] = {
    ("bindings", "owner_id"): ("owner_type_id", OWNER_TABLES),
    ("product_rows", "owner_id"): ("owner_type", ROW_OWNERS),
}

# Tables whose rows an auth cache holds (Authenticator: users, webhooks, apps, installs, tokens;
# `bound_events`: event_handlers; portals and their domains, domains.py): any write to one, a
# `load` too, moves auth_version.
AUTH_TABLES = frozenset(
    {"portals", "portal_domains", "users", "webhooks", "apps", "app_installs", "tokens",
     "event_handlers", "faults"}
)  # fmt: skip


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
    name: str = ""
    plan: str = "standard"
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class User:
    id: int
    portal_id: int
    name: str  # the profile's NAME (first name)
    store_role: int
    is_admin: bool
    last_name: str = ""
    email: str = ""

    @property
    def full_name(self) -> str:
        """NAME and LAST_NAME as one line (`orderlink user list`)."""
        return f"{self.name} {self.last_name}".strip()


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
    `value` None means "empty": `=` holds when no non-empty value is stored, `!=` when one is.

    With `item`, `column` is a JSON array of objects (a multi-field, PHONE: `[{"VALUE": ...}]`)
    and the condition is on each element's `item` value, compared as text: it holds when one
    element's value does, a negated one when none does."""

    column: str
    op: Op
    value: Any
    as_text: bool = False
    key: str | None = None
    item: str | None = None


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
    # The keys of the rows, one per column (None: the column names): a method whose wire names
    # map one to one onto columns gets its rows as they go out, with no second dict per row.
    keys: Sequence[str] | None = None


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

    async def add_user(
        self,
        portal_id: int,
        name: str,
        store_role: int,
        *,
        profile: Row | None = None,
        now: float | None = None,
    ) -> User:
        """A new user of the portal with the next free id; `profile` holds more of its columns
        (`last_name`, `email`, ...), `now` is its registration time."""

    async def update_user(self, portal_id: int, user_id: int, values: Row) -> bool:
        """Change some profile columns of a user (auth caches see it); False if there is none."""

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


class DomainStore(Protocol):
    """The host names portals answer on (`portal_domains`, issue 18). Writes move auth_version,
    so servers sharing the database route by the new domains at once."""

    async def add_portal_domain(self, portal_id: int, domain: str, now: float) -> int:
        """Give the portal a domain (already normalized, hosts.portal_domain); the id of the
        portal that holds it afterwards: `portal_id`, or another portal that had it first."""

    async def remove_portal_domain(self, portal_id: int, domain: str) -> bool:
        """Take a domain from the portal; False when the portal did not have it."""

    async def portal_domains(self, portal_id: int) -> builtins.list[str]:
        """The portal's domains in the order they were added (the first one names it)."""

    async def portal_of_domain(self, domain: str) -> Portal | None:
        """The portal a domain belongs to, or None."""


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
        """Delete every entity row (tests), leaving each portal as its first start made it: its
        users and credentials, payer types 1 and 2, the general funnel and its stages."""


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

    async def redeliver(self, portal_id: int, delivery_id: int, now: float) -> bool:
        """Make a delivery of the portal due again now (pending, unclaimed), whatever became of
        it; False when there is no such delivery or an attempt of it is under way."""


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


class PortalStore(Protocol):
    """Many portals on one server (`orderlink portal ...`, the admin API): a portal's rows are
    every row with its `portal_id` (PORTAL_TABLES)."""

    async def add_portal(self, *, name: str, plan: str, now: float) -> Portal:
        """A new portal as a new Bitrix24 portal starts: user 1 (administrator), payer types
        1 and 2. The general funnel and the admin webhook are the caller's (bootstrap.py)."""

    async def portals(self) -> builtins.list[Portal]: ...

    async def portal(self, portal_id: int) -> Portal | None: ...

    async def delete_portal(self, portal_id: int) -> bool:
        """Every row of the portal, then the portal; False when there was none."""

    async def clear_portal(self, portal_id: int) -> None:
        """Everything the portal's users wrote (RESET_TABLES); who may call stays."""

    async def portal_state(self, portal_id: int) -> dict[str, builtins.list[Row]]:
        """The portal's rows by table (STATE_TABLES), as stored, each table in key order."""

    async def put_portal_state(self, portal_id: int, state: Mapping[str, Sequence[Row]]) -> None:
        """Replace the portal's rows with `state` (what portal_state gave), in one transaction."""

    async def save_snapshot(self, portal_id: int, name: str, now: float) -> None:
        """Copy the portal's rows (STATE_TABLES) as its snapshot `name`, replacing one."""

    async def restore_snapshot(self, portal_id: int, name: str) -> bool:
        """Replace the portal's rows with its snapshot `name`; False when it has none."""

    async def snapshot_state(
        self, portal_id: int, name: str
    ) -> dict[str, builtins.list[Row]] | None:
        """The rows of snapshot `name` by table, as portal_state gives a portal's."""

    async def snapshots(self, portal_id: int) -> builtins.list[tuple[str, float]]:
        """(name, created_at) of the portal's snapshots, by name."""

    async def reserve_ids(self, spans: Mapping[str, int]) -> dict[str, int]:
        """For each table, the first of `span` ids set aside for rows given explicit ids
        (`portal import` moves a file's ids into such blocks)."""

    async def taken_keys(self, state: Mapping[str, Sequence[Row]]) -> builtins.list[str]:
        """Which of `state`'s server-wide keys other than ids (webhook codes, client ids) are
        in use."""


class Store(
    LifecycleStore,
    AuthStore,
    PortalStore,
    DomainStore,
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
