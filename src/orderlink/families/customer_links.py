"""The links of contacts and companies (`contact_companies`), and the methods that read and
change them from either end: crm.contact.company.* and crm.company.contact.*, one `Side` each.

Pages: api-reference/crm/contacts/company/crm-contact-company-{add,delete,fields,items-get,
items-set,items-delete}.md and api-reference/crm/companies/contacts/crm-company-contact-*.md.
A link row holds its SORT and IS_PRIMARY at both ends (rules/links.py reads them); a contact's
COMPANY_ID / COMPANY_IDS are kept in step with its links in the same transaction, so crm.contact.*
filters and prints them as before. Errors carry an empty code and the pages' texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from orderlink import coerce, errors, events
from orderlink.families.readers import top_level
from orderlink.records.reading import fields_object
from orderlink.records.values import decode, encode
from orderlink.registry import Call, MethodTable
from orderlink.rules import links
from orderlink.rules.links import Binding
from orderlink.storage.base import Condition, ListQuery, Row, Table

LINKS: Table = "contact_companies"
_COLUMNS = ("id", "contact_id", "company_id", "sort_in_contact", "primary_in_contact",
            "sort_in_company", "primary_in_company")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Side:
    """One end of the links: whose list it is and how its methods name things."""

    owner: Table  # contacts
    kind: str  # CONTACT: its update event, ONCRMCONTACTUPDATE
    column: str  # the owner's id in a link row: contact_id
    item_column: str  # the linked id: company_id
    key: str  # the linked id on the wire: COMPANY_ID
    sort: str  # the link's SORT in the owner's list: sort_in_contact
    primary: str  # its IS_PRIMARY there: primary_in_contact
    title: str  # the linked id's title in the fields method: Company
    # The text for a delete's `fields` that is not an object (crm-company-contact-delete.md
    # names the parameter `item`, crm-contact-company-delete.md `fields`).
    delete_not_object: str


CONTACT = Side("contacts", "CONTACT", "contact_id", "company_id", "COMPANY_ID",
               "sort_in_contact", "primary_in_contact", "Company",
               "The parameter 'fields' must be array.")  # fmt: skip
COMPANY = Side("companies", "COMPANY", "company_id", "contact_id", "CONTACT_ID",
               "sort_in_company", "primary_in_company", "Contact",
               "The parameter 'item' must be array.")  # fmt: skip


def mirror(side: Side) -> Side:
    return COMPANY if side is CONTACT else CONTACT


async def _rows(call: Call, column: str, value: int, sort: str) -> list[Row]:
    query = ListQuery(LINKS, call.portal, _COLUMNS, [Condition(column, "=", value)],
                      order=((sort, False), ("id", False)), limit=None, count=False)  # fmt: skip
    return (await call.store.list(query)).rows


async def bindings(call: Call, side: Side, owner_id: int) -> list[Binding]:
    """The owner's links, by SORT, one primary."""
    rows = await _rows(call, side.column, owner_id, side.sort)
    return links.stored(rows, side.item_column, side.sort, side.primary)


async def _lock(call: Call, table: Table, row_id: int) -> None:
    """Hold the row for the rest of the transaction (a write that changes nothing): a link
    written from the other end waits, so a contact's COMPANY_IDS is computed from its links as
    they are once both are done."""
    await call.store.update(call.portal, table, row_id, {"id": row_id})


async def _refresh_contact(call: Call, contact_id: int, extra: Row, emit: bool) -> bool:
    """A contact's COMPANY_ID / COMPANY_IDS from its links (with `extra` columns written too);
    ONCRMCONTACTUPDATE when `emit` and something changed. False when there is no contact."""
    row = await call.store.get(call.portal, "contacts", contact_id)
    if row is None:
        return False
    ids = links.ids(await bindings(call, CONTACT, contact_id))
    main = ids[0] if ids else None
    same = decode(row.get("company_ids") or "[]") == ids and row.get("company_id") == main
    if same and not extra:
        return False
    values = {"company_id": main, "company_ids": encode(ids), **extra}
    user, now = call.principal.user_id, call.ctx.clock.now()
    emits = (events.customer("CONTACT", "UPDATE", user, now, contact_id),) if emit else ()
    await call.store.update(call.portal, "contacts", contact_id, values,
                            events=await events.wanted(call.store, call.portal, emits))  # fmt: skip
    return True


async def write(
    call: Call, side: Side, owner_id: int, wanted: Sequence[Binding], *, stamp: bool = True
) -> bool:
    """Make the owner's links `wanted` (inside the caller's transaction): rows gone, changed and
    new, the contacts' COMPANY_IDS after them, and with `stamp` the owner's MODIFY_BY_ID /
    DATE_MODIFY and its update event. False when nothing changed."""
    other = mirror(side)
    await _lock(call, side.owner, owner_id)
    rows = await _rows(call, side.column, owner_id, side.sort)
    by_item = {int(r[side.item_column]): r for r in rows}
    wanted_items = {b.item for b in wanted}
    gone = [r for item, r in by_item.items() if item not in wanted_items]
    new = [b for b in wanted if b.item not in by_item]
    contacts = sorted({int(r["contact_id"]) for r in gone}
                      | ({owner_id} if side is CONTACT else {b.item for b in new}))  # fmt: skip
    if side is COMPANY:
        for contact_id in contacts:
            await _lock(call, "contacts", contact_id)
    changed = bool(gone or new)
    for r in gone:
        await call.store.delete(call.portal, LINKS, int(r["id"]))
    for b in wanted:
        flag = "Y" if b.primary else "N"
        found = by_item.get(b.item)
        if found is None:
            tail = await _rows(call, other.column, b.item, other.sort)
            top = max((int(r[other.sort]) for r in tail), default=0)
            await call.store.insert(call.portal, LINKS, {
                side.column: owner_id, side.item_column: b.item, side.sort: b.sort,
                side.primary: flag, other.sort: top + links.STEP, other.primary: "N",
            })  # fmt: skip
        elif int(found[side.sort]) != b.sort or found[side.primary] != flag:
            await call.store.update(call.portal, LINKS, int(found["id"]),
                                    {side.sort: b.sort, side.primary: flag})  # fmt: skip
            changed = True
    if not changed:
        return False
    user, now = call.principal.user_id, call.ctx.clock.now()
    stamps: Row = {"modify_by_id": user, "date_modify": int(now)} if stamp else {}
    if side is CONTACT:
        await _refresh_contact(call, owner_id, stamps, emit=stamp)
        return True
    for contact_id in contacts:
        await _refresh_contact(call, contact_id, {}, emit=True)
    if stamp:
        emits = (events.customer(side.kind, "UPDATE", user, now, owner_id),)
        wanted_events = await events.wanted(call.store, call.portal, emits)
        await call.store.update(call.portal, side.owner, owner_id, stamps, events=wanted_events)
    return True


# -- the methods ------------------------------------------------------------------------------


def _id(params: dict[str, Any], text: str) -> int:
    owner_id = coerce.to_int(params.get("id"))
    if owner_id is None or owner_id <= 0:
        raise errors.LegacyCrmError(text)
    return owner_id


_BAD_ID = "The parameter 'ownerEntityID' is invalid or not defined."
_BAD_ITEMS_ID = "The parameter ownerEntityID is invalid or not defined."
_NOT_VALID = "The parameter 'fields' is not valid."
_ITEMS = "The parameter items must be array."


async def _owner(call: Call, side: Side, owner_id: int) -> None:
    if await call.store.get(call.portal, side.owner, owner_id) is None:
        raise errors.LegacyCrmError("Not found.")


def _binding(side: Side, raw: Any, not_object: str, not_valid: str) -> tuple[int, int | None, bool]:
    """(linked id, SORT or None, IS_PRIMARY) of one binding object."""
    item = fields_object(raw)
    if item is None:
        raise errors.LegacyCrmError(not_object)
    item = {str(k).upper(): v for k, v in item.items()}
    linked = coerce.to_int(item.get(side.key))
    if linked is None or linked <= 0:
        raise errors.LegacyCrmError(not_valid)
    sort = coerce.to_int(item.get("SORT")) if item.get("SORT") not in (None, "") else None
    return linked, sort, coerce.to_flag(item.get("IS_PRIMARY", "N")) is True


def _fields(side: Side) -> dict[str, Any]:
    """crm-contact-company-fields.md / crm-company-contact-fields.md, verbatim."""
    return {
        name: {"type": type_, "isRequired": required, "isReadOnly": False, "isImmutable": False,
               "isMultiple": False, "isDynamic": False, "title": title}
        for name, type_, required, title in (
            ("SORT", "integer", False, "Sorting"), ("IS_PRIMARY", "char", False, "Primary"),
            (side.key, "integer", True, side.title),
        )
    }  # fmt: skip


def serve_links(table: MethodTable, side: Side, *, prefix: str, docs: str, page: str,
                owner: str, linked: str) -> None:  # fmt: skip
    """Register `prefix`.add/delete/fields/items.get/items.set/items.delete for `side`; the
    pages are `docs` + `page` + add.md, ...; `owner`/`linked` name both ends in summaries."""

    def doc(name: str) -> str:
        return f"{docs}{page}{name}.md"

    described = _fields(side)

    async def fields(call: Call) -> Any:
        return described

    async def items_get(call: Call) -> Any:
        owner_id = _id(top_level(call.params), _BAD_ITEMS_ID)
        await _owner(call, side, owner_id)
        return links.printed(await bindings(call, side, owner_id), side.key)

    async def items_set(call: Call) -> Any:
        params = top_level(call.params)
        owner_id = _id(params, _BAD_ITEMS_ID)
        raw = params.get("items")
        given = fields_object(raw if raw != "" else [])
        if given is None or raw is None:
            raise errors.LegacyCrmError(_ITEMS)
        items = [_binding(side, item, _ITEMS, "The parameter items is not valid.")
                 for item in given.values()]  # fmt: skip
        async with call.store.group() as group, group.step():
            await _owner(call, side, owner_id)
            current = await bindings(call, side, owner_id)
            await write(call, side, owner_id, links.replaced(current, items))
        return True

    async def items_delete(call: Call) -> Any:
        owner_id = _id(top_level(call.params), _BAD_ITEMS_ID)
        async with call.store.group() as group, group.step():
            await _owner(call, side, owner_id)
            await write(call, side, owner_id, [])
        return True

    async def add(call: Call) -> Any:
        params = top_level(call.params)
        owner_id = _id(params, _BAD_ID)
        if fields_object(params.get("fields")) is None:
            raise errors.LegacyCrmError("The parameter 'fields' must be array.")
        async with call.store.group() as group, group.step():
            await _owner(call, side, owner_id)
            item, sort, primary = _binding(side, params.get("fields"), "", _NOT_VALID)
            wanted = links.added(await bindings(call, side, owner_id), item, sort, primary)
            return wanted is not None and await write(call, side, owner_id, wanted)

    async def delete(call: Call) -> Any:
        params = top_level(call.params)
        owner_id = _id(params, _BAD_ID)
        if fields_object(params.get("fields")) is None:
            raise errors.LegacyCrmError(side.delete_not_object)
        async with call.store.group() as group, group.step():
            await _owner(call, side, owner_id)
            item, _, _ = _binding(side, params.get("fields"), "", _NOT_VALID)
            wanted = links.removed(await bindings(call, side, owner_id), item)
            return wanted is not None and await write(call, side, owner_id, wanted)

    handlers = (
        ("add", add, f"Link one {linked} (primary when asked or first); false if linked already."),
        ("delete", delete, f"Unlink one {linked}; the next becomes primary. False if not linked."),
        ("fields", fields, "The link's three fields with their descriptors."),
        ("items.get", items_get, f"The {owner}'s {linked} links by SORT: id, SORT, ROLE_ID, "
                                 "IS_PRIMARY."),
        ("items.set", items_set, f"Replace the {owner}'s {linked} links; the first marked (or "
                                 "first) is primary."),
        ("items.delete", items_delete, f"Unlink every {linked} of the {owner}."),
    )  # fmt: skip
    for name, handler, summary in handlers:
        handler.__doc__ = summary
        table.method(f"{prefix}.{name}", doc=doc(name.replace(".", "-")))(handler)


# -- what a contact's or company's own write says of its links ---------------------------------


def given_ids(fields: dict[str, Any], key: str) -> list[int] | None:
    """The linked ids a crm.contact / crm.company `fields` object names under `key` (any case),
    None when it names none."""
    found = [v for k, v in fields.items() if str(k).upper() == key]
    if not found:
        return None
    raw = found[0]
    values = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else [raw]
    return [i for i in (coerce.to_int(v) for v in values) if i is not None and i > 0]


def contact_companies(fields: dict[str, Any], old: Iterable[int]) -> list[int] | None:
    """The companies a crm.contact add/update leaves the contact linked to, COMPANY_ID first,
    or None when it names neither COMPANY_ID nor COMPANY_IDS (crm-contact-update.md's example
    sends both: COMPANY_ID joins COMPANY_IDS as the main one). COMPANY_ID alone makes that
    company the main one, the others stay; COMPANY_ID 0 alone unlinks them all."""
    many = given_ids(fields, "COMPANY_IDS")
    one = given_ids(fields, "COMPANY_ID")
    if many is None and one is None:
        return None
    base = many if many is not None else ([] if one == [] else list(old))
    main = one[:1] if one else []
    return list(dict.fromkeys([*main, *base]))


def company_columns(side: Side, fields: dict[str, Any], old: Row | None) -> Row:
    """A contact's COMPANY_IDS / COMPANY_ID columns as a write's `fields` (legacy names) leave
    them; none when it names neither, or for a company."""
    if side is not CONTACT:
        return {}
    ids = contact_companies(fields, decode((old or {}).get("company_ids") or "[]"))
    if ids is None:
        return {}
    return {"company_ids": encode(ids), "company_id": ids[0] if ids else None}


async def write_given(call: Call, side: Side, row: Row, fields: dict[str, Any]) -> None:
    """After a contact's or company's write went through: its links as `fields` (legacy names)
    name them (crm-contact-add.md COMPANY_IDS, crm-company-update.md CONTACT_ID), in the order
    given, the first primary; nothing when it names none or the row is gone (a delete)."""
    if side is CONTACT:
        if contact_companies(fields, []) is None:
            return
        ids = decode(row.get("company_ids") or "[]")
    else:
        found = given_ids(fields, "CONTACT_ID")
        if found is None:
            return
        ids = found
    if await call.store.get(call.portal, side.owner, int(row["id"])) is not None:
        await write(call, side, int(row["id"]), links.numbered(ids), stamp=False)
