"""The one settings object. Built by the CLI from its flags or by `from_env()`; never at import.

Every field has an environment variable `ORDERLINK_<FIELD>` and a CLI flag `--<field-with-dashes>`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

Plan = Literal["standard", "enterprise"]

# limits.md: "Enterprise: 5 per sec, 250; Others: 2 per sec, 50".
PLAN_BUCKETS: dict[str, tuple[int, float]] = {"standard": (50, 2.0), "enterprise": (250, 5.0)}

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything orderlink can be told. Defaults are what a fresh laptop install wants."""

    database: str = "sqlite:///orderlink.db"
    host: str = "127.0.0.1"
    port: int = 8080
    # Public base URL used in printed webhook URLs and OAuth endpoints; derived from host/port
    # when empty.
    base_url: str = ""
    # Request-rate limit (limits.md, leaky bucket). `bucket_size`/`drain_rate` of 0 take the plan's.
    rate_limit: bool = True
    plan: Plan = "standard"
    bucket_size: int = 0
    drain_rate: float = 0.0
    # Operating-time limit (limits.md, "Resource Intensity Limits"): seconds per method per
    # app/webhook over ten one-minute baskets; 0 disables it.
    operating_limit: float = 480.0
    # `POST /_orderlink/clock` to move the server clock (tests only).
    test_clock: bool = False
    # Old invoices (entityTypeId 5): crm.invoice.* and ownerTypeId 5 for bindings; see
    # docs/decisions.md.
    legacy_invoices: bool = False
    # crm.orderentity.add refuses an owner (deal/invoice) that does not exist.
    verify_owner: bool = True
    # sale.order.add also creates a deal for the new order and binds the order to it, as a
    # portal's store in "Deals + Orders" mode does; see docs/decisions.md.
    order_deals: bool = False
    # The portal's time zone: dates in answers carry its offset (IANA name or "+02:00").
    timezone: str = "UTC"
    # Bodies above this many bytes are refused before they are read whole.
    max_body_bytes: int = 8 * 1024 * 1024
    # Seed the documentation's example rows (orders 5125/5127/5128, deals 6933/6937/6938) on an
    # empty database, so the docs' curl examples answer as printed.
    seed_examples: bool = False
    # Refuse plain-HTTP REST calls with INVALID_REQUEST "Https required", like a cloud portal.
    require_https: bool = False
    # Serve HTTPS: with `tls_cert`/`tls_key` from those files, else from a local CA orderlink
    # creates once in `tls_dir` (default: beside the SQLite file).
    tls: bool = False
    tls_cert: str = ""
    tls_key: str = ""
    tls_dir: str = ""
    # `start=-1` on list methods: "page" = up to 50 rows without counting (huge-data.md);
    # "all" = every matching row (crm-order-entity-list.md). See docs/decisions.md.
    start_minus_one: Literal["page", "all"] = "page"
    # Fixed operating seconds charged per call of a method ({"crm.item.list": 20.0}), so tests
    # can reach the operating-time limit without waiting.
    operating_costs: tuple[tuple[str, float], ...] = ()
    # Shared limits for several workers: `redis://127.0.0.1:6379/0`. Empty: in-process limits.
    redis: str = ""
    # Worker processes on one port; more than one needs `redis` while a limit is on.
    workers: int = 1
    # Apply pending migrations on start; off: refuse to start until `orderlink db upgrade`.
    auto_upgrade: bool = True
    # Log every request; webhook codes, tokens and client secrets are masked.
    access_log: bool = False
    # Origins a browser may call /rest/ from (CORS), comma-separated; "*" any; "" none. /rest/
    # takes no cookies (credentials travel in the URL or `auth`), so "*" lends a page nothing it
    # does not already hold. /oauth/ and /_orderlink/ never answer CORS.
    cors_origins: str = "*"
    # Seconds a client may take to send the body it announced; then 408 and the connection closes.
    body_timeout: float = 30.0
    # Failed credential attempts an address may make in a minute before it is refused (0: off).
    auth_failure_limit: int = 50
    # Event handler destinations: "local" also allows loopback and private addresses (the app
    # under test runs there); "public" only public addresses (a production server).
    event_handler_policy: Literal["local", "public"] = "local"
    # The key that seals each app's application_token in the database (sealing.py): URL-safe
    # base64 of 32 bytes, else read from `secret_key_file`, else from a file created beside the
    # SQLite file (`orderlink.db.key`) or, for PostgreSQL, `orderlink-secret.key` in the working
    # directory. Several hosts on one PostgreSQL database share one ORDERLINK_SECRET_KEY.
    secret_key: str = dataclasses.field(default="", repr=False)
    secret_key_file: str = ""
    # Seconds in-flight requests get to finish after SIGTERM.
    graceful_timeout: float = 30.0
    # OAuth lifetimes (settings/oauth/index.md: an hour; 180 days).
    access_token_ttl: float = 3600.0
    refresh_token_ttl: float = 180 * 86400.0
    # Days a finished event delivery (delivered, or given up) stays in the log; 0 keeps all.
    delivery_log_days: float = 30.0
    # /oauth/authorize/ approves at once for `user_id` (default 1) without a consent form: tests.
    oauth_auto_approve: bool = False
    # SQLite PRAGMA synchronous: NORMAL survives a killed process; FULL also survives power loss.
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    # SQLite page cache per connection, in MiB.
    sqlite_cache_mb: int = 64
    # The intercepting proxy (proxy.py, issue 18): its port on 127.0.0.1 (0: none), and the
    # hosts it lets through besides those orderlink answers for (never a Bitrix24 host).
    proxy_port: int = 0
    proxy_pass: tuple[str, ...] = ()
    # The admin API's bearer token (/_orderlink/api/, docs/admin-api.md): `serve` stores its
    # digest, replacing the one before; empty: the first `serve` on a database makes one and
    # prints it once.
    admin_token: str = dataclasses.field(default="", repr=False)
    # Honour `X-Orderlink-Fault: CODE | delay=SECONDS | drop` on a request (faults.py): tests
    # only, a production server never fails because a client asked.
    fault_header: bool = False
    # Calls the journal keeps per portal (journal.py), the oldest dropped first; 0: no journal.
    journal_limit: int = 1000
    # The dashboard at /_orderlink/ui/ (ui.py): pages that read the admin API, signed in with the
    # admin token; off: those paths answer 404 and the admin API takes no session cookie.
    ui: bool = True

    def bucket(self, plan: str | None = None) -> tuple[int, float]:
        """(X, Y): the bucket size and its drain per second, the plan's (the server's, or a
        portal's `plan`) unless --bucket-size / --drain-rate say otherwise."""
        size, drain = PLAN_BUCKETS.get(plan or self.plan, PLAN_BUCKETS[self.plan])
        return (self.bucket_size or size, self.drain_rate or drain)

    def public_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """`ORDERLINK_*` variables that `from_env()` turns back into these settings: how worker
        processes receive the settings of `orderlink serve`."""
        env = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "operating_costs":
                text = ",".join(f"{name}={cost}" for name, cost in value)
            elif field.name == "proxy_pass":
                text = ",".join(value)
            elif isinstance(value, bool):
                text = "true" if value else "false"
            else:
                text = str(value)
            env[env_name(field.name)] = text
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `ORDERLINK_*` variables; the only place that reads the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(env_name(field.name))
            if raw is not None:
                values[field.name] = _parse(field.type, raw, field.name)
        return cls(**values)


def env_name(field_name: str) -> str:
    return "ORDERLINK_" + field_name.upper()


def _parse(annotation: object, raw: str, name: str) -> Any:
    kind = str(annotation)
    if name == "operating_costs":
        return parse_costs(raw)
    if name == "proxy_pass":
        return tuple(part.strip() for part in raw.replace(" ", ",").split(",") if part.strip())
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"{env_name(name)}: expected a boolean, got {raw!r}")
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    return raw


def parse_costs(text: str) -> tuple[tuple[str, float], ...]:
    """`crm.item.list=20,crm.deal.list=5` -> ((method, seconds), ...)."""
    costs = []
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, seconds = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected METHOD=SECONDS, got {item!r}")
        costs.append((name.strip(), float(seconds)))
    return tuple(costs)
