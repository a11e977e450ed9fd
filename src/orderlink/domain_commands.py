"""`orderlink portal domain add|list|remove`: the host names a portal answers on (issue 18).

A subgroup of `orderlink portal` (cli.py attaches it). `portal add --domain D` calls
`domains.add_domain` as `domain add` does."""

from __future__ import annotations

from collections.abc import Awaitable

import click

from orderlink import domains, hosts
from orderlink.cli import _echo_lines, _run, _run_started, database_option
from orderlink.settings import Settings
from orderlink.storage.base import Store


@click.group()
def domain() -> None:
    """A portal's domains: a request whose Host is one of them is that portal's (its webhooks
    and tokens only), and OAuth replies and event `auth` blocks name its first one."""


@domain.command("add")
@click.argument("portal_id", type=int)
@click.argument("name")
@database_option
def domain_add(portal_id: int, name: str, database: str) -> None:
    """Give portal PORTAL_ID the domain NAME (shop.bitrix24.test); adding one it has is fine."""
    added, new = _run_started(
        Settings(database=database), lambda store: domains.add_domain(store, portal_id, name)
    )
    click.echo(f"{added}\t{'added to' if new else 'already a domain of'} portal {portal_id}")


@domain.command("list")
@click.argument("portal_id", type=int)
@database_option
def domain_list(portal_id: int, database: str) -> None:
    """The portal's domains, one a line, the first (the one replies name) first."""

    async def go(store: Store) -> list[str]:
        if await store.portal(portal_id) is None:
            raise domains.NoSuchPortal(portal_id)
        return await store.portal_domains(portal_id)

    _echo_lines(_run_started(Settings(database=database), go))


@domain.command("remove")
@click.argument("portal_id", type=int)
@click.argument("name")
@database_option
def domain_remove(portal_id: int, name: str, database: str) -> None:
    """Take the domain NAME from portal PORTAL_ID."""

    def go(store: Store) -> Awaitable[bool]:
        return domains.remove_domain(store, portal_id, name)

    if not _run(go, Settings(database=database)):
        raise click.ClickException(f"portal {portal_id} has no domain {hosts.hostname(name)}")
    click.echo(f"{hosts.hostname(name)}\tremoved from portal {portal_id}")
