"""`orderlink fault ...` and `orderlink journal`: the test kit's commands (issue 15), registered
on the `orderlink` group by cli.py. Like every command they work while a server runs on the same
database: a fault added here hits that server's next call, and a call it answered is in the
journal within milliseconds."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import click

from orderlink import faults
from orderlink import journal as journal_rows
from orderlink.cli import _run, database_option
from orderlink.settings import Settings
from orderlink.storage.base import Fault, JournalQuery, Store

_PORTAL_HELP = "The portal's id [default: the first portal]"


async def _portal(store: Store, portal_id: int | None) -> int:
    if portal_id is None:
        found = await store.default_portal()
        if found is None:
            raise click.ClickException("the database has no portal yet (start `orderlink serve`)")
        return found.id
    if not await store.portal(portal_id) is not None:
        raise click.ClickException(f"no portal {portal_id}")
    return portal_id


@click.group()
def fault() -> None:
    """Faults a portal answers calls with: system errors, HTML error pages, drops, delays."""


@fault.command("add")
@click.option("--portal", "portal_id", type=int, help=_PORTAL_HELP)
@click.option("--method", default="", help="The method it hits [default: every method]")
@click.option(
    "--error",
    default="",
    metavar="CODE",
    help="A system error (QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT, expired_token, "
    "INTERNAL_SERVER_ERROR, ...) or a proxy's HTML page (HTML_502, HTML_503, HTML_504, "
    "HTML_500). Required unless --delay or --drop.",
)
@click.option("--times", type=click.IntRange(min=1), help="Only the next N calls it hits.")
@click.option(
    "--probability",
    type=click.FloatRange(0, 1, min_open=True),
    help="Hit this fraction of the calls (drawn from --seed).",
)
@click.option("--seed", type=int, help="Seed of the --probability draws, so a run repeats.")
@click.option(
    "--delay",
    type=click.FloatRange(0, faults.MAX_DELAY),
    help="Seconds to wait first (alone, or before the error or drop).",
)
@click.option("--drop", is_flag=True, help="Close the connection without an answer.")
@click.option("--json", "as_json", is_flag=True, help="Print the fault as JSON.")
@database_option
def fault_add(
    portal_id: int | None, method: str, error: str, times: int | None,
    probability: float | None, seed: int | None, delay: float | None, drop: bool,
    as_json: bool, database: str,
) -> None:  # fmt: skip
    """Add a fault; prints its id as the last line."""
    try:
        wanted = faults.spec(method=method, error=error, dropped=drop, delay=delay, times=times,
                             probability=probability, seed=seed)  # fmt: skip
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

    async def go(store: Store) -> Fault:
        from orderlink.clock import SystemClock

        portal = await _portal(store, portal_id)
        return await store.add_fault(
            portal, method=wanted.method, error=wanted.error, dropped=wanted.dropped,
            delay=wanted.delay, times=wanted.times, probability=wanted.probability,
            seed=wanted.seed, now=SystemClock().now(),
        )  # fmt: skip

    added = _run(go, Settings(database=database))
    if as_json:
        click.echo(json.dumps(faults.view(added)))
        return
    click.echo(f"portal {added.portal_id}: {_hits(added)} -> {_answer(added)}")
    click.echo(added.id)


@fault.command("list")
@click.option("--portal", "portal_id", type=int, help="Only this portal's [default: every portal]")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per fault and line.")
@database_option
def fault_list(portal_id: int | None, as_json: bool, database: str) -> None:
    """Faults, oldest first: id, portal, what they hit, what they answer, firings."""

    async def go(store: Store) -> list[Fault]:
        if portal_id is not None:
            await _portal(store, portal_id)
        return await store.faults(portal_id)

    found = _run(go, Settings(database=database))
    if as_json:
        for one in found:
            click.echo(json.dumps(faults.view(one)))
        return
    click.echo("id\tportal\thits\tanswer\tfired")
    for one in found:
        fired = f"{one.fired}" + (f" of {one.times}" if one.times is not None else "")
        click.echo(f"{one.id}\t{one.portal_id}\t{_hits(one)}\t{_answer(one)}\t{fired}")


@fault.command("remove")
@click.argument("fault_id", type=int)
@database_option
def fault_remove(fault_id: int, database: str) -> None:
    """Remove one fault by id."""

    async def go(store: Store) -> bool:
        return await store.remove_fault(fault_id)

    if not _run(go, Settings(database=database)):
        raise click.ClickException(f"no fault {fault_id}")
    click.echo(f"removed {fault_id}")


@fault.command("clear")
@click.option("--portal", "portal_id", type=int, help="Only this portal's [default: every portal]")
@database_option
def fault_clear(portal_id: int | None, database: str) -> None:
    """Remove every fault (of one portal)."""

    async def go(store: Store) -> int:
        if portal_id is not None:
            await _portal(store, portal_id)
        return await store.clear_faults(portal_id)

    click.echo(f"removed {_run(go, Settings(database=database))} fault(s)")


def _hits(one: Fault) -> str:
    calls = f"calls of {one.method}" if one.method else "every call"
    if one.times is not None:
        next_ = "the next call" if one.times == 1 else f"the next {one.times} calls"
        calls = next_ + (f" of {one.method}" if one.method else "")
    if one.probability < 1:
        seed = f", seed {one.seed}" if one.seed is not None else ""
        calls += f" (probability {one.probability:g}{seed})"
    return calls


def _answer(one: Fault) -> str:
    parts = [f"delay {one.delay:g}s"] if one.delay else []
    if one.dropped:
        parts.append("drop")
    elif one.error:
        parts.append(f"{one.error} ({faults.status_of(one.error)})")
    return " + ".join(parts)


@click.command()
@click.option("--portal", "portal_id", type=int, help=_PORTAL_HELP)
@click.option("--method", default="", help="Only calls of this method (any case).")
@click.option("--status", type=int, help="Only calls answered with this HTTP status (0: dropped).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per call and line.")
@click.option("--follow", is_flag=True, help="Then print new calls as they come (Ctrl-C ends).")
@database_option
def journal(
    portal_id: int | None, method: str, status: int | None, limit: int, as_json: bool,
    follow: bool, database: str,
) -> None:  # fmt: skip
    """The calls a portal got, newest first: time, method, status, duration, caller; with
    --json each with its parameters (secrets masked), answer, limit and scope decisions, faults
    that fired and, for a batch, every command. With --follow, new calls follow, oldest first,
    as `tail -f` shows them."""
    if not as_json:
        click.echo("id\ttime\tmethod\tstatus\tms\tcaller\tnotes")

    async def go(store: Store) -> None:
        portal = await _portal(store, portal_id)
        query = JournalQuery(portal, method=method, status=status, limit=limit)
        entries = [journal_rows.entry(row) for row in await store.journal(query)]
        for one in entries:
            _show(one, as_json)
        seen = max((int(one["id"]) for one in entries), default=0)
        while follow:
            await asyncio.sleep(FOLLOW_EVERY)
            query = JournalQuery(portal, method=method, status=status, after=seen, limit=1000)
            for one in reversed([journal_rows.entry(row) for row in await store.journal(query)]):
                _show(one, as_json)
                seen = max(seen, int(one["id"]))

    with contextlib.suppress(KeyboardInterrupt):  # how --follow ends
        _run(go, Settings(database=database))


FOLLOW_EVERY = 0.25  # seconds between two reads of `journal --follow`


def _show(one: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(one, ensure_ascii=False))
        return
    when = datetime.fromtimestamp(one["time"], UTC).isoformat(timespec="milliseconds")
    caller = f"{one['transport']} user {one['user_id']}"
    click.echo(f"{one['id']}\t{when}\t{one['method']}\t{one['status']}\t"
               f"{one['duration'] * 1000:.1f}\t{caller}\t{_notes(one)}", nl=True)  # fmt: skip


def _notes(one: dict[str, Any]) -> str:
    notes = []
    for fired in one["faults"]:
        notes.append("fault " + (fired["error"] or ("drop" if fired["drop"] else "delay")))
    if one["dropped"]:
        notes.append("dropped")
    if one["did_you_mean"]:
        notes.append(f"did you mean {one['did_you_mean']}?")
    if one["batch"] is not None:
        failed = sum(1 for command in one["batch"] if "error" in command)
        notes.append(f"batch of {len(one['batch'])}, {failed} failed")
    if one["truncated"]:
        notes.append("answer truncated")
    return "; ".join(notes)
