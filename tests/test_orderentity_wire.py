"""crm.orderentity.* over the wire: shapes, codes, statuses exactly as the four docs pages print."""

from __future__ import annotations

import pytest

from orderlink.registry import Role

from .conftest import Portal

pytestmark = pytest.mark.anyio

TIME_KEYS = {
    "start", "finish", "duration", "processing", "date_start", "date_finish",
    "operating", "operating_reset_at",
}  # fmt: skip


async def bound(portal: Portal, order_id: int = 5125, deal_id: int = 6933) -> None:
    await portal.add_order(order_id)
    await portal.add_deal(deal_id)


class TestAdd:
    """crm-order-entity-add.md"""

    async def test_add_returns_deal_order_with_integer_values(self, portal: Portal) -> None:
        await bound(portal)
        response = await portal.call(
            "crm.orderentity.add", {"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}}
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        body = response.json()
        assert body["result"] == {"dealOrder": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}}
        assert set(body) == {"result", "time"}
        assert set(body["time"]) == TIME_KEYS

    async def test_form_encoded_strings_come_back_as_integers(self, portal: Portal) -> None:
        await bound(portal)
        result = await portal.ok(
            "crm.orderentity.add",
            form="fields%5BorderId%5D=5125&fields[ownerId]=6933&fields[ownerTypeId]=2",
        )
        assert result == {"dealOrder": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}}

    async def test_identical_triple_is_a_duplicate(self, portal: Portal) -> None:
        await bound(portal)
        fields = {"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}}
        await portal.ok("crm.orderentity.add", fields)
        response = await portal.call("crm.orderentity.add", fields)
        assert response.status_code == 400
        assert response.json() == {
            "error": "201650000001",
            "error_description": "Duplicate entry for key [ownerId, ownerTypeId, orderId]",
        }

    async def test_add_for_bound_order_replaces_binding(self, portal: Portal) -> None:
        await bound(portal)
        other = await portal.add_deal()
        await portal.ok(
            "crm.orderentity.add", {"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}}
        )
        await portal.ok(
            "crm.orderentity.add", {"fields": {"orderId": 5125, "ownerId": other, "ownerTypeId": 2}}
        )
        rows = (await portal.ok("crm.orderentity.list", {"filter": {"orderId": 5125}}))[
            "orderEntity"
        ]
        assert rows == [{"orderId": 5125, "ownerId": other, "ownerTypeId": 2}]

    async def test_unknown_order(self, portal: Portal) -> None:
        await portal.add_deal(6933)
        response = await portal.call(
            "crm.orderentity.add", {"fields": {"orderId": 999, "ownerId": 6933, "ownerTypeId": 2}}
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "200540400001",
            "error_description": "order does not exist",
        }

    @pytest.mark.parametrize(
        ("fields", "text"),
        [
            ({"ownerTypeId": 2}, "Required fields: ownerId, orderId"),
            ({"orderId": 1}, "Required fields: ownerId, ownerTypeId"),
            ({"orderId": 1, "ownerId": 2, "ownerTypeId": ""}, "Required fields: ownerTypeId"),
        ],
    )
    async def test_missing_fields_are_listed_in_documented_order(
        self, portal: Portal, fields: dict[str, object], text: str
    ) -> None:
        response = await portal.call("crm.orderentity.add", {"fields": fields})
        assert response.status_code == 400
        assert response.json() == {"error": "0", "error_description": text}

    async def test_owner_type_outside_deal_and_invoice_is_refused(self, portal: Portal) -> None:
        await bound(portal)
        response = await portal.call(
            "crm.orderentity.add", {"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 3}}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "0"
        assert "only possible to a deal or invoice" in response.json()["error_description"]

    async def test_smart_invoice_owner_is_accepted(self, portal: Portal) -> None:
        await portal.add_order(5125)
        invoice = await portal.add_invoice()
        result = await portal.ok(
            "crm.orderentity.add",
            {"fields": {"orderId": 5125, "ownerId": invoice, "ownerTypeId": 31}},
        )
        assert result == {"dealOrder": {"orderId": 5125, "ownerId": invoice, "ownerTypeId": 31}}

    async def test_missing_owner_is_refused_when_verified(self, portal: Portal) -> None:
        await portal.add_order(5125)
        response = await portal.call(
            "crm.orderentity.add",
            {"fields": {"orderId": 5125, "ownerId": 424242, "ownerTypeId": 2}},
        )
        assert response.status_code == 400
        assert response.json() == {"error": "0", "error_description": "deal does not exist"}

    async def test_store_manager_may_not_add(self, portal: Portal) -> None:
        await bound(portal)
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        response = await portal.call(
            "crm.orderentity.add",
            {"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}},
            hook=hook,
        )
        assert response.status_code == 400
        assert response.json() == {"error": "200040300020", "error_description": "Access Denied"}


class TestList:
    """crm-order-entity-list.md"""

    async def test_docs_example(self, portal: Portal) -> None:
        for order_id, deal_id in ((5125, 6933), (5127, 6937), (5128, 6938)):
            await bound(portal, order_id, deal_id)
            await portal.ok(
                "crm.orderentity.add",
                {"fields": {"orderId": order_id, "ownerId": deal_id, "ownerTypeId": 2}},
            )
        response = await portal.call(
            "crm.orderentity.list",
            {
                "select": ["orderId", "ownerId"],
                "filter": {"=ownerTypeId": 2, "@ownerId": [6938, 6937, 6933]},
                "order": {"orderId": "asc"},
            },
        )
        body = response.json()
        assert body["result"] == {
            "orderEntity": [
                {"orderId": 5125, "ownerId": 6933},
                {"orderId": 5127, "ownerId": 6937},
                {"orderId": 5128, "ownerId": 6938},
            ]
        }
        assert body["total"] == 3
        assert "next" not in body

    async def test_pages_of_fifty_with_next_only_while_rows_remain(self, portal: Portal) -> None:
        deal = await portal.add_deal()
        for _ in range(120):
            order = await portal.add_order()
            await portal.ok(
                "crm.orderentity.add",
                {"fields": {"orderId": order, "ownerId": deal, "ownerTypeId": 2}},
            )
        first = (await portal.call("crm.orderentity.list", {})).json()
        assert (len(first["result"]["orderEntity"]), first["total"], first["next"]) == (50, 120, 50)
        last = (await portal.call("crm.orderentity.list", {"start": 100})).json()
        assert (len(last["result"]["orderEntity"]), last["total"]) == (20, 120)
        assert "next" not in last

    async def test_store_role_none_is_denied_reads(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE)
        response = await portal.call("crm.orderentity.list", {}, hook=hook)
        assert response.status_code == 400
        assert response.json() == {"error": "200040300010", "error_description": "Access Denied"}


class TestGetFields:
    """crm-order-entity-get-fields.md"""

    @pytest.mark.parametrize(
        "method",
        ["crm.orderentity.getFields", "crm.orderentity.getfields", "crm.orderentity.Fields"],
    )
    async def test_descriptors_exactly(self, portal: Portal, method: str) -> None:
        descriptor = {
            "isImmutable": True,
            "isReadOnly": False,
            "isRequired": True,
            "type": "integer",
        }
        assert await portal.ok(method) == {
            "orderEntity": {"orderId": descriptor, "ownerId": descriptor, "ownerTypeId": descriptor}
        }


class TestDeleteByFilter:
    """crm-order-entity-delete-by-filter.md"""

    async def test_delete_returns_true(self, portal: Portal) -> None:
        await bound(portal)
        fields = {"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}}
        await portal.ok("crm.orderentity.add", fields)
        assert await portal.ok("crm.orderentity.deletebyfilter", fields) is True
        response = await portal.call("crm.orderentity.deleteByFilter", fields)
        assert response.status_code == 400
        assert response.json() == {
            "error": "201640400004",
            "error_description": "entity relation is not exists",
        }

    async def test_docs_sample_required_fields_error(self, portal: Portal) -> None:
        response = await portal.call(
            "CRM.ORDERENTITY.DELETEBYFILTER", {"fields": {"ownerTypeId": 2}}
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "0",
            "error_description": "Required fields: ownerId, orderId",
        }

    async def test_order_checked_before_binding(self, portal: Portal) -> None:
        response = await portal.call(
            "crm.orderentity.deletebyfilter",
            {"fields": {"orderId": 1, "ownerId": 2, "ownerTypeId": 2}},
        )
        assert response.json() == {
            "error": "200540400001",
            "error_description": "order does not exist",
        }
