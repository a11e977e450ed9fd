"""The `orderlink` command. Every flag also reads `ORDERLINK_<FLAG>` (`--database` ->
`ORDERLINK_DATABASE`), and every command works while a server runs on the same database."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from orderlink import bootstrap as first_start
from orderlink.auth import KNOWN_SCOPES, hash_secret, new_webhook_code
from orderlink.clock import SystemClock
from orderlink.registry import Role
from orderlink.settings import Settings, env_name, parse_costs
from orderlink.storage import create_store
from orderlink.storage.base import Store

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
DEFAULTS = Settings()


def _option(*decls: str, field: str, **kwargs: Any) -> Callable[[F], F]:
    """A flag bound to a Settings field, readable from ORDERLINK_<FIELD>."""
    kwargs.setdefault("show_envvar", True)
    return click.option(*decls, field, envvar=env_name(field), **kwargs)


database_option = _option(
    "--database", field="database", default=DEFAULTS.database, show_default=True,
    help="Database URL: sqlite:///path.db",
)  # fmt: skip
base_url_option = _option(
    "--base-url", field="base_url", default="",
    help="Public base URL for printed webhook URLs [default: http://HOST:PORT]",
)  # fmt: skip


def _run(factory: Callable[[Store], Coroutine[Any, Any, T]], settings: Settings) -> T:
    async def go() -> T:
        store = create_store(settings)
        await store.open(upgrade=settings.auto_upgrade)
        try:
            return await factory(store)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except Exception as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="orderlink")
def main() -> None:
    """orderlink: a local Bitrix24 portal for order bindings (crm.orderentity.*)."""


@main.command()
@_option("--host", field="host", default=DEFAULTS.host, show_default=True)
@_option("--port", field="port", type=int, default=DEFAULTS.port, show_default=True)
@database_option
@base_url_option
@_option(
    "--rate-limit/--no-rate-limit",
    field="rate_limit",
    default=True,
    show_default=True,
    help="The leaky-bucket request-rate limit.",
)
@_option(
    "--plan",
    field="plan",
    type=click.Choice(["standard", "enterprise"]),
    default=DEFAULTS.plan,
    show_default=True,
    help="Bucket 50/2 per s, or 250/5 per s.",
)
@_option(
    "--bucket-size",
    field="bucket_size",
    type=int,
    default=0,
    help="X: requests a burst may make [default: the plan's]",
)
@_option(
    "--drain-rate",
    field="drain_rate",
    type=float,
    default=0.0,
    help="Y: requests per second the bucket drains [default: the plan's]",
)
@_option(
    "--operating-limit",
    field="operating_limit",
    type=float,
    default=DEFAULTS.operating_limit,
    show_default=True,
    help="Operating seconds per method per webhook/app in 10 minutes; 0 turns it off.",
)
@_option(
    "--operating-cost",
    field="operating_costs",
    multiple=True,
    metavar="METHOD=SECONDS",
    help="Charge METHOD a fixed operating time per call (tests). Repeatable.",
)
@_option(
    "--test-clock",
    field="test_clock",
    is_flag=True,
    help='Enable POST /_orderlink/clock {"advance": SECONDS}.',
)
@_option(
    "--legacy-invoices",
    field="legacy_invoices",
    is_flag=True,
    help="Accept ownerTypeId 5 (old invoices) in bindings.",
)
@_option(
    "--verify-owner/--no-verify-owner",
    field="verify_owner",
    default=True,
    show_default=True,
    help="crm.orderentity.add refuses a deal/invoice that does not exist.",
)
@_option(
    "--start-minus-one",
    field="start_minus_one",
    type=click.Choice(["page", "all"]),
    default=DEFAULTS.start_minus_one,
    show_default=True,
    help="start=-1 returns one uncounted page (page) or every matching row (all).",
)
@_option(
    "--timezone",
    field="timezone",
    default=DEFAULTS.timezone,
    show_default=True,
    help="Portal time zone for dates in answers (IANA name or +02:00).",
)
@_option(
    "--max-body-bytes",
    field="max_body_bytes",
    type=int,
    default=DEFAULTS.max_body_bytes,
    show_default=True,
)
@_option(
    "--seed-examples",
    field="seed_examples",
    is_flag=True,
    help="On an empty database, add the rows the docs' examples use.",
)
@_option(
    "--require-https",
    field="require_https",
    is_flag=True,
    help="Refuse plain-HTTP REST calls with INVALID_REQUEST 'Https required'.",
)
@_option(
    "--sqlite-cache-mb",
    field="sqlite_cache_mb",
    type=int,
    default=DEFAULTS.sqlite_cache_mb,
    show_default=True,
    help="SQLite page cache in MiB.",
)
@_option(
    "--tls",
    field="tls",
    is_flag=True,
    help="Serve HTTPS (with a local CA made once, unless --tls-cert/--tls-key are given).",
)
@_option("--tls-cert", field="tls_cert", default="", help="PEM certificate chain for --tls.")
@_option("--tls-key", field="tls_key", default="", help="PEM private key for --tls.")
@_option(
    "--tls-dir",
    field="tls_dir",
    default="",
    help="Where the local CA lives [default: orderlink-tls/ beside the SQLite file]",
)
@_option(
    "--sqlite-synchronous",
    field="sqlite_synchronous",
    type=click.Choice(["NORMAL", "FULL"]),
    default=DEFAULTS.sqlite_synchronous,
    show_default=True,
)
@_option(
    "--redis",
    field="redis",
    default="",
    help="Share the limits between workers through Redis: redis://127.0.0.1:6379/0",
)
@_option(
    "--workers",
    field="workers",
    type=click.IntRange(1, 64),
    default=DEFAULTS.workers,
    show_default=True,
    help="Worker processes on one port (more than one needs --redis while a limit is on).",
)
@_option(
    "--auto-upgrade/--no-auto-upgrade",
    field="auto_upgrade",
    default=True,
    show_default=True,
    help="Apply pending database migrations on start.",
)
@_option(
    "--graceful-timeout",
    field="graceful_timeout",
    type=float,
    default=DEFAULTS.graceful_timeout,
    show_default=True,
    help="Seconds in-flight requests get to finish after SIGTERM.",
)
@click.option(
    "--forwarded-allow-ips",
    envvar="ORDERLINK_FORWARDED_ALLOW_IPS",
    show_envvar=True,
    default="127.0.0.1",
    show_default=True,
    help="Proxies trusted for X-Forwarded-Proto/-For.",
)
@click.option(
    "--access-log/--no-access-log",
    envvar="ORDERLINK_ACCESS_LOG",
    show_envvar=True,
    default=False,
    show_default=True,
)
@click.option(
    "--log-level",
    envvar="ORDERLINK_LOG_LEVEL",
    show_envvar=True,
    default="info",
    type=click.Choice(["debug", "info", "warning", "error"]),
    show_default=True,
)
def serve(
    forwarded_allow_ips: str, access_log: bool, log_level: str, operating_costs: tuple[str, ...],
    **fields: Any,
) -> None:  # fmt: skip
    """Run the server. On an empty database, create the default portal, user 1 and an admin
    webhook (scopes crm, sale), and print its URL."""
    import uvicorn

    from orderlink.app import create_app

    settings = Settings(**fields, operating_costs=_costs(operating_costs))
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if settings.tls_cert and not settings.tls:
        settings = settings.replace(tls=True)
    _check_workers(settings)
    clock = SystemClock()
    started = _run(lambda store: first_start.bootstrap(store, settings, clock), settings)
    base = settings.public_base_url()
    if started.webhook_code is not None:
        url = first_start.webhook_url(base, 1, started.webhook_code)
        click.echo(f"Admin webhook (user 1, scopes crm, sale): {url}")
        click.echo("Try it:")
        click.echo(
            f"  curl -X POST -H 'Content-Type: application/json' -d '{{}}' "
            f"{url}crm.orderentity.getFields"
        )
    else:
        click.echo(
            "Webhooks already exist (their codes are shown only when created); make another "
            "with: orderlink webhook add --user-id 1 --scope crm --scope sale"
        )
    certfile, keyfile = _tls_files(settings)
    click.echo(f"orderlink listening on {base} (database {settings.database})", err=True)
    sys.stdout.flush()
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "access_log": access_log,
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
        "lifespan": "on",
        "server_header": False,
        "date_header": True,
        "ssl_certfile": certfile,
        "ssl_keyfile": keyfile,
        "timeout_graceful_shutdown": settings.graceful_timeout,
    }
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Worker processes build their own app from the same settings, passed in the environment.
    os.environ.update(settings.to_env())
    uvicorn.run("orderlink.app:app_from_env", factory=True, workers=settings.workers, **options)


def _check_workers(settings: Settings) -> None:
    if settings.workers == 1:
        return
    limited = settings.rate_limit or settings.operating_limit > 0
    if limited and not settings.redis:
        raise click.UsageError(
            f"--workers {settings.workers} would give each worker its own limits (the portal "
            "would allow N times the requests): add --redis redis://HOST:6379/0 to share them, "
            "or turn the limits off with --no-rate-limit --operating-limit 0"
        )
    if settings.test_clock:
        raise click.UsageError("--test-clock moves one process's clock: use it with --workers 1")


def _tls_files(settings: Settings) -> tuple[str | None, str | None]:
    """(certificate, key) for uvicorn; with a local CA, also tell the user how to trust it."""
    if not settings.tls:
        return None, None
    if settings.tls_cert:
        return settings.tls_cert, settings.tls_key
    from pathlib import Path

    from orderlink import tls

    directory = Path(settings.tls_dir) if settings.tls_dir else tls.tls_dir_for(settings.database)
    hosts = [settings.host]
    if settings.base_url:
        from urllib.parse import urlsplit

        hosts.append(urlsplit(settings.base_url).hostname or "")
    certs = tls.ensure(directory, hosts)
    click.echo(f"TLS: certificates from the local CA {certs.ca_file}")
    click.echo("Trust it in clients with one of:")
    for variable in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"):
        click.echo(f"  export {variable}={certs.ca_file}")
    return str(certs.cert_file), str(certs.key_file)


def _costs(pairs: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    try:
        return parse_costs(",".join(pairs))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--operating-cost") from None


@main.command()
def methods() -> None:
    """Print the Markdown list of every method served (docs/methods.md)."""
    from orderlink.catalog import methods_markdown
    from orderlink.methods import build_registry

    click.echo(methods_markdown(build_registry()), nl=False)


@main.group()
def user() -> None:
    """Portal users and their online-store roles."""


@user.command("add")
@click.option("--name", required=True)
@click.option(
    "--store-role",
    type=click.Choice(["admin", "manager", "none"]),
    required=True,
    help="admin: every crm.orderentity method; manager: list and getFields only.",
)
@database_option
def user_add(name: str, store_role: str, database: str) -> None:
    """Add a user; prints the new user id as the last line."""
    settings = Settings(database=database)

    async def go(store: Store) -> int:
        portal = await first_start.ensure_portal(store, settings, SystemClock())
        created = await store.add_user(portal.id, name, int(Role.parse(store_role)))
        return created.id

    click.echo(_run(go, settings))


@main.group()
def webhook() -> None:
    """Incoming webhooks: /rest/{user_id}/{code}/{method}."""


@webhook.command("add")
@click.option("--user-id", type=int, required=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(KNOWN_SCOPES),
    help="Repeatable: --scope crm --scope sale.",
)
@database_option
@base_url_option
@_option("--host", field="host", default=DEFAULTS.host, show_default=True, hidden=True)
@_option("--port", field="port", type=int, default=DEFAULTS.port, show_default=True, hidden=True)
def webhook_add(
    user_id: int, scopes: tuple[str, ...], database: str, base_url: str, host: str, port: int
) -> None:
    """Create a webhook for a user; prints its URL, ending in `/`, as the last line."""
    settings = Settings(database=database, base_url=base_url, host=host, port=port)
    code = new_webhook_code()

    async def go(store: Store) -> None:
        portal = await first_start.ensure_portal(store, settings, SystemClock())
        if await store.get_user(portal.id, user_id) is None:
            raise click.ClickException(f"no user {user_id} (add one with: orderlink user add)")
        unique = tuple(dict.fromkeys(scopes))
        await store.add_webhook(portal.id, user_id, hash_secret(code), unique, SystemClock().now())

    _run(go, settings)
    click.echo(first_start.webhook_url(settings.public_base_url(), user_id, code))


@webhook.command("list")
@database_option
def webhook_list(database: str) -> None:
    """Webhooks of the default portal: id, user, scopes, state (codes are never shown again)."""
    settings = Settings(database=database)

    async def go(store: Store) -> list[str]:
        portal = await first_start.ensure_portal(store, settings, SystemClock())
        return [
            f"{w.id}\tuser {w.user_id}\t{','.join(w.scopes)}\t{'active' if w.active else 'revoked'}"
            for w in await store.list_webhooks(portal.id)
        ]

    for line in _run(go, settings):
        click.echo(line)


@webhook.command("revoke")
@click.argument("webhook_id", type=int)
@database_option
def webhook_revoke(webhook_id: int, database: str) -> None:
    """Revoke a webhook by id; its URL answers NO_AUTH_FOUND from then on."""
    settings = Settings(database=database)

    async def go(store: Store) -> bool:
        portal = await first_start.ensure_portal(store, settings, SystemClock())
        return await store.revoke_webhook(portal.id, webhook_id)

    if not _run(go, settings):
        raise click.ClickException(f"no active webhook {webhook_id}")
    click.echo(f"revoked {webhook_id}")


@main.group()
def db() -> None:
    """The database: migrations and moving data between stores."""


@db.command("upgrade")
@database_option
def db_upgrade(database: str) -> None:
    """Apply pending migrations (what `serve` does on start unless --no-auto-upgrade)."""
    settings = Settings(database=database)

    async def go(store: Store) -> tuple[int, int]:
        return await store.schema()

    applied, known = _run(go, settings)
    click.echo(f"schema version {applied} (latest {known})")


@db.command("status")
@database_option
def db_status(database: str) -> None:
    """Print the schema version and the row count of every table."""
    from orderlink.storage.base import COPY_TABLES

    settings = Settings(database=database, auto_upgrade=False)

    async def go(store: Store) -> list[str]:
        applied, known = await store.schema()
        lines = [f"schema version {applied} (latest {known})"]
        lines += [f"{table}\t{await store.count(table)}" for table in COPY_TABLES]
        return lines

    for line in _run(go, settings):
        click.echo(line)


@db.command("copy")
@click.option("--from", "source", required=True, help="Source database URL.")
@click.option("--to", "destination", required=True, help="Destination database URL.")
def db_copy(source: str, destination: str) -> None:
    """Copy every portal's data to another store; safe to re-run; verifies the counts."""
    from orderlink.storage import transfer

    async def go() -> list[transfer.Copied]:
        src = create_store(Settings(database=source))
        dst = create_store(Settings(database=destination))
        await src.open()
        try:
            await dst.open()
            try:
                with click.progressbar(
                    length=sum([await src.count(t) for t in transfer.COPY_TABLES]),
                    label="copying",
                    file=sys.stderr,
                ) as bar:
                    return await transfer.copy(src, dst, lambda _t, n: bar.update(n))
            finally:
                await dst.close()
        finally:
            await src.close()

    try:
        report = asyncio.run(go())
    except Exception as exc:
        raise click.ClickException(str(exc)) from exc
    for row in report:
        state = "ok" if row.complete else "MISSING ROWS"
        click.echo(f"{row.table}\t{row.source} in source\t{row.added} added\t"
                   f"{row.destination} in destination\t{state}")  # fmt: skip
    if not all(row.complete for row in report):
        raise click.ClickException("the destination holds fewer rows than the source")
