"""`--order-deals`: sale.order.add also creates a deal for the new order and binds them, as a
portal's store in "Deals + Orders" mode does (docs/decisions.md); off by default."""

from __future__ import annotations

import pytest

from orderlink.settings import Settings

from .conftest import Portal

pytestmark = pytest.mark.anyio

ORDER = {"fields": {"lid": "s1", "personTypeId": 1, "currency": "EUR", "price": 250,
                    "responsibleId": 1}}  # fmt: skip


class TestOn:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database=database_url, rate_limit=False, order_deals=True)

    async def test_a_new_order_gets_a_bound_deal(self, portal: Portal) -> None:
        order = (await portal.ok("sale.order.add", ORDER))["order"]
        bindings = await portal.ok("crm.orderentity.list", {"filter": {"orderId": order["id"]}})
        assert len(bindings["orderEntity"]) == 1
        bound = bindings["orderEntity"][0]
        assert bound["ownerTypeId"] == 2
        deal = await portal.ok("crm.deal.get", {"id": bound["ownerId"]})
        assert deal["TITLE"] == f"Order #{order['accountNumber']}"
        assert (deal["CATEGORY_ID"], deal["STAGE_ID"]) == ("0", "NEW")
        assert (deal["OPPORTUNITY"], deal["CURRENCY_ID"]) == ("250.00", "EUR")

    async def test_an_update_creates_nothing_more(self, portal: Portal) -> None:
        order = (await portal.ok("sale.order.add", ORDER))["order"]
        await portal.ok("sale.order.update", {"id": order["id"], "fields": {"comments": "x"}})
        assert len(await portal.ok("crm.deal.list", {})) == 1


async def test_off_by_default(portal: Portal) -> None:
    await portal.ok("sale.order.add", ORDER)
    assert await portal.ok("crm.deal.list", {}) == []
    assert (await portal.ok("crm.orderentity.list", {}))["orderEntity"] == []
