"""The data part of the admin API (`/_orderlink/api/portals/{id}/families...`, docs/admin-api.md):
a portal's entity families as the dashboard browses them.

Nothing here knows a family's fields or SQL: the families are found in the method registry
(every `<family>.list` beside a `<family>.fields` or `<family>.getFields`), their columns are what
that fields method describes, and their rows are what their own `list` and `get` handlers
answer, run in process as the portal's administrator: the same listing engine, filters, paging
and errors as a REST call, without the HTTP layer, the limits, the faults or the journal (the
dashboard's reads are not calls the portal got). crm.item.* is one family per entity type: the
smart invoices and each smart process of the portal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from orderlink import errors
from orderlink.auth import KNOWN_SCOPES
from orderlink.entity_types import DEAL, LEGACY_INVOICE, SMART_INVOICE
from orderlink.listing import PAGE_SIZE
from orderlink.principal import Principal, Role
from orderlink.registry import Call, Context, Page

log = logging.getLogger("orderlink")

BINDINGS = "crm.orderentity"
ORDERS = "sale.order"
ITEMS = "crm.item"
_FIELDS = (".fields", ".getFields")
# The owners a binding names (crm-order-entity-add.md: deals and invoices), by family.
_OWNERS = {"crm.deal": DEAL, "crm.invoice": LEGACY_INVOICE}


@dataclass(frozen=True, slots=True)
class Family:
    key: str  # `crm.deal`; `crm.item:31` for one entity type of crm.item
    title: str
    list: str
    fields: str
    get: str | None
    params: dict[str, Any] = field(default_factory=dict)  # sent with each of its calls
    owner_type: int | None = None  # its rows are binding owners of this entityTypeId
    orders: bool = False  # its rows are the orders bindings name


def _principal(portal_id: int) -> Principal:
    """The portal's administrator (user 1), every scope and the store's highest role."""
    scopes = frozenset(KNOWN_SCOPES)
    return Principal(portal_id, 1, scopes, Role.STORE_ADMIN, True, "admin:dashboard")


async def run(ctx: Context, portal_id: int, name: str, params: dict[str, Any]) -> Any:
    """A method's handler, as the portal's administrator would call it (a B24Error if refused)."""
    method = ctx.registry.get(name)
    if method is None:
        raise errors.AdminNotFound(f"No method {name}")
    return await method.handler(Call(method, params, _principal(portal_id), ctx))


def _served(ctx: Context) -> list[Family]:
    names = {m.name.lower(): m.name for m in ctx.registry}
    found = []
    for lowered, name in sorted(names.items()):
        if not lowered.endswith(".list"):
            continue
        prefix = name[: -len(".list")]
        fields = next((names[f] for f in (prefix.lower() + s.lower() for s in _FIELDS)
                       if f in names), None)  # fmt: skip
        if fields is None or prefix.lower() == ITEMS:
            continue
        get = names.get(prefix.lower() + ".get")
        found.append(
            Family(
                prefix,
                prefix,
                name,
                fields,
                get,
                owner_type=_OWNERS.get(prefix.lower()),
                orders=prefix.lower() == ORDERS,
            )
        )
    if ITEMS + ".list" in names and ITEMS + ".fields" in names:
        found.append(_item(SMART_INVOICE, "crm.item: smart invoices"))
    return found


def _item(entity_type_id: int, title: str) -> Family:
    key = f"{ITEMS}:{entity_type_id}"
    params = {"entityTypeId": entity_type_id}
    return Family(key, title, ITEMS + ".list", ITEMS + ".fields", ITEMS + ".get", params,
                  owner_type=entity_type_id)  # fmt: skip


async def _smart_processes(ctx: Context, portal_id: int) -> list[Family]:
    if ctx.registry.get("crm.type.list") is None or ctx.registry.get(ITEMS + ".list") is None:
        return []
    answer = _payload(await run(ctx, portal_id, "crm.type.list", {"start": -1}))
    rows = _rows(answer)
    return [_item(int(row["entityTypeId"]), f"crm.item: {row.get('title', '')}".rstrip(": "))
            for row in rows if isinstance(row, dict) and "entityTypeId" in row]  # fmt: skip


async def families(ctx: Context, portal_id: int) -> list[Family]:
    return [*_served(ctx), *await _smart_processes(ctx, portal_id)]


async def family(ctx: Context, portal_id: int, key: str) -> Family:
    for candidate in await families(ctx, portal_id):
        if candidate.key.lower() == key.lower():
            return candidate
    raise errors.AdminNotFound(f"No family {key[:100]}")


def _payload(value: Any) -> Any:
    return value.result if isinstance(value, Page) else value


def _unwrapped(value: Any) -> Any:
    """An answer without its one-key envelope (`{"order": {...}}`, `{"fields": {...}}`)."""
    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, dict | list):
            return inner
    return value


def _rows(value: Any) -> list[Any]:
    inner = _unwrapped(value)
    return inner if isinstance(inner, list) else []


async def described(ctx: Context, portal_id: int, found: Family) -> dict[str, Any] | None:
    """The family as the dashboard lists it: its columns from its fields method (None when the
    fields method refuses to answer without more parameters than the family has)."""
    try:
        answer = _unwrapped(await run(ctx, portal_id, found.fields, dict(found.params)))
    except errors.B24Error:
        return None
    except Exception:
        # A fields method that fails without its own parameters must not take the whole list.
        log.warning("%s does not describe its fields without parameters", found.fields)
        return None
    if not isinstance(answer, dict):
        return None
    columns = []
    for name, descriptor in answer.items():
        about = descriptor if isinstance(descriptor, dict) else {}
        title = about.get("formLabel") or about.get("title") or about.get("listLabel") or ""
        columns.append({"name": name, "type": str(about.get("type", "")),
                        "title": str(title) if title else name})  # fmt: skip
    names = [c["name"] for c in columns]
    return {
        "key": found.key,
        "title": found.title,
        "methods": {"list": found.list, "fields": found.fields, "get": found.get},
        "params": found.params,
        "id_field": next((n for n in names if n.lower() == "id"), None),
        "binds": "order" if found.orders else "owner" if found.owner_type is not None else None,
        "fields": columns,
    }


async def records(
    ctx: Context, portal_id: int, found: Family, *, filter_: Any, order: Any, start: int
) -> dict[str, Any]:
    """One page of the family's rows, through its own list method."""
    params: dict[str, Any] = {**found.params, "start": start}
    if filter_:
        params["filter"] = filter_
    if order:
        params["order"] = order
    answer = await run(ctx, portal_id, found.list, params)
    rows = _rows(_payload(answer))
    total = answer.total if isinstance(answer, Page) else len(rows)
    following = answer.next if isinstance(answer, Page) else None
    shown: dict[str, Any] = {"family": found.key, "rows": rows, "total": total,
                             "next": following, "page_size": PAGE_SIZE}  # fmt: skip
    if found.key.lower() == BINDINGS:
        owners = await _owner_families(ctx, portal_id)
        shown["links"] = [_links(row, owners) for row in rows]
    return shown


async def record(ctx: Context, portal_id: int, found: Family, record_id: int) -> dict[str, Any]:
    """One row through the family's get method, and the bindings it is part of."""
    if found.get is None:
        raise errors.AdminNotFound(f"{found.key} has no get method")
    got = _unwrapped(await run(ctx, portal_id, found.get, {**found.params, "id": record_id}))
    wanted: dict[str, Any] | None = None
    if found.orders:
        wanted = {"orderId": record_id}
    elif found.owner_type is not None:
        wanted = {"ownerId": record_id, "ownerTypeId": found.owner_type}
    bindings: list[dict[str, Any]] = []
    if wanted is not None and ctx.registry.get(BINDINGS + ".list") is not None:
        owners = await _owner_families(ctx, portal_id)
        answer = await run(ctx, portal_id, BINDINGS + ".list", {"filter": wanted, "start": -1})
        for row in _rows(_payload(answer)):
            bindings.append({**row, "links": _links(row, owners)})
    return {"family": found.key, "id": record_id, "record": got, "bindings": bindings}


async def _owner_families(ctx: Context, portal_id: int) -> dict[int, str]:
    return {f.owner_type: f.key for f in await families(ctx, portal_id) if f.owner_type is not None}


def _links(row: Any, owners: dict[int, str]) -> list[dict[str, Any]]:
    """Where a binding row leads: its order, and its owner by the owner's entity type."""
    if not isinstance(row, dict):
        return []
    links = [{"field": "orderId", "family": ORDERS, "id": row.get("orderId")}]
    owner = owners.get(row.get("ownerTypeId"))  # type: ignore[arg-type]
    if owner is not None:
        links.append({"field": "ownerId", "family": owner, "id": row.get("ownerId")})
    return links
