"""The items of a smart process (crm.type.*) as crm.item.* serves them: one family per type,
made from its `crm_types` row, over the `crm_items` rows of its entityTypeId.

Pages: api-reference/crm/universal/object-fields.md#spa (the fields a setting switches on),
crm-item-fields.md (its smart-process example: descriptors, order, `parentId{N}` fields),
crm-item-add.md (the SPA tab), user-defined-object-types/index.md (`CRM_{id}`).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from orderlink.entity_types import COMPANY, CONTACT, DEAL, LEAD, QUOTE, SMART_INVOICE
from orderlink.families.crm_fields import SMART_ITEM_FIELDS, smart_item_fields
from orderlink.families.family import Family
from orderlink.families.items import custom_fields, item_family
from orderlink.records.custom_fields import PARENTS, UF, parent_camel, parent_upper
from orderlink.registry import Call
from orderlink.rules import smart_processes as rules
from orderlink.schema import Schema
from orderlink.storage.base import Condition, ListQuery, Row

# The userfieldconfig `entityId` of smart invoices (userfieldconfig/index.md); a smart process's
# is `CRM_{id}` (`user_field_entity`).
SMART_INVOICE_FIELDS = "CRM_SMART_INVOICE"
# What crm-item-fields.md titles a parent field of each fixed type (data-types.md's names).
_TYPE_NAMES = {LEAD: "Lead", DEAL: "Deal", CONTACT: "Contact", COMPANY: "Company",
               QUOTE: "Estimate", SMART_INVOICE: "Invoice"}  # fmt: skip
_ITEM_FIELDS = tuple(f.name for f in SMART_ITEM_FIELDS)


def user_field_entity(type_row: Row) -> str:
    """userfieldconfig/index.md: `CRM_{id}`, the type's `id`, not its entityTypeId."""
    return f"CRM_{type_row['id']}"


async def type_row(call: Call, entity_type_id: int) -> Row | None:
    """The portal's smart process with this entityTypeId, as stored."""
    found = await call.store.list(ListQuery(
        "crm_types", call.portal, ["id"], [Condition("entity_type_id", "=", entity_type_id)],
        limit=1, count=False,
    ))  # fmt: skip
    if not found.rows:
        return None
    return await call.store.get(call.portal, "crm_types", found.rows[0]["id"])


async def item_family_of(call: Call, entity_type_id: int) -> Family | None:
    """The crm.item family of a smart process the portal has; None when it has none."""
    row = await type_row(call, entity_type_id) if entity_type_id > 0 else None
    return None if row is None else item_family_for(row)


async def _type_title(call: Call, type_id: int) -> str:
    if type_id in _TYPE_NAMES:
        return _TYPE_NAMES[type_id]
    row = await type_row(call, type_id)
    return str(row["title"]) if row is not None else f"DYNAMIC_{type_id}"


def item_family_for(type_row_: Row) -> Family:
    """The family of one smart process's items: the smart-item fields its settings switch on
    (object-fields.md#spa), stages `DT{n}_{categoryId}:...` listed as `DYNAMIC_{n}_STAGE_0`."""
    type_id = int(type_row_["entity_type_id"])
    names = rules.enabled_fields(type_row_, _ITEM_FIELDS)
    schema = Schema("crm_items", smart_item_fields(names, f"DYNAMIC_{type_id}_STAGE_0"))
    # No smart-process item answer is documented: the fields in crm.item.fields' order
    # (`contacts` is a second name of `contactIds`), then parent links, custom fields, and
    # `entityTypeId`, as a smart invoice's.
    layout = (*(n for n in names if n != "contacts"), PARENTS, UF, "entityTypeId")

    def first(category: int) -> str:
        return rules.first_stage(type_id, category)

    def new(columns: Row, *, user: int, now: float, zone: tzinfo) -> Row:
        return rules.new_item(columns, first=first, user=user, now=now, zone=zone)

    def changed(old: Row, values: Row, *, user: int, now: float) -> Row:
        return rules.changed_item(old, values, first=first, user=user, now=now)

    own_fields = custom_fields(user_field_entity(type_row_))
    parents = rules.parent_types(type_row_)

    async def more_fields(call: Call) -> dict[str, Any]:
        """crm-item-fields.md: a `parentId{N}` field for each parent type, then custom fields."""
        described = {
            parent_camel(n): {
                "type": "crm_entity", "isRequired": False, "isReadOnly": False,
                "isImmutable": False, "isMultiple": False, "isDynamic": False,
                "title": await _type_title(call, n), "settings": {"parentEntityTypeId": n},
                "upperName": parent_upper(n),
            }
            for n in parents
        }  # fmt: skip
        return {**described, **await own_fields(call)}

    # crm-item-add.md (SPA): an untitled item is `{SPA name} #{id}` ("HR #13"); the store fills
    # `{id}` with str.format, so braces in the name are escaped.
    title = str(type_row_["title"]).replace("{", "{{").replace("}", "}}")
    return item_family(
        type_id, schema, layout, new=new, changed=changed, title=title,
        share=("entity_type_id", type_id), more_fields=more_fields,
    )  # fmt: skip
