"""crm.deal.* over the wire: UPPER_SNAKE fields, every value a string, `"error": ""` errors.

Pages: api-reference/crm/deals/crm-deal-{add,get,list,update,delete,fields}.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.clock import FrozenClock
from orderlink.registry import Role
from orderlink.settings import Settings

from .conftest import Portal, deal_funnel, error_of, legacy

pytestmark = pytest.mark.anyio

NOW = "2024-06-25T13:43:26+02:00"  # the frozen clock in the portal zone


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A portal two hours east of UTC, as the docs' examples are."""
    return Settings(database=database_url, rate_limit=False, timezone="+02:00")


# crm-deal-add.md, cURL (Webhook); the shell's `$(date ...)` splices replaced by fixed dates.
ADD_EXAMPLE: dict[str, Any] = {"FIELDS": {
    "TITLE": "New Deal #1", "TYPE_ID": "COMPLEX", "CATEGORY_ID": 0, "STAGE_ID": "PREPARATION",
    "IS_RECURRING": "N", "IS_RETURN_CUSTOMER": "Y", "IS_REPEATED_APPROACH": "Y",
    "PROBABILITY": 99, "CURRENCY_ID": "EUR", "OPPORTUNITY": 1000000,
    "IS_MANUAL_OPPORTUNITY": "Y", "TAX_VALUE": 0.10, "COMPANY_ID": 9, "CONTACT_IDS": [84, 83],
    "BEGINDATE": "2024-08-30T14:29:00+02:00", "CLOSEDATE": "2024-09-09T14:29:00+02:00",
    "OPENED": "Y", "CLOSED": "N", "COMMENTS": "Example comment", "SOURCE_ID": "CALLBACK",
    "SOURCE_DESCRIPTION": "Additional information about the source",
    "ADDITIONAL_INFO": "Additional information", "UTM_SOURCE": "google", "UTM_MEDIUM": "CPC",
    "PARENT_ID_1220": 22, "UF_CRM_1721244482250": "Hello World!",
}, "PARAMS": {"REGISTER_SONET_EVENT": "N"}}  # fmt: skip

# crm-deal-get.md's answer for that deal, verbatim.
GET_ANSWER: dict[str, Any] = {
    "ID": "410", "TITLE": "New Deal #1", "TYPE_ID": "COMPLEX", "STAGE_ID": "PREPARATION",
    "PROBABILITY": "99", "CURRENCY_ID": "EUR", "OPPORTUNITY": "1000000.00",
    "IS_MANUAL_OPPORTUNITY": "Y", "TAX_VALUE": "0.00", "LEAD_ID": None, "COMPANY_ID": "9",
    "CONTACT_ID": "84", "QUOTE_ID": None, "BEGINDATE": "2024-08-30T02:00:00+02:00",
    "CLOSEDATE": "2024-09-09T02:00:00+02:00", "ASSIGNED_BY_ID": "1", "CREATED_BY_ID": "1",
    "MODIFY_BY_ID": "1", "DATE_CREATE": "2024-08-30T14:29:00+02:00",
    "DATE_MODIFY": "2024-08-30T14:29:00+02:00", "OPENED": "Y", "CLOSED": "N",
    "COMMENTS": "[B]Example comment[/B]", "ADDITIONAL_INFO": "Additional information",
    "LOCATION_ID": None, "CATEGORY_ID": "0", "STAGE_SEMANTIC_ID": "P", "IS_NEW": "N",
    "IS_RECURRING": "N", "IS_RETURN_CUSTOMER": "N", "IS_REPEATED_APPROACH": "N",
    "SOURCE_ID": "CALLBACK", "SOURCE_DESCRIPTION": "Additional source information",
    "ORIGINATOR_ID": None, "ORIGIN_ID": None, "MOVED_BY_ID": "1",
    "MOVED_TIME": "2024-08-30T14:29:00+02:00", "LAST_ACTIVITY_TIME": "2024-08-30T14:29:00+02:00",
    "UTM_SOURCE": "google", "UTM_MEDIUM": "CPC", "UTM_CAMPAIGN": None, "UTM_CONTENT": None,
    "UTM_TERM": None, "PARENT_ID_1220": "22", "LAST_ACTIVITY_BY": "1",
    "UF_CRM_1721244482250": "Hello world!",
}  # fmt: skip

# crm-deal-fields.md: (field, type, isReadOnly, isImmutable, isMultiple, title), in its order.
FIELDS_TABLE = [
    ("ID", "integer", True, False, False, "ID"), ("TITLE", "string", False, False, False, "Title"),
    ("TYPE_ID", "crm_status", False, False, False, "Type"),
    ("CATEGORY_ID", "crm_category", False, True, False, "Sales Funnel"),
    ("STAGE_ID", "crm_status", False, False, False, "Deal Stage"),
    ("STAGE_SEMANTIC_ID", "string", True, False, False, "Stage Group"),
    ("IS_NEW", "char", True, False, False, "New Deal"),
    ("IS_RECURRING", "char", False, False, False, "Recurring Deal"),
    ("IS_RETURN_CUSTOMER", "char", False, False, False, "Repeat Deal"),
    ("IS_REPEATED_APPROACH", "char", False, False, False, "Repeated Approach"),
    ("PROBABILITY", "integer", False, False, False, "Probability"),
    ("CURRENCY_ID", "crm_currency", False, False, False, "Currency"),
    ("OPPORTUNITY", "double", False, False, False, "Amount"),
    ("IS_MANUAL_OPPORTUNITY", "char", False, False, False, "IS_MANUAL_OPPORTUNITY"),
    ("TAX_VALUE", "double", False, False, False, "Tax Rate"),
    ("COMPANY_ID", "crm_company", False, False, False, "Company"),
    ("CONTACT_ID", "crm_contact", False, False, False, "Contact"),
    ("CONTACT_IDS", "crm_contact", False, False, True, "Contacts"),
    ("QUOTE_ID", "crm_quote", True, False, False, "Estimate"),
    ("BEGINDATE", "date", False, False, False, "Start Date"),
    ("CLOSEDATE", "date", False, False, False, "Close Date"),
    ("OPENED", "char", False, False, False, "Available to All"),
    ("CLOSED", "char", False, False, False, "Closed"),
    ("COMMENTS", "string", False, False, False, "Comment"),
    ("ASSIGNED_BY_ID", "user", False, False, False, "Responsible"),
    ("CREATED_BY_ID", "user", True, False, False, "Created By"),
    ("MODIFY_BY_ID", "user", True, False, False, "Modified By"),
    ("MOVED_BY_ID", "user", True, False, False, "MOVED_BY_ID"),
    ("DATE_CREATE", "datetime", True, False, False, "Creation Date"),
    ("DATE_MODIFY", "datetime", True, False, False, "Modification Date"),
    ("MOVED_TIME", "datetime", True, False, False, "MOVED_TIME"),
    ("SOURCE_ID", "crm_status", False, False, False, "Source"),
    ("SOURCE_DESCRIPTION", "string", False, False, False, "Additional Info about Source"),
    ("LEAD_ID", "crm_lead", True, False, False, "Lead"),
    ("ADDITIONAL_INFO", "string", False, False, False, "Additional Information"),
    ("LOCATION_ID", "location", False, False, False, "Location"),
    ("ORIGINATOR_ID", "string", False, False, False, "External Source"),
    ("ORIGIN_ID", "string", False, False, False, "Identifier in External Source"),
    ("UTM_SOURCE", "string", False, False, False, "Advertising System"),
    ("UTM_MEDIUM", "string", False, False, False, "Traffic Type"),
    ("UTM_CAMPAIGN", "string", False, False, False, "Campaign Identifier"),
    ("UTM_CONTENT", "string", False, False, False, "Campaign Content"),
    ("UTM_TERM", "string", False, False, False, "Campaign Search Condition"),
    ("LAST_ACTIVITY_TIME", "datetime", True, False, False, "LAST_ACTIVITY_TIME"),
    ("LAST_ACTIVITY_BY", "user", True, False, False, "LAST_ACTIVITY_BY"),
]  # fmt: skip
# The descriptor keys each field has beyond the six flags and the title.
FIELDS_EXTRA: dict[str, dict[str, Any]] = {
    "TYPE_ID": {"statusType": "DEAL_TYPE"},
    "STAGE_ID": {"statusType": "DEAL_STAGE"},
    "SOURCE_ID": {"statusType": "SOURCE"},
    "COMPANY_ID": {"settings": {"parentEntityTypeId": 4}},
    "CONTACT_ID": {"isDeprecated": True},
    "QUOTE_ID": {"settings": {"parentEntityTypeId": 7}},
    "LEAD_ID": {"settings": {"parentEntityTypeId": 1}},
}


class TestAdd:
    """crm-deal-add.md"""

    async def test_docs_example_answers_the_new_id_as_a_number(self, portal: Portal) -> None:
        response = await portal.call("crm.deal.add", ADD_EXAMPLE)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"result", "time"}
        assert isinstance(body["result"], int)
        assert not isinstance(body["result"], bool)
        assert body["result"] > 0

    async def test_lower_case_parameters_work_too(self, portal: Portal) -> None:
        deal_id = await portal.ok("crm.deal.add", {"fields": {"TITLE": "lower"}})
        assert (await portal.ok("crm.deal.get", {"id": deal_id}))["TITLE"] == "lower"

    async def test_defaults(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE, scopes=("crm",))
        caller = hook.split("/")[2]
        deal_id = await portal.ok("crm.deal.add", {"FIELDS": {}}, hook=hook)
        deal = await portal.ok("crm.deal.get", {"ID": deal_id})
        assert deal["TITLE"] == f"Deal #{deal_id}"
        assert (deal["STAGE_ID"], deal["STAGE_SEMANTIC_ID"], deal["IS_NEW"]) == ("NEW", "P", "Y")
        assert (deal["CATEGORY_ID"], deal["OPENED"], deal["CLOSED"]) == ("0", "Y", "N")
        assert (deal["CURRENCY_ID"], deal["OPPORTUNITY"], deal["TAX_VALUE"]) == (
            "USD", "0.00", "0.00"
        )  # fmt: skip
        assert deal["ASSIGNED_BY_ID"] == deal["CREATED_BY_ID"] == deal["MODIFY_BY_ID"] == caller
        assert deal["DATE_CREATE"] == deal["DATE_MODIFY"] == NOW
        # Date fields print the midnight of their day in the portal zone.
        assert deal["BEGINDATE"] == "2024-06-25T00:00:00+02:00"
        assert deal["CLOSEDATE"] == "2024-07-02T00:00:00+02:00"
        assert (deal["COMPANY_ID"], deal["CONTACT_ID"], deal["LEAD_ID"]) == ("0", "0", None)

    async def test_funnel_other_than_general_starts_in_its_own_first_stage(
        self, portal: Portal
    ) -> None:
        await deal_funnel(portal, 1)
        deal_id = await portal.ok("crm.deal.add", {"FIELDS": {"CATEGORY_ID": 1}})
        deal = await portal.ok("crm.deal.get", {"ID": deal_id})
        assert (deal["CATEGORY_ID"], deal["STAGE_ID"], deal["IS_NEW"]) == ("1", "C1:NEW", "Y")

    async def test_form_encoded_fields(self, portal: Portal) -> None:
        deal_id = await portal.ok(
            "crm.deal.add",
            form="FIELDS[TITLE]=Form+deal&FIELDS[OPPORTUNITY]=12.5"
            "&FIELDS[CONTACT_IDS][]=5&FIELDS[CONTACT_IDS][]=6&FIELDS[UF_CRM_7]=x",
        )
        deal = await portal.ok("crm.deal.get", {"ID": str(deal_id)})
        assert (deal["TITLE"], deal["OPPORTUNITY"], deal["CONTACT_ID"]) == (
            "Form deal",
            "12.50",
            "5",
        )
        assert deal["UF_CRM_7"] == "x"

    async def test_read_only_fields_are_ignored(self, portal: Portal) -> None:
        fields = {"ID": 999, "DATE_CREATE": "2020-01-01", "CREATED_BY_ID": 7, "IS_NEW": "N"}
        deal_id = await portal.ok("crm.deal.add", {"FIELDS": fields})
        deal = await portal.ok("crm.deal.get", {"ID": deal_id})
        assert deal_id != 999
        assert (deal["DATE_CREATE"], deal["CREATED_BY_ID"], deal["IS_NEW"]) == (NOW, "1", "Y")

    @pytest.mark.parametrize(
        ("params", "text"),
        [
            ({}, "Parameter 'fields' must be array."),
            ({"FIELDS": "TITLE"}, "Parameter 'fields' must be array."),
            ({"FIELDS": {}, "PARAMS": "N"}, "Parameter 'params' must be array."),
            ({"FIELDS": {"CURRENCY_ID": "XYZ"}}, 'Invalid value for the "Currency" field'),
            ({"FIELDS": {"OPPORTUNITY": "lots"}}, 'Invalid value for the "Amount" field'),
            ({"FIELDS": {"BEGINDATE": "soon"}}, 'Invalid value for the "Start Date" field'),
            ({"FIELDS": {"CONTACT_IDS": ["a"]}}, 'Invalid value for the "Contacts" field'),
        ],
    )
    async def test_errors_have_an_empty_code(
        self, portal: Portal, params: dict[str, Any], text: str
    ) -> None:
        assert await error_of(portal, "crm.deal.add", params) == legacy(text)
        assert (await portal.call("crm.deal.list", {})).json()["total"] == 0

    @pytest.mark.parametrize("value", [None, "", [], {"a": 1}])
    async def test_no_field_value_is_a_server_error(self, portal: Portal, value: Any) -> None:
        await portal.add_deal(1)
        for name in [row[0] for row in FIELDS_TABLE] + ["UF_CRM_1", "PARENT_ID_7"]:
            added = await portal.call("crm.deal.add", {"FIELDS": {name: value}})
            updated = await portal.call("crm.deal.update", {"ID": 1, "FIELDS": {name: value}})
            for response in (added, updated):
                assert response.status_code in (200, 400), (name, response.text)
                assert response.json().get("error", "") == "", name


class TestGet:
    """crm-deal-get.md"""

    async def test_docs_example_after_the_add_example(self, portal: Portal) -> None:
        deal_id = await portal.ok("crm.deal.add", ADD_EXAMPLE)
        response = await portal.call("crm.deal.get", {"ID": deal_id})
        assert response.status_code == 200
        deal = response.json()["result"]
        # The page's answer, except where it contradicts its own add request (TAX_VALUE,
        # IS_RETURN_CUSTOMER, IS_REPEATED_APPROACH, SOURCE_DESCRIPTION, the custom field's
        # capital W, bb-code added to COMMENTS) and the dates of another day and a 02:00 midnight.
        expected = {
            **GET_ANSWER,
            "ID": str(deal_id),
            "TAX_VALUE": "0.10",
            "IS_RETURN_CUSTOMER": "Y",
            "IS_REPEATED_APPROACH": "Y",
            "SOURCE_DESCRIPTION": "Additional information about the source",
            "UF_CRM_1721244482250": "Hello World!",
            "COMMENTS": "Example comment",
            "BEGINDATE": "2024-08-30T00:00:00+02:00",
            "CLOSEDATE": "2024-09-09T00:00:00+02:00",
            **{k: NOW for k in ("DATE_CREATE", "DATE_MODIFY", "MOVED_TIME", "LAST_ACTIVITY_TIME")},
        }
        assert list(deal.items()) == list(expected.items())

    async def test_every_value_is_a_string_or_null(self, portal: Portal) -> None:
        await portal.add_deal(410, opportunity=19999.999, probability=5, tax_value=1)
        deal = await portal.ok("crm.deal.get", {"ID": 410})
        assert {type(v) for v in deal.values()} <= {str, type(None)}
        assert (deal["ID"], deal["OPPORTUNITY"], deal["PROBABILITY"], deal["TAX_VALUE"]) == (
            "410", "20000.00", "5", "1.00"
        )  # fmt: skip
        assert "CONTACT_IDS" not in deal

    @pytest.mark.parametrize("params", [{}, {"ID": 0}, {"ID": "abc"}, {"ID": -4}])
    async def test_bad_id(self, portal: Portal, params: dict[str, Any]) -> None:
        assert await error_of(portal, "crm.deal.get", params) == legacy(
            "ID is not defined or invalid."
        )

    async def test_unknown_deal(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.deal.get", {"ID": 404}) == legacy("Not found")


# crm-deal-list.md, cURL (Webhook); `$(date --date='-6 months' +%Y-%m-%d)` fixed.
LIST_SELECT = ["ID", "TITLE", "TYPE_ID", "CATEGORY_ID", "STAGE_ID", "OPPORTUNITY",
               "IS_MANUAL_OPPORTUNITY", "ASSIGNED_BY_ID", "DATE_CREATE"]  # fmt: skip
LIST_EXAMPLE: dict[str, Any] = {
    "SELECT": LIST_SELECT,
    "FILTER": {"=%TITLE": "%a", "CATEGORY_ID": 1, "TYPE_ID": "COMPLEX", "STAGE_ID": "C1:NEW",
               ">OPPORTUNITY": 10000, "<=OPPORTUNITY": 20000, "IS_MANUAL_OPPORTUNITY": "Y",
               "@ASSIGNED_BY_ID": [1, 6], ">DATE_CREATE": "2023-12-25"},
    "ORDER": {"TITLE": "ASC", "OPPORTUNITY": "ASC"},
}  # fmt: skip


class TestList:
    """crm-deal-list.md"""

    async def seed(self, portal: Portal, title: str, amount: float, **more: Any) -> int:
        fields = {"TITLE": title, "TYPE_ID": "COMPLEX", "CATEGORY_ID": 1, "OPPORTUNITY": amount,
                  "IS_MANUAL_OPPORTUNITY": "Y", "ASSIGNED_BY_ID": 6, **more}  # fmt: skip
        return int(await portal.ok("crm.deal.add", {"FIELDS": fields}))

    async def test_docs_example(self, portal: Portal) -> None:
        await deal_funnel(portal, 1)
        wanted = [
            await self.seed(portal, "[V] Vodka", 11500),
            await self.seed(portal, "[A] Pasta", 20000, ASSIGNED_BY_ID=1),
            await self.seed(portal, "[B] Salsa", 12500),
            await self.seed(portal, "[A] Pasta", 19999.99),
        ]
        await self.seed(portal, "[A] Deal", 15000)  # does not end with "a"
        await self.seed(portal, "[A] Pizza", 9000)  # amount out of range
        await self.seed(portal, "[A] Pizza", 15000, ASSIGNED_BY_ID=7)
        await self.seed(portal, "[A] Pizza", 15000, CATEGORY_ID=0)
        await self.seed(portal, "[A] Pizza", 15000, IS_MANUAL_OPPORTUNITY="N")
        response = await portal.call("crm.deal.list", LIST_EXAMPLE)
        body = response.json()
        assert list(body) == ["result", "total", "time"]
        assert body["total"] == 4
        rows = body["result"]
        assert [int(r["ID"]) for r in rows] == [wanted[3], wanted[1], wanted[2], wanted[0]]
        for row in rows:
            assert list(row) == LIST_SELECT
            assert {type(v) for v in row.values()} == {str}
        assert rows[0] == {
            "ID": str(wanted[3]), "TITLE": "[A] Pasta", "TYPE_ID": "COMPLEX", "CATEGORY_ID": "1",
            "STAGE_ID": "C1:NEW", "OPPORTUNITY": "19999.99", "IS_MANUAL_OPPORTUNITY": "Y",
            "ASSIGNED_BY_ID": "6", "DATE_CREATE": NOW,
        }  # fmt: skip

    async def test_default_select_is_every_field_and_custom_fields(self, portal: Portal) -> None:
        deal_id = await portal.ok("crm.deal.add", ADD_EXAMPLE)
        (row,) = await portal.ok("crm.deal.list", {})
        assert row == await portal.ok("crm.deal.get", {"ID": deal_id})
        assert "UF_CRM_1721244482250" in row
        assert "CONTACT_IDS" not in row

    @pytest.mark.parametrize(
        ("select", "has_uf", "has_title"),
        [
            (["*"], False, True),
            (["*", "UF_*"], True, True),
            (["ID", "UF_CRM_1721244482250"], True, False),
            (["uf_*"], True, False),
        ],
    )
    async def test_select_masks(
        self, portal: Portal, select: list[str], has_uf: bool, has_title: bool
    ) -> None:
        await portal.ok("crm.deal.add", ADD_EXAMPLE)
        (row,) = await portal.ok("crm.deal.list", {"SELECT": select})
        assert ("UF_CRM_1721244482250" in row) is has_uf
        assert ("TITLE" in row) is has_title

    async def test_contact_ids_are_never_returned(self, portal: Portal) -> None:
        await portal.ok("crm.deal.add", ADD_EXAMPLE)
        rows = await portal.ok("crm.deal.list", {"SELECT": ["CONTACT_IDS", "CONTACT_ID"]})
        assert rows == [{"CONTACT_ID": "84"}]

    async def test_pages_of_fifty_with_next_only_while_rows_remain(self, portal: Portal) -> None:
        for _ in range(120):
            await portal.add_deal()
        first = (await portal.call("crm.deal.list", {"select": ["ID"]})).json()
        assert (len(first["result"]), first["total"], first["next"]) == (50, 120, 50)
        last = (await portal.call("crm.deal.list", {"select": ["ID"], "start": 100})).json()
        assert (len(last["result"]), last["total"], last["result"][0]["ID"]) == (20, 120, "101")
        assert "next" not in last

    async def test_not_like_prefixes_work_though_the_page_lists_none(self, portal: Portal) -> None:
        await portal.add_deal(1, title="Alpha")
        await portal.add_deal(2, title="Beta")
        rows = await portal.ok("crm.deal.list", {"filter": {"!%TITLE": "alp"}, "select": ["ID"]})
        assert rows == [{"ID": "2"}]

    async def test_custom_fields_filter_by_their_stored_values(self, portal: Portal) -> None:
        """crm-deal-list.md filters on any deal field, custom ones included (integrations keep
        a shop's order number in one). orderlink keeps no user-field types, so values compare
        as text, `<`/`>` as numbers when the filter value is one, and a multiple field matches
        on any of its values (docs/decisions.md)."""
        stored: list[tuple[str, Any]] = [
            ("a", "5125"), ("b", "5127"), ("c", ["red", "5130"]), ("d", None), ("e", 5125),
        ]  # fmt: skip
        for title, value in stored:
            fields = {"TITLE": title} | ({} if value is None else {"UF_CRM_SHOP_ORDER": value})
            await portal.ok("crm.deal.add", {"FIELDS": fields})

        async def titles(filter_: dict[str, Any]) -> list[str]:
            rows = await portal.ok(
                "crm.deal.list", {"FILTER": filter_, "SELECT": ["TITLE"], "ORDER": {"ID": "ASC"}}
            )
            return [row["TITLE"] for row in rows]

        assert await titles({"UF_CRM_SHOP_ORDER": 5125}) == ["a", "e"]
        assert await titles({"=UF_CRM_SHOP_ORDER": "red"}) == ["c"]
        assert await titles({"@UF_CRM_SHOP_ORDER": ["5127", "5130"]}) == ["b", "c"]
        assert await titles({"!UF_CRM_SHOP_ORDER": "5125"}) == ["b", "c", "d"]
        assert await titles({"!@UF_CRM_SHOP_ORDER": ["5125", "red"]}) == ["b", "d"]
        assert await titles({">UF_CRM_SHOP_ORDER": 5126}) == ["b", "c"]  # 5130, not "red"
        assert await titles({"<=UF_CRM_SHOP_ORDER": "5127"}) == ["a", "b", "e"]
        assert await titles({"%UF_CRM_SHOP_ORDER": "513"}) == ["c"]
        assert await titles({"UF_CRM_SHOP_ORDER": ""}) == ["d"]
        assert await titles({"!UF_CRM_SHOP_ORDER": ""}) == ["a", "b", "c", "e"]
        assert await titles({"uf_crm_shop_order": "5127", "TITLE": "b"}) == ["b"]
        assert await titles({"UF_CRM_NEVER_SET": "x"}) == []

    @pytest.mark.parametrize(
        ("params", "text"),
        [
            ({"FILTER": "ID"}, "Parameter 'filter' must be array."),
            ({"ORDER": "ID"}, "Parameter 'order' must be array."),
            (
                {"FILTER": {"UF_CRM_1": {"a": 1}}},
                "Invalid filter: field 'UF_CRM_1' has invalid value",
            ),
            (
                {"FILTER": {"UF_CRM_1 OR 1=1": 1}},
                "Invalid filter: field 'UF_CRM_1 OR 1=1' is not allowed in filter",
            ),
        ],
    )
    async def test_errors(self, portal: Portal, params: dict[str, Any], text: str) -> None:
        assert await error_of(portal, "crm.deal.list", params) == legacy(text)


# crm-deal-update.md, cURL (Webhook); `IS_RECCURING` is the page's typo, an unknown field.
UPDATE_EXAMPLE: dict[str, Any] = {"ID": 123, "FIELDS": {
    "TITLE": "New Deal Title!", "TYPE_ID": "GOODS", "STAGE_ID": "WON", "IS_RECCURING": "Y",
    "IS_RETURN_CUSTOMER": "Y", "OPPORTUNITY": 9999.99, "IS_MANUAL_OPPORTUNITY": "Y",
    "ASSIGNED_BY_ID": 1, "UF_CRM_1725365197310": "String", "PARENT_ID_1032": 1,
}, "PARAMS": {"REGISTER_SONET_EVENT": "N", "REGISTER_HISTORY_EVENT": "N"}}  # fmt: skip


class TestUpdate:
    """crm-deal-update.md"""

    async def test_docs_example_answers_true(self, portal: Portal, clock: FrozenClock) -> None:
        await portal.add_deal(123, user_fields='{"UF_CRM_1": "kept"}')
        clock.advance(60)
        response = await portal.call("crm.deal.update", UPDATE_EXAMPLE)
        assert response.status_code == 200
        assert response.json()["result"] is True
        deal = await portal.ok("crm.deal.get", {"ID": 123})
        assert (deal["TITLE"], deal["TYPE_ID"], deal["OPPORTUNITY"]) == (
            "New Deal Title!", "GOODS", "9999.99"
        )  # fmt: skip
        # WON is a success stage: the deal is closed (main-entities-fields.md).
        assert (deal["STAGE_ID"], deal["STAGE_SEMANTIC_ID"], deal["CLOSED"]) == ("WON", "S", "Y")
        assert (deal["IS_RECURRING"], deal["IS_RETURN_CUSTOMER"]) == ("N", "Y")
        assert (deal["UF_CRM_1725365197310"], deal["UF_CRM_1"]) == ("String", "kept")
        assert deal["PARENT_ID_1032"] == "1"
        assert (deal["DATE_MODIFY"], deal["MOVED_TIME"]) == (("2024-06-25T13:44:26+02:00",) * 2)

    async def test_funnel_does_not_change_through_crm_deal(self, portal: Portal) -> None:
        await portal.add_deal(123)
        await portal.ok("crm.deal.update", {"ID": 123, "FIELDS": {"CATEGORY_ID": 5}})
        assert (await portal.ok("crm.deal.get", {"ID": 123}))["CATEGORY_ID"] == "0"

    @pytest.mark.parametrize("stage", [None, ""])
    async def test_an_empty_stage_keeps_the_current_one(self, portal: Portal, stage: Any) -> None:
        await portal.add_deal(123, stage_id="EXECUTING")
        await portal.ok("crm.deal.update", {"ID": 123, "FIELDS": {"STAGE_ID": stage}})
        assert (await portal.ok("crm.deal.get", {"ID": 123}))["STAGE_ID"] == "EXECUTING"

    async def test_unlinking_a_parent(self, portal: Portal) -> None:
        await portal.add_deal(123, parents='{"1032": 1}')
        await portal.ok("crm.deal.update", {"ID": 123, "FIELDS": {"PARENT_ID_1032": ""}})
        assert "PARENT_ID_1032" not in await portal.ok("crm.deal.get", {"ID": 123})

    @pytest.mark.parametrize(
        ("params", "text"),
        [
            ({"FIELDS": {"TITLE": "x"}}, "ID is not defined or invalid."),
            ({"ID": 123}, "Parameter 'fields' must be array."),
            ({"ID": 124, "FIELDS": {"TITLE": "x"}}, "Not found"),
            (
                {"ID": 123, "FIELDS": {"CURRENCY_ID": "XXX"}},
                'Invalid value for the "Currency" field',
            ),
        ],
    )
    async def test_errors(self, portal: Portal, params: dict[str, Any], text: str) -> None:
        await portal.add_deal(123)
        assert await error_of(portal, "crm.deal.update", params) == legacy(text)


class TestDelete:
    """crm-deal-delete.md"""

    async def test_docs_example_answers_true_then_not_found(self, portal: Portal) -> None:
        await portal.add_deal(12)
        response = await portal.call("crm.deal.delete", {"ID": 12})
        assert response.status_code == 200
        assert response.json()["result"] is True
        assert await error_of(portal, "crm.deal.delete", {"ID": 12}) == legacy("Not found")

    async def test_bad_id(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.deal.delete", {"id": "x"}) == legacy(
            "ID is not defined or invalid."
        )

    async def test_deleting_a_deal_deletes_the_bindings_to_it(self, portal: Portal) -> None:
        await portal.add_deal(6933)
        for order_id in (5125, 5127):
            await portal.add_order(order_id)
            fields = {"orderId": order_id, "ownerId": 6933, "ownerTypeId": 2}
            await portal.ok("crm.orderentity.add", {"fields": fields})
        await portal.ok("crm.deal.delete", {"ID": 6933})
        listed = await portal.ok("crm.orderentity.list", {"filter": {"ownerTypeId": 2}})
        assert listed == {"orderEntity": []}

    async def test_invoices_of_a_deleted_deal_lose_their_link(self, portal: Portal) -> None:
        await portal.add_deal(6933)
        invoice = await portal.add_invoice(parent_id2=6933)
        await portal.ok("crm.deal.delete", {"ID": 6933})
        item = await portal.ok("crm.item.get", {"entityTypeId": 31, "id": invoice})
        assert item["item"]["parentId2"] is None


class TestFields:
    """crm-deal-fields.md"""

    async def test_descriptors_exactly(self, portal: Portal) -> None:
        response = await portal.call("crm.deal.fields", {})
        assert response.status_code == 200
        result = response.json()["result"]
        expected = {}
        for name, type_, ro, imm, mult, title in FIELDS_TABLE:
            extra = FIELDS_EXTRA.get(name, {})
            descriptor: dict[str, Any] = {
                "type": type_, "isRequired": False, "isReadOnly": ro, "isImmutable": imm,
                "isMultiple": mult, "isDynamic": False,
            }  # fmt: skip
            descriptor.update({k: v for k, v in extra.items() if k != "settings"})
            descriptor["title"] = title
            descriptor.update({k: v for k, v in extra.items() if k == "settings"})
            expected[name] = descriptor
        assert result == expected
        assert list(result) == [row[0] for row in FIELDS_TABLE]
        for name in ("TYPE_ID", "COMPANY_ID", "CONTACT_ID"):
            assert list(result[name]) == list(expected[name]), name
