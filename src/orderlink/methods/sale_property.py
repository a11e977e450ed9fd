"""sale.propertygroup.*, sale.property.*, sale.propertyvalue.*: order properties, their groups,
and the values an order holds.

Pages: api-reference/sale/property-group/*.md, api-reference/sale/property/*.md,
api-reference/sale/property-value/*.md. Digit error codes print as JSON numbers. Values are
written all at once per order (sale.propertyvalue.modify) and embedded in sale.order.get.
"""

from __future__ import annotations

from typing import Any

from orderlink import coerce, errors
from orderlink.families.family import Params
from orderlink.families.handlers import guarded
from orderlink.families.sale import sale_family, sale_value, serve_sale
from orderlink.records import values as wire
from orderlink.records.projection import View
from orderlink.records.reading import Changes, fields_object
from orderlink.registry import Call, MethodTable, Role
from orderlink.schema import Field, Schema, field, flag_descriptors, named
from orderlink.storage.base import Condition, ListQuery, Row

table = MethodTable(scope="sale")


async def _person_type_exists(call: Call, changes: Changes) -> None:
    type_id = changes.columns.get("person_type_id")
    if type_id is not None and await call.store.get(call.portal, "person_types", type_id) is None:
        raise errors.SaveError('Invalid value for field "personTypeId": no such payer type')


# -- property groups ------------------------------------------------------------------------------

GROUP_DOCS = "api-reference/sale/property-group/"
# sale-property-group-get-fields.md, in its order.
GROUP_SCHEMA = Schema(
    "property_groups",
    [
        named("id", "int", "integer", flags="O"),
        named("name", "text", "string", flags="R"),
        named("personTypeId", "int", "integer", flags="R"),
        named("sort", "int", "integer", empty=100),
    ],
)

GROUPS = sale_family(
    GROUP_SCHEMA, "propertyGroup",
    errors.PropertyGroupNotFound,
    # The add page's table lists personTypeId before name; its error example names `name`.
    required=("personTypeId", "name"),
    # sale-property-group-update.md's error example: "Required fields: name".
    update_required=("name",),
    check=_person_type_exists,
)  # fmt: skip

serve_sale(
    table,
    GROUPS,
    "property group",
    docs=GROUP_DOCS,
    add="Create a property group of a payer type; answers it whole.",
    update="Change a property group; `name` must be given every time.",
    delete="Delete a property group.",
)


# -- properties ---------------------------------------------------------------------------------

PROPERTY_DOCS = "api-reference/sale/property/"
# sale-property-add.md: the property types.
PROPERTY_TYPES = frozenset({"STRING", "Y/N", "NUMBER", "ENUM", "FILE", "DATE", "LOCATION",
                            "ADDRESS"})  # fmt: skip


def _flag(name: str, column: str) -> Field:
    return field(name, column, "flag", "char", empty="N")


# sale-property-get-fields-by-type.md's fields (alphabetical, as it and the add answer print
# them), with the type-specific ones the add page lists; every answer prints them all.
_BY_TYPE: dict[str, tuple[str, ...]] = {
    "STRING": ("isAddress", "isEmail", "isPayer", "isPhone", "isProfileName", "isZip"),
    "LOCATION": ("inputFieldLocation", "isLocation", "isLocation4tax"),
    "ADDRESS": ("isAddressFrom", "isAddressTo"),
}
PROPERTY_SCHEMA = Schema(
    "properties",
    [
        named("active", "flag", "char", empty="Y"),
        named("code", "text", "string"),
        named("defaultValue", "json", "any", empty='""'),
        named("description", "text", "string"),
        named("id", "int", "integer", flags="O"),
        named("inputFieldLocation", "text", "string", empty="0"),
        _flag("isAddress", "is_address"),
        _flag("isAddressFrom", "is_address_from"),
        _flag("isAddressTo", "is_address_to"),
        _flag("isEmail", "is_email"),
        _flag("isFiltered", "is_filtered"),
        _flag("isLocation", "is_location"),
        _flag("isLocation4tax", "is_location4tax"),
        _flag("isPayer", "is_payer"),
        _flag("isPhone", "is_phone"),
        _flag("isProfileName", "is_profile_name"),
        _flag("isZip", "is_zip"),
        _flag("multiple", "multiple"),
        named("name", "text", "string", flags="R"),
        named("personTypeId", "int", "integer", flags="RI"),
        named("propsGroupId", "int", "integer", flags="RI"),
        _flag("required", "required"),
        named("settings", "json", "datatype", empty="{}"),
        named("sort", "int", "integer", empty=100),
        named("type", "text", "string", flags="RI"),
        _flag("userProps", "user_props"),
        _flag("util", "util"),
        named("xmlId", "text", "string"),
    ],
)
_SPECIFIC = frozenset(name for names in _BY_TYPE.values() for name in names)


async def _check_property(call: Call, changes: Changes) -> None:
    await _person_type_exists(call, changes)
    columns = changes.columns
    group = columns.get("props_group_id")
    if group is not None and await call.store.get(call.portal, "property_groups", group) is None:
        raise errors.SaveError('Invalid value for field "propsGroupId": no such property group')
    kind = columns.get("type")
    if kind is not None and kind.upper() not in PROPERTY_TYPES:
        raise errors.SaveError('Invalid value for field "type"')
    if kind is not None:
        columns["type"] = kind.upper()
    if "settings" in columns:
        # The add page's answer prints settings' values as strings (`"maxlength": "100"`).
        settings = wire.decode(columns["settings"])
        if not isinstance(settings, dict):
            settings = {}
        columns["settings"] = wire.encode(
            {
                k: v if isinstance(v, dict | list) or v is None else coerce.to_text(v)
                for k, v in settings.items()
            }
        )


PROPERTIES = sale_family(
    PROPERTY_SCHEMA, "property", errors.PropertyNotFound,
    # sale-property-add.md's table order; its error example: "Required fields: propsGroupId".
    required=("personTypeId", "propsGroupId", "name", "type"),
    check=_check_property,
)  # fmt: skip

serve_sale(
    table,
    PROPERTIES,
    "order property",
    docs=PROPERTY_DOCS,
    # The property pages have no getFields: the fields depend on the type (getfieldsbytype).
    without=("fields",),
    add="Create an order property in a property group; answers it whole.",
    update="Change an order property; its payer type, group and type stay.",
    delete="Delete an order property.",
)


@guarded(table, "sale.property.getfieldsbytype",
         doc=PROPERTY_DOCS + "sale-property-get-fields-by-type.md",
         role=Role.STORE_MANAGER, numeric_codes=True)  # fmt: skip
async def fields_by_type(call: Call) -> Any:
    """The fields of an order property of one `type`: the common ones and the type's own."""
    raw = call.params.get("type")
    if raw in (None, "", []):
        raise errors.MissingParameter("type")
    kind = str(raw).upper()
    if kind not in PROPERTY_TYPES:
        raise errors.SaveError(f"Unknown property type {str(raw)[:50]}")
    own = set(_BY_TYPE.get(kind, ()))
    shown = [f for f in PROPERTY_SCHEMA if f.name not in _SPECIFIC or f.name in own]
    return {"property": flag_descriptors(shown)}


# -- property values ------------------------------------------------------------------------------

VALUE_DOCS = "api-reference/sale/property-value/"
# sale-property-value-get-fields.md, in its order.
VALUE_SCHEMA = Schema(
    "property_values",
    [
        named("code", "text", "string"),
        named("id", "int", "integer", flags="OI"),
        named("name", "text", "string"),
        named("orderId", "int", "integer", flags="RI"),
        named("orderPropsId", "int", "integer", flags="R"),
        named("orderPropsXmlId", "text", "string", flags="O"),
        named("value", "json", "any", flags="R"),
    ],
)
# sale-order-get.md and sale-property-value-modify.md print an order's values without orderId.
_EMBEDDED = View(VALUE_SCHEMA, tuple(f.name for f in VALUE_SCHEMA if f.name != "orderId"),
                 sale_value, str, str)  # fmt: skip
_COLUMNS = tuple(f.column for f in VALUE_SCHEMA)

VALUES = sale_family(
    VALUE_SCHEMA, "propertyValue",
    errors.PropertyValueNotFound,
)  # fmt: skip

serve_sale(
    table,
    VALUES,
    "order property value",
    docs=VALUE_DOCS,
    fields_name="getfields",
    list="Property values matching a filter (`orderId`, ...), 50 per page.",
    delete="Delete one property value of an order.",
)


async def _values_of(call: Call, order_id: int) -> list[Row]:
    query = ListQuery("property_values", call.portal, _COLUMNS,
                      [Condition("order_id", "=", order_id)], order=(("id", False),),
                      limit=None, count=False)  # fmt: skip
    return (await call.store.list(query)).rows


async def order_property_values(call: Call, order: Row) -> Row:
    """sale.order.get's `propertyValues`: the order's values, oldest first."""
    zone = call.ctx.zone
    rows = await _values_of(call, int(order["id"]))
    return {"propertyValues": [_EMBEDDED.render(row, zone) for row in rows]}


def _order_part(params: Params) -> tuple[int, list[Any]]:
    """`fields.order.id` and `fields.order.propertyValues`, as the modify page nests them."""
    fields = params.get("fields")
    if fields in (None, "", [], {}):
        raise errors.MissingParameter("fields")
    order = (fields_object(fields) or {}).get("order")
    order = fields_object(order) if order is not None else None
    if not order or order.get("id") in (None, "") or "propertyValues" not in order:
        raise errors.SaveError("Required parameters: order.id, order.propertyValues")
    order_id = coerce.to_int(order["id"])
    raw = order["propertyValues"]
    items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else None
    if order_id is None or items is None:
        raise errors.SaveError("Required parameters: order.id, order.propertyValues")
    return order_id, items


@guarded(table, "sale.propertyvalue.modify", doc=VALUE_DOCS + "sale-property-value-modify.md",
         role=Role.STORE_ADMIN, numeric_codes=True)  # fmt: skip
async def modify(call: Call) -> Any:
    """Replace all of an order's property values with those given; answers the order's values."""
    order_id, items = _order_part(call.params)
    if await call.store.get(call.portal, "orders", order_id) is None:
        raise errors.SaveError("Order not found")
    wanted: list[Row] = []
    for item in items:
        given = fields_object(item) or {}
        prop_id = coerce.to_int(given.get("orderPropsId"))
        if prop_id is None or "value" not in given:
            raise errors.SaveError("Required fields: orderPropsId, value")
        prop = await call.store.get(call.portal, "properties", prop_id)
        if prop is None:
            raise errors.PropertyNotFound()
        wanted.append({"order_id": order_id, "order_props_id": prop_id, "code": prop["code"],
                       "name": prop["name"], "order_props_xml_id": prop["xml_id"],
                       "value": wire.encode(given["value"])})  # fmt: skip
    # Everything is checked before the first write. The page: values not given are removed.
    old = await _values_of(call, order_id)
    kept = {row["order_props_id"]: row for row in old}
    async with call.store.group() as group, group.step():  # the order's values change whole
        for values in wanted:
            same = kept.pop(values["order_props_id"], None)
            if same is None:
                await call.store.insert(call.portal, "property_values", values)
            else:
                await call.store.update(call.portal, "property_values", int(same["id"]), values)
        for row in kept.values():
            await call.store.delete(call.portal, "property_values", int(row["id"]))
    return await order_property_values(call, {"id": order_id})
