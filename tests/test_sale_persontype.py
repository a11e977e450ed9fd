"""sale.persontype.* over the wire: payer types as rows, on both stores.

Pages: api-reference/sale/person-type/{sale-person-type-add,sale-person-type-update,
sale-person-type-get,sale-person-type-list,sale-person-type-delete,
sale-person-type-get-fields}.md. (The list's filters and order: tests/test_sale_order.py.)
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.registry import Role

from .conftest import Portal, error_of

pytestmark = pytest.mark.anyio

# sale-person-type-add.md, cURL (Webhook)
ADD_EXAMPLE: dict[str, Any] = {"fields": {
    "name": "Individual", "code": "MY_CRM_COMPANY", "sort": "100", "active": "Y",
    "xmlId": "myXmlId",
}}  # fmt: skip
ORDER = {"lid": "s1", "currency": "USD"}


async def add(portal: Portal, **fields: Any) -> dict[str, Any]:
    result = await portal.ok("sale.persontype.add", {"fields": {"name": "Payer", **fields}})
    return dict(result["personType"])


class TestAdd:
    """sale-person-type-add.md"""

    async def test_docs_example_answers_the_new_type(self, portal: Portal) -> None:
        result = await portal.ok("sale.persontype.add", ADD_EXAMPLE)
        assert result == {"personType": {
            "active": "Y", "code": "MY_CRM_COMPANY", "id": 3, "name": "Individual", "sort": "100",
            "xmlId": "myXmlId",
        }}  # fmt: skip

    async def test_defaults_sort_150_and_active(self, portal: Portal) -> None:
        created = await add(portal)
        assert (created["sort"], created["active"], created["code"]) == ("150", "Y", None)

    async def test_name_is_required(self, portal: Portal) -> None:
        body = await error_of(portal, "sale.persontype.add", {"fields": {"code": "X"}})
        assert body == {"error": 0, "error_description": "Required fields: name"}

    async def test_fields_are_required(self, portal: Portal) -> None:
        body = await error_of(portal, "sale.persontype.add", {})
        assert body["error"] == 100

    async def test_code_must_be_unique(self, portal: Portal) -> None:
        await add(portal, code="MY_CRM_COMPANY")
        body = await error_of(portal, "sale.persontype.add", ADD_EXAMPLE)
        assert body == {"error": 200750000005, "error_description": "person type code exists"}
        listed = await portal.ok("sale.persontype.list", {})
        assert len(listed["personTypes"]) == 3

    async def test_needs_a_store_admin(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        body = await error_of(portal, "sale.persontype.add", ADD_EXAMPLE, hook=hook)
        assert body == {"error": 200040300020, "error_description": "Access Denied"}

    async def test_an_order_can_name_the_new_type(self, portal: Portal) -> None:
        created = await add(portal)
        fields = {**ORDER, "personTypeId": created["id"]}
        order = await portal.ok("sale.order.add", {"fields": fields})
        assert order["order"]["personTypeId"] == created["id"]


class TestGetUpdateDelete:
    """sale-person-type-get.md, sale-person-type-update.md, sale-person-type-delete.md"""

    async def test_get_a_seeded_type(self, portal: Portal) -> None:
        result = await portal.ok("sale.persontype.get", {"id": 2})
        assert result == {"personType": {"active": "Y", "code": None, "id": 2,
                                         "name": "Legal Entity", "sort": "110", "xmlId": None}}  # fmt: skip

    @pytest.mark.parametrize("method", ["sale.persontype.get", "sale.persontype.delete"])
    async def test_unknown_id(self, portal: Portal, method: str) -> None:
        body = await error_of(portal, method, {"id": 99})
        assert body == {"error": 200740400001, "error_description": "person type does not exist"}

    async def test_missing_id(self, portal: Portal) -> None:
        body = await error_of(portal, "sale.persontype.get", {})
        assert body["error"] == 100

    async def test_update_docs_example(self, portal: Portal) -> None:
        created = await add(portal, code="MY_CRM_COMPANY", sort=100)
        fields = {"name": "Legal entity", "code": "MY_CRM_COMPANY", "xmlId": "1234"}
        result = await portal.ok("sale.persontype.update", {"id": created["id"], "fields": fields})
        assert result == {"personType": {"active": "Y", "code": "MY_CRM_COMPANY",
                                         "id": created["id"], "name": "Legal entity",
                                         "sort": "100", "xmlId": "1234"}}  # fmt: skip

    async def test_update_needs_the_name(self, portal: Portal) -> None:
        """The update page's error example: `name` is required on every update too."""
        body = await error_of(portal, "sale.persontype.update", {"id": 1, "fields": {"sort": 5}})
        assert body == {"error": 0, "error_description": "Required fields: name"}

    async def test_update_to_another_types_code(self, portal: Portal) -> None:
        await add(portal, code="A")
        other = await add(portal, code="B")
        params = {"id": other["id"], "fields": {"name": "B", "code": "A"}}
        assert (await error_of(portal, "sale.persontype.update", params))["error"] == 200750000005

    async def test_delete_then_orders_cannot_name_it(self, portal: Portal) -> None:
        created = await add(portal)
        assert await portal.ok("sale.persontype.delete", {"id": created["id"]}) is True
        body = await error_of(portal, "sale.order.add",
                              {"fields": {**ORDER, "personTypeId": created["id"]}})  # fmt: skip
        assert body["error"] == 0
        assert "personTypeId" in body["error_description"]

    async def test_a_type_in_use_is_not_deleted(self, portal: Portal) -> None:
        await portal.ok("sale.order.add", {"fields": {**ORDER, "personTypeId": 1}})
        body = await error_of(portal, "sale.persontype.delete", {"id": 1})
        assert body == {"error": 200750000008,
                        "error_description": "The payer type with ID=1 is used in orders"}  # fmt: skip
        assert (await portal.ok("sale.persontype.get", {"id": 1}))["personType"]["id"] == 1


class TestGetFields:
    """sale-person-type-get-fields.md"""

    async def test_docs_answer(self, portal: Portal) -> None:
        result = await portal.ok("sale.persontype.getFields", {})
        plain = {"isImmutable": False, "isReadOnly": False, "isRequired": False, "type": "string"}
        assert result == {"personType": {
            "active": plain, "code": plain,
            "id": {**plain, "isReadOnly": True, "type": "integer"},
            "name": {**plain, "isRequired": True}, "sort": plain, "xmlId": plain,
        }}  # fmt: skip
