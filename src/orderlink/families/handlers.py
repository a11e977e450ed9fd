"""The generic add/get/update/delete/list/fields handlers every family is served by.

Each reads the family's description (`Family`); what is a family's own is a hook it declares.
`serve` registers them in a `MethodTable` with the names, pages and summaries the family gives.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from orderlink import errors, events, listing
from orderlink.families.family import Answer, Created, Family, plural
from orderlink.records import reading
from orderlink.registry import Call, Handler, MethodTable, Page, Role
from orderlink.schema import Schema
from orderlink.storage.base import Condition, Emit, ListQuery, Row, Table

# A handler's family: fixed, or chosen per call (crm.item's entityTypeId, a smart process read
# from the store; a resolver may refuse the call, as userfieldconfig.* refuse a `moduleId`).
Resolve = Callable[[Call], Awaitable[Family]]
# What `serve` answers for: one family (or resolver) for every action, or one per action (the
# writes of crm.type.* and userfieldconfig.* check rights the reads do not).
Families = Family | Resolve | Mapping[str, Family | Resolve]


async def _shown(family: Family, call: Call, row: Row, action: str) -> Any:
    extra = await family.embedded(call, row, action) if family.embedded is not None else None
    return family.entity(call, row, action, extra)


async def _answer(family: Family, call: Call, kind: Answer, item_id: int, row: Row | None) -> Any:
    if kind == "entity":
        if row is None:
            raise family.not_found()
        shown = await _shown(family, call, row, "saved")
        return Page(shown, 1) if family.counted else shown
    if kind == "id":
        return item_id
    if kind == "true":
        return True
    return None if kind == "null" else []


async def _read(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
    if family.read is not None:
        return await family.read(family, call, fields, old)
    return await read_columns(family, call, fields, old)


async def read_columns(family: Family, call: Call, fields: dict[str, Any], old: Row | None) -> Row:
    """The columns the request's `fields` write: writable fields by kind (on update, immutable
    ones are ignored too), required ones present on add, the family's checks passed. A
    family's own `read` hook may start from these."""
    changes = reading.read_fields(
        fields,
        family.schema,
        call.ctx.zone,
        accept=(lambda f: not f.read_only) if old is None else _updatable,
        error=family.invalid,
        dynamic=family.dynamic,
    )
    required = family.required if old is None else family.update_required
    if required:
        columns = changes.columns
        missing = [n for n in required if columns.get(family.schema[n].column) in (None, "")]
        if missing:
            raise errors.RequiredFields(missing)
    if family.check is not None:
        await family.check(call, changes)
    return changes.merged(old or {})


def _updatable(f: Any) -> bool:
    return not (f.read_only or f.immutable)


@contextlib.asynccontextmanager
async def _whole(family: Family, call: Call, needed: bool) -> AsyncIterator[None]:
    """One transaction for a write and what its hooks read or change around it (an order's
    price follows its basket; a payer type an order uses is not deleted): a crash or a refusal
    between them leaves neither half."""
    if not needed:
        yield
        return
    async with call.store.group() as group, group.step():
        yield


async def add(family: Family, call: Call) -> Any:
    params = family.params(call.params)
    columns = await _read(family, call, family.read_fields(params), None)
    user, now = call.principal.user_id, call.ctx.clock.now()
    created = (
        await family.create(call, columns, now)
        if family.create is not None
        else Created({k: v for k, v in columns.items() if v is not None}, {})
    )
    if family.share is not None:
        created = Created({**created.values, family.share[0]: family.share[1]}, created.templates)
    emits = family.events("ADD", user, now, "{id}", created.values)
    kind = family.answers[0]
    async with _whole(family, call, family.settled is not None):
        item_id = await call.store.insert(
            call.portal,
            family.table,
            created.values,
            templates=dict(created.templates),
            events=await events.wanted(call.store, call.portal, emits),
        )
        wanted_row = kind == "entity" or family.settled is not None
        row = await call.store.get(call.portal, family.table, item_id) if wanted_row else None
        if family.settled is not None and row is not None:
            await family.settled(call, row)
    return await _answer(family, call, kind, item_id, row)


async def get(family: Family, call: Call) -> Any:
    params = family.params(call.params)
    item_id = (family.read_get_id or family.read_id)(params)
    row = await call.store.get(call.portal, family.table, item_id) if item_id > 0 else None
    row = family.owned(row)
    if row is None:
        raise family.not_found()
    return await _shown(family, call, row, "get")


async def update(family: Family, call: Call) -> Any:
    params = family.params(call.params)
    item_id = family.read_id(params)
    fields = family.read_fields(params)
    old = family.owned(await call.store.get(call.portal, family.table, item_id))
    if old is None:
        raise family.not_found()
    columns = await _read(family, call, fields, old)
    user, now = call.principal.user_id, call.ctx.clock.now()
    values = await family.change(call, old, columns, now) if family.change else columns
    if values is None:
        return await _answer(family, call, family.answers[1], item_id, old)
    emits = family.events("UPDATE", user, now, item_id, old)
    async with _whole(family, call, family.settled is not None):
        row = await call.store.update(
            call.portal,
            family.table,
            item_id,
            values,
            events=await events.wanted(call.store, call.portal, emits),
        )
        if row is None:
            raise family.not_found()
        if family.settled is not None:
            await family.settled(call, row)
    return await _answer(family, call, family.answers[1], item_id, row)


async def delete(family: Family, call: Call) -> Any:
    item_id = family.read_id(family.params(call.params))
    # The row as it is: what `deleting` may refuse, and what the DELETE events are told of.
    hooked = any(h is not None for h in (family.deleting, family.settled, family.delete_events))
    async with _whole(family, call, hooked):
        old = family.owned(await call.store.get(call.portal, family.table, item_id))
        if old is None:
            raise family.not_found()
        if family.deleting is not None:
            await family.deleting(call, old)
        user, now = call.principal.user_id, call.ctx.clock.now()
        if family.delete_events is not None:
            emits = await family.delete_events(call, old, user, now)
        else:
            emits = family.events("DELETE", user, now, item_id, old)
        wanted = await events.wanted(call.store, call.portal, emits)
        if not await call.store.delete(call.portal, family.table, item_id, events=wanted):
            raise family.not_found()
        if family.settled is not None:
            await family.settled(call, old)
    return await _answer(family, call, family.answers[2], item_id, None)


async def list_(family: Family, call: Call) -> Page:
    params = family.params(call.params)
    view = family.viewed(family.list_view, call.params) if family.list_view is not None else None
    selection = view.selection(params.get("select"), uf_mask=family.uf_mask) if view else None
    parsed = parse_list(
        call,
        params,
        family.list_schema,
        error=family.list_error,
        default_order=family.default_order or (("id", family.newest_first),),
        refuse_unknown_order=family.refuse_unknown_order,
        filter_groups=family.filter_groups,
        custom=family.custom,
        fields=view.columns(selection, family.list_schema) if view and selection else None,
        base_conditions=_shared(family),
    )
    found = await call.store.list(parsed.query)
    zone = call.ctx.zone
    if view is not None and selection is not None:
        rows = [view.render(row, zone, selection) for row in found.rows]
    else:
        # sale-order-list.md prints the selected fields in the entity's order, not `select`'s.
        value = family.view.value
        picked = [f for f in family.list_schema if f in parsed.select]
        rows = [{f.name: value(f, row[f.column], zone) for f in picked} for row in found.rows]
    total, following = parsed.page(found)
    return Page(rows if family.list_envelope is None else {family.list_envelope: rows},
                total, following)  # fmt: skip


def parse_list(
    call: Call,
    params: Mapping[str, Any],
    schema: Schema,
    *,
    error: listing.ErrorFactory,
    default_order: tuple[tuple[str, bool], ...],
    tie_breaker: str = "id",
    **options: Any,
) -> listing.Listing:
    """`listing.parse` for this call: its portal, its time zone, the server's `start=-1`."""
    return listing.parse(params, schema, portal_id=call.portal, error=error, zone=call.ctx.zone,
                         default_order=default_order, tie_breaker=tie_breaker,
                         start_minus_one=call.ctx.settings.start_minus_one,
                         **options)  # fmt: skip


def _shared(family: Family) -> tuple[Condition, ...]:
    if family.share is None:
        return ()
    column, value = family.share
    return (Condition(column, "=", value),)


async def fields(family: Family, call: Call) -> Any:
    described = {f.name: family.descriptor(f) for f in family.schema}
    if family.more_fields is not None:
        described.update(await family.more_fields(call))
    return described if family.fields_envelope is None else {family.fields_envelope: described}


_ACTIONS = {"add": add, "get": get, "update": update, "delete": delete, "list": list_,
            "fields": fields}  # fmt: skip
_WRITES = frozenset({"add", "update", "delete"})


@dataclass(frozen=True, slots=True)
class Served:
    """One method of a family: the generic action it runs, its name, page and summary."""

    action: str  # add, get, update, delete, list, fields
    name: str
    page: str
    summary: str
    aliases: tuple[str, ...] = ()


ACTIONS = ("add", "get", "update", "delete", "list", "fields")


def crud(
    name: str,
    page: str,
    fields_name: str = "fields",
    *,
    noun: str = "",
    standard: Mapping[str, str] | None = None,
    without: tuple[str, ...] = (),
    **summaries: str,
) -> list[Served]:
    """A family's methods, in the order of `ACTIONS`: `<name>.<action>`, documented on
    `<page>-<action>.md`; the fields method is `<name>.<fields_name>` (`getFields`, on
    `<page>-get-fields.md`, in the sale module). Each action `summaries` names has that summary;
    the others its dialect's `standard` one (unless `without` leaves it out), written for `noun`:
    `{a} {noun}`, `{Nouns}` (its `plural`, capitalised)."""
    unknown = set(summaries) - set(ACTIONS)
    if unknown:
        raise ValueError(f"no such action: {sorted(unknown)}")
    words = {"a": "an" if noun[:1] in "aeiou" else "a", "noun": noun,
             "Nouns": plural(noun).capitalize()}  # fmt: skip
    out = []
    for action in ACTIONS:
        summary = summaries.get(action)
        if summary is None and standard and action in standard and action not in without:
            summary = standard[action].format(**words)
        if summary is None:
            continue
        method, suffix = action, action
        if action == "fields":
            method = fields_name
            suffix = "get-fields" if fields_name.lower() == "getfields" else "fields"
        out.append(Served(action, f"{name}.{method}", f"{page}-{suffix}.md", summary))
    return out


def serve(
    table: MethodTable,
    family: Families,
    methods: Iterable[Served],
    *,
    docs: str = "",
    read_role: Role = Role.NONE,
    write_role: Role = Role.NONE,
    numeric_codes: bool = False,
    setting: str | None = None,
) -> None:
    """Register `methods` in `table`, in the order given, each answered for `family` (or for
    `family[action]`), under the table's scope; their pages are in the table's folder unless
    `docs` names another."""
    for served in methods:
        chosen = family[served.action] if isinstance(family, Mapping) else family
        resolve = chosen if not isinstance(chosen, Family) else _fixed(chosen)
        write = served.action in _WRITES
        role = write_role if write else read_role
        table.method(
            served.name,
            doc=(docs or table.docs) + served.page,
            role=role,
            denied=_denied(write and role is not Role.NONE),
            numeric_codes=numeric_codes,
            aliases=served.aliases,
            setting=setting,
        )(_handler(_ACTIONS[served.action], resolve, served.summary))


def _denied(write: bool) -> type[errors.B24Error]:
    return errors.WriteAccessDenied if write else errors.ReadAccessDenied


def guarded(
    table: MethodTable,
    name: str,
    *,
    role: Role,
    page: str = "",
    doc: str = "",
    denied: type[errors.B24Error] | None = None,
    numeric_codes: bool = False,
    aliases: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """`table.method` for a hand-written method of the online store: `role` and up may call it;
    the others get `denied` (by default as `serve`'s: a write refused for store administrators'
    methods, a read for store managers')."""
    return table.method(name, page=page, doc=doc, role=role,
                        denied=denied or _denied(role is Role.STORE_ADMIN),
                        numeric_codes=numeric_codes, aliases=aliases)  # fmt: skip


def _fixed(family: Family) -> Resolve:
    async def resolve(call: Call) -> Family:
        return family

    return resolve


def _handler(run: Callable[[Family, Call], Any], resolve: Resolve, summary: str) -> Handler:
    async def handle(call: Call) -> Any:
        return await run(await resolve(call), call)

    handle.__doc__ = summary
    return handle


async def exists(call: Call, table_: Table, column: str, value: Any, other_than: int = 0) -> bool:
    """Whether a row of `table_` other than `other_than` holds `value` in `column`."""
    conditions = [Condition(column, "=", value), Condition("id", "!=", other_than)]
    query = ListQuery(table_, call.portal, ["id"], conditions, limit=1, count=False)
    return bool((await call.store.list(query)).rows)


def no_events(action: str, user: int, at: float, row_id: int | str, row: Row) -> tuple[Emit, ...]:
    """The reference lists of the sale module raise no documented events."""
    return ()
