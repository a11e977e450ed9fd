"""sale.propertygroup.*, sale.property.*, sale.propertyvalue.* over the wire, and the values
sale.order.get embeds.

Pages: api-reference/sale/property-group/*.md, api-reference/sale/property/*.md,
api-reference/sale/property-value/*.md, api-reference/sale/order/sale-order-get.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.registry import Role

from .conftest import Portal, error_of

pytestmark = pytest.mark.anyio

ORDER = {"lid": "s1", "personTypeId": 1, "currency": "USD"}
# sale-property-add.md's example request, with the group and payer type this portal has.
PROPERTY_EXAMPLE: dict[str, Any] = {
    "personTypeId": 1, "name": "Phone (for contacting the courier)", "type": "STRING",
    "code": "PHONE", "active": "Y", "util": "N", "userProps": "Y", "isFiltered": "N", "sort": 500,
    "description": "property description", "required": "Y", "multiple": "N",
    "settings": {"multiline": "Y", "maxlength": 100}, "xmlId": "", "defaultValue": "",
    "isProfileName": "Y", "isPayer": "Y", "isEmail": "N", "isPhone": "N", "isZip": "N",
    "isAddress": "N",
}  # fmt: skip


async def group(portal: Portal, name: str = "New Property Group") -> int:
    fields = {"personTypeId": 1, "name": name, "sort": 100}
    result = await portal.ok("sale.propertygroup.add", {"fields": fields})
    return int(result["propertyGroup"]["id"])


async def prop(portal: Portal, **fields: Any) -> dict[str, Any]:
    group_id = await group(portal)
    given = {**PROPERTY_EXAMPLE, "propsGroupId": group_id, **fields}
    return dict((await portal.ok("sale.property.add", {"fields": given}))["property"])


class TestPropertyGroups:
    """sale-property-group-{add,get,update,list,delete,get-fields}.md"""

    async def test_add_docs_example(self, portal: Portal) -> None:
        fields = {"personTypeId": 1, "name": "New Property Group", "sort": 100}
        result = await portal.ok("sale.propertygroup.add", {"fields": fields})
        assert list(result) == ["propertyGroup"]
        assert result["propertyGroup"] == {"id": result["propertyGroup"]["id"],
                                           "name": "New Property Group", "personTypeId": 1,
                                           "sort": 100}  # fmt: skip

    async def test_add_needs_a_name(self, portal: Portal) -> None:
        body = await error_of(portal, "sale.propertygroup.add", {"fields": {"personTypeId": 1}})
        assert body == {"error": 0, "error_description": "Required fields: name"}

    async def test_add_needs_a_known_payer_type(self, portal: Portal) -> None:
        fields = {"personTypeId": 99, "name": "x"}
        assert (await error_of(portal, "sale.propertygroup.add", {"fields": fields}))["error"] == 0
        assert (await portal.ok("sale.propertygroup.list", {}))["propertyGroups"] == []

    async def test_update_get_list_delete(self, portal: Portal) -> None:
        first = await group(portal, "New property group 1")
        second = await group(portal, "New property group 2")
        params = {"id": first, "fields": {"name": "Renamed"}}
        updated = await portal.ok("sale.propertygroup.update", params)
        assert updated["propertyGroup"]["name"] == "Renamed"
        got = await portal.ok("sale.propertygroup.get", {"id": first})
        assert got["propertyGroup"]["name"] == "Renamed"
        # sale-property-group-list.md's example: newest first, then all fields.
        listed = await portal.ok("sale.propertygroup.list", {"order": {"id": "desc"}})
        assert [g["id"] for g in listed["propertyGroups"]] == [second, first]
        assert await portal.ok("sale.propertygroup.delete", {"id": first}) is True
        body = await error_of(portal, "sale.propertygroup.get", {"id": first})
        assert body == {"error": 200940400001, "error_description": "property group does not exist"}

    async def test_update_needs_the_name(self, portal: Portal) -> None:
        first = await group(portal)
        params = {"id": first, "fields": {"sort": 5}}
        body = await error_of(portal, "sale.propertygroup.update", params)
        assert body == {"error": 0, "error_description": "Required fields: name"}

    async def test_get_fields(self, portal: Portal) -> None:
        result = await portal.ok("sale.propertygroup.getFields", {})
        plain = {"isImmutable": False, "isReadOnly": False, "isRequired": False}
        assert result == {"propertyGroup": {
            "id": {**plain, "isReadOnly": True, "type": "integer"},
            "name": {**plain, "isRequired": True, "type": "string"},
            "personTypeId": {**plain, "isRequired": True, "type": "integer"},
            "sort": {**plain, "type": "integer"},
        }}  # fmt: skip

    async def test_writes_need_a_store_admin(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        fields = {"personTypeId": 1, "name": "x"}
        body = await error_of(portal, "sale.propertygroup.add", {"fields": fields}, hook=hook)
        assert body == {"error": 200040300020, "error_description": "Access Denied"}


class TestProperties:
    """sale-property-{add,get,update,list,delete,get-fields-by-type}.md"""

    async def test_add_docs_example_answer(self, portal: Portal) -> None:
        created = await prop(portal)
        assert created == {
            "active": "Y", "code": "PHONE", "defaultValue": "",
            "description": "property description", "id": created["id"],
            "inputFieldLocation": "0", "isAddress": "N", "isAddressFrom": "N", "isAddressTo": "N",
            "isEmail": "N", "isFiltered": "N", "isLocation": "N", "isLocation4tax": "N",
            "isPayer": "Y", "isPhone": "N", "isProfileName": "Y", "isZip": "N", "multiple": "N",
            "name": "Phone (for contacting the courier)", "personTypeId": 1,
            "propsGroupId": created["propsGroupId"], "required": "Y",
            "settings": {"maxlength": "100", "multiline": "Y"}, "sort": 500, "type": "STRING",
            "userProps": "Y", "util": "N", "xmlId": "",
        }  # fmt: skip

    async def test_add_needs_the_group(self, portal: Portal) -> None:
        body = await error_of(portal, "sale.property.add", {"fields": PROPERTY_EXAMPLE})
        assert body == {"error": 0, "error_description": "Required fields: propsGroupId"}

    async def test_add_refuses_an_unknown_group_or_type(self, portal: Portal) -> None:
        fields = {**PROPERTY_EXAMPLE, "propsGroupId": 99}
        assert (await error_of(portal, "sale.property.add", {"fields": fields}))["error"] == 0
        group_id = await group(portal)
        fields = {**PROPERTY_EXAMPLE, "propsGroupId": group_id, "type": "COLOUR"}
        assert (await error_of(portal, "sale.property.add", {"fields": fields}))["error"] == 0

    async def test_update_keeps_type_and_group(self, portal: Portal) -> None:
        created = await prop(portal)
        fields = {"name": "Phone", "type": "NUMBER", "propsGroupId": 77}
        result = await portal.ok("sale.property.update", {"id": created["id"], "fields": fields})
        assert result["property"]["name"] == "Phone"
        assert result["property"]["type"] == "STRING"
        assert result["property"]["propsGroupId"] == created["propsGroupId"]

    async def test_list_get_delete(self, portal: Portal) -> None:
        created = await prop(portal)
        listed = await portal.ok("sale.property.list", {"select": ["id", "code"]})
        assert listed == {"properties": [{"code": "PHONE", "id": created["id"]}]}
        got = await portal.ok("sale.property.get", {"id": created["id"]})
        assert got["property"]["code"] == "PHONE"
        assert await portal.ok("sale.property.delete", {"id": created["id"]}) is True
        body = await error_of(portal, "sale.property.get", {"id": created["id"]})
        assert body == {"error": 200840400001, "error_description": "property does not exist"}

    async def test_fields_by_type(self, portal: Portal) -> None:
        plain = await portal.ok("sale.property.getfieldsbytype", {"type": "Y/N"})
        assert sorted(plain["property"]) == [
            "active", "code", "defaultValue", "description", "id", "isFiltered", "multiple",
            "name", "personTypeId", "propsGroupId", "required", "settings", "sort", "type",
            "userProps", "util", "xmlId",
        ]  # fmt: skip
        assert plain["property"]["type"] == {"isImmutable": True, "isReadOnly": False,
                                             "isRequired": True, "type": "string"}  # fmt: skip
        string = await portal.ok("sale.property.getfieldsbytype", {"type": "STRING"})
        assert "isPayer" in string["property"]
        assert "isLocation" not in string["property"]

    async def test_fields_by_type_needs_the_type(self, portal: Portal) -> None:
        assert (await error_of(portal, "sale.property.getfieldsbytype", {}))["error"] == 100


class TestPropertyValues:
    """sale-property-value-{modify,get,list,delete,get-fields}.md, sale-order-get.md"""

    async def setup_order(self, portal: Portal) -> tuple[int, int, int]:
        order = (await portal.ok("sale.order.add", {"fields": ORDER}))["order"]["id"]
        phone = (await prop(portal, code="PHONE", name="Phone"))["id"]
        fio = (await prop(portal, code="FIO", name="Full Name", xmlId="bx_1"))["id"]
        return order, phone, fio

    async def modify(self, portal: Portal, order: int, values: list[dict[str, Any]]) -> Any:
        params = {"fields": {"order": {"id": order, "propertyValues": values}}}
        return await portal.ok("sale.propertyvalue.modify", params)

    async def test_modify_answers_the_orders_values(self, portal: Portal) -> None:
        order, phone, fio = await self.setup_order(portal)
        result = await self.modify(portal, order, [
            {"orderPropsId": fio, "value": "John Smith"},
            {"orderPropsId": phone, "value": "+10907996161"},
        ])  # fmt: skip
        values = result["propertyValues"]
        assert [list(v) for v in values] == [
            ["code", "id", "name", "orderPropsId", "orderPropsXmlId", "value"]
        ] * 2
        assert {(v["code"], v["name"], v["orderPropsXmlId"], v["value"]) for v in values} == {
            ("FIO", "Full Name", "bx_1", "John Smith"), ("PHONE", "Phone", "", "+10907996161")}  # fmt: skip

    async def test_modify_replaces_every_value(self, portal: Portal) -> None:
        order, phone, fio = await self.setup_order(portal)
        first = await self.modify(portal, order, [{"orderPropsId": fio, "value": "A"},
                                                  {"orderPropsId": phone, "value": "1"}])  # fmt: skip
        fio_value = next(v["id"] for v in first["propertyValues"] if v["orderPropsId"] == fio)
        again = await self.modify(portal, order, [{"orderPropsId": fio, "value": "B"}])
        assert [(v["id"], v["value"]) for v in again["propertyValues"]] == [(fio_value, "B")]

    async def test_order_get_embeds_them_and_delete_takes_them(self, portal: Portal) -> None:
        order, phone, _ = await self.setup_order(portal)
        result = await self.modify(portal, order, [{"orderPropsId": phone, "value": "1"}])
        got = await portal.ok("sale.order.get", {"id": order})
        assert got["order"]["propertyValues"] == result["propertyValues"]
        value_id = result["propertyValues"][0]["id"]
        await portal.ok("sale.order.delete", {"id": order})
        body = await error_of(portal, "sale.propertyvalue.get", {"id": value_id})
        assert body == {"error": 201040400001, "error_description": "property value does not exist"}

    async def test_get_list_delete(self, portal: Portal) -> None:
        order, phone, _ = await self.setup_order(portal)
        result = await self.modify(portal, order, [{"orderPropsId": phone, "value": ["a", "b"]}])
        value_id = result["propertyValues"][0]["id"]
        got = await portal.ok("sale.propertyvalue.get", {"id": value_id})
        assert got["propertyValue"]["orderId"] == order
        assert got["propertyValue"]["value"] == ["a", "b"]
        listed = await portal.ok("sale.propertyvalue.list", {"filter": {"orderId": order}})
        assert [v["id"] for v in listed["propertyValues"]] == [value_id]
        assert await portal.ok("sale.propertyvalue.delete", {"id": value_id}) is True
        assert (await portal.ok("sale.order.get", {"id": order}))["order"]["propertyValues"] == []

    async def test_modify_errors(self, portal: Portal) -> None:
        body = await error_of(portal, "sale.propertyvalue.modify", {})
        assert body == {"error": 100,
                        "error_description": "Could not find value for parameter {fields}"}  # fmt: skip
        params = {"fields": {"order": {"id": 99, "propertyValues": []}}}
        body = await error_of(portal, "sale.propertyvalue.modify", params)
        assert body == {"error": 0, "error_description": "Order not found"}
        order, _, _ = await self.setup_order(portal)
        params = {"fields": {"order": {"id": order,
                                       "propertyValues": [{"orderPropsId": 999, "value": "x"}]}}}  # fmt: skip
        assert (await error_of(portal, "sale.propertyvalue.modify", params))[
            "error"
        ] == 200840400001

    async def test_get_fields(self, portal: Portal) -> None:
        result = await portal.ok("sale.propertyvalue.getfields", {})
        fields = result["propertyValue"]
        assert list(fields) == ["code", "id", "name", "orderId", "orderPropsId",
                                "orderPropsXmlId", "value"]  # fmt: skip
        assert fields["orderId"] == {"isImmutable": True, "isReadOnly": False,
                                     "isRequired": True, "type": "integer"}  # fmt: skip
        assert fields["value"]["type"] == "any"
