"""sale.order.*, sale.persontype.list and crm.currency.list over the wire, as their pages print them.

Pages: api-reference/sale/order/*.md, api-reference/sale/person-type/sale-person-type-list.md,
api-reference/crm/currency/crm-currency-list.md. The sale pages print digit error codes as JSON
numbers.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.clock import FrozenClock
from orderlink.registry import Role
from orderlink.settings import Settings

from .conftest import Portal, error_of

pytestmark = pytest.mark.anyio

NOW = "2024-06-25T13:43:26+02:00"  # the frozen clock in the portal zone


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A portal two hours east of UTC, as the docs' examples are."""
    return Settings(database=database_url, rate_limit=False, timezone="+02:00")


# sale-order-add.md, cURL (Webhook)
ADD_EXAMPLE: dict[str, Any] = {"fields": {
    "lid": "s1", "personTypeId": 1, "currency": "USD", "price": 100, "discountValue": 10,
    "statusId": "N", "empStatusId": 1, "dateInsert": "2024-03-01T14:00:00", "marked": "Y",
    "empMarkedId": 1, "reasonMarked": "", "userDescription": "", "additionalInfo": "",
    "comments": "", "companyId": 1, "responsibleId": 1, "recurringId": 1, "lockedBy": 1,
    "recountFlag": "N", "affiliateId": 1, "updated1c": "N", "orderTopic": "", "xmlId": "",
    "id1c": "", "version1c": "", "externalOrder": "N", "canceled": "Y", "empCanceledId": 1,
    "reasonCanceled": "", "userId": 1,
}}  # fmt: skip

# sale-order-add.md's answer (values verbatim)
ADD_ANSWER: dict[str, Any] = {
    "accountNumber": "455", "additionalInfo": "", "affiliateId": 1, "canceled": "Y",
    "clients": [], "comments": "", "companyId": 1, "currency": "USD",
    "dateCanceled": "2024-04-12T13:50:21+02:00", "dateInsert": "2024-03-01T13:00:00+02:00",
    "dateMarked": "2024-04-12T13:50:21+02:00", "dateStatus": "2024-04-12T13:50:21+02:00",
    "dateUpdate": "2024-04-12T13:50:21+02:00", "deducted": "N", "discountValue": 10,
    "empCanceledId": 1, "empMarkedId": 1, "empStatusId": 1, "externalOrder": "N", "id": 299,
    "id1c": "", "lid": "s1", "lockedBy": "1", "marked": "Y", "orderTopic": "", "payed": "N",
    "personTypeId": 1, "personTypeXmlId": "", "price": 100, "reasonCanceled": "",
    "reasonMarked": "", "recountFlag": "N", "recurringId": "1", "requisiteLink": [],
    "responsibleId": 1, "statusId": "N", "statusXmlId": "", "updated1c": "N",
    "userDescription": "", "userId": 1, "version1c": "", "xmlId": "",
}  # fmt: skip

# sale-order-get-fields.md: (field, type, isRequired, isReadOnly, isImmutable), in its order.
FIELDS_TABLE = [
    ("accountNumber", "string", False, True, False), ("additionalInfo", "string", False, False, False),
    ("affiliateId", "integer", False, False, False), ("canceled", "char", False, False, False),
    ("comments", "string", False, False, False), ("companyId", "integer", False, False, False),
    ("currency", "string", True, False, True), ("dateCanceled", "datetime", False, True, False),
    ("dateInsert", "datetime", False, False, False), ("dateLock", "datetime", False, True, False),
    ("dateMarked", "datetime", False, True, False), ("dateStatus", "datetime", False, True, False),
    ("dateUpdate", "datetime", False, True, False), ("deducted", "char", False, True, False),
    ("discountValue", "double", False, False, False),
    ("empCanceledId", "integer", False, False, False),
    ("empMarkedId", "integer", False, False, False), ("empStatusId", "integer", False, False, False),
    ("externalOrder", "char", False, False, False), ("id", "integer", False, True, False),
    ("id1c", "string", False, False, False), ("lid", "string", True, False, True),
    ("lockedBy", "char", False, False, False), ("marked", "char", False, False, False),
    ("orderTopic", "string", False, False, False), ("payed", "char", False, True, False),
    ("personTypeId", "integer", True, False, True),
    ("personTypeXmlId", "string", False, True, False), ("price", "double", False, False, False),
    ("reasonCanceled", "string", False, False, False),
    ("reasonMarked", "string", False, False, False), ("recountFlag", "char", False, False, False),
    ("recurringId", "char", False, False, False), ("responsibleId", "integer", False, False, False),
    ("statusId", "char", False, False, False), ("statusXmlId", "string", False, True, False),
    ("taxValue", "double", False, True, False), ("updated1c", "char", False, False, False),
    ("userDescription", "string", False, False, False), ("userId", "integer", False, False, True),
    ("version", "integer", False, True, False), ("version1c", "string", False, False, False),
    ("xmlId", "string", False, False, False),
]  # fmt: skip
FIELD_NAMES = [row[0] for row in FIELDS_TABLE]
COLLECTIONS = ["basketItems", "clients", "payments", "propertyValues", "requisiteLink",
               "shipments", "tradeBindings"]  # fmt: skip

# The types the examples print for each kind of value (nullable ones may also be null).
JSON_TYPES = {"integer": int, "double": int | float, "string": str, "char": str, "datetime": str}


def assert_typed(order: dict[str, Any]) -> None:
    for name, type_, *_ in FIELDS_TABLE:
        if name in order and order[name] is not None:
            assert isinstance(order[name], JSON_TYPES[type_]), (name, order[name])
            assert not isinstance(order[name], bool), name


# sale-order-update.md, cURL (Webhook): the add example without the immutable fields
UPDATE_EXAMPLE: dict[str, Any] = {"id": 300, "fields": {
    k: v for k, v in ADD_EXAMPLE["fields"].items()
    if k not in ("lid", "personTypeId", "currency", "userId")
}}  # fmt: skip

# sale-order-list.md, cURL (Webhook)
LIST_EXAMPLE: dict[str, Any] = {
    "select": ["id", "lid", "dateInsert", "dateUpdate", "personTypeId", "personTypeXmlId",
               "statusId", "dateStatus", "empStatusId", "marked", "dateMarked", "empMarkedId",
               "reasonMarked", "price", "discountValue", "taxValue", "userDescription",
               "additionalInfo", "comments", "companyId", "responsibleId", "recurringId",
               "lockedBy", "dateLock", "recountFlag", "affiliateId", "updated1c",
               "orderTopic", "xmlId", "statusXmlId", "id1c", "version", "version1c",
               "externalOrder", "canceled", "dateCanceled", "empCanceledId",
               "reasonCanceled", "userId", "currency", "accountNumber", "payed", "deducted"],
    "filter": {"<id": 10, "@personTypeId": [3, 4], "payed": "N"},
    "order": {"id": "desc"},
}  # fmt: skip

# crm-currency-list.md's keys, in its order
CURRENCY_KEYS = ["CURRENCY", "AMOUNT_CNT", "AMOUNT", "SORT", "BASE", "FULL_NAME", "LID",
                 "FORMAT_STRING", "DEC_POINT", "THOUSANDS_SEP", "DECIMALS", "DATE_UPDATE"]  # fmt: skip


class TestAdd:
    """sale-order-add.md"""

    async def test_docs_example_answers_the_documented_shape(self, portal: Portal) -> None:
        response = await portal.call("sale.order.add", ADD_EXAMPLE)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"result", "time"}
        order = body["result"]["order"]
        # The add example lacks dateLock, taxValue and version, which update/get/list carry:
        # orderlink answers the update page's key set on add too.
        assert set(order) == set(ADD_ANSWER) | {"dateLock", "taxValue", "version"}
        assert list(order) == sorted(order)
        for key, documented in ADD_ANSWER.items():
            assert type(order[key]) is type(documented), key
        assert_typed(order)
        same = {k: v for k, v in ADD_ANSWER.items() if not k.startswith("date") and k != "id"}
        assert {k: order[k] for k in same} == {**same, "accountNumber": str(order["id"])}
        assert (order["version"], order["dateLock"], order["taxValue"]) == (1, None, None)

    async def test_dates_are_the_save_time_in_the_portal_zone(self, portal: Portal) -> None:
        order = (await portal.ok("sale.order.add", ADD_EXAMPLE))["order"]
        assert order["dateInsert"] == "2024-03-01T14:00:00+02:00"  # naive input: portal zone
        for key in ("dateStatus", "dateUpdate", "dateMarked", "dateCanceled"):
            assert order[key] == NOW, key

    async def test_defaults_for_a_minimal_order(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.STORE_ADMIN)
        response = await portal.call(
            "sale.order.add",
            {"fields": {"lid": "s1", "personTypeId": 2, "currency": "EUR"}},
            hook=hook,
        )
        order = response.json()["result"]["order"]
        caller = int(hook.split("/")[2])
        assert caller != 1
        assert order["userId"] == order["responsibleId"] == order["empStatusId"] == caller
        assert order["statusId"] == "N"
        assert order["recountFlag"] == "Y"  # the add table's default
        flags = ("canceled", "deducted", "externalOrder", "marked", "payed", "updated1c")
        assert {order[k] for k in flags} == {"N"}
        assert order["dateInsert"] == order["dateUpdate"] == order["dateStatus"] == NOW
        assert order["dateMarked"] is order["dateCanceled"] is order["dateLock"] is None
        assert order["empMarkedId"] is order["empCanceledId"] is order["companyId"] is None
        assert (order["price"], order["discountValue"], order["version"]) == (0, 0, 1)
        assert order["accountNumber"] == str(order["id"])
        assert order["lockedBy"] == order["recurringId"] == order["xmlId"] == ""

    async def test_form_encoded_fields(self, portal: Portal) -> None:
        order = (
            await portal.ok(
                "sale.order.add",
                form="fields[lid]=s1&fields[personTypeId]=1&fields[currency]=RUB"
                "&fields[price]=12.5&fields[marked]=Y",
            )
        )["order"]
        assert (order["personTypeId"], order["currency"], order["price"]) == (1, "RUB", 12.5)
        assert (order["marked"], order["dateMarked"]) == ("Y", NOW)

    async def test_read_only_fields_are_ignored(self, portal: Portal) -> None:
        order = (
            await portal.ok(
                "sale.order.add",
                {"fields": {"lid": "s1", "personTypeId": 1, "currency": "USD", "id": 777,
                            "version": 9, "payed": "Y", "accountNumber": "X-1"}},
            )
        )["order"]  # fmt: skip
        assert order["id"] != 777
        assert (order["version"], order["payed"]) == (1, "N")
        assert order["accountNumber"] == str(order["id"])

    @pytest.mark.parametrize("params", [{}, {"fields": {}}, {"fields": []}, {"fields": ""}])
    async def test_missing_fields_is_code_100(self, portal: Portal, params: Any) -> None:
        assert await error_of(portal, "sale.order.add", params) == {
            "error": 100,
            "error_description": "Parameter `fields` is not specified or is empty",
        }

    @pytest.mark.parametrize(
        ("fields", "missing"),
        [
            ({"price": 1}, "lid, personTypeId, currency"),
            ({"lid": "s1", "personTypeId": 1}, "currency"),
            ({"lid": "", "personTypeId": 1, "currency": "USD"}, "lid"),
        ],
    )
    async def test_required_fields_are_code_0(
        self, portal: Portal, fields: dict[str, Any], missing: str
    ) -> None:
        assert await error_of(portal, "sale.order.add", {"fields": fields}) == {
            "error": 0,
            "error_description": f"Required fields: {missing}",
        }

    @pytest.mark.parametrize(
        ("field", "value"),
        [("lid", "s2"), ("personTypeId", 3), ("currency", "XYZ"), ("price", "lots"),
         ("dateInsert", "yesterday"), ("marked", "maybe")],
    )  # fmt: skip
    async def test_values_the_portal_cannot_hold_are_code_0(
        self, portal: Portal, field: str, value: Any
    ) -> None:
        fields = {"lid": "s1", "personTypeId": 1, "currency": "USD", field: value}
        body = await error_of(portal, "sale.order.add", {"fields": fields})
        assert body["error"] == 0
        assert body["error_description"].startswith(f'Invalid value for field "{field}"')
        assert (await portal.call("sale.order.list", {})).json()["total"] == 0

    @pytest.mark.parametrize("value", [None, "", [], {"a": 1}])
    async def test_no_field_value_is_a_server_error(self, portal: Portal, value: Any) -> None:
        await portal.add_order(1)
        for name in FIELD_NAMES:
            fields = {"lid": "s1", "personTypeId": 1, "currency": "USD", name: value}
            added = await portal.call("sale.order.add", {"fields": fields})
            updated = await portal.call("sale.order.update", {"id": 1, "fields": {name: value}})
            for response in (added, updated):
                assert response.status_code in (200, 400), (name, response.text)
                assert response.json().get("error", 0) in (0, 100), name

    async def test_store_manager_may_not_add(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        assert await error_of(portal, "sale.order.add", ADD_EXAMPLE, hook=hook) == {
            "error": 200040300020,
            "error_description": "Access Denied",
        }


class TestGet:
    """sale-order-get.md"""

    async def test_docs_example_embeds_empty_collections(self, portal: Portal) -> None:
        # The page's tabs are swapped: the webhook form is the one with body {"id":6}.
        await portal.add_order(6, date_insert=1709220000, user_id=1, tax_value=163.33)
        response = await portal.call("sale.order.get", {"id": 6})
        assert response.status_code == 200
        order = response.json()["result"]["order"]
        assert list(order) == sorted(FIELD_NAMES + COLLECTIONS)
        assert {order[k] == [] for k in COLLECTIONS} == {True}
        assert_typed(order)
        assert (order["id"], order["taxValue"], order["dateInsert"]) == (
            6,
            163.33,
            "2024-02-29T17:20:00+02:00",
        )

    async def test_answers_what_add_stored(self, portal: Portal) -> None:
        added = (await portal.ok("sale.order.add", ADD_EXAMPLE))["order"]
        got = (await portal.ok("sale.order.get", {"id": str(added["id"])}))["order"]
        assert {k: got[k] for k in added} == added

    async def test_unknown_order(self, portal: Portal) -> None:
        # The table's 201240400001 contradicts the page's own example; the example wins.
        assert await error_of(portal, "sale.order.get", {"id": 404}) == {
            "error": 200540400001,
            "error_description": "order does not exist",
        }

    async def test_missing_id_is_code_100(self, portal: Portal) -> None:
        assert await error_of(portal, "sale.order.get", {}) == {
            "error": 100,
            "error_description": "Parameter `id` is not specified or is empty",
        }

    async def test_store_manager_reads_and_role_none_is_denied(self, portal: Portal) -> None:
        await portal.add_order(6)
        manager = await portal.webhook_for(Role.STORE_MANAGER)
        assert (await portal.ok("sale.order.get", {"id": 6}, hook=manager))["order"]["id"] == 6
        nobody = await portal.webhook_for(Role.NONE)
        assert await error_of(portal, "sale.order.get", {"id": 6}, hook=nobody) == {
            "error": 200040300010,
            "error_description": "Access Denied",
        }


class TestUpdate:
    """sale-order-update.md"""

    async def test_docs_example_answers_the_documented_shape(self, portal: Portal) -> None:
        await portal.add_order(300)
        response = await portal.call("sale.order.update", UPDATE_EXAMPLE)
        assert response.status_code == 200
        order = response.json()["result"]["order"]
        assert list(order) == sorted([*FIELD_NAMES, "clients", "requisiteLink"])
        assert (order["clients"], order["requisiteLink"]) == ([], [])
        assert_typed(order)
        assert (order["id"], order["version"], order["companyId"]) == (300, 2, 1)
        assert (order["canceled"], order["dateCanceled"], order["empCanceledId"]) == ("Y", NOW, 1)
        assert (order["lockedBy"], order["recurringId"]) == ("1", "1")

    async def test_version_goes_up_on_every_update(self, portal: Portal) -> None:
        order_id = (await portal.ok("sale.order.add", ADD_EXAMPLE))["order"]["id"]
        for expected in (2, 3, 4):
            order = await portal.ok("sale.order.update", {"id": order_id, "fields": {"price": 1}})
            assert order["order"]["version"] == expected

    async def test_immutable_and_read_only_fields_are_ignored(self, portal: Portal) -> None:
        order_id = (await portal.ok("sale.order.add", ADD_EXAMPLE))["order"]["id"]
        changed = {"lid": "s2", "personTypeId": 2, "currency": "EUR", "userId": 5, "payed": "Y",
                   "comments": "changed"}  # fmt: skip
        order = (await portal.ok("sale.order.update", {"id": order_id, "fields": changed}))["order"]
        assert (order["lid"], order["personTypeId"], order["currency"]) == ("s1", 1, "USD")
        assert (order["userId"], order["payed"], order["comments"]) == (1, "N", "changed")

    async def test_date_update_and_status_stamp_move(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        order_id = (await portal.ok("sale.order.add", ADD_EXAMPLE))["order"]["id"]
        clock.advance(3600)
        fields = {"statusId": "P", "marked": "N"}
        order = (await portal.ok("sale.order.update", {"id": order_id, "fields": fields}))["order"]
        later = "2024-06-25T14:43:26+02:00"
        assert (order["dateUpdate"], order["dateStatus"], order["statusId"]) == (later, later, "P")
        assert (order["dateInsert"], order["dateCanceled"]) == ("2024-03-01T14:00:00+02:00", NOW)

    @pytest.mark.parametrize(
        ("params", "code", "text"),
        [
            ({"fields": {"price": 1}}, 100, "Parameter `id` is not specified or is empty"),
            ({"id": 300}, 100, "Parameter `fields` is not specified or is empty"),
            ({"id": 301, "fields": {"price": 1}}, 200540400001, "order does not exist"),
        ],
    )
    async def test_errors(self, portal: Portal, params: Any, code: int, text: str) -> None:
        await portal.add_order(300)
        assert await error_of(portal, "sale.order.update", params) == {
            "error": code,
            "error_description": text,
        }

    async def test_store_manager_may_not_update(self, portal: Portal) -> None:
        await portal.add_order(300)
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        body = await error_of(portal, "sale.order.update", UPDATE_EXAMPLE, hook=hook)
        assert body == {"error": 200040300020, "error_description": "Access Denied"}


class TestDelete:
    """sale-order-delete.md"""

    async def test_docs_example_answers_true_then_not_found(self, portal: Portal) -> None:
        await portal.add_order(5)
        response = await portal.call("sale.order.delete", {"id": 5})
        assert response.status_code == 200
        assert response.json()["result"] is True
        assert await error_of(portal, "sale.order.delete", {"id": 5}) == {
            "error": 200540400001,
            "error_description": "order does not exist",
        }

    async def test_deleting_an_order_deletes_its_binding(self, portal: Portal) -> None:
        await portal.add_order(5125)
        await portal.add_deal(6933)
        fields = {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}
        await portal.ok("crm.orderentity.add", {"fields": fields})
        await portal.ok("sale.order.delete", {"id": 5125})
        listed = await portal.ok("crm.orderentity.list", {"filter": {"ownerId": 6933}})
        assert listed == {"orderEntity": []}

    async def test_missing_id_and_role(self, portal: Portal) -> None:
        assert (await error_of(portal, "sale.order.delete", {}))["error"] == 100
        await portal.add_order(5)
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        assert await error_of(portal, "sale.order.delete", {"id": 5}, hook=hook) == {
            "error": 200040300020,
            "error_description": "Access Denied",
        }


class TestList:
    """sale-order-list.md"""

    async def test_docs_example(self, portal: Portal) -> None:
        await portal.add_order(9, person_type_id=4, price=1176, tax_value=196, user_id=2)
        await portal.add_order(8, person_type_id=3, payed="Y")
        await portal.add_order(7, person_type_id=1)
        await portal.add_order(12, person_type_id=4)
        response = await portal.call("sale.order.list", LIST_EXAMPLE)
        body = response.json()
        assert list(body) == ["result", "total", "time"]
        assert body["total"] == 1
        (order,) = body["result"]["orders"]
        assert list(order) == FIELD_NAMES  # alphabetical, whatever the select order
        assert_typed(order)
        assert (order["id"], order["price"], order["taxValue"], order["userId"]) == (
            9,
            1176,
            196,
            2,
        )

    async def test_select_picks_fields_and_ignores_unknown_ones(self, portal: Portal) -> None:
        await portal.add_order(9)
        result = await portal.ok("sale.order.list", {"select": ["lid", "id", "nope"]})
        assert result == {"orders": [{"id": 9, "lid": "s1"}]}

    async def test_pages_of_fifty_with_next_only_while_rows_remain(self, portal: Portal) -> None:
        for _ in range(120):
            await portal.add_order()
        first = (await portal.call("sale.order.list", {"select": ["id"]})).json()
        assert (len(first["result"]["orders"]), first["total"], first["next"]) == (50, 120, 50)
        assert [o["id"] for o in first["result"]["orders"]] == list(range(1, 51))
        last = (await portal.call("sale.order.list", {"select": ["id"], "start": 100})).json()
        assert (len(last["result"]["orders"]), last["total"]) == (20, 120)
        assert "next" not in last

    async def test_unknown_filter_field_is_code_0(self, portal: Portal) -> None:
        body = await error_of(portal, "sale.order.list", {"filter": {"ownerId": 1}})
        assert body == {
            "error": 0,
            "error_description": "Invalid filter: field 'ownerId' is not allowed in filter",
        }

    async def test_store_role_none_is_denied(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE)
        body = await error_of(portal, "sale.order.list", {}, hook=hook)
        assert body == {"error": 200040300010, "error_description": "Access Denied"}


class TestGetFields:
    """sale-order-get-fields.md"""

    async def test_descriptors_exactly(self, portal: Portal) -> None:
        response = await portal.call("sale.order.getfields", {})
        assert response.status_code == 200
        assert response.json()["result"] == {
            "order": {
                name: {"isImmutable": imm, "isReadOnly": ro, "isRequired": req, "type": type_}
                for name, type_, req, ro, imm in FIELDS_TABLE
            }
        }
        assert list(response.json()["result"]["order"]) == FIELD_NAMES

    async def test_store_role_none_is_denied(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE)
        body = await error_of(portal, "sale.order.getFields", {}, hook=hook)
        assert body["error"] == 200040300010


class TestPersonTypeList:
    """sale-person-type-list.md"""

    async def test_docs_example(self, portal: Portal) -> None:
        params = {"select": ["id", "name", "sort"], "filter": {"<=sort": 100},
                  "order": {"sort": "DESC"}}  # fmt: skip
        body = (await portal.call("sale.persontype.list", params)).json()
        # The page prints `personTypes` without the `result` wrapper its table documents.
        assert body["result"] == {"personTypes": [{"id": 1, "name": "Individual", "sort": "100"}]}
        assert body["total"] == 1

    async def test_all_payer_types_with_every_field(self, portal: Portal) -> None:
        result = await portal.ok("sale.persontype.list", {"order": {"id": "desc"}})
        assert result == {"personTypes": [
            {"active": "Y", "code": None, "id": 2, "name": "Legal Entity", "sort": "110",
             "xmlId": None},
            {"active": "Y", "code": None, "id": 1, "name": "Individual", "sort": "100",
             "xmlId": None},
        ]}  # fmt: skip

    @pytest.mark.parametrize(
        ("filter_", "ids"),
        [({"%name": "legal"}, [2]), ({"!=id": 1}, [2]), ({"@id": [1, 2]}, [1, 2]),
         ({"=%name": "Ind%"}, [1]), ({">sort": "100"}, [2]), ({"@id": 2}, [2]),
         ({"id": [2]}, [2]), ({"!%=name": "%gal%"}, [1])],
    )  # fmt: skip
    async def test_filter_prefixes(self, portal: Portal, filter_: Any, ids: list[int]) -> None:
        result = await portal.ok("sale.persontype.list", {"filter": filter_})
        assert [p["id"] for p in result["personTypes"]] == ids

    async def test_store_role_none_is_denied(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE)
        body = await error_of(portal, "sale.persontype.list", {}, hook=hook)
        assert body == {"error": 200040300010, "error_description": "Access Denied"}


class TestCurrencyList:
    """crm-currency-list.md"""

    async def test_docs_example_is_a_bare_array_of_strings(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE, scopes=("crm",))
        params = {"order": {"sort": "asc", "currency": "asc"}}
        body = (await portal.call("crm.currency.list", params, hook=hook)).json()
        assert body["total"] == 0  # "Currently always has a value of 0"
        rows = body["result"]
        assert [r["CURRENCY"] for r in rows] == ["USD", "RUB", "EUR", "CAD"]
        for row in rows:
            assert list(row) == CURRENCY_KEYS
            assert {type(v) for k, v in row.items() if k != "THOUSANDS_SEP"} == {str}
        assert [r["BASE"] for r in rows] == ["Y", "N", "N", "N"]
        assert rows[0]["DATE_UPDATE"] == "2024-01-29T12:28:40+02:00"

    async def test_order_descending(self, portal: Portal) -> None:
        rows = await portal.ok("crm.currency.list", {"order": {"CURRENCY": "DESC"}})
        assert [r["CURRENCY"] for r in rows] == ["USD", "RUB", "EUR", "CAD"]

    async def test_order_must_be_an_object(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.currency.list", {"order": "sort"}) == {
            "error": "",
            "error_description": "Parameter 'order' must be array.",
        }
