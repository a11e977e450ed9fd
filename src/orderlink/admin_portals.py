"""The portals part of the admin API (`/_orderlink/api/portals...`, docs/admin-api.md): the
same operations as `orderlink portal ...` (portals.py), as JSON over HTTP for test suites on
another machine. The HTTP layer checks the admin token and reads the JSON body; this module
answers (status, JSON) for a verb and the path's parts after `portals` (admin.py routes
here)."""

from __future__ import annotations

from typing import Any

from orderlink import errors, portals
from orderlink.clock import AdjustableClock, Clock
from orderlink.coerce import to_int
from orderlink.settings import Settings
from orderlink.storage.base import Store

Answer = tuple[int, Any]


def _bad(description: str) -> errors.B24Error:
    return errors.InvalidRequest(description)


def _not_found(description: str = "Not found") -> errors.B24Error:
    return errors.AdminNotFound(description)


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise _bad(f"`{key}` must be true or false")
    return value


def _text(body: dict[str, Any], key: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        raise _bad(f"`{key}` must be a string")
    return value


async def answer(
    verb: str, parts: list[str], body: Any, store: Store, settings: Settings, clock: Clock
) -> Answer:
    """Answer `verb /_orderlink/api/portals/<parts...>`; a B24Error for anything refused."""
    if body is None:
        body = {}
    try:
        return await _route(verb, parts, body, store, settings, clock)
    except portals.NoSuchPortal as exc:
        raise _not_found(str(exc)) from None
    except portals.PortalError as exc:
        raise _bad(str(exc)) from None


async def _route(
    verb: str, parts: list[str], body: Any, store: Store, settings: Settings, clock: Clock
) -> Answer:
    if parts == [] and verb == "GET":
        return 200, {"portals": [await _described(store, p.id) for p in await store.portals()]}
    if parts == ["import"] and verb == "POST":
        created = await portals.import_document(store, settings, clock, body, "the request")
        return 201, created.as_json()
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    if parts == [] and verb == "POST" and "snapshot" in body:
        source = body.get("portal")
        if source is not None and (not isinstance(source, int) or isinstance(source, bool)):
            raise _bad("`portal` must be a portal id")
        created = await portals.create_from_snapshot(
            store, settings, clock, _text(body, "snapshot"), source
        )
        return 201, created.as_json()
    if parts == [] and verb == "POST":
        plan = _text(body, "plan", "standard")
        domains = body.get("domains", [])
        if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
            raise _bad("`domains` must be a list of host names")
        created = await portals.create(
            store, settings, clock, name=_text(body, "name", ""), plan=plan,
            seed_examples=_flag(body, "seed_examples"), domains=domains,
        )  # fmt: skip
        return 201, created.as_json()
    if not parts or to_int(parts[0]) is None or str(to_int(parts[0])) != parts[0]:
        raise _not_found()
    portal_id = int(parts[0])
    rest = parts[1:]
    if rest == [] and verb == "GET":
        return 200, await _described(store, portal_id)
    if rest == [] and verb == "DELETE":
        await portals.delete(store, portal_id)
        if isinstance(clock, AdjustableClock):
            clock.forget(portal_id)
        return 200, {"deleted": portal_id}
    if rest == ["reset"] and verb == "POST":
        await portals.reset(store, portal_id, clock, seed_examples=_flag(body, "seed_examples"))
        return 200, await _described(store, portal_id)
    if rest == ["snapshots"] and verb == "GET":
        await portals.existing(store, portal_id)
        saved = await store.snapshots(portal_id)
        return 200, {"snapshots": [{"name": n, "created": at} for n, at in saved]}
    if rest == ["snapshots"] and verb == "POST":
        name = _text(body, "name")
        await portals.snapshot(store, portal_id, name, clock)
        return 201, {"name": name}
    if rest == ["restore"] and verb == "POST":
        name = _text(body, "name")
        await portals.restore(store, portal_id, name)
        return 200, {"restored": name}
    if rest == ["export"] and verb == "GET":
        return 200, await portals.export_document(store, portal_id)
    raise _not_found()


async def _described(store: Store, portal_id: int) -> dict[str, Any]:
    found = await portals.existing(store, portal_id)
    names = [name for name, _ in await store.snapshots(portal_id)]
    return {**portals.describe(found), "snapshots": names}
