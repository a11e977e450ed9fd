"""Many portals on one server: create, reset, snapshot, restore, export and import a portal.

The CLI (`orderlink portal ...`) and the admin API (`/_orderlink/api/portals`) both call these;
the store keeps a portal's rows (storage/base.py PORTAL_TABLES), this module what a portal is
made of beyond rows: the general funnel, the admin webhook, the example rows, the file format.

A portal's entity ids are unique on the server (the schema's choice since the first
migration), so a snapshot restores a portal exactly, ids included; `import` moves the file's
ids to free ones, and every reference with them (docs/decisions.md, "Portals").
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orderlink import bootstrap, hosts
from orderlink import domains as portal_domains
from orderlink.auth import KNOWN_SCOPES, hash_secret, new_webhook_code
from orderlink.clock import Clock
from orderlink.settings import Settings
from orderlink.storage.base import (
    REFERENCE_BY,
    REFERENCE_LISTS,
    REFERENCES,
    Portal,
    Row,
    Store,
    StoreUnavailable,
)

PLANS = ("standard", "enterprise")
EXAMPLE_ORDER = bootstrap.EXAMPLE_BINDINGS[0][0]
# A new portal's admin webhook may call every method orderlink serves.
PORTAL_SCOPES = tuple(scope for scope in KNOWN_SCOPES if scope != "basic")
EXPORT_FORMAT = "orderlink-portal"
EXPORT_VERSION = 1
# What an export leaves out: OAuth tokens are bearer secrets of this server's clients (an app
# asks for new ones), and an app's application_token is sealed under this server's key (the
# importing server makes a new one).
_NOT_EXPORTED = frozenset({"tokens"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")


class PortalError(Exception):
    """A portal operation that cannot be done as asked (unknown portal, bad file, ...)."""


class NoSuchPortal(PortalError):
    def __init__(self, portal_id: int) -> None:
        super().__init__(f"no portal {portal_id}")
        self.portal_id = portal_id


@dataclass(frozen=True, slots=True)
class Created:
    portal: Portal
    webhook: str  # the admin webhook's URL (its code is shown only now)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.portal.id, "name": self.portal.name, "webhook": self.webhook}


def describe(portal: Portal) -> dict[str, Any]:
    return {
        "id": portal.id,
        "name": portal.name,
        "plan": portal.plan,
        "member_id": portal.member_id,
        "created": portal.created_at,
    }


def snapshot_name(name: str) -> str:
    if not _NAME.match(name):
        raise PortalError(
            f"snapshot name {name!r}: up to 100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


async def existing(store: Store, portal_id: int) -> Portal:
    found = await store.portal(portal_id)
    if found is None:
        raise NoSuchPortal(portal_id)
    return found


async def admin_webhook(store: Store, settings: Settings, portal: Portal, now: float) -> str:
    code = new_webhook_code()
    await store.add_webhook(portal.id, 1, hash_secret(code), PORTAL_SCOPES, now)
    return bootstrap.webhook_url(await bootstrap.served_base_url(store, settings), 1, code)


async def create(
    store: Store,
    settings: Settings,
    clock: Clock,
    *,
    name: str = "",
    plan: str = "standard",
    seed_examples: bool = False,
    domains: Sequence[str] = (),
) -> Created:
    """A new portal with user 1, its general funnel, its domains and an admin webhook, in one
    transaction (a domain another portal has refuses the whole portal)."""
    if plan not in PLANS:
        raise PortalError(f"plan {plan!r}: one of {', '.join(PLANS)}")
    try:
        wanted = [hosts.portal_domain(text) for text in domains]
    except hosts.InvalidDomain as exc:
        raise PortalError(str(exc)) from None
    now = clock.now()
    try:
        async with store.group() as group, group.step():
            portal = await store.add_portal(name=name, plan=plan, now=now)
            await _seed(store, portal.id, clock, seed_examples)
            for domain in wanted:
                await portal_domains.add_domain(store, portal.id, domain, clock)
            url = await admin_webhook(store, settings, portal, now)
    except portal_domains.DomainTaken as exc:
        raise PortalError(str(exc)) from None
    return Created(portal, url)


async def _seed(store: Store, portal_id: int, clock: Clock, examples: bool) -> None:
    await bootstrap.ensure_funnels(store, portal_id)
    if examples:
        # The docs' example rows carry the pages' own ids (orders 5125, 5127, 5128): ids are
        # unique on a server, so one portal at a time can hold them.
        taken = [
            p.id for p in await store.portals()
            if p.id != portal_id and await store.get(p.id, "orders", EXAMPLE_ORDER) is not None
        ]  # fmt: skip
        if taken:
            raise PortalError(
                f"portal {taken[0]} holds the docs' example rows (order {EXAMPLE_ORDER} and "
                "the rest): their ids are unique on a server, so reset or delete it first"
            )
        await bootstrap.seed_examples(store, portal_id, clock)


async def delete(store: Store, portal_id: int) -> None:
    default = await store.default_portal()
    if default is not None and default.id == portal_id:
        # `webhook add`, `user add` and a start on this database mean the first portal.
        raise PortalError(f"portal {portal_id} is the default portal: it cannot be deleted")
    if not await store.delete_portal(portal_id):
        raise NoSuchPortal(portal_id)


async def reset(store: Store, portal_id: int, clock: Clock, *, seed_examples: bool = False) -> None:
    """Back to a new portal's data; its users, webhooks, apps and snapshots stay."""
    await existing(store, portal_id)
    async with store.group() as group, group.step():
        await store.clear_portal(portal_id)
        await _seed(store, portal_id, clock, seed_examples)


async def snapshot(store: Store, portal_id: int, name: str, clock: Clock) -> None:
    await existing(store, portal_id)
    await store.save_snapshot(portal_id, snapshot_name(name), clock.now())


async def restore(store: Store, portal_id: int, name: str) -> None:
    await existing(store, portal_id)
    if not await store.restore_snapshot(portal_id, snapshot_name(name)):
        raise PortalError(f"portal {portal_id} has no snapshot {name!r}")


async def create_from_snapshot(
    store: Store, settings: Settings, clock: Clock, name: str, source: int | None = None
) -> Created:
    """A new portal holding a copy of snapshot `name` (of portal `source`, or the newest
    snapshot of that name on the server), its ids moved as an import moves them."""
    snapshot_name(name)
    candidates = [source] if source is not None else [p.id for p in await store.portals()]
    found: tuple[float, int] | None = None
    for portal_id in candidates:
        for saved, at in await store.snapshots(portal_id):
            if saved == name and (found is None or at >= found[0]):
                found = (at, portal_id)
    state = None if found is None else await store.snapshot_state(found[1], name)
    if found is None or state is None:
        where = f"portal {source}" if source is not None else "this server"
        raise PortalError(f"{where} has no snapshot {name!r}")
    _, portal_id = found
    portal = await existing(store, portal_id)
    version, _ = await store.schema()
    # The copy is another portal of this server: the source's applications (their client_id
    # is unique on the server), and what hangs on them, stay with the source.
    apps = ("apps", "app_installs", "event_handlers")
    tables = {
        t: [_exported(t, row) for row in rows]
        for t, rows in state.items()
        if t not in _NOT_EXPORTED and t not in apps
    }
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "schema": version,
        "portal": {"name": portal.name, "plan": portal.plan},
        "tables": tables,
    }
    return await import_document(store, settings, clock, document, f"snapshot {name!r}")


async def export(store: Store, portal_id: int, path: Path) -> int:
    """Write the portal to `path` (created 0600, replaced atomically); how many rows."""
    document = await export_document(store, portal_id)
    _write_private(path, _dumps(document))
    return sum(len(rows) for rows in document["tables"].values())


async def export_document(store: Store, portal_id: int) -> dict[str, Any]:
    """The portal as one JSON document (`portal export`, GET .../export)."""
    portal = await existing(store, portal_id)
    version, _ = await store.schema()
    tables = {
        table: [_exported(table, row) for row in rows]
        for table, rows in (await store.portal_state(portal_id)).items()
        if table not in _NOT_EXPORTED
    }
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "schema": version,
        "portal": {"name": portal.name, "plan": portal.plan},
        "tables": tables,
    }


def _exported(table: str, row: Row) -> Row:
    row = {key: value for key, value in row.items() if key != "portal_id"}
    if table == "app_installs":
        row["application_token"] = None
    return row


async def import_file(store: Store, settings: Settings, clock: Clock, path: Path) -> Created:
    """A new portal holding what `path` (an export) holds, with a new admin webhook."""
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PortalError(f"{path}: not a readable portal export ({exc})") from None
    return await import_document(store, settings, clock, document, str(path))


async def import_document(
    store: Store, settings: Settings, clock: Clock, document: Any, source: str = "the export"
) -> Created:
    """A new portal holding what an export document holds, with a new admin webhook."""
    document = _checked_export(document, source)
    _, known = await store.schema()
    if document["schema"] != known:
        raise PortalError(
            f"{source} was exported at schema version {document['schema']}; this server is "
            f"at {known}: export it again with this orderlink version"
        )
    tables: dict[str, list[Row]] = document["tables"]
    taken = await store.taken_keys(tables)
    apps = [key for key in taken if key.startswith("apps.")]
    if apps:
        raise PortalError(
            f"{source}: this server already has {', '.join(apps)} (an application's client_id "
            "is unique on a server: delete the portal that has it first)"
        )
    # A webhook whose code another portal holds stays there: its URL must name one portal.
    codes = {key.split(" ", 1)[1] for key in taken}
    tables["webhooks"] = [w for w in tables.get("webhooks", []) if w.get("code_hash") not in codes]
    meta = document["portal"]
    now = clock.now()
    try:
        async with store.group() as group, group.step():
            portal = await store.add_portal(name=str(meta["name"]), plan=str(meta["plan"]), now=now)
            ids = {
                table: [int(row["id"]) for row in rows if isinstance(row.get("id"), int)]
                for table, rows in tables.items()
                if (table, "id") in REFERENCES
            }
            spans = {table: max(found) - min(found) + 1 for table, found in ids.items() if found}
            bases = await store.reserve_ids(spans)
            moves = {table: (set(ids[table]), bases[table] - min(ids[table])) for table in bases}
            await store.put_portal_state(portal.id, _moved(tables, moves))
            url = await admin_webhook(store, settings, portal, now)
    except StoreUnavailable:
        raise
    except Exception as exc:
        # A file edited by hand (an unknown table or column, text where a number goes, an id
        # past the largest integer): the transaction rolls back whole, and the file is refused.
        raise PortalError(f"{source}: its rows do not fit this server's tables ({exc})") from None
    return Created(portal, url)


def _moved(
    tables: Mapping[str, Sequence[Row]], moves: Mapping[str, tuple[set[int], int]]
) -> dict[str, list[Row]]:
    """The rows with every id of a moved table shifted by that table's offset, wherever a
    row names it (storage/base.py REFERENCES); a reference to a row the file does not hold
    (0 for none, or one deleted before the export) stays as it was."""

    def move(target: str | None, value: Any) -> Any:
        if target is None or target not in moves or not isinstance(value, int):
            return value
        present, offset = moves[target]
        return value + offset if value in present else value

    moved: dict[str, list[Row]] = {}
    for table, rows in tables.items():
        out = []
        for row in rows:
            row = dict(row)
            for column, value in row.items():
                key = (table, column)
                if key in REFERENCES:
                    row[column] = move(REFERENCES[key], value)
                elif key in REFERENCE_LISTS and isinstance(value, str):
                    listed = json.loads(value)
                    target = REFERENCE_LISTS[key]
                    row[column] = _dumps([move(target, item) for item in listed])
            for key, (kind, targets) in REFERENCE_BY.items():
                if key[0] == table and key[1] in row:
                    row[key[1]] = move(targets.get(row.get(kind)), row[key[1]])
            out.append(row)
        moved[table] = out
    return moved


def _checked_export(document: Any, source: str) -> dict[str, Any]:
    ok = (
        isinstance(document, dict)
        and document.get("format") == EXPORT_FORMAT
        and document.get("version") == EXPORT_VERSION
        and isinstance(document.get("schema"), int)
        and isinstance(document.get("portal"), dict)
        and document["portal"].get("plan") in PLANS
        and isinstance(document.get("tables"), dict)
        and all(
            isinstance(rows, list) and all(isinstance(row, dict) for row in rows)
            for rows in document["tables"].values()
        )
    )
    if not ok:
        raise PortalError(f"{source}: not an orderlink portal export (format {EXPORT_VERSION})")
    return dict(document)


def _dumps(value: Mapping[str, Any] | Sequence[Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only, replacing it in one step."""
    target = path.resolve()
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
