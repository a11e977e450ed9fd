"""`orderlink portal ...`: many portals on one server (issue 15). Each command works while a
server runs on the same database, like `user` and `webhook`; the logic is portals.py's."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import click

from orderlink import portals
from orderlink.cli import _options, _run, _run_started, database_option, served_url_options
from orderlink.clock import SystemClock
from orderlink.settings import Settings
from orderlink.storage.base import Store

_json_flag = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
# PORTAL_ID NAME of `portal snapshot` and `portal restore`.
_snapshot_args = _options(
    click.argument("portal_id", type=int), click.argument("name"), database_option
)


@click.group("portal")
def portal() -> None:
    """Portals of this server: each has its own data, users, webhooks, apps, snapshots and
    domains. The portal that a first start creates is portal 1."""


def _domains() -> None:
    from orderlink.domain_commands import domain

    portal.add_command(domain)


_domains()


def _print_created(created: portals.Created, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(created.as_json(), ensure_ascii=False))
        return
    name = f" ({created.portal.name})" if created.portal.name else ""
    click.echo(f"portal {created.portal.id}{name}: its admin webhook, shown only now:")
    click.echo(created.webhook)


@portal.command("add")
@click.option("--name", default="", help="A name to tell it by.")
@click.option("--plan", type=click.Choice(portals.PLANS), default="standard", show_default=True)
@click.option("--seed-examples", is_flag=True, help="Add the rows the docs' examples use.")
@click.option(
    "--domain", "domains", multiple=True, metavar="DOMAIN",
    help="A host name the portal answers on (repeatable): shop.bitrix24.test",
)  # fmt: skip
@_json_flag
@served_url_options
def portal_add(
    name: str, plan: str, seed_examples: bool, domains: tuple[str, ...], as_json: bool,
    database: str, base_url: str, host: str, port: int,
) -> None:  # fmt: skip
    """Create a portal with user 1 and an admin webhook for every scope; prints the webhook
    URL as the last line (with --json: {"id", "name", "webhook"})."""
    settings = Settings(database=database, base_url=base_url, host=host, port=port)

    def go(store: Store) -> Awaitable[portals.Created]:
        return portals.create(
            store, settings, SystemClock(), name=name, plan=plan, seed_examples=seed_examples,
            domains=domains,
        )  # fmt: skip

    _print_created(_run_started(settings, go), as_json)


@portal.command("list")
@_json_flag
@database_option
def portal_list(as_json: bool, database: str) -> None:
    """Portals: id, name, plan, snapshots (with --json, one object per line)."""

    async def go(store: Store) -> list[dict[str, Any]]:
        found = []
        for each in await store.portals():
            names = [name for name, _ in await store.snapshots(each.id)]
            found.append({**portals.describe(each), "snapshots": names})
        return found

    listed = _run_started(Settings(database=database), go)
    if not as_json:
        click.echo("id\tname\tplan\tsnapshots")
    for each in listed:
        if as_json:
            click.echo(json.dumps(each, ensure_ascii=False))
        else:
            click.echo(f"{each['id']}\t{each['name']}\t{each['plan']}\t"
                       f"{','.join(each['snapshots'])}")  # fmt: skip


@portal.command("delete")
@click.argument("portal_id", type=int)
@database_option
def portal_delete(portal_id: int, database: str) -> None:
    """Delete a portal and everything in it (its webhooks stop answering)."""
    _run(lambda store: portals.delete(store, portal_id), Settings(database=database))
    click.echo(f"deleted portal {portal_id}")


@portal.command("reset")
@click.argument("portal_id", type=int)
@click.option("--seed-examples", is_flag=True, help="Then add the rows the docs' examples use.")
@database_option
def portal_reset(portal_id: int, seed_examples: bool, database: str) -> None:
    """Empty a portal back to a new portal's data; users, webhooks, apps and snapshots stay."""
    _run(
        lambda store: portals.reset(store, portal_id, SystemClock(), seed_examples=seed_examples),
        Settings(database=database),
    )
    click.echo(f"reset portal {portal_id}")


@portal.command("snapshot")
@_snapshot_args
def portal_snapshot(portal_id: int, name: str, database: str) -> None:
    """Save the portal's whole state as NAME (replacing a snapshot of that name)."""
    _run(
        lambda store: portals.snapshot(store, portal_id, name, SystemClock()),
        Settings(database=database),
    )
    click.echo(f"saved snapshot {name} of portal {portal_id}")


@portal.command("restore")
@_snapshot_args
def portal_restore(portal_id: int, name: str, database: str) -> None:
    """Bring the portal back to its snapshot NAME, in one transaction."""
    _run(lambda store: portals.restore(store, portal_id, name), Settings(database=database))
    click.echo(f"restored portal {portal_id} to {name}")


@portal.command("export")
@click.argument("portal_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@database_option
def portal_export(portal_id: int, file: Path, database: str) -> None:
    """Write the portal to FILE (JSON, readable by its owner only; no OAuth tokens)."""
    rows = _run(lambda store: portals.export(store, portal_id, file), Settings(database=database))
    click.echo(f"exported portal {portal_id} to {file} ({rows} rows)")


@portal.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_json_flag
@served_url_options
def portal_import(
    file: Path, as_json: bool, database: str, base_url: str, host: str, port: int
) -> None:
    """Create a portal from an export; prints it like `portal add` (its webhooks keep their
    URLs, and a new admin webhook is made)."""
    settings = Settings(database=database, base_url=base_url, host=host, port=port)

    def go(store: Store) -> Awaitable[portals.Created]:
        return portals.import_file(store, settings, SystemClock(), file)

    _print_created(_run_started(settings, go), as_json)
