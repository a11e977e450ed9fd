"""The `orderlink` command. Every setting also reads `ORDERLINK_<SETTING>` (`--database` ->
`ORDERLINK_DATABASE`); flags that are not settings (`--name`, `--json`, `--user-id`, ...) read no
environment, so one variable can never mean two things. Every command works while a server runs
on the same database."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import click

from orderlink import bootstrap as first_start
from orderlink import limits
from orderlink.auth import KNOWN_SCOPES, hash_secret, new_webhook_code
from orderlink.clock import SystemClock
from orderlink.registry import Role
from orderlink.rules import users
from orderlink.settings import Settings, env_name, parse_costs
from orderlink.storage import create_store
from orderlink.storage.base import App, Store

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
DEFAULTS = Settings()


_HINTS = get_type_hints(Settings)


def _option(field: str, *decls: str, **kwargs: Any) -> Callable[[F], F]:
    """The flag of a Settings field, readable from ORDERLINK_<FIELD>: `--field-with-dashes`
    unless `decls` say otherwise, with the field's default (shown unless empty), a Literal's
    choices, a bool as a flag (`--x/--no-x` when it defaults to on), a tuple repeatable."""
    default = getattr(DEFAULTS, field)
    flag = "--" + field.replace("_", "-")
    if isinstance(default, bool) and not decls:
        if default:
            decls = (f"{flag}/--no-{flag[2:]}",)
        else:
            kwargs.setdefault("is_flag", True)
    elif isinstance(default, tuple):
        kwargs.setdefault("multiple", True)
    elif get_origin(_HINTS[field]) is Literal:
        kwargs.setdefault("type", click.Choice(get_args(_HINTS[field])))
    if default or not isinstance(default, bool | tuple):  # an off flag, a list: click's own
        kwargs.setdefault("default", default)
    if default:
        kwargs.setdefault("show_default", True)
    kwargs.setdefault("show_envvar", True)
    return click.option(*(decls or (flag,)), field, envvar=env_name(field), **kwargs)


def _options(*flags: Callable[[F], F]) -> Callable[[F], F]:
    """Several flags as one decorator, listed in `--help` in the order given."""

    def apply(function: F) -> F:
        for flag in reversed(flags):
            function = flag(function)
        return function

    return apply


_database_flag = _option(
    "database",
    help="sqlite:///path.db, or postgresql://user@host:5432/db[?schema=NAME] (pip install "
    "'orderlink[postgres]')",
)


def _remember_key(ctx: click.Context, param: click.Parameter, value: str) -> None:
    if value and param.name:
        ctx.meta[f"orderlink.{param.name}"] = value


# The key that seals application tokens in the database (sealing.py): every command that opens
# the database takes it, without a parameter of its own (`_with_keys` applies it).
_secret_key_flags = (
    _option(
        "secret_key", expose_value=False, callback=_remember_key,
        help="Key sealing application tokens in the database (URL-safe base64 of 32 bytes); "
        "prefer the variable, a flag shows in the process list.",
    ),
    _option(
        "secret_key_file", expose_value=False, callback=_remember_key,
        help="File holding that key, created once (0600) [default: DB.key beside the SQLite "
        "file; ./orderlink-secret.key for PostgreSQL]",
    ),
)  # fmt: skip


def _remember_portal(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    if value is not None:
        ctx.meta["orderlink.portal"] = value


# `--portal ID` on the commands that act on one portal's users, webhooks and apps; without it,
# the default portal (portal 1, made by a first start), as before portals came.
portal_option = click.option(
    "--portal", "portal_id", type=int, default=None, expose_value=False,
    callback=_remember_portal, help="The portal [default: the default portal, 1]",
)  # fmt: skip


async def _target_portal(store: Store, settings: Settings, clock: Any) -> Any:
    """The portal `--portal` names (it must exist), else the default one (made if missing)."""
    default = await first_start.ensure_portal(store, settings, clock)
    ctx = click.get_current_context(silent=True)
    wanted = ctx.meta.get("orderlink.portal") if ctx is not None else None
    if wanted is None or wanted == default.id:
        return default
    found = await store.portal(int(wanted))
    if found is None:
        raise click.ClickException(f"no portal {wanted} (see: orderlink portal list)")
    return found


# `--database`, and the key that seals what that database holds.
database_option = _options(_database_flag, *reversed(_secret_key_flags))


def _with_keys(settings: Settings) -> Settings:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return settings
    return settings.replace(
        secret_key=ctx.meta.get("orderlink.secret_key", settings.secret_key),
        secret_key_file=ctx.meta.get("orderlink.secret_key_file", settings.secret_key_file),
    )


base_url_option = _option(
    "base_url", help="Public base URL for printed webhook URLs [default: http://HOST:PORT]"
)
_tls_dir_option = _option(
    "tls_dir", help="Where the local CA lives [default: orderlink-tls/ beside the SQLite file]"
)
# The commands that print a webhook URL: the database, and where the server answers.
served_url_options = _options(
    database_option, base_url_option,
    _option("host", hidden=True), _option("port", hidden=True),
)  # fmt: skip


def _run(factory: Callable[[Store], Awaitable[T]], settings: Settings) -> T:
    settings = _with_keys(settings)

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


def _run_started(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """`_run` once portal 1 exists, as a first `serve` makes it: on an empty database it comes
    first, so ids then say which portal came first."""

    async def go(store: Store) -> T:
        first = settings.replace(seed_examples=False)
        await first_start.ensure_portal(store, first, SystemClock())
        return await work(store)

    return _run(go, settings)


def _on_portal(settings: Settings, work: Callable[[Store, Any], Awaitable[T]]) -> T:
    """`_run` for a command on the portal `--portal` names: `work(store, portal)`."""

    async def go(store: Store) -> T:
        return await work(store, await _target_portal(store, settings, SystemClock()))

    return _run(go, settings)


def _on_app(settings: Settings, client_id: str, work: Callable[[Store, App], Awaitable[T]]) -> T:
    """`_run` for a command on the application `--client-id` names: `work(store, app)`."""

    async def go(store: Store) -> T:
        found = await store.app(client_id)
        if found is None:
            raise click.ClickException(f"no application {client_id}")
        return await work(store, found)

    return _run(go, settings)


def _echo_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(line)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="orderlink")
def main() -> None:
    """orderlink: a local Bitrix24 portal for order bindings (crm.orderentity.*)."""


@main.command()
@_option("host")
@_option("port")
@database_option
@base_url_option
@_option("rate_limit", help="The leaky-bucket request-rate limit.")
@_option("plan", help="Bucket 50/2 per s, or 250/5 per s.")
@_option("bucket_size", help="X: requests a burst may make [default: the plan's]")
@_option("drain_rate", help="Y: requests per second the bucket drains [default: the plan's]")
@_option(
    "operating_limit",
    help="Operating seconds per method per webhook/app in 10 minutes; 0 turns it off.",
)
@_option(
    "operating_costs", "--operating-cost", metavar="METHOD=SECONDS",
    help="Charge METHOD a fixed operating time per call (tests). Repeatable.",
)  # fmt: skip
@_option("test_clock", help='Enable POST /_orderlink/clock {"advance": SECONDS}.')
@_option(
    "legacy_invoices",
    help="Serve crm.invoice.* (old invoices) and accept ownerTypeId 5 in bindings.",
)
@_option(
    "order_deals",
    help="sale.order.add also creates a deal for the new order and binds them (Deals + Orders).",
)
@_option("verify_owner", help="crm.orderentity.add refuses a deal/invoice that does not exist.")
@_option(
    "start_minus_one",
    help="start=-1 returns one uncounted page (page) or every matching row (all).",
)
@_option("timezone", help="Portal time zone for dates in answers (IANA name or +02:00).")
@_option("max_body_bytes")
@_option("seed_examples", help="On an empty database, add the rows the docs' examples use.")
@_option(
    "require_https", help="Refuse plain-HTTP REST calls with INVALID_REQUEST 'Https required'."
)
@_option("sqlite_cache_mb", help="SQLite page cache in MiB.")
@_option(
    "tls", help="Serve HTTPS (with a local CA made once, unless --tls-cert/--tls-key are given)."
)
@_option("tls_cert", help="PEM certificate chain for --tls.")
@_option("tls_key", help="PEM private key for --tls.")
@_tls_dir_option
@_option(
    "proxy_port",
    type=click.IntRange(0, 65535),
    help="Also run the intercepting HTTP proxy on 127.0.0.1:PORT, for clients started with "
    "HTTPS_PROXY=http://127.0.0.1:PORT: it answers for Bitrix24's hosts and portal domains "
    "with certificates from the local CA and refuses every other host [default: off]",
)
@_option(
    "proxy_pass", metavar="HOST",
    help="A host the proxy lets through: HOST, HOST:PORT or *.DOMAIN. Repeatable. Never a "
    "Bitrix24 host.",
)  # fmt: skip
@_option("sqlite_synchronous")
@_option("access_token_ttl", help="Seconds an OAuth access token lives.")
@_option("delivery_log_days", help="Days a finished event delivery stays in the log (0: forever).")
@_option("refresh_token_ttl", help="Seconds an OAuth refresh token lives.")
@_option(
    "oauth_auto_approve",
    help="/oauth/authorize/ approves at once for ?user_id= (default 1): tests only.",
)
@_option("redis", help="Share the limits between workers through Redis: redis://127.0.0.1:6379/0")
@_option(
    "workers", type=click.IntRange(1, 64),
    help="Worker processes on one port (more than one needs --redis while a limit is on).",
)  # fmt: skip
@_option("auto_upgrade", help="Apply pending database migrations on start.")
@_option("graceful_timeout", help="Seconds in-flight requests get to finish after SIGTERM.")
@click.option(
    "--forwarded-allow-ips",
    envvar="ORDERLINK_FORWARDED_ALLOW_IPS",
    show_envvar=True,
    default="127.0.0.1",
    show_default=True,
    help="Proxies trusted for X-Forwarded-Proto/-For.",
)
@_option(
    "cors_origins",
    help="Origins browsers may call /rest/ from, comma-separated ('*' any, '' none).",
)
@_option(
    "auth_failure_limit", type=click.IntRange(min=0),
    help="Failed credential attempts per client address per minute before it is refused (0: off).",
)  # fmt: skip
@_option(
    "event_handler_policy",
    help="Event handler URLs: 'local' allows loopback and private addresses, 'public' only "
    "public ones. Link-local, cloud-metadata and orderlink's own address are always refused.",
)
@_option(
    "body_timeout", type=click.FloatRange(min=0.1),
    help="Seconds a client may take to send the request body it announced (then 408).",
)  # fmt: skip
@_option(
    "access_log", "--access-log/--no-access-log", show_default=True,
    help="Log every request (webhook codes, tokens and secrets masked).",
)  # fmt: skip
@_option(
    "admin_token",
    help="Bearer token of the admin API (/_orderlink/api/); prefer the variable, a flag shows "
    "in the process list [default: made on the first start and printed once]",
)
@_option(
    "fault_header",
    help="Honour X-Orderlink-Fault: CODE | delay=SECONDS | drop on a request (tests only).",
)
@_option(
    "journal_limit",
    type=click.IntRange(min=0),
    help="Calls the journal keeps per portal (orderlink journal); 0 keeps none.",
)
@_option("ui", help="The dashboard at /_orderlink/ui/, signed in with the admin token.")
@click.option(
    "--log-level",
    envvar="ORDERLINK_LOG_LEVEL",
    show_envvar=True,
    default="info",
    type=click.Choice(["debug", "info", "warning", "error"]),
    show_default=True,
)
def serve(
    forwarded_allow_ips: str, log_level: str, operating_costs: tuple[str, ...],
    **fields: Any,
) -> None:  # fmt: skip
    """Run the server. On an empty database, create the default portal, user 1 and an admin
    webhook (scopes crm, sale, userfieldconfig), and print its URL."""
    import uvicorn

    from orderlink.app import served_app
    from orderlink.events import shown_url
    from orderlink.http_protocol import Protocol

    settings = _with_keys(Settings(**fields, operating_costs=_costs(operating_costs)))
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if settings.tls_cert and not settings.tls:
        settings = settings.replace(tls=True)
    _check_workers(settings)
    passes = _check_proxy(settings)
    if settings.redis and not limits.redis_installed():
        raise click.UsageError(limits.REDIS_MISSING)
    clock = SystemClock()

    async def first(store: Store) -> tuple[first_start.Started, str | None]:
        from orderlink import admin

        started = await first_start.bootstrap(store, settings, clock)
        return started, await admin.ensure_token(store, settings.admin_token, clock.now())

    started, admin_token = _run(first, settings)
    base = settings.public_base_url()
    shown = shown_url(settings.database)  # a PostgreSQL URL's password is never printed
    if started.webhook_code is not None:
        url = first_start.webhook_url(base, 1, started.webhook_code)
        scopes = ", ".join(first_start.ADMIN_SCOPES)
        click.echo(f"Admin webhook (user 1, scopes {scopes}): {url}")
        click.echo("Try it:")
        click.echo(
            f"  curl -X POST -H 'Content-Type: application/json' -d '{{}}' "
            f"{url}crm.orderentity.getFields"
        )
    else:
        database = "" if settings.database == DEFAULTS.database else f" --database {shown}"
        click.echo(
            "Webhooks already exist (their codes are shown only when created); make another "
            f"with: orderlink webhook add --user-id 1 --scope crm --scope sale{database}"
        )
    if admin_token is not None:
        click.echo(f"admin token: {admin_token}")
    elif not settings.admin_token:
        click.echo(
            "Admin API token already set (shown only when made); set another with --admin-token"
        )
    certfile, keyfile = _tls_files(settings)
    if settings.proxy_port:
        _show_proxy(settings)
    click.echo(f"orderlink listening on {base} (database {shown})", err=True)
    sys.stdout.flush()
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        # orderlink writes its own access log, with secrets masked (app.py).
        "access_log": False,
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
        "lifespan": "on",
        "server_header": False,
        "date_header": True,
        "ssl_certfile": certfile,
        "ssl_keyfile": keyfile,
        "timeout_graceful_shutdown": settings.graceful_timeout,
        # Protocol-level refusals in the Bitrix24 envelope (http_protocol.py).
        "http": Protocol,
    }
    if settings.workers == 1:
        served = served_app(settings)
        if settings.proxy_port:
            from orderlink.proxy import ProxyingServer

            server = ProxyingServer(
                uvicorn.Config(served, **options), app=served, domains=served.domains,
                port=settings.proxy_port, passes=passes, tls_dir=_tls_dir(settings),
            )  # fmt: skip
            server.run()
            if not server.started:
                sys.exit(3)  # uvicorn's STARTUP_FAILURE, as uvicorn.run exits
            return
        uvicorn.run(served, **options)
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


def _check_proxy(settings: Settings) -> Any:
    """The checked `--proxy-pass` list; the proxy's own refusals at start-up."""
    from orderlink import proxy

    if not settings.proxy_port:
        if settings.proxy_pass:
            raise click.UsageError("--proxy-pass names hosts for the proxy: add --proxy-port")
        return proxy.PassList()
    if settings.proxy_port == settings.port:
        raise click.UsageError("--proxy-port and --port must differ")
    if settings.workers != 1:
        raise click.UsageError(
            "--proxy-port serves through the one process's app: use it with --workers 1"
        )
    try:
        return proxy.pass_list(settings.proxy_pass)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _tls_dir(settings: Settings) -> Any:
    from pathlib import Path

    from orderlink import tls

    return Path(settings.tls_dir) if settings.tls_dir else tls.tls_dir_for(settings.database)


def _show_proxy(settings: Settings) -> None:
    from orderlink import tls

    ca = tls.ensure_ca(_tls_dir(settings))
    proxy = f"http://127.0.0.1:{settings.proxy_port}"
    click.echo(f"Proxy for Bitrix24's hosts and portal domains: {proxy}; start clients with")
    click.echo(f"  export HTTPS_PROXY={proxy} HTTP_PROXY={proxy} https_proxy={proxy} "
               f"http_proxy={proxy}")  # fmt: skip
    click.echo(f"  export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca} NODE_EXTRA_CA_CERTS={ca} "
               f"CURL_CA_BUNDLE={ca}")  # fmt: skip


def _tls_files(settings: Settings) -> tuple[str | None, str | None]:
    """(certificate, key) for uvicorn; with a local CA, also tell the user how to trust it."""
    if not settings.tls:
        return None, None
    if settings.tls_cert:
        return settings.tls_cert, settings.tls_key
    from orderlink import tls

    directory = _tls_dir(settings)
    hosts = [settings.host]
    if settings.base_url:
        from urllib.parse import urlsplit

        hosts.append(urlsplit(settings.base_url).hostname or "")
    certs = tls.ensure(directory, hosts)
    click.echo(f"TLS: certificates from the local CA {certs.ca_file}")
    click.echo("Trust it in clients with one of:")
    # Debian's curl reads CURL_CA_BUNDLE, not SSL_CERT_FILE (which Python's ssl and OpenSSL read).
    for variable, who in (
        ("REQUESTS_CA_BUNDLE", "requests, b24pysdk"),
        ("SSL_CERT_FILE", "httpx, aiohttp, Python ssl"),
        ("NODE_EXTRA_CA_CERTS", "Node.js, b24jssdk"),
        ("CURL_CA_BUNDLE", "curl"),
    ):
        click.echo(f"  export {variable}={certs.ca_file}    # {who}")
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
@portal_option
@click.option("--name", required=True, help="First name, or the whole name without --last-name.")
@click.option(
    "--store-role",
    type=click.Choice(["admin", "manager", "none"]),
    required=True,
    help="admin: every crm.orderentity method; manager: list and getFields only.",
)
@click.option("--last-name", default=None, help="LAST_NAME [default: --name after its first space]")
@click.option("--second-name", default=None, help="SECOND_NAME (middle name).")
@click.option("--email", default=None, help="EMAIL, unique on the portal.")
@click.option("--work-position", default=None, help="WORK_POSITION (job title).")
@click.option("--work-phone", default=None, help="WORK_PHONE.")
@click.option("--personal-mobile", default=None, help="PERSONAL_MOBILE.")
@database_option
def user_add(
    name: str,
    store_role: str,
    last_name: str | None,
    second_name: str | None,
    email: str | None,
    work_position: str | None,
    work_phone: str | None,
    personal_mobile: str | None,
    database: str,
) -> None:
    """Add a user; prints the new user id as the last line."""
    settings = Settings(database=database)
    if last_name is None:
        # The profile's NAME and LAST_NAME, as `profile` has always split a one-line name.
        name, _, last_name = name.partition(" ")
    if email is not None and not users.valid_email(email.strip()):
        raise click.BadParameter(f"{email!r} is not an e-mail address", param_hint="--email")
    profile = {"last_name": last_name, "second_name": second_name,
               "email": email.strip() if email else None, "work_position": work_position,
               "work_phone": work_phone, "personal_mobile": personal_mobile}  # fmt: skip
    clock = SystemClock()

    async def go(store: Store, portal: Any) -> int:
        if profile["email"] and any(
            u.email.lower() == str(profile["email"]).lower() for u in await store.users(portal.id)
        ):
            raise ValueError(f"a user with the e-mail {profile['email']} already exists")
        created = await store.add_user(
            portal.id, name, int(Role.parse(store_role)),
            profile={k: v for k, v in profile.items() if v is not None}, now=clock.now(),
        )  # fmt: skip
        return created.id

    click.echo(_on_portal(settings, go))


@user.command("list")
@portal_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per user and line.")
@database_option
def user_list(as_json: bool, database: str) -> None:
    """Users of a portal (--portal; the default one): id, name, store role, portal admin."""
    users = _on_portal(Settings(database=database), lambda store, portal: store.users(portal.id))
    if not as_json:
        click.echo("id\tname\tstore role\tadmin")
    for found in users:
        role = Role(found.store_role).label
        if as_json:
            click.echo(json.dumps({"id": found.id, "name": found.full_name, "store_role": role,
                                   "admin": found.is_admin}))  # fmt: skip
        else:
            admin = "yes" if found.is_admin else "no"
            click.echo(f"{found.id}\t{found.full_name}\t{role}\t{admin}")


@main.group()
def webhook() -> None:
    """Incoming webhooks: /rest/{user_id}/{code}/{method}."""


@webhook.command("add")
@portal_option
@click.option("--user-id", type=int, required=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(KNOWN_SCOPES),
    help="Repeatable: --scope crm --scope sale.",
)
@served_url_options
def webhook_add(
    user_id: int, scopes: tuple[str, ...], database: str, base_url: str, host: str, port: int
) -> None:
    """Create a webhook for a user; prints its URL, ending in `/`, as the last line."""
    settings = Settings(database=database, base_url=base_url, host=host, port=port)
    code = new_webhook_code()

    async def go(store: Store, portal: Any) -> str:
        if await store.get_user(portal.id, user_id) is None:
            raise click.ClickException(f"no user {user_id} (add one with: orderlink user add)")
        unique = tuple(dict.fromkeys(scopes))
        await store.add_webhook(portal.id, user_id, hash_secret(code), unique, SystemClock().now())
        return await first_start.served_base_url(store, settings)

    click.echo(first_start.webhook_url(_on_portal(settings, go), user_id, code))


@webhook.command("list")
@portal_option
@database_option
def webhook_list(database: str) -> None:
    """Webhooks of a portal: id, user, scopes, state (codes are never shown again)."""
    found = _on_portal(Settings(database=database), lambda s, portal: s.list_webhooks(portal.id))
    click.echo("id\tuser\tscopes\tstate")
    for w in found:
        state = "active" if w.active else "revoked"
        click.echo(f"{w.id}\tuser {w.user_id}\t{','.join(w.scopes)}\t{state}")


@webhook.command("revoke")
@portal_option
@click.argument("webhook_id", type=int)
@database_option
def webhook_revoke(webhook_id: int, database: str) -> None:
    """Revoke a webhook by id; its URL answers NO_AUTH_FOUND from then on."""
    settings = Settings(database=database)
    if not _on_portal(settings, lambda store, portal: store.revoke_webhook(portal.id, webhook_id)):
        raise click.ClickException(f"no active webhook {webhook_id}")
    click.echo(f"revoked {webhook_id}")


@main.group()
def app() -> None:
    """OAuth applications: register, install, limit, and tokens for tests and scripts."""


def _http_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An absolute http(s) URL with a host and no fragment (RFC 6749 3.1.2 for a redirect
    URI); a handler URL also where deliveries may go (destinations.py). "" only for an optional
    flag left out."""
    from urllib.parse import urlsplit

    from orderlink import destinations

    if value == "" and not param.required:
        return value
    if param.name == "redirect_uri":
        problem = destinations.shape_refusal(value)
        if not problem and urlsplit(value).fragment:
            problem = "a redirect URI has no #fragment"
    else:
        problem = destinations.refusal(value, Settings())
    if problem:
        raise click.BadParameter(f"{value!r}: {problem}")
    return value


@app.command("add")
@portal_option
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(KNOWN_SCOPES),
              help="Repeatable: --scope crm --scope sale.")  # fmt: skip
@click.option(
    "--redirect-uri",
    required=True,
    callback=_http_url,
    help="Where /oauth/authorize/ sends the browser: an absolute http(s) URL.",
)
@click.option(
    "--handler-url",
    default="",
    callback=_http_url,
    help="Install handler: gets ONAPPINSTALL (an http(s) URL deliveries may reach).",
)
@click.option("--json", "as_json", is_flag=True, help="Last line: the credentials as JSON.")
@database_option
def app_add(
    name: str, scopes: tuple[str, ...], redirect_uri: str, handler_url: str, as_json: bool,
    database: str,
) -> None:  # fmt: skip
    """Register a local application; prints its client_id and client_secret (shown once)."""
    from orderlink import oauth

    settings = Settings(database=database)
    client_id, secret = oauth.new_client_id(), oauth.new_client_secret()

    async def go(store: Store, portal: Any) -> None:
        await store.add_app(
            portal.id, name=name, client_id=client_id, secret_hash=hash_secret(secret),
            scopes=tuple(dict.fromkeys(scopes)), redirect_uri=redirect_uri,
            handler_url=handler_url, now=SystemClock().now(),
        )  # fmt: skip

    _on_portal(settings, go)
    if as_json:
        click.echo(json.dumps({"client_id": client_id, "client_secret": secret}))
    else:
        click.echo(f"client_id: {client_id}")
        click.echo(f"client_secret: {secret}")


@app.command("install")
@click.option("--client-id", required=True)
@click.option("--user-id", type=int, default=1, show_default=True, help="The installing user.")
@database_option
def app_install(client_id: str, user_id: int, database: str) -> None:
    """Install an application on the portal (its install handler gets ONAPPINSTALL)."""
    from orderlink.oauth import OAuth

    settings = Settings(database=database)

    async def go(store: Store, found: App) -> str:
        install = await OAuth(store, settings, SystemClock()).install(found, user_id)
        return install.application_token

    click.echo(f"installed; application_token: {_on_app(settings, client_id, go)}")


@app.command("uninstall")
@click.option("--client-id", required=True)
@database_option
def app_uninstall(client_id: str, database: str) -> None:
    """Uninstall: tokens revoked, handlers removed, ONAPPUNINSTALL sent."""
    from orderlink.oauth import OAuth

    settings = Settings(database=database)

    def go(store: Store, found: App) -> Awaitable[bool]:
        return OAuth(store, settings, SystemClock()).uninstall(found, 1)

    if not _on_app(settings, client_id, go):
        raise click.ClickException(f"{client_id} is not installed")
    click.echo("uninstalled")


@app.command("limit")
@click.option("--client-id", required=True)
@click.option("--user-id", "users", type=int, multiple=True,
              help="Repeatable; none: every user may use the app.")  # fmt: skip
@database_option
def app_limit(client_id: str, users: tuple[int, ...], database: str) -> None:
    """Limit an installed application to some users (others get user_access_error)."""

    def go(store: Store, found: App) -> Awaitable[bool]:
        return store.limit_app(found.portal_id, found.id, users)

    if not _on_app(Settings(database=database), client_id, go):
        raise click.ClickException(f"{client_id} is not installed")
    click.echo("limited to " + (", ".join(map(str, users)) or "every user"))


@app.command("list")
@portal_option
@database_option
def app_list(database: str) -> None:
    """Applications of the default portal: client_id, name, scopes, installed."""

    async def go(store: Store, portal: Any) -> list[str]:
        lines = ["client_id\tname\tscopes\tstate"]
        for found in await store.apps(portal.id):
            install = await store.install_of(portal.id, found.id)
            state = "installed" if install and install.installed else "not installed"
            lines.append(f"{found.client_id}\t{found.name}\t{','.join(found.scopes)}\t{state}")
        return lines

    _echo_lines(_on_portal(Settings(database=database), go))


@main.group()
def token() -> None:
    """OAuth tokens without the browser flow."""


@token.command("issue")
@click.option("--client-id", required=True)
@click.option("--user-id", type=int, required=True)
@click.option("--json", "as_json", is_flag=True, help="Last line: the /oauth/token/ reply.")
@database_option
@base_url_option
@_option("access_token_ttl")
def token_issue(
    client_id: str, user_id: int, as_json: bool, database: str, base_url: str,
    access_token_ttl: float,
) -> None:  # fmt: skip
    """A fresh token pair for a user of an application (installed for them if it is not)."""
    from orderlink.oauth import Endpoints, OAuth

    settings = Settings(database=database, base_url=base_url, access_token_ttl=access_token_ttl)

    async def go(store: Store, found: App) -> dict[str, Any]:
        flow = OAuth(store, settings, SystemClock())
        install = await store.install_of(found.portal_id, found.id)
        if install is None or not install.installed:
            await flow.install(found, user_id)
        grant = await store.grant_for(found.portal_id, found.id, user_id)
        if grant is None:
            raise click.ClickException(f"no user {user_id}")
        base = await first_start.served_base_url(store, settings)
        return await flow.issue(grant, Endpoints(base))

    reply = _on_app(settings, client_id, go)
    if as_json:
        click.echo(json.dumps(reply))
    else:
        click.echo(f"access_token: {reply['access_token']}")
        click.echo(f"refresh_token: {reply['refresh_token']}")
        click.echo(f"client_endpoint: {reply['client_endpoint']}")


@main.group()
def events() -> None:
    """Event deliveries to application handlers."""


@events.command("log")
@click.option("--limit", type=int, default=50, show_default=True)
@database_option
def events_log(limit: int, database: str) -> None:
    """The latest deliveries: id, event, handler, attempts, status, last answer."""
    from orderlink.events import shown_url

    found = _run(lambda store: store.deliveries(None, limit), Settings(database=database))
    click.echo("id\tevent\thandler\tattempts\tstatus\tlast answer")
    for d in found:
        click.echo(f"{d.id}\t{d.event}\t{shown_url(d.handler)}\t{d.attempts} attempt(s)"
                   f"\t{d.status}\t{shown_url(d.last_status)}")  # fmt: skip


@main.group()
def db() -> None:
    """The database: migrations and moving data between stores."""


@db.command("upgrade")
@database_option
def db_upgrade(database: str) -> None:
    """Apply pending migrations (what `serve` does on start unless --no-auto-upgrade)."""
    applied, known = _run(lambda store: store.schema(), Settings(database=database))
    click.echo(f"schema version {applied} (latest {known})")


@db.command("status")
@database_option
def db_status(database: str) -> None:
    """Print the schema version and the row count of every table `db copy` moves (portals,
    users, webhooks, orders, deals, invoices, bindings, apps, installs, tokens, handlers).
    Not counted: 30-second authorization codes and the delivery log (`orderlink events log`)."""
    from orderlink.storage.base import COPY_TABLES

    settings = Settings(database=database, auto_upgrade=False)

    async def go(store: Store) -> list[str]:
        applied, known = await store.schema()
        lines = [f"schema version {applied} (latest {known})"]
        lines += [f"{table}\t{await store.count(table)}" for table in COPY_TABLES]
        return lines

    _echo_lines(_run(go, settings))


@db.command("copy")
@click.option("--from", "source", required=True, help="Source database URL.")
@click.option("--to", "destination", required=True, help="Destination database URL.")
@click.option(
    "--from-key-file", default="", help="The source's secret-key file [default: its own default]."
)
@click.option(
    "--to-key-file", default="",
    help="The destination's secret-key file, created if missing [default: its own default].",
)  # fmt: skip
def db_copy(source: str, destination: str, from_key_file: str, to_key_file: str) -> None:
    """Copy every portal's data to another store; safe to re-run; verifies the counts.
    Application tokens are unsealed with the source's key and sealed with the destination's."""
    from orderlink.sealing import SecretKeyError
    from orderlink.storage import transfer

    async def go() -> list[transfer.Copied]:
        src = create_store(Settings(database=source, secret_key_file=from_key_file))
        dst = create_store(Settings(database=destination, secret_key_file=to_key_file))
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
    except SecretKeyError as exc:
        raise click.ClickException(f"{exc} (db copy: --from-key-file, --to-key-file)") from exc
    except Exception as exc:
        raise click.ClickException(str(exc)) from exc
    for row in report:
        state = "ok" if row.complete else "MISSING ROWS"
        click.echo(f"{row.table}\t{row.source} in source\t{row.added} added\t"
                   f"{row.destination} in destination\t{state}")  # fmt: skip
    if not all(row.complete for row in report):
        raise click.ClickException("the destination holds fewer rows than the source")


@main.group()
def ca() -> None:
    """orderlink's local certificate authority (`serve --tls`, `serve --proxy-port`)."""


@ca.command("path")
@_database_flag
@_tls_dir_option
def ca_path(database: str, tls_dir: str) -> None:
    """Print the CA file clients trust (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, NODE_EXTRA_CA_CERTS,
    CURL_CA_BUNDLE, PHP's curl.cainfo); the CA is made on first use."""
    from orderlink import tls

    click.echo(tls.ensure_ca(_tls_dir(Settings(database=database, tls_dir=tls_dir))))


def _subcommands() -> None:
    """Command groups kept in modules of their own (they use the helpers above)."""
    from orderlink.cli_portal import portal

    main.add_command(portal)
    from orderlink.cli_testkit import fault, journal

    main.add_command(fault)
    main.add_command(journal)


_subcommands()
