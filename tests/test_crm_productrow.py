"""crm.item.productrow.* and the legacy crm.deal.productrows.get/set over the wire.

Pages: api-reference/crm/universal/product-rows/crm-item-productrow-{add,update,get,list,delete,
set,fields}.md, api-reference/crm/deals/crm-deal-productrows-{get,set}.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Portal, error_of, legacy
from .oauth_apps import register, tokens
from .receiver import Receiver

pytestmark = pytest.mark.anyio

# crm-item-productrow-add.md, cURL (Webhook), for a deal of ours instead of 13142.
ADD_FIELDS: dict[str, Any] = {
    "ownerType": "D", "productId": 9621, "price": 80000, "quantity": 2, "discountTypeId": 2,
    "discountRate": 20, "taxRate": 20, "taxIncluded": "Y", "measureCode": 796, "sort": 10,
}  # fmt: skip

# The page's answer without `id`/`ownerId` (ours) and `productName`/`type`/`xmlId`, which come
# from its catalog product ("iphone 14", a trade offer, type 4): there is no catalog here.
ADD_ANSWER: dict[str, Any] = {
    "ownerType": "D", "productId": 9621, "price": 80000, "priceAccount": 80000,
    "priceExclusive": 66666.67, "priceNetto": 83333.34, "priceBrutto": 100000.01, "quantity": 2,
    "discountTypeId": 2, "discountRate": 20, "discountSum": 16666.67, "taxRate": 20,
    "taxIncluded": "Y", "customized": "Y", "measureCode": 796, "measureName": "pcs", "sort": 10,
}  # fmt: skip


async def add_row(portal: Portal, owner_id: int, **fields: Any) -> dict[str, Any]:
    given = {"ownerType": "D", "ownerId": owner_id, "productName": "Row", "price": 10, **fields}
    result = await portal.ok("crm.item.productrow.add", {"fields": given})
    row: dict[str, Any] = result["productRow"]
    return row


async def deal(portal: Portal, deal_id: int) -> dict[str, Any]:
    result: dict[str, Any] = await portal.ok("crm.deal.get", {"id": deal_id})
    return result


def error(code: str, text: str) -> dict[str, str]:
    return {"error": code, "error_description": text}


OWNER_NOT_FOUND = error("OWNER_NOT_FOUND", "Owner was not found")  # crm-item-productrow-add.md
ROW_NOT_FOUND = error("NOT_FOUND", "Item not found")  # crm-item-productrow-get.md


class TestAdd:
    """crm-item-productrow-add.md."""

    async def test_the_documented_example_answers_the_documented_prices(
        self, portal: Portal
    ) -> None:
        deal_id = await portal.add_deal()
        fields = {**ADD_FIELDS, "ownerId": deal_id}
        result = await portal.ok("crm.item.productrow.add", {"fields": fields})
        row = result["productRow"]
        assert list(result) == ["productRow"]
        assert {k: row[k] for k in ADD_ANSWER} == ADD_ANSWER
        assert row["ownerId"] == deal_id
        assert isinstance(row["id"], int)
        # add/update/set print no `storeId` (their examples have none); get and list do.
        assert set(row) == set(ADD_ANSWER) | {"id", "ownerId", "productName", "xmlId", "type"}

    async def test_a_row_not_given_takes_the_documented_defaults(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        row = await add_row(portal, deal_id)
        assert (row["quantity"], row["discountTypeId"], row["taxIncluded"]) == (1, 2, "N")
        assert (row["taxRate"], row["discountRate"], row["discountSum"]) == (None, 0, 0)
        assert (row["productId"], row["measureCode"], row["measureName"]) == (0, 0, "")

    async def test_the_deals_amount_follows_its_rows(self, portal: Portal) -> None:
        """crm-deal-add.md: the amount is calculated unless IS_MANUAL_OPPORTUNITY is Y; the sum
        is price x quantity, the tax the part of it over the price without tax (inferred)."""
        deal_id = await portal.add_deal()
        await portal.ok("crm.item.productrow.add", {"fields": {**ADD_FIELDS, "ownerId": deal_id}})
        await add_row(portal, deal_id, price=99.99, quantity=3)
        got = await deal(portal, deal_id)
        assert (got["OPPORTUNITY"], got["TAX_VALUE"]) == ("160299.97", "26666.66")

    async def test_a_manual_amount_stays_as_it_is(self, portal: Portal) -> None:
        deal_id = await portal.add_deal(opportunity=5.0, is_manual_opportunity="Y")
        await add_row(portal, deal_id, price=100)
        assert (await deal(portal, deal_id))["OPPORTUNITY"] == "5.00"

    async def test_a_smart_invoice_owns_rows_with_si(self, portal: Portal) -> None:
        invoice_id = await portal.add_invoice()
        row = await add_row(portal, invoice_id, ownerType="SI", price=25, quantity=4)
        assert (row["ownerType"], row["ownerId"]) == ("SI", invoice_id)
        item = await portal.ok("crm.item.get", {"entityTypeId": 31, "id": invoice_id})
        assert item["item"]["opportunity"] == 100

    async def test_an_owner_that_does_not_exist_is_refused(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.item.productrow.add",
                              {"fields": {"ownerType": "D", "ownerId": 999, "price": 1}})  # fmt: skip
        assert body == OWNER_NOT_FOUND
        body = await error_of(portal, "crm.item.productrow.add", {"fields": {"ownerType": "D"}})
        assert body == OWNER_NOT_FOUND

    async def test_owner_types_this_server_holds_nothing_of(self, portal: Portal) -> None:
        """index.md: old invoices ("I") are not supported; leads, contacts, companies and quotes
        exist on a portal, but none exists here (inferred: OWNER_NOT_FOUND)."""
        params: dict[str, Any] = {"fields": {"ownerType": "I", "ownerId": 1}}
        body = await error_of(portal, "crm.item.productrow.add", params)
        assert body["error"] == "ENTITY_TYPE_NOT_SUPPORTED"
        params = {"fields": {"ownerType": "L", "ownerId": 1}}
        assert await error_of(portal, "crm.item.productrow.add", params) == OWNER_NOT_FOUND

    async def test_without_fields_the_binder_answers_100(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.item.productrow.add", {})
        assert body == error("100", "Could not find value for parameter {fields}")

    async def test_a_value_its_field_cannot_hold_writes_nothing(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        params = {"fields": {"ownerType": "D", "ownerId": deal_id, "price": "lots"}}
        body = await error_of(portal, "crm.item.productrow.add", params)
        assert body["error"] == "CRM_FIELD_ERROR_VALUE_NOT_VALID"
        listed = await portal.ok("crm.item.productrow.list",
                                 {"filter": {"=ownerType": "D", "=ownerId": deal_id}})  # fmt: skip
        assert listed == {"productRows": []}

    @pytest.mark.parametrize(
        ("fields", "name"),
        [({"taxRate": -100}, "taxRate"), ({"price": 1e300, "quantity": 1e300}, "price"),
         ({"quantity": -1e15}, "quantity")],
    )  # fmt: skip
    async def test_a_number_no_row_can_hold_is_refused(
        self, portal: Portal, fields: dict[str, Any], name: str
    ) -> None:
        """A portal stores these as decimal(18, 2): past 1e15 nothing fits, and no price is
        left without a tax of -100% (inferred; crm.item's error for a value a field cannot
        hold)."""
        deal_id = await portal.add_deal()
        params = {"fields": {"ownerType": "D", "ownerId": deal_id, **fields}}
        body = await error_of(portal, "crm.item.productrow.add", params)
        assert body == error("CRM_FIELD_ERROR_VALUE_NOT_VALID", f'Invalid value for field "{name}"')
        rows = [{"PRICE": 1, "TAX_RATE": -250}]
        body = await error_of(portal, "crm.deal.productrows.set", {"id": deal_id, "rows": rows})
        assert body == legacy('Invalid value for the "Tax" field')


class TestUpdate:
    """crm-item-productrow-update.md."""

    async def test_the_documented_example_answers_the_documented_prices(
        self, portal: Portal
    ) -> None:
        deal_id = await portal.add_deal()
        row = await add_row(portal, deal_id)
        fields = {"productId": 9621, "price": 90000, "quantity": 3, "discountTypeId": 2,
                  "discountRate": 10, "taxRate": 10, "taxIncluded": "Y", "measureCode": 796,
                  "sort": 20}  # fmt: skip
        result = await portal.ok("crm.item.productrow.update", {"id": row["id"], "fields": fields})
        got = result["productRow"]
        assert {k: got[k] for k in ("price", "priceAccount", "priceExclusive", "priceNetto",
                                    "priceBrutto", "quantity", "discountSum", "sort")} == {
            "price": 90000, "priceAccount": 90000, "priceExclusive": 81818.18,
            "priceNetto": 90909.09, "priceBrutto": 100000, "quantity": 3, "discountSum": 9090.91,
            "sort": 20,
        }  # fmt: skip
        assert got["productName"] == "Row"  # what the request leaves out stays
        assert (await deal(portal, deal_id))["OPPORTUNITY"] == "270000.00"

    async def test_a_row_that_does_not_exist(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.item.productrow.update",
                              {"id": 404, "fields": {"price": 1}})  # fmt: skip
        assert body == ROW_NOT_FOUND

    async def test_the_owner_cannot_be_changed(self, portal: Portal) -> None:
        """The page's INVALID_ARG_VALUE: a field "not available for update" (our text)."""
        deal_id = await portal.add_deal()
        row = await add_row(portal, deal_id)
        params = {"id": row["id"], "fields": {"ownerId": 2}}
        body = await error_of(portal, "crm.item.productrow.update", params)
        assert body["error"] == "INVALID_ARG_VALUE"
        body = await error_of(portal, "crm.item.productrow.update",
                              {"id": row["id"], "fields": {"priceNetto": 2}})  # fmt: skip
        assert body["error"] == "INVALID_ARG_VALUE"


class TestGet:
    """crm-item-productrow-get.md."""

    async def test_answers_the_row_with_its_store(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        added = await add_row(portal, deal_id, price=79999, quantity=11, taxIncluded="Y")
        result = await portal.ok("crm.item.productrow.get", {"id": added["id"]})
        assert list(result) == ["productRow"]
        got = result["productRow"]
        assert list(got) == [*added, "storeId"]
        assert {**added, "storeId": 0} == got
        assert (got["priceExclusive"], got["priceNetto"], got["priceBrutto"]) == (79999,) * 3

    async def test_a_row_that_does_not_exist(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.item.productrow.get", {"id": 17622}) == ROW_NOT_FOUND
        assert await error_of(portal, "crm.item.productrow.get", {"id": "x"}) == ROW_NOT_FOUND


class TestList:
    """crm-item-productrow-list.md."""

    async def test_the_documented_example_filters_and_orders(self, portal: Portal) -> None:
        deal_id, other = await portal.add_deal(), await portal.add_deal()
        cheap = await add_row(portal, deal_id, price=100)
        dear = await add_row(portal, deal_id, price=90000, quantity=3)
        mid = await add_row(portal, deal_id, price=5550)
        await add_row(portal, other, price=7000)
        params = {"filter": {"=ownerType": "D", "=ownerId": deal_id, ">price": 5000},
                  "order": {"price": "desc"}}  # fmt: skip
        response = await portal.call("crm.item.productrow.list", params)
        body = response.json()
        assert [r["id"] for r in body["result"]["productRows"]] == [dear["id"], mid["id"]]
        assert body["total"] == 2
        assert body["result"]["productRows"][0]["storeId"] == 0
        assert cheap["id"] not in [r["id"] for r in body["result"]["productRows"]]

    async def test_the_owner_keys_must_be_given(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.item.productrow.list", {})
        assert body["error"] == "100"
        body = await error_of(portal, "crm.item.productrow.list", {"filter": {"=ownerType": "D"}})
        assert body["error"] == "INVALID_ARG_VALUE"

    async def test_select_picks_the_fields(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        row = await add_row(portal, deal_id)
        params = {"filter": {"=ownerType": "D", "=ownerId": deal_id}, "select": ["id", "price"]}
        listed = await portal.ok("crm.item.productrow.list", params)
        assert listed == {"productRows": [{"id": row["id"], "price": 10}]}


class TestDelete:
    """crm-item-productrow-delete.md."""

    async def test_answers_null_and_the_amount_follows(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        first = await add_row(portal, deal_id, price=10)
        await add_row(portal, deal_id, price=5)
        assert await portal.ok("crm.item.productrow.delete", {"id": first["id"]}) is None
        assert (await deal(portal, deal_id))["OPPORTUNITY"] == "5.00"
        body = await error_of(portal, "crm.item.productrow.delete", {"id": first["id"]})
        assert body == ROW_NOT_FOUND


class TestSet:
    """crm-item-productrow-set.md."""

    async def test_the_documented_example_replaces_every_row(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        old = await add_row(portal, deal_id)
        params = {"ownerType": "D", "ownerId": deal_id, "productRows": [
            {"productId": 9621, "price": 99999.99, "quantity": 1, "sort": 10},
            {"productId": 9623, "price": 15900, "quantity": 2, "sort": 10},
        ]}  # fmt: skip
        result = await portal.ok("crm.item.productrow.set", params)
        rows = result["productRows"]
        assert [(r["productId"], r["price"], r["quantity"]) for r in rows] == [
            (9621, 99999.99, 1), (9623, 15900, 2)
        ]  # fmt: skip
        first = rows[0]
        assert (first["priceNetto"], first["taxRate"], first["taxIncluded"]) == (
            99999.99,
            None,
            "N",
        )
        assert "storeId" not in first
        assert old["id"] not in [r["id"] for r in rows]
        assert (await deal(portal, deal_id))["OPPORTUNITY"] == "131799.99"

    async def test_an_empty_set_leaves_no_rows_and_no_amount(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        await add_row(portal, deal_id, price=10)
        params = {"ownerType": "D", "ownerId": deal_id, "productRows": []}
        assert await portal.ok("crm.item.productrow.set", params) == {"productRows": []}
        assert (await deal(portal, deal_id))["OPPORTUNITY"] == "0.00"

    async def test_an_owner_that_does_not_exist_is_refused(self, portal: Portal) -> None:
        params = {"ownerType": "D", "ownerId": 13143, "productRows": [{"price": 1}]}
        assert await error_of(portal, "crm.item.productrow.set", params) == OWNER_NOT_FOUND

    async def test_required_parameters(self, portal: Portal) -> None:
        body = await error_of(portal, "crm.item.productrow.set", {"ownerType": "D", "ownerId": 1})
        assert body == error("100", "Could not find value for parameter {productRows}")


# crm-item-productrow-fields.md's answer, verbatim.
FIELDS_ANSWER = {
    name: {"type": type_, "isRequired": required, "isReadOnly": read_only,
           "isImmutable": immutable, "isMultiple": False, "isDynamic": False, "title": title}
    for name, type_, required, read_only, immutable, title in (
        ("id", "integer", False, True, False, "ID"),
        ("ownerId", "integer", True, False, True, "Owner ID"),
        ("ownerType", "string", True, False, True, "Owner Type"),
        ("productId", "integer", True, False, False, "Product"),
        ("productName", "string", False, False, False, "Product Name"),
        ("price", "double", False, False, False, "Price"),
        ("priceExclusive", "double", False, True, False, "Discounted price excluding tax"),
        ("priceNetto", "double", False, True, False, "PRICE_NETTO"),
        ("priceBrutto", "double", False, True, False, "PRICE_BRUTTO"),
        ("quantity", "double", False, False, False, "Quantity"),
        ("discountTypeId", "integer", False, False, False, "Discount Type"),
        ("discountRate", "double", False, False, False, "Discount Amount"),
        ("discountSum", "double", False, False, False, "Discount Total"),
        ("taxRate", "double", False, False, False, "Tax"),
        ("taxIncluded", "char", False, False, False, "Tax included in price"),
        ("customized", "char", False, False, False, "Modified"),
        ("measureCode", "integer", False, False, False, "Unit of Measure Code"),
        ("measureName", "string", False, False, False, "Unit of Measure"),
        ("sort", "integer", False, False, False, "Sorting"),
        ("type", "integer", False, True, False, "TYPE"),
        ("storeId", "integer", False, True, False, "STORE_ID"),
    )
}  # fmt: skip


# crm-item-productrow-get-available-for-payment.md's rows, key by key (no `storeId`).
AVAILABLE_KEYS = [
    "id", "ownerId", "ownerType", "productId", "productName", "price", "priceAccount",
    "priceExclusive", "priceNetto", "priceBrutto", "quantity", "discountTypeId", "discountRate",
    "discountSum", "taxRate", "taxIncluded", "customized", "measureCode", "measureName", "sort",
    "xmlId", "type",
]  # fmt: skip


class TestAvailableForPayment:
    """crm-item-productrow-get-available-for-payment.md: the rows not yet billed to the
    customer; no payment of a deal or invoice is kept here, so that is every row."""

    async def test_the_example_answers_the_owner_s_rows(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        await add_row(portal, deal_id, productName="iphone 10xs", price=5550, quantity=3, sort=20)
        await add_row(portal, deal_id, productName="iphone 14", price=79999, quantity=3, sort=10)
        other = await portal.add_deal()
        await add_row(portal, other, productName="other")
        result = await portal.ok("crm.item.productrow.getAvailableForPayment",
                                 {"ownerType": "D", "ownerId": deal_id})  # fmt: skip
        rows = result["productRows"]
        assert list(result) == ["productRows"]
        assert [r["productName"] for r in rows] == ["iphone 14", "iphone 10xs"]
        assert all(list(r) == AVAILABLE_KEYS for r in rows)
        assert (rows[0]["price"], rows[0]["priceBrutto"], rows[0]["ownerType"]) == (
            79999, 79999, "D")  # fmt: skip

    async def test_a_smart_invoice_and_an_owner_without_rows(self, portal: Portal) -> None:
        invoice = await portal.add_invoice()
        result = await portal.ok("crm.item.productrow.getAvailableForPayment",
                                 {"ownerType": "SI", "ownerId": invoice})  # fmt: skip
        assert result == {"productRows": []}

    async def test_errors(self, portal: Portal) -> None:
        """The page's codes: 100 for a missing parameter, ACCESS_DENIED "Access denied" (its one
        example) for an owner the caller cannot read, here one that does not exist."""
        method = "crm.item.productrow.getAvailableForPayment"
        assert await error_of(portal, method, {"ownerType": "D"}) == error(
            "100", "Could not find value for parameter {ownerId}"
        )
        assert await error_of(portal, method, {"ownerId": 1}) == error(
            "100", "Could not find value for parameter {ownerType}"
        )
        assert await error_of(portal, method, {"ownerType": "D", "ownerId": 404}) == error(
            "ACCESS_DENIED", "Access denied"
        )
        assert (await error_of(portal, method, {"ownerType": "I", "ownerId": 1}))["error"] == (
            "ENTITY_TYPE_NOT_SUPPORTED")  # fmt: skip


class TestFields:
    """crm-item-productrow-fields.md."""

    async def test_answers_the_documented_fields_in_order(self, portal: Portal) -> None:
        result = await portal.ok("crm.item.productrow.fields")
        assert result == {"fields": FIELDS_ANSWER}
        assert list(result["fields"]) == list(FIELDS_ANSWER)


class TestOwnerDeleted:
    """Rows belong to their owner: deleting it deletes them (index.md, "Relationship")."""

    async def test_deleting_a_deal_deletes_its_rows(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        row = await add_row(portal, deal_id)
        assert await portal.ok("crm.deal.delete", {"id": deal_id}) is True
        assert await error_of(portal, "crm.item.productrow.get", {"id": row["id"]}) == ROW_NOT_FOUND

    async def test_deleting_a_smart_invoice_deletes_its_rows(self, portal: Portal) -> None:
        invoice_id = await portal.add_invoice()
        row = await add_row(portal, invoice_id, ownerType="SI")
        await portal.ok("crm.item.delete", {"entityTypeId": 31, "id": invoice_id})
        assert await error_of(portal, "crm.item.productrow.get", {"id": row["id"]}) == ROW_NOT_FOUND


# crm-deal-productrows-set.md, cURL (Webhook), for a deal of ours instead of 5.
LEGACY_ROWS: list[dict[str, Any]] = [
    {"PRODUCT_ID": 456, "PRICE": 1000, "QUANTITY": 10, "DISCOUNT_TYPE_ID": 1, "DISCOUNT_SUM": 100,
     "TAX_RATE": 13, "MEASURE_CODE": 796, "MEASURE_NAME": "pcs", "SORT": 10},
    {"PRODUCT_NAME": "Product #2", "PRICE": 500, "QUANTITY": 5, "DISCOUNT_TYPE_ID": 2,
     "DISCOUNT_RATE": 10, "TAX_RATE": 10, "MEASURE_CODE": 166, "MEASURE_NAME": "kg", "SORT": 20},
]  # fmt: skip

# crm-deal-productrows-get.md's keys, in its order.
LEGACY_KEYS = [
    "ID", "OWNER_ID", "OWNER_TYPE", "PRODUCT_ID", "PRODUCT_NAME", "ORIGINAL_PRODUCT_NAME",
    "PRODUCT_DESCRIPTION", "PRICE", "PRICE_EXCLUSIVE", "PRICE_NETTO", "PRICE_BRUTTO",
    "PRICE_ACCOUNT", "QUANTITY", "DISCOUNT_TYPE_ID", "DISCOUNT_RATE", "DISCOUNT_SUM", "TAX_RATE",
    "TAX_INCLUDED", "CUSTOMIZED", "MEASURE_CODE", "MEASURE_NAME", "SORT", "XML_ID", "TYPE",
    "STORE_ID", "RESERVE_ID", "DATE_RESERVE_END", "RESERVE_QUANTITY",
]  # fmt: skip


class TestLegacy:
    """crm-deal-productrows-get.md, crm-deal-productrows-set.md."""

    async def test_the_documented_set_answers_true_and_get_reads_the_rows(
        self, portal: Portal
    ) -> None:
        deal_id = await portal.add_deal()
        assert await portal.ok("crm.deal.productrows.set", {"id": deal_id, "rows": LEGACY_ROWS})
        rows = await portal.ok("crm.deal.productrows.get", {"id": deal_id})
        assert [list(r) for r in rows] == [LEGACY_KEYS, LEGACY_KEYS]
        first, second = rows
        assert (first["OWNER_ID"], first["OWNER_TYPE"], first["PRODUCT_ID"]) == (
            str(deal_id), "D", 456
        )  # fmt: skip
        assert isinstance(first["ID"], str)
        assert first["PRICE_ACCOUNT"] == "1000.00"
        assert (first["DISCOUNT_SUM"], first["PRICE_EXCLUSIVE"], first["PRICE_NETTO"]) == (
            100, 884.96, 984.96
        )  # fmt: skip
        assert (second["PRODUCT_NAME"], second["MEASURE_NAME"], second["SORT"]) == (
            "Product #2", "kg", 20
        )  # fmt: skip
        assert (await deal(portal, deal_id))["OPPORTUNITY"] == "12500.00"

    async def test_the_same_rows_as_crm_item_productrow(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        row = await add_row(portal, deal_id, price=899.1, discountRate=10)
        (legacy_row,) = await portal.ok("crm.deal.productrows.get", {"id": deal_id})
        assert legacy_row["ID"] == str(row["id"])
        assert (legacy_row["PRICE_NETTO"], legacy_row["DISCOUNT_SUM"]) == (999, 99.9)
        assert legacy_row["RESERVE_ID"] is None
        assert legacy_row["PRODUCT_DESCRIPTION"] is None

    async def test_set_without_rows_clears_them(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        await add_row(portal, deal_id)
        assert await portal.ok("crm.deal.productrows.set", {"id": deal_id}) is True
        assert await portal.ok("crm.deal.productrows.get", {"id": deal_id}) == []

    async def test_the_documented_errors(self, portal: Portal) -> None:
        bad_id = legacy("The parameter id is invalid or not defined.")
        assert await error_of(portal, "crm.deal.productrows.get", {}) == bad_id
        assert await error_of(portal, "crm.deal.productrows.set", {"id": "x"}) == bad_id
        assert await error_of(portal, "crm.deal.productrows.get", {"id": 77}) == legacy("Not found")
        body = await error_of(portal, "crm.deal.productrows.set", {"id": 77, "rows": []})
        assert body == legacy("Not found")

    async def test_a_discount_type_without_its_value_is_refused(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        rows = [{"PRICE": 1, "DISCOUNT_TYPE_ID": 2, "DISCOUNT_RATE": 100}]
        body = await error_of(portal, "crm.deal.productrows.set", {"id": deal_id, "rows": rows})
        # The page's example, verbatim.
        assert body == error("ERROR_CORE", "Discount Sum (DISCOUNT_SUM) is required if Percentage "
                             "Discount Type (DISCOUNT_TYPE_ID) is defined and Discount Rate "
                             "(DISCOUNT_RATE) is 100%<br>")  # fmt: skip
        rows = [{"PRICE": 1, "DISCOUNT_TYPE_ID": 1}]
        body = await error_of(portal, "crm.deal.productrows.set", {"id": deal_id, "rows": rows})
        assert body["error"] == "ERROR_CORE"
        assert "Monetary" in body["error_description"]
        assert await portal.ok("crm.deal.productrows.get", {"id": deal_id}) == []

    async def test_form_encoded_rows_are_read(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        form = f"id={deal_id}&rows[0][PRODUCT_NAME]=A&rows[0][PRICE]=2&rows[0][QUANTITY]=3"
        assert await portal.ok("crm.deal.productrows.set", form=form) is True
        (row,) = await portal.ok("crm.deal.productrows.get", {"id": deal_id})
        assert (row["PRODUCT_NAME"], row["PRICE"], row["QUANTITY"]) == ("A", 2, 3)


class TestEvents:
    """No product-row event is documented. An earlier product-rows/index.md says a change of
    rows runs what a change of the owner runs, its amount recalculated: so a write that moves
    the owner's amount raises the owner's update event, and one that does not raises none
    (inferred)."""

    async def bind(self, portal: Portal, receiver: Receiver, event: str) -> None:
        token = (await tokens(portal, await register(portal)))["access_token"]
        response = await portal.client.post("/rest/event.bind", json={
            "auth": token, "event": event, "handler": receiver.url()})  # fmt: skip
        assert response.status_code == 200, response.text

    async def queued(self, portal: Portal) -> list[tuple[str, Any]]:
        return [(d.event, d.data) for d in await portal.store.deliveries(None, 10)]

    async def test_a_row_that_moves_the_amount_raises_the_deal_update(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        await self.bind(portal, receiver, "ONCRMDEALUPDATE")
        deal_id = await portal.add_deal()
        row = await add_row(portal, deal_id, price=10)
        assert await self.queued(portal) == [("ONCRMDEALUPDATE", {"FIELDS": {"ID": str(deal_id)}})]
        # The same amount again (a new name only): the deal does not change, nothing is raised.
        await portal.ok(
            "crm.item.productrow.update", {"id": row["id"], "fields": {"productName": "B"}}
        )
        assert len(await self.queued(portal)) == 1

    async def test_a_manual_amount_raises_nothing(self, portal: Portal, receiver: Receiver) -> None:
        await self.bind(portal, receiver, "ONCRMDEALUPDATE")
        deal_id = await portal.add_deal(is_manual_opportunity="Y")
        await portal.ok("crm.deal.productrows.set", {"id": deal_id, "rows": [{"PRICE": 3}]})
        assert await self.queued(portal) == []

    async def test_a_smart_invoice_raises_the_dynamic_item_update(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        await self.bind(portal, receiver, "ONCRMDYNAMICITEMUPDATE")
        invoice_id = await portal.add_invoice()
        await add_row(portal, invoice_id, ownerType="SI", price=10)
        fields = {"ID": str(invoice_id), "ENTITY_TYPE_ID": "31"}
        assert await self.queued(portal) == [("ONCRMDYNAMICITEMUPDATE", {"FIELDS": fields})]


class TestBatch:
    """Rows and their owner are written in one transaction, inside a batch too."""

    async def test_rows_added_in_a_batch_move_the_amount(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        add = f"crm.item.productrow.add?fields[ownerType]=D&fields[ownerId]={deal_id}"
        result = await portal.ok("batch", {"halt": 1, "cmd": {
            "a": add + "&fields[price]=2", "b": add + "&fields[price]=3",
            "c": "crm.item.productrow.get?id=$result[a][productRow][id]",
        }})  # fmt: skip
        assert result["result"]["c"]["productRow"]["price"] == 2
        assert (await deal(portal, deal_id))["OPPORTUNITY"] == "5.00"
