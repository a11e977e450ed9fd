"""crm.orderentity.*: bindings of online-store orders to deals and invoices.

Pages: api-reference/crm/universal/order-entity/{index,crm-order-entity-add,
crm-order-entity-list,crm-order-entity-get-fields,crm-order-entity-delete-by-filter}.md and
api-reference/crm/auxiliary/enum/crm-enum-get-order-owner-types.md.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from orderlink import coerce, errors, events
from orderlink.entity_types import DEAL, LEGACY_INVOICE, SMART_INVOICE
from orderlink.families.handlers import guarded, parse_list
from orderlink.registry import Call, MethodTable, Page, Role
from orderlink.schema import Field, Schema, flag_descriptors
from orderlink.storage.base import (
    OWNER_TABLES,
    AddBinding,
    Binding,
    DeleteBinding,
    Emit,
    Table,
)

table = MethodTable(scope="crm", docs="api-reference/crm/universal/order-entity/")

# getFields order and descriptors exactly as crm-order-entity-get-fields.md prints them. The
# data-types page spells the fields ORDER_ID/OWNER_ID/OWNER_TYPE_ID; those are accepted too.
SCHEMA = Schema(
    "bindings",
    [
        Field("orderId", "order_id", "int", "integer", required=True, immutable=True,
              aliases=("ORDER_ID",)),
        Field("ownerId", "owner_id", "int", "integer", required=True, immutable=True,
              aliases=("OWNER_ID",)),
        Field("ownerTypeId", "owner_type_id", "int", "integer", required=True, immutable=True,
              aliases=("OWNER_TYPE_ID",)),
    ],
)  # fmt: skip

# The order in which `Required fields: ...` names what is missing: both doc messages list the
# keys as [ownerId, ownerTypeId, orderId] ("Required fields: ownerId, orderId").
_REQUIRED_ORDER = ("ownerId", "ownerTypeId", "orderId")

_OWNER_NAMES = {DEAL: "deal", SMART_INVOICE: "invoice", LEGACY_INVOICE: "invoice"}


def _list_error(text: str) -> errors.B24Error:
    return errors.SaveError(text)


def _binding(params: dict[str, Any]) -> Binding:
    """The `fields` object of add/deleteByFilter, checked in the order docs/decisions.md gives."""
    fields = params.get("fields")
    if fields is None or fields == "" or fields == [] or fields == {}:
        raise errors.FieldsNotSpecified()
    if not isinstance(fields, dict):
        raise errors.FieldsNotSpecified("Parameter `fields` must be an object")
    values: dict[str, Any] = {}
    for key, value in fields.items():
        found = SCHEMA.get(str(key))
        if found is not None and (found.name not in values or key == found.name):
            values[found.name] = value
    missing = [name for name in _REQUIRED_ORDER if values.get(name) in (None, "")]
    if missing:
        raise errors.RequiredFields(missing)
    ints: dict[str, int] = {}
    for name in ("orderId", "ownerTypeId", "ownerId"):
        number = coerce.to_int(values[name])
        if number is None:
            raise errors.SaveError(f'Invalid value for field "{name}": an integer is expected')
        ints[name] = number
    return Binding(ints["orderId"], ints["ownerTypeId"], ints["ownerId"])


async def _order_saved(call: Call, binding: Binding) -> tuple[Emit, ...]:
    """A binding is saved with its order ("various order saving errors" on the add page), so
    changing one raises the order-saved events (docs/decisions.md)."""
    if not await call.store.bound_events(call.portal):
        return ()  # nobody listens: keep the hot path free of event building
    emits = events.order_saved(binding.order_id, call.principal.user_id, call.ctx.clock.now())
    return await events.wanted(call.store, call.portal, emits)


def allowed_owner_types(call: Call) -> tuple[int, ...]:
    if call.ctx.settings.legacy_invoices:
        return (DEAL, SMART_INVOICE, LEGACY_INVOICE)
    return (DEAL, SMART_INVOICE)


def _wire(binding: Binding) -> dict[str, int]:
    return {
        "orderId": binding.order_id,
        "ownerId": binding.owner_id,
        "ownerTypeId": binding.owner_type_id,
    }


@guarded(table, "crm.orderentity.add", page="crm-order-entity-add.md", role=Role.STORE_ADMIN)
async def add(call: Call) -> Any:
    """Bind an order to a deal or invoice; an order already bound to another owner is re-bound."""
    binding = _binding(call.params)
    allowed = allowed_owner_types(call)
    if binding.owner_type_id not in allowed:
        names = ", ".join(str(t) for t in allowed)
        raise errors.SaveError(
            "Binding is only possible to a deal or invoice: "
            f"ownerTypeId must be one of {names}, got {binding.owner_type_id}"
        )
    owner_table: Table | None = None
    if call.ctx.settings.verify_owner:
        owner_table = OWNER_TABLES.get(binding.owner_type_id)
    emits = await _order_saved(call, binding)
    outcome = await call.store.add_binding(
        call.portal, binding, owner_table=owner_table, events=emits
    )
    if outcome is AddBinding.NO_ORDER:
        raise errors.OrderNotFound()
    if outcome is AddBinding.NO_OWNER:
        raise errors.SaveError(f"{_OWNER_NAMES[binding.owner_type_id]} does not exist")
    if outcome is AddBinding.DUPLICATE:
        raise errors.DuplicateBinding()
    return {"dealOrder": _wire(binding)}


@guarded(table, "crm.orderentity.list", page="crm-order-entity-list.md", role=Role.STORE_MANAGER)
async def list_(call: Call) -> Any:
    """Bindings matching a filter, 50 per page, ascending by ownerId unless told otherwise."""
    parsed = parse_list(call, call.params, SCHEMA, error=_list_error,
                        default_order=(("owner_id", False),), tie_breaker="order_id")  # fmt: skip
    names = [f.name for f in parsed.select]
    if len(parsed.query.columns) == len(names):  # a column each: rows come keyed by name
        found = await call.store.list(replace(parsed.query, keys=names))
        rows = found.rows
    else:
        found = await call.store.list(parsed.query)
        rows = [{f.name: row[f.column] for f in parsed.select} for row in found.rows]
    total, following = parsed.page(found)
    return Page({"orderEntity": rows}, total, following)


@guarded(table, "crm.orderentity.getFields", page="crm-order-entity-get-fields.md",
         role=Role.STORE_MANAGER, aliases=("crm.orderentity.fields",))  # fmt: skip
async def get_fields(call: Call) -> Any:
    """The three binding fields and their descriptors."""
    return {"orderEntity": flag_descriptors(SCHEMA)}


@guarded(table, "crm.orderentity.deleteByFilter", page="crm-order-entity-delete-by-filter.md",
         role=Role.STORE_ADMIN)  # fmt: skip
async def delete_by_filter(call: Call) -> Any:
    """Delete the one binding named by all three fields (not a filter, despite the name)."""
    binding = _binding(call.params)
    outcome = await call.store.delete_binding(
        call.portal, binding, events=await _order_saved(call, binding)
    )
    if outcome is DeleteBinding.NO_ORDER:
        raise errors.OrderNotFound()
    if outcome is DeleteBinding.NO_BINDING:
        raise errors.BindingNotFound()
    return True


_OWNER_TYPE_ENTRIES = {
    DEAL: {"attribute": "DYN", "code": "DEAL", "id": DEAL, "name": "Deal"},
    SMART_INVOICE: {"attribute": "DYN", "code": "SMART_INVOICE", "id": SMART_INVOICE,
                    "name": "Invoice"},
    LEGACY_INVOICE: {"attribute": "DYN", "code": "INVOICE", "id": LEGACY_INVOICE,
                     "name": "Invoice (old version)"},
}  # fmt: skip


@table.method(
    "crm.enum.getorderownertypes",
    doc="api-reference/crm/auxiliary/enum/crm-enum-get-order-owner-types.md",
)
async def get_order_owner_types(call: Call) -> Any:
    """The CRM object types an order can be bound to (the page lists deals; see decisions)."""
    return [_OWNER_TYPE_ENTRIES[t] for t in allowed_owner_types(call)]
