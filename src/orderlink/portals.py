"""Many portals on one server: create, reset, snapshot, restore, export and import a portal.

The CLI (`orderlink portal ...`) and the admin API (`/_orderlink/api/portals`) both call these;
the store keeps a portal's rows (storage/base.py PORTAL_TABLES), this module what a portal is
made of beyond rows: the general funnel, the admin webhook, the example rows, the file format.

A portal's entity ids are unique on the server (the schema's choice since the first
migration), so a snapshot restores a portal exactly, ids included; `import` keeps the file's
ids and refuses a file whose ids another portal already holds (docs/decisions.md, "Portals").
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

from orderlink import bootstrap
from orderlink.auth import KNOWN_SCOPES, hash_secret, new_webhook_code
from orderlink.clock import Clock
from orderlink.settings import Settings
from orderlink.storage.base import Portal, Row, Store

PLANS = ("standard", "enterprise")
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
) -> Created:
    """A new portal with user 1, its general funnel and an admin webhook, in one transaction."""
    if plan not in PLANS:
        raise PortalError(f"plan {plan!r}: one of {', '.join(PLANS)}")
    now = clock.now()
    async with store.group() as group, group.step():
        portal = await store.add_portal(name=name, plan=plan, now=now)
        await _seed(store, portal.id, clock, seed_examples)
        url = await admin_webhook(store, settings, portal, now)
    return Created(portal, url)


async def _seed(store: Store, portal_id: int, clock: Clock, examples: bool) -> None:
    await bootstrap.ensure_funnels(store, portal_id)
    if examples:
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
    state = await store.portal_state(portal_id)
    await store.save_snapshot(portal_id, snapshot_name(name), _dumps(state), clock.now())


async def restore(store: Store, portal_id: int, name: str) -> None:
    await existing(store, portal_id)
    saved = await store.snapshot(portal_id, snapshot_name(name))
    if saved is None:
        raise PortalError(f"portal {portal_id} has no snapshot {name!r}")
    await store.put_portal_state(portal_id, json.loads(saved))


async def export(store: Store, portal_id: int, path: Path) -> int:
    """Write the portal to `path` (created 0600, replaced atomically); how many rows."""
    portal = await existing(store, portal_id)
    version, _ = await store.schema()
    tables = {
        table: [_exported(table, row) for row in rows]
        for table, rows in (await store.portal_state(portal_id)).items()
        if table not in _NOT_EXPORTED
    }
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "schema": version,
        "portal": {"name": portal.name, "plan": portal.plan},
        "tables": tables,
    }
    _write_private(path, _dumps(document))
    return sum(len(rows) for rows in tables.values())


def _exported(table: str, row: Row) -> Row:
    row = {key: value for key, value in row.items() if key != "portal_id"}
    if table == "app_installs":
        row["application_token"] = None
    return row


async def import_file(store: Store, settings: Settings, clock: Clock, path: Path) -> Created:
    """A new portal holding what `path` (an export) holds, with a new admin webhook."""
    document = _read_export(path)
    _, known = await store.schema()
    if document["schema"] != known:
        raise PortalError(
            f"{path} was exported at schema version {document['schema']}; this server is at "
            f"{known}: export it again with this orderlink version"
        )
    tables: dict[str, list[Row]] = document["tables"]
    taken = await store.taken_ids(tables)
    if taken:
        shown = ", ".join(taken[:5]) + (f" and {len(taken) - 5} more" if len(taken) > 5 else "")
        raise PortalError(
            f"{path}: this server already has {shown} (a portal's ids are unique on a server: "
            "import into a server that does not hold this portal)"
        )
    meta = document["portal"]
    now = clock.now()
    async with store.group() as group, group.step():
        portal = await store.add_portal(name=str(meta["name"]), plan=str(meta["plan"]), now=now)
        await store.put_portal_state(portal.id, tables)
        url = await admin_webhook(store, settings, portal, now)
    return Created(portal, url)


def _read_export(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PortalError(f"{path}: not a readable portal export ({exc})") from None
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
        raise PortalError(f"{path}: not an orderlink portal export (format {EXPORT_VERSION})")
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
