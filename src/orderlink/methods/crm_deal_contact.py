"""crm.deal.contact.*: a deal's contacts, the CONTACT_IDS of its `deals` row (CONTACT_ID the
primary one), read and written as bindings.

Pages: api-reference/crm/deals/contacts/crm-deal-contact-{items-get,items-set,add,delete,
fields}.md. Errors carry an empty code and the pages' texts.
"""

from __future__ import annotations

from typing import Any

from orderlink import coerce, errors, events
from orderlink.families.readers import top_level
from orderlink.records.reading import fields_object
from orderlink.records.values import decode, encode
from orderlink.registry import Call, MethodTable
from orderlink.rules import customers
from orderlink.storage.base import Row

table = MethodTable(scope="crm", docs="api-reference/crm/deals/contacts/")

# crm-deal-contact-fields.md, verbatim.
FIELDS = {
    name: {"type": type_, "isRequired": required, "isReadOnly": False, "isImmutable": False,
           "isMultiple": False, "isDynamic": False, "title": title}
    for name, type_, required, title in (
        ("SORT", "integer", False, "Sorting"), ("IS_PRIMARY", "char", False, "Primary"),
        ("CONTACT_ID", "integer", True, "Contact"),
    )
}  # fmt: skip


async def _deal(call: Call, params: dict[str, Any], bad_id: str) -> Row:
    deal_id = coerce.to_int(params.get("id"))
    if deal_id is None or deal_id <= 0:
        raise errors.LegacyCrmError(bad_id)
    row = await call.store.get(call.portal, "deals", deal_id)
    if row is None:
        raise errors.LegacyCrmError("Not found.")
    return row


def _ids(row: Row) -> list[int]:
    return [int(i) for i in decode(row.get("contact_ids") or "[]")]


async def _save(call: Call, row: Row, ids: list[int]) -> bool:
    """Write the deal's contacts (CONTACT_ID the first), raising ONCRMDEALUPDATE."""
    user, now = call.principal.user_id, call.ctx.clock.now()
    emits = (events.deal("UPDATE", user, now, row["id"]),)
    values = {"contact_ids": encode(ids), "contact_id": ids[0] if ids else 0,
              "modify_by_id": user, "date_modify": int(now)}  # fmt: skip
    await call.store.update(call.portal, "deals", row["id"], values,
                            events=await events.wanted(call.store, call.portal, emits))  # fmt: skip
    return True


def _binding(raw: Any, error: str) -> tuple[int, int, bool]:
    item = fields_object(raw)
    if item is None:
        raise errors.LegacyCrmError(error)
    item = top_level(item)
    contact = coerce.to_int(item.get("contact_id"))
    if contact is None or contact <= 0:
        raise errors.LegacyCrmError("The parameter 'CONTACT_ID' is invalid or not defined.")
    sort = coerce.to_int(item.get("sort")) or 0
    return contact, sort, coerce.to_flag(item.get("is_primary", "N")) is True


@table.method("crm.deal.contact.fields", page="crm-deal-contact-fields.md")
async def fields(call: Call) -> Any:
    """The binding's three fields with their descriptors."""
    return FIELDS


@table.method("crm.deal.contact.items.get", page="crm-deal-contact-items-get.md")
async def items_get(call: Call) -> Any:
    """The deal's contacts, primary first: CONTACT_ID, SORT, ROLE_ID numbers, IS_PRIMARY Y/N."""
    row = await _deal(call, top_level(call.params), "The parameter 'ownerEntityID' is invalid "
                      "or not defined.")  # fmt: skip
    return customers.binding_items(_ids(row), "CONTACT_ID")


@table.method("crm.deal.contact.items.set", page="crm-deal-contact-items-set.md")
async def items_set(call: Call) -> Any:
    """Replace the deal's contacts: ordered by SORT, the primary one first; `[]` clears them."""
    params = top_level(call.params)
    row = await _deal(call, params, "The parameter ownerEntityID is invalid or not defined.")
    raw = params.get("items")
    given = fields_object(raw if raw not in (None, "") else [])
    if given is None or raw is None:
        raise errors.LegacyCrmError("The parameter items must be array.")
    items = [_binding(item, "The parameter items must be array.") for item in given.values()]
    return await _save(call, row, customers.bound_ids(items))


@table.method("crm.deal.contact.add", page="crm-deal-contact-add.md")
async def add(call: Call) -> Any:
    """Bind one contact (primary first when IS_PRIMARY=Y, else last); answers `true`."""
    params = top_level(call.params)
    row = await _deal(call, params, "The parameter 'ownerEntityID' is invalid or not defined.")
    contact, _, primary = _binding(params.get("fields"), "The parameter 'fields' must be array.")
    ids = [i for i in _ids(row) if i != contact]
    ids = [contact, *ids] if primary or not ids else [*ids, contact]
    return await _save(call, row, ids)


@table.method("crm.deal.contact.delete", page="crm-deal-contact-delete.md")
async def delete(call: Call) -> Any:
    """Unbind one contact; the next one becomes primary. Answers `true`."""
    params = top_level(call.params)
    row = await _deal(call, params, "The parameter 'ownerEntityID' is invalid or not defined.")
    contact, _, _ = _binding(params.get("fields"), "The parameter 'item' must be array.")
    return await _save(call, row, [i for i in _ids(row) if i != contact])
