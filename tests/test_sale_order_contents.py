"""sale.basketitem.*, sale.payment.*, sale.shipment.* over the wire, and the order they fill.

Pages: api-reference/sale/basket-item/*.md, api-reference/sale/payment/*.md,
api-reference/sale/shipment/*.md, api-reference/sale/order/sale-order-get.md,
api-reference/sale/events/on-{payment,shipment}-*.md. The sale pages print digit error codes as
JSON numbers.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.registry import Role
from orderlink.settings import Settings

from .conftest import Portal, error_of
from .oauth_apps import register, tokens
from .receiver import Receiver
from .test_events import deliveries, rest

pytestmark = pytest.mark.anyio

NOW = "2024-06-25T13:43:26+02:00"  # the frozen clock in the portal zone


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A portal two hours east of UTC, as the docs' examples are."""
    return Settings(database=database_url, rate_limit=False, timezone="+02:00")


# sale-basket-item-add.md, cURL (Webhook)
BASKET_ADD: dict[str, Any] = {"fields": {"orderId": 5147, "quantity": 2, "productId": 6544,
                                         "currency": "USD"}}  # fmt: skip
# sale-basket-item-update.md, cURL (Webhook)
BASKET_UPDATE: dict[str, Any] = {"fields": {"quantity": 7, "price": 10, "discountPrice": 990}}
# sale-basket-item-list.md, cURL (Webhook)
BASKET_LIST: dict[str, Any] = {
    "select": ["id", "orderId", "productId", "name", "price", "currency"],
    "filter": {"@orderId": [5147, 5146]}, "order": {"id": "desc"}, "start": 0,
}  # fmt: skip
# The keys sale-basket-item-get.md's answer prints, plus `type` (the update answer and
# sale-order-get.md print it).
BASKET_KEYS = sorted([
    "basePrice", "canBuy", "catalogXmlId", "currency", "customPrice", "dateInsert", "dateUpdate",
    "dimensions", "discountPrice", "id", "measureCode", "measureName", "name", "orderId", "price",
    "productId", "productXmlId", "properties", "quantity", "reservations", "sort", "vatIncluded",
    "vatRate", "weight", "xmlId", "type",
])  # fmt: skip

# sale-payment-add.md, cURL (Webhook)
PAYMENT_ADD: dict[str, Any] = {"fields": {
    "orderId": 200, "paySystemId": 1, "paid": "Y", "datePaid": "2024-04-10T10:00:00",
    "empPaidId": 1, "psStatus": "Y", "psStatusCode": "", "psStatusDescription": "",
    "psStatusMessage": "", "psSum": 100, "psCurrency": "USD",
    "psResponseDate": "2024-04-10T10:00:00", "payVoucherNum": "",
    "payVoucherDate": "2024-04-10T10:00:00", "datePayBefore": "2024-04-10T10:00:00",
    "dateBill": "2024-04-10T10:00:00", "xmlId": "", "sum": 100, "companyId": 1,
    "payReturnNum": "", "priceCod": 100, "payReturnDate": "2024-04-10T10:00:00", "empReturnId": 1,
    "payReturnComment": "", "responsibleId": 1, "empResponsibleId": 1, "isReturn": "N",
    "comments": "", "updated1c": "N", "id1c": "", "version1c": "", "externalPayment": "N",
    "psInvoiceId": 1, "marked": "N", "reasonMarked": "", "empMarkedId": 1,
}}  # fmt: skip
# sale-payment-add.md's answer (values verbatim, but `psInvoiceId`: see TestPayments)
PAYMENT_ANSWER: dict[str, Any] = {
    "accountNumber": "356/1", "comments": "", "companyId": 1, "currency": "USD",
    "dateBill": "2024-04-10T09:00:00+02:00", "dateMarked": "2024-04-16T16:32:49+02:00",
    "datePaid": "2024-04-10T09:00:00+02:00", "datePayBefore": "2024-04-10T09:00:00+02:00",
    "dateResponsibleId": "2024-04-16T16:32:49+02:00", "empMarkedId": 1, "empPaidId": 1,
    "empResponsibleId": 1, "empReturnId": 1, "externalPayment": "N", "id": 144, "id1c": "",
    "isReturn": "N", "marked": "N", "orderId": 200, "paid": "Y", "payReturnComment": "",
    "payReturnDate": "2024-04-10T09:00:00+02:00", "payReturnNum": "", "paySystemId": 1,
    "paySystemIsCash": "N", "paySystemName": "Bank Transfer (Company)", "paySystemXmlId": "",
    "payVoucherDate": "2024-04-10T09:00:00+02:00", "payVoucherNum": "", "priceCod": "100",
    "psCurrency": "USD", "psInvoiceId": "1", "psResponseDate": "2024-04-10T09:00:00+02:00",
    "psStatus": "Y", "psStatusCode": "", "psStatusDescription": "", "psStatusMessage": "",
    "psSum": 100, "reasonMarked": "", "responsibleId": 1, "sum": 100, "updated1c": "N",
    "version1c": "", "xmlId": "",
}  # fmt: skip

# sale-shipment-add.md, cURL (Webhook)
SHIPMENT_ADD: dict[str, Any] = {"fields": {
    "orderId": 2068, "allowDelivery": "Y", "deducted": "Y", "deliveryId": 2, "statusId": "DN",
    "deliveryDocDate": "2024-02-13T14:05:48", "deliveryDocNum": "DocumentNumber123456",
    "trackingNumber": "trackingNumber", "basePriceDelivery": 999.99,
    "comments": "My comment for manager", "responsibleId": 25, "xmlId": "myXmlId",
}}  # fmt: skip
# sale-shipment-update.md, cURL (Webhook)
SHIPMENT_UPDATE: dict[str, Any] = {"fields": {
    "allowDelivery": "N", "deducted": "N", "deliveryId": 3, "statusId": "DD",
    "deliveryDocDate": "2024-02-13T15:05:49", "deliveryDocNum": "MyDocumentNumber",
    "trackingNumber": "MyTrackingNumber", "basePriceDelivery": 1999.99,
    "comments": "My new comment for manager", "responsibleId": 1, "xmlId": "myNewXmlId",
}}  # fmt: skip
# sale-shipment-add.md's answer, the keys with values it prints (it leaves out the null ones);
# its deliveryDocDate an hour later, read in the portal zone (see TestPayments).
SHIPMENT_ANSWER: dict[str, Any] = {
    "accountNumber": "2068/1", "allowDelivery": "Y", "basePriceDelivery": 999.99, "canceled": "N",
    "comments": "My comment for manager", "currency": "USD", "customPriceDelivery": "N",
    "dateAllowDelivery": NOW, "dateDeducted": NOW, "dateInsert": NOW, "dateResponsibleId": NOW,
    "deducted": "Y", "deliveryDocDate": "2024-02-13T14:05:48+02:00",
    "deliveryDocNum": "DocumentNumber123456", "deliveryId": 2, "deliveryName": "Courier Delivery",
    "deliveryXmlId": "", "empAllowDeliveryId": 1, "empDeductedId": 1, "empResponsibleId": 1,
    "marked": "N", "orderId": 2068, "priceDelivery": 999.99, "responsibleId": 25,
    "shipmentItems": [], "statusId": "DN", "system": "N", "trackingNumber": "trackingNumber",
    "xmlId": "myXmlId",
}  # fmt: skip


async def basket_item(portal: Portal, order_id: int, **fields: Any) -> dict[str, Any]:
    given = {"orderId": order_id, "productId": 0, "currency": "USD", "quantity": 1,
             "name": "Chair", "price": 100, **fields}  # fmt: skip
    result = await portal.ok("sale.basketitem.add", {"fields": given})
    return dict(result["basketItem"])


async def payment(portal: Portal, order_id: int, **fields: Any) -> dict[str, Any]:
    given = {"orderId": order_id, "paySystemId": 1, **fields}
    return dict((await portal.ok("sale.payment.add", {"fields": given}))["payment"])


async def shipment(portal: Portal, order_id: int, **fields: Any) -> dict[str, Any]:
    given = {"orderId": order_id, "allowDelivery": "N", "deducted": "N", "deliveryId": 2, **fields}
    return dict((await portal.ok("sale.shipment.add", {"fields": given}))["shipment"])


async def order(portal: Portal, order_id: int) -> dict[str, Any]:
    return dict((await portal.ok("sale.order.get", {"id": order_id}))["order"])


class TestBasketItems:
    """sale-basket-item-{add,get,update,delete,list,get-fields}.md"""

    async def test_add_example_answers_the_documented_shape(self, portal: Portal) -> None:
        await portal.add_order(5147)
        body = (await portal.call("sale.basketitem.add", BASKET_ADD)).json()
        assert set(body) == {"result", "total", "time"}
        assert body["total"] == 1
        item = body["result"]["basketItem"]
        assert list(item) == BASKET_KEYS
        assert item["orderId"] == 5147
        assert item["productId"] == 6544
        assert item["quantity"] == 2
        assert item["currency"] == "USD"
        assert item["customPrice"] == "N"
        assert item["sort"] == 100
        assert item["dateInsert"] == item["dateUpdate"] == NOW
        assert item["properties"] == []
        assert item["reservations"] == []
        assert item["dimensions"] == 'a:3:{s:5:"WIDTH";N;s:6:"HEIGHT";N;s:6:"LENGTH";N;}'
        assert item["xmlId"].startswith("bx_")
        assert len(item["xmlId"]) == 16
        assert item["vatRate"] is None
        assert item["type"] is None
        assert await portal.ok("sale.basketitem.get", {"id": item["id"]}) == {"basketItem": item}

    async def test_update_example_keeps_base_price_the_sum(self, portal: Portal) -> None:
        """The update answer: price 10 + discountPrice 990 = basePrice 1000, customPrice Y."""
        await portal.add_order(5147)
        item = await basket_item(portal, 5147, price=900, basePrice=1000, discountPrice=100)
        response = await portal.call("sale.basketitem.update", {"id": item["id"], **BASKET_UPDATE})
        assert response.json()["total"] == 1
        updated = response.json()["result"]["basketItem"]
        assert list(updated) == BASKET_KEYS
        assert (updated["price"], updated["discountPrice"], updated["basePrice"]) == (10, 990, 1000)
        assert updated["quantity"] == 7
        assert updated["customPrice"] == "Y"

    async def test_update_ignores_the_immutable_order_and_currency(self, portal: Portal) -> None:
        await portal.add_order(1)
        await portal.add_order(2, currency="EUR")
        item = await basket_item(portal, 1)
        result = await portal.ok("sale.basketitem.update", {
            "id": item["id"], "fields": {"orderId": 2, "currency": "EUR", "name": "Desk"}})  # fmt: skip
        assert result["basketItem"]["orderId"] == 1
        assert result["basketItem"]["currency"] == "USD"
        assert result["basketItem"]["name"] == "Desk"

    async def test_list_example_answers_the_selected_fields(self, portal: Portal) -> None:
        for order_id in (5146, 5147, 5148):
            await portal.add_order(order_id)
            await basket_item(portal, order_id)
        response = await portal.call("sale.basketitem.list", BASKET_LIST)
        body = response.json()
        assert body["total"] == 2
        items = body["result"]["basketItems"]
        assert [i["orderId"] for i in items] == [5147, 5146]
        assert set(items[0]) == set(BASKET_LIST["select"])

    async def test_delete_answers_true_then_not_found(self, portal: Portal) -> None:
        await portal.add_order(1)
        item = await basket_item(portal, 1)
        assert await portal.ok("sale.basketitem.delete", {"id": item["id"]}) is True
        for method in ("sale.basketitem.get", "sale.basketitem.delete", "sale.basketitem.update"):
            body = await error_of(portal, method, {"id": item["id"], "fields": {"sort": 1}})
            assert body == {
                "error": 200140400001,
                "error_description": "basket item does not exist",
            }

    async def test_add_must_name_an_existing_order(self, portal: Portal) -> None:
        fields = dict(BASKET_ADD["fields"])
        assert await error_of(portal, "sale.basketitem.add", {"fields": fields}) == {
            "error": 200140400009, "error_description": "Order not found"}  # fmt: skip
        del fields["orderId"]
        assert await error_of(portal, "sale.basketitem.add", {"fields": fields}) == {
            "error": 200140400008, "error_description": "Required fields: fields[ORDER_ID]"}  # fmt: skip

    async def test_currency_must_be_the_orders(self, portal: Portal) -> None:
        await portal.add_order(5147)
        fields = {**BASKET_ADD["fields"], "currency": "EUR"}
        assert await error_of(portal, "sale.basketitem.add", {"fields": fields}) == {
            "error": 200140400011,
            "error_description": "Currency must be the currency of the order"}  # fmt: skip

    async def test_a_value_its_field_cannot_hold_saves_nothing(self, portal: Portal) -> None:
        await portal.add_order(5147)
        fields = {**BASKET_ADD["fields"], "quantity": "many"}
        assert (await error_of(portal, "sale.basketitem.add", {"fields": fields}))["error"] == (
            200140400007
        )
        assert (await portal.call("sale.basketitem.list", {})).json()["total"] == 0

    async def test_get_fields_lists_every_field_with_flags(self, portal: Portal) -> None:
        fields = (await portal.ok("sale.basketitem.getFields"))["basketItem"]
        # sale-basket-item-get-fields.md's three printed descriptors, verbatim.
        assert fields["basePrice"] == {"isImmutable": False, "isReadOnly": False,
                                       "isRequired": False, "type": "double"}  # fmt: skip
        assert fields["canBuy"] == {"isImmutable": False, "isReadOnly": False,
                                    "isRequired": False, "type": "string"}  # fmt: skip
        assert fields["catalogXmlId"] == {"isImmutable": True, "isReadOnly": False,
                                          "isRequired": False, "type": "string"}  # fmt: skip
        assert list(fields) == sorted(fields)

    async def test_a_store_manager_may_read_but_not_write(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        assert (await portal.call("sale.basketitem.list", {}, hook=hook)).status_code == 200
        body = await error_of(portal, "sale.basketitem.add", BASKET_ADD, hook=hook)
        assert body["error"] == 200040300020


class TestPayments:
    """sale-payment-{add,get,update,delete,list,get-fields}.md"""

    async def test_add_example_answers_the_documented_shape(self, portal: Portal) -> None:
        """psInvoiceId is a string in getFields and stored as one; the examples print 1. The
        example's dates without an offset come back an hour earlier (its portal's server zone
        differs from its user's); orderlink reads them in the portal zone, as sale.order does."""
        await portal.add_order(200, account_number="356")
        paid = (await portal.ok("sale.payment.add", PAYMENT_ADD))["payment"]
        assert list(paid) == list(PAYMENT_ANSWER)
        given = ("dateBill", "datePaid", "datePayBefore", "payReturnDate", "payVoucherDate",
                 "psResponseDate")  # fmt: skip
        same = {k: v for k, v in PAYMENT_ANSWER.items()
                if k not in (*given, "dateMarked", "dateResponsibleId", "id")}  # fmt: skip
        assert {k: paid[k] for k in same} == same
        assert paid["dateResponsibleId"] == NOW
        # The example's dateMarked is its save time although it sends marked N: orderlink
        # stamps a flag only when the save changes it (a new payment's starts at N).
        assert paid["dateMarked"] is None
        assert all(paid[k] == "2024-04-10T10:00:00+02:00" for k in given)
        assert await portal.ok("sale.payment.get", {"id": paid["id"]}) == {"payment": paid}

    async def test_paid_payments_covering_the_price_make_the_order_payed(
        self, portal: Portal
    ) -> None:
        await portal.add_order(1)
        await basket_item(portal, 1, price=50, quantity=2)
        first = await payment(portal, 1, sum=60, paid="Y")
        assert (await order(portal, 1))["payed"] == "N"
        second = await payment(portal, 1, sum=40)
        assert second["accountNumber"] == "1/2"
        assert second["datePaid"] is None
        updated = await portal.ok("sale.payment.update", {"id": second["id"],
                                                          "fields": {"paid": "Y"}})  # fmt: skip
        assert updated["payment"]["datePaid"] == NOW
        assert updated["payment"]["empPaidId"] == 1
        assert (await order(portal, 1))["payed"] == "Y"
        assert await portal.ok("sale.payment.delete", {"id": first["id"]}) is True
        assert (await order(portal, 1))["payed"] == "N"

    async def test_a_payment_moves_no_price(self, portal: Portal) -> None:
        """sale.order.add's price stays the order's own while it has no basket: a payment
        decides only `payed`."""
        await portal.add_order(1, price=100)
        await payment(portal, 1, sum=100, paid="Y")
        got = await order(portal, 1)
        assert (got["price"], got["payed"]) == (100, "Y")

    async def test_not_found_and_missing(self, portal: Portal) -> None:
        for method in ("sale.payment.get", "sale.payment.update", "sale.payment.delete"):
            body = await error_of(portal, method, {"id": 9, "fields": {"sum": 1}})
            assert body == {"error": 200640400001, "error_description": "payment does not exist"}
        body = await error_of(portal, "sale.payment.get", {})
        assert body["error"] == 100

    async def test_add_must_name_an_order_and_a_pay_system(self, portal: Portal) -> None:
        body = await error_of(portal, "sale.payment.add", PAYMENT_ADD)
        assert body == {"error": 0, "error_description": "Unable to load order"}
        await portal.add_order(200)
        fields = {**PAYMENT_ADD["fields"], "paySystemId": 99}
        body = await error_of(portal, "sale.payment.add", {"fields": fields})
        assert body == {"error": 0, "error_description": "Payment system not found"}
        body = await error_of(portal, "sale.payment.add", {"fields": {"orderId": 200}})
        assert body == {"error": 0, "error_description": "Required fields: paySystemId"}
        body = await error_of(portal, "sale.payment.add", {})
        assert body["error"] == 100

    async def test_list_filters_by_order(self, portal: Portal) -> None:
        await portal.add_order(1)
        await portal.add_order(2)
        await payment(portal, 1)
        mine = await payment(portal, 2)
        result = await portal.ok("sale.payment.list", {"filter": {"orderId": 2},
                                                       "select": ["id", "orderId"]})  # fmt: skip
        assert result == {"payments": [{"id": mine["id"], "orderId": 2}]}

    async def test_list_example_is_refused_for_its_order_fields(self, portal: Portal) -> None:
        """sale-payment-list.md's filter (`@personTypeId`, `payed`) is sale.order.list's: order
        fields, which a payment list refuses as it refuses any unknown filter field."""
        select = list(PAYMENT_ANSWER)
        params: dict[str, Any] = {"select": select, "filter": {"<id": 10, "@personTypeId": [3, 4], "payed": "N"},
                  "order": {"id": "desc"}}  # fmt: skip
        body = await error_of(portal, "sale.payment.list", params)
        assert body == {"error": 0, "error_description":
                        "Invalid filter: field 'personTypeId' is not allowed in filter"}  # fmt: skip
        del params["filter"]["@personTypeId"], params["filter"]["payed"]
        await portal.add_order(200)
        paid = (await portal.ok("sale.payment.add", PAYMENT_ADD))["payment"]
        assert await portal.ok("sale.payment.list", params) == {"payments": [paid]}

    async def test_get_fields_matches_the_page(self, portal: Portal) -> None:
        fields = (await portal.ok("sale.payment.getFields"))["payment"]
        assert len(fields) == 44
        assert fields["orderId"] == {"isImmutable": True, "isReadOnly": False,
                                     "isRequired": True, "type": "integer"}  # fmt: skip
        assert fields["paySystemName"]["isReadOnly"] is True
        assert fields["paid"]["type"] == "char"


class TestShipments:
    """sale-shipment-{add,get,update,delete,list,get-fields}.md"""

    async def test_add_example_answers_the_documented_shape(self, portal: Portal) -> None:
        """The add answer leaves out the null-valued keys; orderlink prints every field (null
        where unset), as sale-order-get.md's embedded shipments do."""
        await portal.add_order(2068)
        shipped = (await portal.ok("sale.shipment.add", SHIPMENT_ADD))["shipment"]
        assert list(shipped) == sorted(shipped)
        assert {k: shipped[k] for k in SHIPMENT_ANSWER} == SHIPMENT_ANSWER
        assert set(shipped) - set(SHIPMENT_ANSWER) == {
            "companyId", "dateCanceled", "dateMarked", "discountPrice", "empCanceledId",
            "empMarkedId", "externalDelivery", "id", "id1c", "reasonMarked",
            "reasonUndoDeducted", "statusXmlId", "trackingDescription", "trackingLastCheck",
            "trackingStatus", "updated1c", "version1c"}  # fmt: skip
        assert await portal.ok("sale.shipment.get", {"id": shipped["id"]}) == {"shipment": shipped}

    async def test_update_example(self, portal: Portal) -> None:
        await portal.add_order(2068)
        shipped = (await portal.ok("sale.shipment.add", SHIPMENT_ADD))["shipment"]
        result = await portal.ok("sale.shipment.update", {"id": shipped["id"], **SHIPMENT_UPDATE})
        updated = result["shipment"]
        assert updated["deliveryId"] == 3
        assert updated["deliveryName"] == "Pickup"
        assert updated["deducted"] == "N"
        assert updated["statusId"] == "DD"
        assert updated["priceDelivery"] == 1999.99
        assert updated["deliveryDocDate"] == "2024-02-13T15:05:49+02:00"

    async def test_every_shipment_shipped_makes_the_order_deducted(self, portal: Portal) -> None:
        await portal.add_order(1)
        first = await shipment(portal, 1, deducted="Y")
        assert (await order(portal, 1))["deducted"] == "Y"
        second = await shipment(portal, 1)
        assert (await order(portal, 1))["deducted"] == "N"
        await portal.ok("sale.shipment.update", {"id": second["id"], "fields": {"deducted": "Y"}})
        assert (await order(portal, 1))["deducted"] == "Y"
        assert first["accountNumber"] == "1/1"
        assert second["accountNumber"] == "1/2"

    async def test_a_shipped_shipment_cannot_be_deleted(self, portal: Portal) -> None:
        await portal.add_order(1)
        shipped = await shipment(portal, 1, deducted="Y")
        assert await error_of(portal, "sale.shipment.delete", {"id": shipped["id"]}) == {
            "error": "SALE_SHIPMENT_EXIST_SHIPPED",
            "error_description": "The shipment has already been shipped. Please cancel the "
                                 "shipment"}  # fmt: skip
        await portal.ok("sale.shipment.update", {"id": shipped["id"], "fields": {"deducted": "N"}})
        assert await portal.ok("sale.shipment.delete", {"id": shipped["id"]}) is True
        body = await error_of(portal, "sale.shipment.get", {"id": shipped["id"]})
        assert body == {"error": 201140400001, "error_description": "shipment does not exist"}

    async def test_add_refusals(self, portal: Portal) -> None:
        body = await error_of(portal, "sale.shipment.add", SHIPMENT_ADD)
        assert body == {"error": 0, "error_description": "Unable to load order"}
        await portal.add_order(2068)
        fields = {**SHIPMENT_ADD["fields"], "deliveryId": 77}
        body = await error_of(portal, "sale.shipment.add", {"fields": fields})
        assert body == {"error": "SALE_SHIPMENT_WRONG_DELIVERY_SERVICE",
                        "error_description": "Delivery service not found"}  # fmt: skip
        body = await error_of(portal, "sale.shipment.add", {"fields": {"orderId": 2068}})
        assert body == {
            "error": 0,
            "error_description": "Required fields: allowDelivery, deducted, deliveryId",
        }

    async def test_list_example_filters_and_orders(self, portal: Portal) -> None:
        """sale-shipment-list.md's request: `@orderId`, `>=id`, newest first."""
        for order_id in (2069, 2070, 2071):
            await portal.add_order(order_id)
            await shipment(portal, order_id)
        response = await portal.call("sale.shipment.list", {
            "select": ["id", "orderId", "deliveryName"], "filter": {"@orderId": [2069, 2070],
            ">=id": 1}, "order": {"id": "desc"}})  # fmt: skip
        body = response.json()
        assert body["total"] == 2
        assert [s["orderId"] for s in body["result"]["shipments"]] == [2070, 2069]

    async def test_get_fields_matches_the_page(self, portal: Portal) -> None:
        fields = (await portal.ok("sale.shipment.getFields"))["shipment"]
        assert len(fields) == 45
        assert list(fields) == sorted(fields)
        assert fields["deliveryId"] == {"isImmutable": False, "isReadOnly": False,
                                        "isRequired": True, "type": "integer"}  # fmt: skip
        assert fields["trackingLastCheck"]["type"] == "string"


class TestOrderContents:
    """sale-order-get.md: the order embeds its contents; its price is basket plus delivery."""

    async def test_get_embeds_basket_payments_and_shipments(self, portal: Portal) -> None:
        await portal.add_order(236)
        item = await basket_item(portal, 236, price=980)
        paid = await payment(portal, 236, sum=1480)
        shipped = await shipment(portal, 236, basePriceDelivery=500)
        got = await order(portal, 236)
        assert got["basketItems"] == [item]
        assert got["payments"] == [paid]
        assert got["shipments"] == [
            (await portal.ok("sale.shipment.get", {"id": shipped["id"]}))["shipment"]
        ]
        assert got["price"] == 1480
        assert got["payed"] == "N"
        assert got["deducted"] == "N"
        assert list(got) == sorted(got)

    async def test_the_price_follows_the_basket(self, portal: Portal) -> None:
        await portal.add_order(1)
        item = await basket_item(portal, 1, price=10, quantity=3)
        assert (await order(portal, 1))["price"] == 30
        await portal.ok("sale.basketitem.update", {"id": item["id"], "fields": {"quantity": 5}})
        assert (await order(portal, 1))["price"] == 50
        await portal.ok("sale.basketitem.delete", {"id": item["id"]})
        assert (await order(portal, 1))["price"] == 0

    async def test_add_and_update_answers_embed_no_contents(self, portal: Portal) -> None:
        await portal.add_order(1)
        await basket_item(portal, 1)
        result = await portal.ok("sale.order.update", {"id": 1, "fields": {"comments": "x"}})
        assert "basketItems" not in result["order"]

    async def test_an_order_with_a_paid_payment_is_not_deleted(self, portal: Portal) -> None:
        await portal.add_order(1)
        paid = await payment(portal, 1, paid="Y")
        assert await error_of(portal, "sale.order.delete", {"id": 1}) == {
            "error": "SALE_ORDER_CANCEL_PAYMENT_EXIST_ACTIVE",
            "error_description": "The order has active payments"}  # fmt: skip
        await portal.ok("sale.payment.update", {"id": paid["id"], "fields": {"paid": "N"}})
        assert await portal.ok("sale.order.delete", {"id": 1}) is True
        body = await error_of(portal, "sale.payment.get", {"id": paid["id"]})
        assert body["error"] == 200640400001

    async def test_in_a_batch_the_order_follows_within_the_transaction(
        self, portal: Portal
    ) -> None:
        """batch runs its commands in one store transaction: the summary's reads and write
        run inside it, and a later command sees them."""
        await portal.add_order(1)
        result = await portal.ok("batch", {"halt": 1, "cmd": {
            "item": "sale.basketitem.add?fields[orderId]=1&fields[productId]=0"
                    "&fields[currency]=USD&fields[quantity]=2&fields[price]=15",
            "order": "sale.order.get?id=1",
        }})  # fmt: skip
        assert result["result_error"] == []
        assert result["result"]["order"]["order"]["price"] == 30
        assert result["result"]["order"]["order"]["basketItems"] == [
            result["result"]["item"]["basketItem"]
        ]
        assert result["result_total"]["item"] == 1

    async def test_deleting_an_order_deletes_its_contents(self, portal: Portal) -> None:
        await portal.add_order(1)
        await portal.add_order(2)
        await basket_item(portal, 1)
        await payment(portal, 1)
        await shipment(portal, 1)
        kept = await basket_item(portal, 2)
        assert await portal.ok("sale.order.delete", {"id": 1}) is True
        for method, key in (("sale.basketitem.list", "basketItems"),
                            ("sale.payment.list", "payments"),
                            ("sale.shipment.list", "shipments")):  # fmt: skip
            rows = (await portal.ok(method, {"select": ["id", "orderId"]}))[key]
            assert all(r["orderId"] == 2 for r in rows)
        assert (await portal.ok("sale.basketitem.get", {"id": kept["id"]}))["basketItem"] == kept


class TestEvents:
    """sale/events/on-payment-*.md, on-shipment-*.md: `{"FIELDS": {"ID": ...}}`."""

    async def test_payment_and_shipment_events(self, portal: Portal, receiver: Receiver) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        names = ("ONPAYMENTENTITYSAVED", "ONPAYMENTDELETED", "ONSHIPMENTENTITYSAVED",
                 "ONSHIPMENTDELETED")  # fmt: skip
        for event in names:
            await rest(portal, token, "event.bind", {"event": event, "handler": receiver.url()})
        await portal.add_order(1)
        paid = await payment(portal, 1)
        shipped = await shipment(portal, 1)
        await portal.ok("sale.payment.delete", {"id": paid["id"]})
        await portal.ok("sale.shipment.delete", {"id": shipped["id"]})
        received = await deliveries(portal, receiver, 4)
        got = sorted((r["event"], r["data"]["FIELDS"]["ID"]) for r in received)
        assert got == sorted([
            ("ONPAYMENTENTITYSAVED", str(paid["id"])), ("ONPAYMENTDELETED", str(paid["id"])),
            ("ONSHIPMENTENTITYSAVED", str(shipped["id"])),
            ("ONSHIPMENTDELETED", str(shipped["id"])),
        ])  # fmt: skip

    async def test_deleting_an_order_raises_its_payments_and_shipments_deleted_events(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        """sale/events/index.md: OnPaymentDeleted / OnShipmentDeleted fire when a payment or a
        shipment is deleted from the database, and sale-order-delete.md deletes the order with
        its related objects: each of them is told, between the order's two delete events."""
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        names = ("ONSALEBEFOREORDERDELETE", "ONPAYMENTDELETED", "ONSHIPMENTDELETED",
                 "ONORDERDELETED")  # fmt: skip
        for event in names:
            await rest(portal, token, "event.bind", {"event": event, "handler": receiver.url()})
        await portal.add_order(1)
        await portal.add_order(2)
        payments = [(await payment(portal, 1))["id"] for _ in range(2)]
        shipped = (await shipment(portal, 1))["id"]
        await payment(portal, 2)  # another order's: not told
        assert await portal.ok("sale.order.delete", {"id": 1}) is True
        received = await deliveries(portal, receiver, 5)
        got = sorted((r["event"], r["data"]["FIELDS"]["ID"]) for r in received)
        assert got == sorted([
            ("ONSALEBEFOREORDERDELETE", "1"), ("ONORDERDELETED", "1"),
            ("ONPAYMENTDELETED", str(payments[0])), ("ONPAYMENTDELETED", str(payments[1])),
            ("ONSHIPMENTDELETED", str(shipped)),
        ])  # fmt: skip
        found = await portal.store.default_portal()
        queued = [d.event for d in reversed(await portal.store.deliveries(found.id, 10))]
        assert queued == ["ONSALEBEFOREORDERDELETE", "ONPAYMENTDELETED", "ONPAYMENTDELETED",
                          "ONSHIPMENTDELETED", "ONORDERDELETED"]  # fmt: skip


# sale-pay-system-list.md's keys, in its order
PAY_SYSTEM_KEYS = [
    "NAME", "PSA_NAME", "DESCRIPTION", "ACTION_FILE", "RESULT_FILE", "NEW_WINDOW", "PS_MODE",
    "HAVE_PAYMENT", "HAVE_ACTION", "HAVE_RESULT", "HAVE_PREPAY", "HAVE_PRICE",
    "HAVE_RESULT_RECEIVE", "ENCODING", "ACTIVE", "ALLOW_EDIT_PAYMENT", "IS_CASH",
    "AUTO_CHANGE_1C", "CAN_PRINT_CHECK", "ENTITY_REGISTRY_TYPE", "XML_ID", "ID",
    "PERSON_TYPE_ID", "SORT", "TARIFF",
    ]  # fmt: skip


class TestReferenceLists:
    """sale-pay-system-list.md, sale-delivery-get-list.md: bare arrays of UPPER_SNAKE objects."""

    async def test_pay_systems_answer_the_documented_keys(self, portal: Portal) -> None:
        response = await portal.call("sale.paysystem.list", {})
        body = response.json()
        assert set(body) == {"result", "time"}
        assert [list(p) for p in body["result"]] == [PAY_SYSTEM_KEYS] * 3
        assert [p["ID"] for p in body["result"]] == [1, 2, 3]

    async def test_every_pay_system_id_is_one_a_payment_may_name(self, portal: Portal) -> None:
        await portal.add_order(1)
        for system in await portal.ok("sale.paysystem.list", {}):
            paid = await payment(portal, 1, paySystemId=system["ID"])
            assert paid["paySystemName"] == system["NAME"]
            assert paid["paySystemIsCash"] == system["IS_CASH"]

    async def test_select_filter_order(self, portal: Portal) -> None:
        """The pages' parameters are UPPER (SELECT, FILTER, ORDER); any case is read."""
        result = await portal.ok("sale.paysystem.list", {
            "SELECT": ["ID", "NAME"], "FILTER": {"IS_CASH": "N"}, "ORDER": {"ID": "DESC"}})  # fmt: skip
        assert result == [{"NAME": "Card Payment", "ID": 3},
                          {"NAME": "Bank Transfer (Company)", "ID": 1}]  # fmt: skip
        result = await portal.ok("sale.delivery.getlist", {
            "select": ["ID"], "filter": {"%NAME": "deliv", ">ID": 1}})  # fmt: skip
        assert result == [{"ID": 2}]

    async def test_the_sdk_look_ups(self, portal: Portal) -> None:
        """b24phpsdk's integration tests find their ids with these calls (lower-case names,
        `sale.delivery.getList`) and read `result[0]["ID"]`."""
        systems = await portal.ok("sale.paysystem.list", {
            "select": ["id"], "filter": {"active": "Y"}, "order": {"id": "ASC"}})  # fmt: skip
        assert systems == [{"ID": 1}, {"ID": 2}, {"ID": 3}]
        services = await portal.ok("sale.delivery.getList", {
            "filter": {"ACTIVE": "Y"}, "select": ["ID"], "order": {"SORT": "ASC"}})  # fmt: skip
        assert services == [{"ID": 1}, {"ID": 2}, {"ID": 3}]

    async def test_delivery_services_answer_the_documented_keys(self, portal: Portal) -> None:
        result = await portal.ok("sale.delivery.getlist", {})
        assert [list(d) for d in result] == [
            ["NAME", "ACTIVE", "DESCRIPTION", "CURRENCY", "ID", "PARENT_ID", "SORT"]
        ] * 3
        await portal.add_order(1)
        for service in result:
            shipped = await shipment(portal, 1, deliveryId=service["ID"])
            assert shipped["deliveryName"] == service["NAME"]

    async def test_refusals(self, portal: Portal) -> None:
        """Inferred: an unknown field or a bad direction is the pages' ERROR_CHECK_FAILURE."""
        for params in ({"FILTER": {"COLOUR": 1}}, {"ORDER": {"ID": "up"}}, {"SELECT": ["X"]},
                       {"FILTER": "ID"}):  # fmt: skip
            body = await error_of(portal, "sale.delivery.getlist", params)
            assert body["error"] == "ERROR_CHECK_FAILURE"
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        response = await portal.call("sale.paysystem.list", {}, hook=hook)
        assert response.status_code == 403
        assert response.json() == {"error": "ACCESS_DENIED", "error_description": "Access denied!"}
