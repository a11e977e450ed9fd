"""crm.invoice.* (old invoices, entityTypeId 5) over the wire, served with `--legacy-invoices`.

Pages: api-reference/crm/outdated/invoice/crm-invoice-{add,get,list,update,delete,fields}.md and
events-invoice/. The pages print requests only; answers follow crm.deal.* (docs/decisions.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from click.testing import CliRunner

from orderlink.app import create_app
from orderlink.cli import main
from orderlink.clock import FrozenClock
from orderlink.registry import Role
from orderlink.settings import Settings

from .conftest import Portal, error_of, legacy
from .oauth_apps import register, tokens
from .receiver import Receiver
from .test_events import deliveries, rest

pytestmark = pytest.mark.anyio

NOW = "2024-06-25T13:43:26+02:00"  # the frozen clock in the portal zone
TODAY = "2024-06-25T00:00:00+02:00"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Old invoices on, in a portal two hours east of UTC, as the docs' examples are."""
    return Settings(
        database=database_url, rate_limit=False, timezone="+02:00", legacy_invoices=True
    )


# crm-invoice-add.md, Example 1, cURL (OAuth); the shell's `$(date -Iseconds --utc ...)` splices
# fixed to the frozen clock ("now" and "+1 month").
EXAMPLE_1: dict[str, Any] = {"fields": {
    "ORDER_TOPIC": "Invoice for legal entity", "STATUS_ID": "P",
    "DATE_INSERT": "2024-06-25T11:43:26+00:00", "PAY_VOUCHER_DATE": "2024-06-25T11:43:26+00:00",
    "PAY_VOUCHER_NUM": "876", "DATE_MARKED": "2024-06-25T11:43:26+00:00",
    "REASON_MARKED": "Invoice paid immediately.", "COMMENTS": "manager's comment",
    "USER_DESCRIPTION": "comment for the client", "DATE_BILL": "2024-06-25T11:43:26+00:00",
    "DATE_PAY_BEFORE": "2024-07-25T11:43:26+00:00", "RESPONSIBLE_ID": 1, "UF_DEAL_ID": 10,
    "UF_COMPANY_ID": 5, "UF_CONTACT_ID": 2, "PERSON_TYPE_ID": 2, "PAY_SYSTEM_ID": 6,
    "INVOICE_PROPERTIES": {
        "COMPANY": "Tech Innovations LLC",
        "COMPANY_ADR": "543000 Berlin, Peschanskaya St., 15, Office 55 (legal)", "INN": "",
        "KPP": "", "CONTACT_PERSON": "Boris Sokolov", "EMAIL": "pr@logistics-north.com",
        "PHONE": "+1 (495) 234-54-32", "FAX": "", "ZIP": "", "CITY": "", "LOCATION": "",
        "ADDRESS": "",
    },
    "PRODUCT_ROWS": [
        {"ID": 0, "PRODUCT_ID": 438, "PRODUCT_NAME": "Product 01", "QUANTITY": 1, "PRICE": 100},
        {"ID": 0, "PRODUCT_ID": 515, "PRODUCT_NAME": "Product 77", "QUANTITY": 1, "PRICE": 118},
    ],
}}  # fmt: skip

# crm-invoice-add.md, Example 2, cURL (OAuth): a person buys (no company, a contact).
EXAMPLE_2: dict[str, Any] = {"fields": {
    "ORDER_TOPIC": "Invoice for individual", "STATUS_ID": "P",
    "DATE_INSERT": "2024-06-25T11:43:26+00:00", "PAY_VOUCHER_DATE": "2024-06-25T11:43:26+00:00",
    "PAY_VOUCHER_NUM": "876", "DATE_MARKED": "2024-06-25T11:43:26+00:00", "REASON_MARKED": "paid",
    "COMMENTS": "comment", "USER_DESCRIPTION": "comment for the client",
    "DATE_BILL": "2024-06-25T11:43:26+00:00", "DATE_PAY_BEFORE": "2024-07-25T11:43:26+00:00",
    "RESPONSIBLE_ID": 1, "UF_DEAL_ID": 8, "UF_COMPANY_ID": 0, "UF_CONTACT_ID": 3,
    "PERSON_TYPE_ID": 1, "PAY_SYSTEM_ID": 6,
    "INVOICE_PROPERTIES": {"FIO": "Gleb Titov", "EMAIL": "boss@yt-soft.net", "PHONE": "",
                           "ZIP": "", "CITY": "", "LOCATION": "", "ADDRESS": ""},
    "PRODUCT_ROWS": [
        {"ID": 0, "PRODUCT_ID": 438, "PRODUCT_NAME": "Product 01", "QUANTITY": 1, "PRICE": 100},
        {"ID": 0, "PRODUCT_ID": 515, "PRODUCT_NAME": "Product 77", "QUANTITY": 1, "PRICE": 118},
    ],
}}  # fmt: skip

# What crm.invoice.get answers for Example 1 (the pages print no answer: crm.deal's style, the
# key order of crm-invoice-fields.md with crm-invoice-list.md's IS_RECURRING and UF_QUOTE_ID).
EXAMPLE_1_GET: dict[str, Any] = {
    "ID": "{id}", "ACCOUNT_NUMBER": "{id}", "COMMENTS": "manager's comment", "CREATED_BY": "1",
    "CURRENCY": "USD", "DATE_BILL": TODAY, "DATE_INSERT": NOW, "DATE_MARKED": NOW,
    "DATE_PAY_BEFORE": "2024-07-25T00:00:00+02:00", "DATE_PAYED": NOW, "DATE_STATUS": NOW,
    "DATE_UPDATE": NOW, "EMP_PAYED_ID": "1", "EMP_STATUS_ID": "1", "LID": "s1",
    "IS_RECURRING": "N", "XML_ID": None, "ORDER_TOPIC": "Invoice for legal entity",
    "PAY_SYSTEM_ID": "6", "PAY_VOUCHER_DATE": TODAY, "PAY_VOUCHER_NUM": "876", "PAYED": "Y",
    "PERSON_TYPE_ID": "2", "PRICE": "218.00", "REASON_MARKED": "Invoice paid immediately.",
    "RESPONSIBLE_EMAIL": "", "RESPONSIBLE_ID": "1", "RESPONSIBLE_LAST_NAME": "",
    "RESPONSIBLE_LOGIN": "", "RESPONSIBLE_NAME": "Administrator",
    "RESPONSIBLE_PERSONAL_PHOTO": None, "RESPONSIBLE_SECOND_NAME": "",
    "RESPONSIBLE_WORK_POSITION": "", "STATUS_ID": "P", "TAX_VALUE": "0.00",
    "UF_COMPANY_ID": "5", "UF_CONTACT_ID": "2", "UF_MYCOMPANY_ID": "0", "UF_DEAL_ID": "10",
    "UF_QUOTE_ID": "0", "USER_DESCRIPTION": "comment for the client", "PR_LOCATION": None,
    "INVOICE_PROPERTIES": EXAMPLE_1["fields"]["INVOICE_PROPERTIES"],
    "PRODUCT_ROWS": [
        {"ID": "1", "PRODUCT_ID": "438", "PRODUCT_NAME": "Product 01", "PRICE": "100.00",
         "DISCOUNT_PRICE": "0.00", "QUANTITY": "1", "VAT_RATE": None, "VAT_INCLUDED": "Y",
         "MEASURE_CODE": None, "MEASURE_NAME": "", "CATALOG_XML_ID": "", "PRODUCT_XML_ID": ""},
        {"ID": "2", "PRODUCT_ID": "515", "PRODUCT_NAME": "Product 77", "PRICE": "118.00",
         "DISCOUNT_PRICE": "0.00", "QUANTITY": "1", "VAT_RATE": None, "VAT_INCLUDED": "Y",
         "MEASURE_CODE": None, "MEASURE_NAME": "", "CATALOG_XML_ID": "", "PRODUCT_XML_ID": ""},
    ],
}  # fmt: skip

# The least an invoice needs (crm-invoice-fields.md's required fields and a buyer).
MINIMAL: dict[str, Any] = {"ORDER_TOPIC": "Minimal", "PERSON_TYPE_ID": 1, "PAY_SYSTEM_ID": 6,
                           "UF_CONTACT_ID": 3}  # fmt: skip


async def add(portal: Portal, **fields: Any) -> int:
    return int(await portal.ok("crm.invoice.add", {"fields": {**MINIMAL, **fields}}))


async def oauth_call(portal: Portal, method: str, body: dict[str, Any]) -> httpx.Response:
    """A docs cURL (OAuth) request: the JSON body as printed, the token in the query string."""
    app = await register(portal)
    token = (await tokens(portal, app))["access_token"]
    return await portal.client.post(f"/rest/{method}?auth={token}", json=body)


class TestAdd:
    """crm-invoice-add.md"""

    @pytest.mark.parametrize("example", [EXAMPLE_1, EXAMPLE_2])
    async def test_docs_examples_answer_the_new_id_as_a_number(
        self, portal: Portal, example: dict[str, Any]
    ) -> None:
        response = await oauth_call(portal, "crm.invoice.add", example)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"result", "time"}
        assert type(body["result"]) is int
        assert body["result"] > 0

    async def test_upper_case_fields_parameter_works_too(self, portal: Portal) -> None:
        invoice_id = await portal.ok("crm.invoice.add", {"FIELDS": MINIMAL})
        assert (await portal.ok("crm.invoice.get", {"ID": invoice_id}))["ORDER_TOPIC"] == "Minimal"

    async def test_defaults(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE, scopes=("crm",))
        caller = hook.split("/")[2]
        invoice_id = await portal.ok("crm.invoice.add", {"fields": MINIMAL}, hook=hook)
        invoice = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert invoice["ACCOUNT_NUMBER"] == str(invoice_id)
        assert (invoice["STATUS_ID"], invoice["PAYED"], invoice["DATE_PAYED"]) == ("N", "N", None)
        assert (invoice["CURRENCY"], invoice["LID"], invoice["PRICE"]) == ("USD", "s1", "0.00")
        assert invoice["RESPONSIBLE_ID"] == invoice["CREATED_BY"] == caller
        assert invoice["RESPONSIBLE_NAME"] == "user-none"
        assert invoice["DATE_INSERT"] == invoice["DATE_STATUS"] == invoice["DATE_UPDATE"] == NOW
        assert invoice["DATE_BILL"] == TODAY
        assert (invoice["INVOICE_PROPERTIES"], invoice["PRODUCT_ROWS"]) == ([], [])

    async def test_a_given_account_number_is_kept(self, portal: Portal) -> None:
        invoice_id = await add(portal, ACCOUNT_NUMBER="2024/17")
        invoice = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert invoice["ACCOUNT_NUMBER"] == "2024/17"

    async def test_the_buyer_decides_the_payer_type(self, portal: Portal) -> None:
        company = await add(portal, PERSON_TYPE_ID=1, UF_COMPANY_ID=5)
        person = await add(portal, PERSON_TYPE_ID=2, UF_CONTACT_ID=3)
        assert (await portal.ok("crm.invoice.get", {"id": company}))["PERSON_TYPE_ID"] == "2"
        assert (await portal.ok("crm.invoice.get", {"id": person}))["PERSON_TYPE_ID"] == "1"

    async def test_read_only_fields_are_ignored(self, portal: Portal) -> None:
        invoice_id = await add(
            portal, ID=999, CURRENCY="EUR", PRICE=5, PAYED="Y", LID="s2", CREATED_BY=7
        )
        invoice = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert invoice_id != 999
        assert (invoice["CURRENCY"], invoice["PRICE"], invoice["PAYED"]) == ("USD", "0.00", "N")
        assert (invoice["LID"], invoice["CREATED_BY"]) == ("s1", "1")

    async def test_unknown_fields_and_parent_links_are_ignored(self, portal: Portal) -> None:
        invoice_id = await add(portal, PARENT_ID_2="x", PARENT_ID_7=3, NOT_A_FIELD=1)
        invoice = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert not {"PARENT_ID_2", "PARENT_ID_7", "NOT_A_FIELD"} & set(invoice)

    async def test_amounts_follow_the_product_rows(self, portal: Portal) -> None:
        rows = [
            {"PRICE": 100, "QUANTITY": 2},
            {"PRICE": 118, "QUANTITY": 1, "VAT_RATE": 0.18},  # VAT included: 18.00 of it
            {"PRICE": 50, "QUANTITY": 1, "VAT_RATE": 0.2, "VAT_INCLUDED": "N"},  # 10.00 on top
        ]
        invoice_id = await add(portal, PRODUCT_ROWS=rows)
        invoice = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert (invoice["PRICE"], invoice["TAX_VALUE"]) == ("378.00", "28.00")
        assert [r["ID"] for r in invoice["PRODUCT_ROWS"]] == ["1", "2", "3"]

    async def test_form_encoded_fields(self, portal: Portal) -> None:
        invoice_id = await portal.ok(
            "crm.invoice.add",
            form="fields[ORDER_TOPIC]=Form&fields[PERSON_TYPE_ID]=1&fields[PAY_SYSTEM_ID]=6"
            "&fields[UF_CONTACT_ID]=3&fields[PRODUCT_ROWS][0][PRICE]=12.5"
            "&fields[INVOICE_PROPERTIES][FIO]=Ann&fields[UF_CRM_7]=x",
        )
        invoice = await portal.ok("crm.invoice.get", {"id": str(invoice_id)})
        assert (invoice["ORDER_TOPIC"], invoice["PRICE"]) == ("Form", "12.50")
        assert invoice["INVOICE_PROPERTIES"] == {"FIO": "Ann"}
        assert invoice["UF_CRM_7"] == "x"

    @pytest.mark.parametrize(
        ("params", "text"),
        [
            ({}, "Parameter 'fields' must be array."),
            ({"fields": "ORDER_TOPIC"}, "Parameter 'fields' must be array."),
            ({"fields": MINIMAL, "params": "N"}, "Parameter 'params' must be array."),
            ({"fields": {**MINIMAL, "PAY_SYSTEM_ID": "cash"}},
             'Invalid value for the "Identifier of the payment form" field'),
            ({"fields": {**MINIMAL, "DATE_BILL": "soon"}},
             'Invalid value for the "Billing date" field'),
            ({"fields": {**MINIMAL, "PRODUCT_ROWS": "two"}},
             'Invalid value for the "List of product items" field'),
            ({"fields": {**MINIMAL, "PRODUCT_ROWS": [{"PRICE": "lots"}]}},
             'Invalid value for the "List of product items" field'),
            ({"fields": {**MINIMAL, "PRODUCT_ROWS": [{"PRICE": 1, "QUANTITY": 0}]}},
             'Invalid value for the "List of product items" field'),
            ({"fields": {**MINIMAL, "PRODUCT_ROWS": [{"PRICE": 1, "VAT_RATE": -1}]}},
             'Invalid value for the "List of product items" field'),
            ({"fields": {**MINIMAL, "INVOICE_PROPERTIES": "x"}},
             'Invalid value for the "List of properties" field'),
        ],
    )  # fmt: skip
    async def test_errors_have_an_empty_code(
        self, portal: Portal, params: dict[str, Any], text: str
    ) -> None:
        assert await error_of(portal, "crm.invoice.add", params) == legacy(text)
        assert (await portal.call("crm.invoice.list", {})).json()["total"] == 0

    async def test_what_an_invoice_needs_is_named_all_at_once(self, portal: Portal) -> None:
        # CCrmInvoice::CheckFields' texts, each ended by `<br />` (docs/decisions.md).
        assert await error_of(portal, "crm.invoice.add", {"fields": {"COMMENTS": "x"}}) == legacy(
            'The field "Subject" is required.<br />\n'
            "The counterparty is not specified. Select a company or a contact.<br />\n"
            'The field "Invoice print form" is required.<br />\n'
        )

    @pytest.mark.parametrize(
        "missing",
        [{"UF_CONTACT_ID": 0}, {"UF_CONTACT_ID": ""}, {"PERSON_TYPE_ID": None}],
    )
    async def test_a_buyer_and_a_payer_type_are_required(
        self, portal: Portal, missing: dict[str, Any]
    ) -> None:
        response = await error_of(portal, "crm.invoice.add", {"fields": {**MINIMAL, **missing}})
        assert response == legacy(
            "The counterparty is not specified. Select a company or a contact.<br />\n"
        )

    @pytest.mark.parametrize("value", [None, "", [], {"a": 1}, "x"])
    async def test_no_field_value_is_a_server_error(self, portal: Portal, value: Any) -> None:
        invoice_id = await add(portal)
        names = [*(await portal.ok("crm.invoice.fields")), "UF_CRM_1", "PARENT_ID_2"]
        for name in names:
            added = await portal.call("crm.invoice.add", {"fields": {**MINIMAL, name: value}})
            updated = await portal.call(
                "crm.invoice.update", {"id": invoice_id, "fields": {name: value}}
            )
            for response in (added, updated):
                assert response.status_code in (200, 400), (name, response.text)
                assert response.json().get("error", "") == "", name

    async def test_the_seller_is_not_required(self, portal: Portal) -> None:
        # Neither docs example sends UF_MYCOMPANY_ID, though the page asks for a seller.
        invoice_id = await add(portal)
        assert (await portal.ok("crm.invoice.get", {"id": invoice_id}))["UF_MYCOMPANY_ID"] == "0"


class TestGet:
    """crm-invoice-get.md"""

    async def test_after_the_add_example(self, portal: Portal) -> None:
        invoice_id = await portal.ok("crm.invoice.add", EXAMPLE_1)
        # cURL (Webhook): the id as a string.
        response = await portal.call("crm.invoice.get", {"id": str(invoice_id)})
        assert response.status_code == 200
        expected = {
            **EXAMPLE_1_GET,
            "ID": str(invoice_id),
            "ACCOUNT_NUMBER": str(invoice_id),
        }
        assert list(response.json()["result"].items()) == list(expected.items())

    async def test_every_value_is_a_string_or_null_but_the_two_arrays(self, portal: Portal) -> None:
        invoice_id = await portal.ok("crm.invoice.add", EXAMPLE_2)
        invoice = await portal.ok("crm.invoice.get", {"id": invoice_id})
        arrays = {"INVOICE_PROPERTIES", "PRODUCT_ROWS"}
        assert {type(v) for k, v in invoice.items() if k not in arrays} <= {str, type(None)}
        assert invoice["INVOICE_PROPERTIES"]["FIO"] == "Gleb Titov"
        assert invoice["PERSON_TYPE_ID"] == "1"

    @pytest.mark.parametrize(
        "params", [{}, {"id": 0}, {"id": "your_invoice_id"}, {"id": -4}, {"id": 1.5}]
    )
    async def test_bad_id(self, portal: Portal, params: dict[str, Any]) -> None:
        # The crm module's invoice service reads a missing or bad id as 0, which it cannot find.
        assert await error_of(portal, "crm.invoice.get", params) == legacy("Not found.")

    async def test_unknown_invoice(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.invoice.get", {"id": 404}) == legacy("Not found.")

    async def test_a_deal_id_is_not_an_invoice(self, portal: Portal) -> None:
        deal_id = await portal.add_deal()
        assert await error_of(portal, "crm.invoice.get", {"id": deal_id}) == legacy("Not found.")


# crm-invoice-list.md, cURL (Webhook), verbatim: it selects CURRENCY_ID, the table's CURRENCY.
LIST_EXAMPLE: dict[str, Any] = {
    "order": {"DATE_INSERT": "ASC"},
    "filter": {">PRICE": 100},
    "select": ["ID", "ACCOUNT_NUMBER", "ORDER_TOPIC", "DATE_INSERT", "STATUS_ID", "PRICE",
               "CURRENCY_ID"],
}  # fmt: skip


class TestList:
    """crm-invoice-list.md"""

    async def test_docs_example(self, portal: Portal) -> None:
        late = await add(portal, DATE_INSERT="2024-06-25T12:00:00+02:00",
                         PRODUCT_ROWS=[{"PRICE": 150}])  # fmt: skip
        early = await add(portal, DATE_INSERT="2024-06-24T12:00:00+02:00",
                          PRODUCT_ROWS=[{"PRICE": 60, "QUANTITY": 2}])  # fmt: skip
        await add(portal, PRODUCT_ROWS=[{"PRICE": 100}])  # not more than 100
        await add(portal)  # no rows, nothing to pay
        body = (await portal.call("crm.invoice.list", LIST_EXAMPLE)).json()
        assert list(body) == ["result", "total", "time"]
        assert body["result"] == [
            {"ID": str(early), "ACCOUNT_NUMBER": str(early), "ORDER_TOPIC": "Minimal",
             "DATE_INSERT": "2024-06-24T12:00:00+02:00", "STATUS_ID": "N", "PRICE": "120.00",
             "CURRENCY": "USD"},
            {"ID": str(late), "ACCOUNT_NUMBER": str(late), "ORDER_TOPIC": "Minimal",
             "DATE_INSERT": "2024-06-25T12:00:00+02:00", "STATUS_ID": "N", "PRICE": "150.00",
             "CURRENCY": "USD"},
        ]  # fmt: skip
        assert body["total"] == 2

    async def test_rows_leave_out_properties_and_product_rows(self, portal: Portal) -> None:
        invoice_id = await portal.ok("crm.invoice.add", EXAMPLE_1)
        (row,) = await portal.ok("crm.invoice.list", {})
        invoice = await portal.ok("crm.invoice.get", {"id": invoice_id})
        left_out = ("PR_LOCATION", "INVOICE_PROPERTIES", "PRODUCT_ROWS")
        assert row == {k: v for k, v in invoice.items() if k not in left_out}

    async def test_newest_first_by_default(self, portal: Portal) -> None:
        ids = [await add(portal) for _ in range(3)]
        assert [r["ID"] for r in await portal.ok("crm.invoice.list", {})] == [
            str(i) for i in reversed(ids)
        ]

    @pytest.mark.parametrize(
        ("select", "has_uf", "has_topic"),
        [
            (["*"], False, True),
            (["*", "UF_*"], True, True),
            (["ID", "UF_CRM_7"], True, False),
            (["uf_*"], True, False),
            ([], True, True),
        ],
    )
    async def test_select_masks(
        self, portal: Portal, select: list[str], has_uf: bool, has_topic: bool
    ) -> None:
        await add(portal, UF_CRM_7="x")
        (row,) = await portal.ok("crm.invoice.list", {"select": select})
        assert ("UF_CRM_7" in row) is has_uf
        assert ("ORDER_TOPIC" in row) is has_topic
        # The reserved UF_ fields are regular fields: `*` brings them, `UF_*` does not.
        assert ("UF_DEAL_ID" in row) is has_topic

    async def test_pages_of_fifty_with_next(self, portal: Portal) -> None:
        for _ in range(51):
            await add(portal)
        first = (await portal.call("crm.invoice.list", {"select": ["ID"]})).json()
        assert (len(first["result"]), first["total"], first["next"]) == (50, 51, 50)
        second = (await portal.call("crm.invoice.list", {"select": ["ID"], "start": 50})).json()
        assert (len(second["result"]), "next" in second) == (1, False)

    async def test_filters_by_the_reserved_uf_fields(self, portal: Portal) -> None:
        wanted = await add(portal, UF_DEAL_ID=10)
        await add(portal, UF_DEAL_ID=11)
        rows = await portal.ok("crm.invoice.list", {"filter": {"UF_DEAL_ID": 10}})
        assert [r["ID"] for r in rows] == [str(wanted)]

    async def test_filters_by_custom_fields(self, portal: Portal) -> None:
        """As on crm.deal.list (docs/decisions.md)."""
        wanted = await add(portal, UF_CRM_SHOP_ORDER="5125")
        await add(portal, UF_CRM_SHOP_ORDER="5127")
        rows = await portal.ok("crm.invoice.list", {"filter": {"UF_CRM_SHOP_ORDER": 5125}})
        assert [r["ID"] for r in rows] == [str(wanted)]

    @pytest.mark.parametrize(
        ("params", "text"),
        [
            ({"filter": {"PRODUCT_ROWS": 1}},
             "Invalid filter: field 'PRODUCT_ROWS' is not allowed in filter"),
            ({"filter": "x"}, "Parameter 'filter' must be array."),
            ({"order": {"ID": "UP"}},
             "Invalid order: allowed sort directions are ASC, DESC. But got 'UP' for field 'ID'"),
        ],
    )  # fmt: skip
    async def test_errors(self, portal: Portal, params: dict[str, Any], text: str) -> None:
        assert await error_of(portal, "crm.invoice.list", params) == legacy(text)


class TestUpdate:
    """crm-invoice-update.md"""

    async def test_docs_example_replaces_the_product_rows(self, portal: Portal) -> None:
        invoice_id = await portal.ok("crm.invoice.add", EXAMPLE_1)
        before = await portal.ok("crm.invoice.get", {"id": invoice_id})
        row_id = before["PRODUCT_ROWS"][1]["ID"]
        response = await portal.call(
            "crm.invoice.update",
            {"id": str(invoice_id), "fields": {
                "DATE_BILL": "2024-07-01", "USER_DESCRIPTION": "Comment for the client (updated).",
                "PRODUCT_ROWS": [{"ID": row_id, "PRODUCT_ID": 703, "QUANTITY": 4,
                                  "PRICE": 779.60}],
            }},
        )  # fmt: skip
        assert response.status_code == 200
        assert set(response.json()) == {"result", "time"}
        # update answers the invoice's id (the crm module's invoice service), not true
        assert response.json()["result"] == invoice_id
        after = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert after["DATE_BILL"] == "2024-07-01T00:00:00+02:00"
        assert after["USER_DESCRIPTION"] == "Comment for the client (updated)."
        ((row),) = after["PRODUCT_ROWS"]
        assert (row["ID"], row["PRODUCT_ID"], row["QUANTITY"], row["PRICE"]) == (
            row_id, "703", "4", "779.60"
        )  # fmt: skip
        assert after["PRICE"] == "3118.40"
        # Everything not given stays as it was.
        unchanged = set(before) - {"DATE_BILL", "USER_DESCRIPTION", "PRODUCT_ROWS", "PRICE"}
        assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}

    async def test_new_rows_get_numbers_after_the_kept_ones(self, portal: Portal) -> None:
        invoice_id = await add(portal, PRODUCT_ROWS=[{"PRICE": 1}, {"PRICE": 2}])
        rows = [{"ID": 0, "PRICE": 3}, {"ID": 1, "PRICE": 4}, {"ID": 99, "PRICE": 5}]
        await portal.ok("crm.invoice.update", {"id": invoice_id, "fields": {"PRODUCT_ROWS": rows}})
        after = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert [(r["ID"], r["PRICE"]) for r in after["PRODUCT_ROWS"]] == [
            ("3", "3.00"), ("1", "4.00"), ("4", "5.00")
        ]  # fmt: skip

    async def test_properties_merge(self, portal: Portal) -> None:
        invoice_id = await add(portal, INVOICE_PROPERTIES={"FIO": "Ann", "PHONE": "1"})
        await portal.ok(
            "crm.invoice.update",
            {"ID": invoice_id, "FIELDS": {"INVOICE_PROPERTIES": {"PHONE": "2", "EMAIL": "a@b"}}},
        )
        invoice = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert invoice["INVOICE_PROPERTIES"] == {"FIO": "Ann", "PHONE": "2", "EMAIL": "a@b"}

    async def test_paying_stamps_the_payment_and_unpaying_clears_it(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        invoice_id = await add(portal)
        clock.advance(60)
        await portal.ok("crm.invoice.update", {"id": invoice_id, "fields": {"STATUS_ID": "P"}})
        paid = await portal.ok("crm.invoice.get", {"id": invoice_id})
        later = "2024-06-25T13:44:26+02:00"
        assert (paid["PAYED"], paid["DATE_PAYED"], paid["EMP_PAYED_ID"]) == ("Y", later, "1")
        assert (paid["DATE_STATUS"], paid["DATE_UPDATE"], paid["DATE_INSERT"]) == (
            later, later, NOW
        )  # fmt: skip
        await portal.ok("crm.invoice.update", {"id": invoice_id, "fields": {"STATUS_ID": "D"}})
        declined = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert (declined["PAYED"], declined["DATE_PAYED"], declined["EMP_PAYED_ID"]) == (
            "N", None, None
        )  # fmt: skip

    async def test_a_new_responsible_brings_their_name(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE)
        other = int(hook.split("/")[2])
        invoice_id = await add(portal)
        await portal.ok(
            "crm.invoice.update", {"id": invoice_id, "fields": {"RESPONSIBLE_ID": other}}
        )
        invoice = await portal.ok("crm.invoice.get", {"id": invoice_id})
        assert (invoice["RESPONSIBLE_ID"], invoice["RESPONSIBLE_NAME"]) == (
            str(other), "user-none"
        )  # fmt: skip

    @pytest.mark.parametrize(
        ("fields", "text"),
        [
            ({"ORDER_TOPIC": ""}, 'The field "Subject" is required.<br />\n'),
            ({"UF_CONTACT_ID": 0},
             "The counterparty is not specified. Select a company or a contact.<br />\n"),
            ({"PAY_SYSTEM_ID": ""}, 'The field "Invoice print form" is required.<br />\n'),
        ],
    )  # fmt: skip
    async def test_an_update_cannot_take_away_what_an_invoice_needs(
        self, portal: Portal, fields: dict[str, Any], text: str
    ) -> None:
        invoice_id = await add(portal)
        response = await error_of(
            portal, "crm.invoice.update", {"id": invoice_id, "fields": fields}
        )
        assert response == legacy(text)
        assert (await portal.ok("crm.invoice.get", {"id": invoice_id}))["ORDER_TOPIC"] == "Minimal"

    @pytest.mark.parametrize(
        ("params", "text"),
        [
            ({"fields": {}}, "Invalid identifier."),
            ({"id": 404, "fields": {}}, "Not found."),
            ({"id": "{id}"}, "Parameter 'fields' must be array."),
        ],
    )
    async def test_errors(self, portal: Portal, params: dict[str, Any], text: str) -> None:
        invoice_id = await add(portal)
        if params.get("id") == "{id}":
            params = {**params, "id": invoice_id}
        assert await error_of(portal, "crm.invoice.update", params) == legacy(text)


class TestDelete:
    """crm-invoice-delete.md"""

    async def test_docs_example(self, portal: Portal) -> None:
        invoice_id = await add(portal)
        response = await portal.call("crm.invoice.delete", {"id": str(invoice_id)})
        assert response.status_code == 200
        assert response.json()["result"] == invoice_id  # the deleted invoice's id, like update
        assert await error_of(portal, "crm.invoice.get", {"id": invoice_id}) == legacy("Not found.")
        assert await error_of(portal, "crm.invoice.delete", {"id": invoice_id}) == legacy(
            "Not found."
        )

    async def test_bad_id(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.invoice.delete", {"id": "your_invoice_id"}) == legacy(
            "Invalid identifier."
        )


class TestFields:
    """crm-invoice-fields.md"""

    async def test_docs_example(self, portal: Portal) -> None:
        response = await portal.call("crm.invoice.fields", {})
        assert response.status_code == 200
        fields = response.json()["result"]
        # The page's table, in its order (with the list page's IS_RECURRING and UF_QUOTE_ID).
        assert list(fields)[:5] == ["ID", "ACCOUNT_NUMBER", "COMMENTS", "CREATED_BY", "CURRENCY"]
        assert list(fields)[-3:] == ["PR_LOCATION", "INVOICE_PROPERTIES", "PRODUCT_ROWS"]
        assert len(fields) == 44
        required = {name for name, f in fields.items() if f["isRequired"]}
        assert required == {"ACCOUNT_NUMBER", "ORDER_TOPIC", "PAY_SYSTEM_ID", "PERSON_TYPE_ID"}
        # The invoice service's own descriptor shape, not crm.deal.fields' one.
        assert fields["STATUS_ID"] == {
            "type": "crm_status", "isRequired": False, "isReadOnly": False,
            "title": "Status identifier",
        }  # fmt: skip
        read_only = {name for name, f in fields.items() if f["isReadOnly"]}
        assert {"ID", "CURRENCY", "PRICE", "TAX_VALUE", "PAYED", "LID"} <= read_only
        assert not read_only & {"ORDER_TOPIC", "STATUS_ID", "DATE_INSERT", "UF_DEAL_ID"}


class TestBindings:
    """Orders bound to old invoices: crm.orderentity.add with ownerTypeId 5 (the setting on)."""

    async def test_an_order_binds_to_an_invoice_and_goes_when_it_is_deleted(
        self, portal: Portal
    ) -> None:
        invoice_id = await add(portal)
        other = await add(portal)
        await portal.add_order(5125)
        await portal.add_order(5127)
        for order_id, owner in ((5125, invoice_id), (5127, other)):
            fields = {"orderId": order_id, "ownerId": owner, "ownerTypeId": 5}
            assert await portal.ok("crm.orderentity.add", {"fields": fields}) == {
                "dealOrder": fields
            }
        await portal.ok("crm.invoice.delete", {"id": invoice_id})
        listed = await portal.ok("crm.orderentity.list", {"filter": {"ownerTypeId": 5}})
        assert listed == {"orderEntity": [{"orderId": 5127, "ownerId": other, "ownerTypeId": 5}]}

    async def test_a_missing_invoice_cannot_be_bound(self, portal: Portal) -> None:
        await portal.add_order(5125)
        deal_id = await portal.add_deal()  # a deal's id is no old invoice
        response = await portal.call(
            "crm.orderentity.add",
            {"fields": {"orderId": 5125, "ownerId": deal_id, "ownerTypeId": 5}},
        )
        assert response.status_code == 400
        assert response.json() == {"error": "0", "error_description": "invoice does not exist"}

    async def test_owner_types_list_the_old_invoice(self, portal: Portal) -> None:
        types = await portal.ok("crm.enum.getorderownertypes")
        assert {"attribute": "DYN", "code": "INVOICE", "id": 5,
                "name": "Invoice (old version)"} in types  # fmt: skip


class TestEvents:
    """events-invoice/on-crm-invoice-{add,update,delete}.md"""

    @pytest.fixture
    def receiver(self) -> Iterator[Receiver]:
        server = Receiver()
        yield server
        server.close()

    async def test_add_update_delete_reach_a_bound_handler(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        for event in ("OnCrmInvoiceAdd", "OnCrmInvoiceUpdate", "OnCrmInvoiceDelete"):
            await rest(portal, token, "event.bind", {"event": event, "handler": receiver.url()})
        invoice_id = await rest(portal, token, "crm.invoice.add", {"fields": MINIMAL})
        await rest(portal, token, "crm.invoice.update", {"id": invoice_id, "fields": {}})
        await rest(portal, token, "crm.invoice.delete", {"id": invoice_id})
        received = await deliveries(portal, receiver, 3)
        # Deliveries go out concurrently, so they may arrive in any order.
        assert {r["event"]: r["data"] for r in received} == {
            event: {"FIELDS": {"ID": str(invoice_id)}}
            for event in ("ONCRMINVOICEADD", "ONCRMINVOICEUPDATE", "ONCRMINVOICEDELETE")
        }


class TestSwitchedOff:
    """Without `--legacy-invoices` crm.invoice.* does not exist: every way of asking says so."""

    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database=database_url, rate_limit=False)

    @pytest.mark.parametrize(
        "method",
        ["crm.invoice.add", "crm.invoice.get", "crm.invoice.list", "crm.invoice.update",
         "crm.invoice.delete", "CRM.INVOICE.FIELDS"],
    )  # fmt: skip
    async def test_every_method_answers_as_unknown(self, portal: Portal, method: str) -> None:
        response = await portal.call(method, {"fields": MINIMAL, "id": 1})
        assert response.status_code == 404
        assert response.json() == {
            "error": "ERROR_METHOD_NOT_FOUND",
            "error_description": "Method not found!",
        }

    async def test_method_get_and_methods_do_not_know_it(self, portal: Portal) -> None:
        assert await portal.ok("method.get", {"name": "crm.invoice.add"}) == {
            "isExisting": False,
            "isAvailable": False,
        }
        for params in ({}, {"full": True}, {"scope": "crm"}):
            assert not [m for m in await portal.ok("methods", params) if "invoice" in m]

    async def test_batch_commands_fail_as_unknown(self, portal: Portal) -> None:
        result = await portal.ok("batch", {"cmd": {"a": "crm.invoice.fields"}})
        assert result["result_error"]["a"]["error"] == "ERROR_METHOD_NOT_FOUND"

    async def test_old_invoices_are_no_binding_owners(self, portal: Portal) -> None:
        await portal.add_order(5125)
        response = await portal.call(
            "crm.orderentity.add", {"fields": {"orderId": 5125, "ownerId": 1, "ownerTypeId": 5}}
        )
        assert response.json()["error_description"] == (
            "Binding is only possible to a deal or invoice: ownerTypeId must be one of 2, 31, got 5"
        )


class TestSwitchedOn:
    async def test_method_get_and_methods_know_it(self, portal: Portal) -> None:
        assert await portal.ok("method.get", {"name": "CRM.INVOICE.ADD"}) == {
            "isExisting": True,
            "isAvailable": True,
        }
        assert "crm.invoice.list" in await portal.ok("methods", {"scope": "crm"})


@contextlib.asynccontextmanager
async def serving(settings: Settings, clock: FrozenClock, hook: str) -> AsyncIterator[Portal]:
    """Another in-process portal on an existing database, reached with a known webhook."""
    app = create_app(settings, clock=clock)
    await app.startup()
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Portal(app, client, hook)
    await app.shutdown()


class TestCopy:
    """`orderlink db copy` carries old invoices and their bindings."""

    async def test_a_copied_invoice_answers_the_same(
        self,
        portal: Portal,
        settings: Settings,
        clock: FrozenClock,
        more_databases: Callable[[], str],
    ) -> None:
        invoice_id = await portal.ok("crm.invoice.add", EXAMPLE_1)
        await portal.add_order(5125)
        binding = {"orderId": 5125, "ownerId": invoice_id, "ownerTypeId": 5}
        await portal.ok("crm.orderentity.add", {"fields": binding})
        target = more_databases()

        def copy() -> Any:
            return CliRunner().invoke(
                main, ["db", "copy", "--from", settings.database, "--to", target]
            )

        result = await anyio.to_thread.run_sync(copy)
        assert result.exit_code == 0, result.output
        assert "legacy_invoices\t1 in source\t1 added\t1 in destination\tok" in result.output
        copied_settings = settings.replace(database=target)
        async with serving(copied_settings, clock, portal.hook) as copied:
            assert await copied.ok("crm.invoice.get", {"id": invoice_id}) == await portal.ok(
                "crm.invoice.get", {"id": invoice_id}
            )
            assert await copied.ok("crm.orderentity.list", {}) == {"orderEntity": [binding]}
            # The copy's id sequence moved past the copied invoice.
            assert await copied.ok("crm.invoice.add", {"fields": MINIMAL}) > invoice_id
