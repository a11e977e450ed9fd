"""crm.item.* for smart invoices (31) and deals (2) over the wire: camelCase, typed values.

Pages: api-reference/crm/universal/crm-item-{add,get,list,update,delete,fields}.md,
api-reference/crm/universal/{object-fields,invoice,index}.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.clock import FrozenClock
from orderlink.registry import Role
from orderlink.settings import Settings

from .conftest import Portal, deal_funnel, error_of

pytestmark = pytest.mark.anyio

NOW = "2024-06-25T13:43:26+02:00"  # the frozen clock in the portal zone
LATER = "2024-06-25T13:44:26+02:00"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A portal two hours east of UTC, as the docs' examples are."""
    return Settings(database=database_url, rate_limit=False, timezone="+02:00")


# crm-item-add.md, example 1, cURL (Webhook). `isReccurring` is the page's typo; its placeholder
# dates `formatDate(monthAgo)` / `formatDate(twelveDaysInAdvance)` are replaced by real ones.
ADD_EXAMPLE: dict[str, Any] = {"entityTypeId": 2, "fields": {
    "title": "New deal (specifically for REST method examples)", "typeId": "SERVICE",
    "categoryId": 9, "stageId": "C9:UC_KN8KFI", "isReccurring": "Y", "probability": 50,
    "currencyId": "EUR", "isManualOpportunity": "Y", "opportunity": 999.99, "taxValue": 99.9,
    "companyId": 5, "contactId": 4, "contactIds": [4, 5], "quoteId": 7,
    "begindate": "2024-05-25", "closedate": "2024-07-07", "opened": "N",
    "comments": "commentsExample", "assignedById": 6, "sourceId": "WEB",
    "sourceDescription": "There should be an additional description about the source",
    "leadId": 102, "additionalInfo": "There should be additional information",
    "observers": [2, 3], "utmSource": "google", "utmMedium": "CPC",
    "ufCrm_1721244707107": 1111.1, "parentId1220": 2,
}}  # fmt: skip

# crm-item-add.md's answer, verbatim and in its order (its comments come from another deal).
ADD_ANSWER: dict[str, Any] = {
    "id": 342, "createdTime": "2024-07-18T14:00:14+02:00", "dateCreateShort": None,
    "updatedTime": "2024-07-18T14:00:14+02:00", "dateModifyShort": None, "createdBy": 1,
    "updatedBy": 1, "assignedById": 6, "opened": "N", "leadId": 102, "companyId": 5,
    "contactId": 4, "quoteId": 7, "title": "New deal (specifically for rest method examples)",
    "productId": None, "categoryId": 9, "stageId": "C9:UC_KN8KFI", "stageSemanticId": "P",
    "isNew": "N", "isRecurring": "N", "isReturnCustomer": "N", "isRepeatedApproach": "Y",
    "closed": "N", "typeId": "SERVICE", "opportunity": 999.99, "isManualOpportunity": "Y",
    "taxValue": 0, "currencyId": "EUR", "probability": 50, "comments": "\nExample comment...",
    "begindate": "2024-06-18T02:00:00+02:00", "begindateShort": None,
    "closedate": "2024-07-30T02:00:00+02:00", "closedateShort": None, "eventDate": None,
    "eventDateShort": None, "eventId": None, "eventDescription": None, "locationId": None,
    "webformId": None, "sourceId": "WEB",
    "sourceDescription": "There should be an additional description about the source",
    "originatorId": None, "originId": None,
    "additionalInfo": "There should be additional information", "searchContent": None,
    "orderStage": None, "movedBy": 1, "movedTime": "2024-07-18T14:00:14+02:00",
    "lastActivityBy": 1, "lastActivityTime": "2024-07-18T14:00:14+02:00", "isWork": None,
    "isWon": None, "isLose": None, "receivedAmount": None, "lostAmount": None,
    "hasProducts": None, "ufCrm_1721244707107": 1111.1, "parentId1220": 2,
    "utmSource": "google", "utmMedium": "CPC", "utmCampaign": None, "utmContent": None,
    "utmTerm": None, "observers": [2, 3], "contactIds": [4, 5], "entityTypeId": 2,
}  # fmt: skip
DEAL_KEYS = [k for k in ADD_ANSWER if k not in ("ufCrm_1721244707107", "parentId1220")]

INVOICE_KEYS = [
    "id", "xmlId", "title", "createdBy", "updatedBy", "movedBy", "createdTime", "updatedTime",
    "movedTime", "categoryId", "opened", "stageId", "previousStageId", "begindate", "closedate",
    "companyId", "contactId", "opportunity", "isManualOpportunity", "taxValue", "currencyId",
    "mycompanyId", "sourceId", "sourceDescription", "webformId", "assignedById",
    "lastActivityBy", "lastActivityTime", "accountNumber", "comments", "locationId", "parentId2",
    "utmSource", "utmMedium", "utmCampaign", "utmContent", "utmTerm", "observers", "contactIds",
    "entityTypeId",
]  # fmt: skip

# crm-item-fields.md (smart process 1268): the descriptors smart invoices share, as printed
# there: (type, isRequired, isReadOnly, isMultiple, title, upperName[, extra keys]).
SPA_FIELDS: dict[str, tuple[Any, ...]] = {
    "id": ("integer", False, True, False, "ID", "ID"),
    "title": ("string", False, False, False, "Name", "TITLE"),
    "xmlId": ("string", False, False, False, "External code", "XML_ID"),
    "createdTime": ("datetime", False, True, False, "Created at", "CREATED_TIME"),
    "updatedTime": ("datetime", False, True, False, "Updated at", "UPDATED_TIME"),
    "createdBy": ("user", False, True, False, "Created by", "CREATED_BY"),
    "updatedBy": ("user", False, True, False, "Updated by", "UPDATED_BY"),
    "assignedById": ("user", False, False, False, "Assigned to", "ASSIGNED_BY_ID"),
    "opened": ("boolean", True, False, False, "Publicly available", "OPENED"),
    "webformId": ("integer", False, False, False, "Created by CRM form", "WEBFORM_ID"),
    "begindate": ("date", False, False, False, "Start date", "BEGINDATE"),
    "closedate": ("date", False, False, False, "End date", "CLOSEDATE"),
    "companyId": ("crm_company", False, False, False, "Company", "COMPANY_ID",
                  {"settings": {"parentEntityTypeId": 4}}),
    "contactId": ("crm_contact", False, False, False, "Contact", "CONTACT_ID",
                  {"isDeprecated": True}),
    "contactIds": ("crm_contact", False, False, True, "CONTACT_IDS", "CONTACT_IDS"),
    "observers": ("user", False, False, True, "Observers", "OBSERVERS"),
    "categoryId": ("crm_category", False, False, False, "Pipeline", "CATEGORY_ID"),
    "movedTime": ("datetime", False, True, False, "Moved at", "MOVED_TIME"),
    "movedBy": ("user", False, True, False, "Moved by", "MOVED_BY"),
    "sourceId": ("crm_status", False, False, False, "Source", "SOURCE_ID",
                 {"statusType": "SOURCE"}),
    "sourceDescription": ("text", False, False, False, "Additional source info",
                          "SOURCE_DESCRIPTION"),
    "currencyId": ("crm_currency", False, False, False, "Currency", "CURRENCY_ID"),
    "isManualOpportunity": ("boolean", False, False, False, "Amount calculation mode",
                            "IS_MANUAL_OPPORTUNITY"),
    "opportunity": ("double", False, False, False, "Amount", "OPPORTUNITY"),
    "taxValue": ("double", False, False, False, "Tax amount", "TAX_VALUE"),
    "mycompanyId": ("crm_company", False, False, False, "Your company details", "MYCOMPANY_ID",
                    {"settings": {"isMyCompany": True, "parentEntityTypeId": 4,
                                  "isEmbeddedEditorEnabled": True}}),
    "lastActivityBy": ("user", False, True, False, "Last activity in timeline by",
                       "LAST_ACTIVITY_BY"),
    "lastActivityTime": ("datetime", False, True, False, "Last activity", "LAST_ACTIVITY_TIME"),
    "parentId2": ("crm_entity", False, False, False, "Deal", "PARENT_ID_2",
                  {"settings": {"parentEntityTypeId": 2}}),
}  # fmt: skip


async def new_invoice(portal: Portal, **fields: Any) -> dict[str, Any]:
    result = await portal.ok("crm.item.add", {"entityTypeId": 31, "fields": fields})
    return dict(result["item"])


class TestAdd:
    """crm-item-add.md"""

    async def test_docs_example_answers_the_documented_deal(self, portal: Portal) -> None:
        await deal_funnel(portal, 9, "UC_KN8KFI")
        response = await portal.call("crm.item.add", ADD_EXAMPLE)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"result", "time"}
        item = body["result"]["item"]
        # The answer as printed, except where it contradicts its own request (title
        # lower-cased, taxValue 0 for 99.9, isRepeatedApproach "Y" never sent, other
        # comments), the save time, and the dates: other days, and midnight printed as 02:00.
        expected = {
            **ADD_ANSWER,
            "id": item["id"],
            "title": ADD_EXAMPLE["fields"]["title"],
            "taxValue": 99.9,
            "isRepeatedApproach": "N",
            "comments": "commentsExample",
            "begindate": "2024-05-25T00:00:00+02:00",
            "closedate": "2024-07-07T00:00:00+02:00",
            **{k: NOW for k in ("createdTime", "updatedTime", "movedTime", "lastActivityTime")},
        }
        assert list(item.items()) == list(expected.items())

    async def test_deal_defaults(self, portal: Portal) -> None:
        hook = await portal.webhook_for(Role.NONE, scopes=("crm",))
        caller = int(hook.split("/")[2])
        result = await portal.ok("crm.item.add", {"entityTypeId": 2, "fields": {}}, hook=hook)
        item = result["item"]
        assert list(item) == DEAL_KEYS
        assert item["title"] == f"Deal #{item['id']}"
        assert (item["stageId"], item["categoryId"], item["opened"]) == ("NEW", 0, "Y")
        assert item["assignedById"] == item["createdBy"] == item["updatedBy"] == caller
        assert (item["begindate"], item["closedate"]) == (
            "2024-06-25T00:00:00+02:00", "2024-07-02T00:00:00+02:00"
        )  # fmt: skip
        assert (item["opportunity"], item["currencyId"], item["entityTypeId"]) == (0, "USD", 2)
        assert (item["observers"], item["contactIds"]) == ([], [])

    async def test_invoice_defaults(self, portal: Portal) -> None:
        item = await new_invoice(portal)
        assert list(item) == INVOICE_KEYS
        assert item["title"] == f"Invoice #{item['id']}"
        assert (item["stageId"], item["opened"], item["assignedById"]) == ("DT31_0:N", "Y", 1)
        assert (item["createdBy"], item["updatedBy"], item["createdTime"]) == (1, 1, NOW)
        assert (item["begindate"], item["closedate"]) == (
            "2024-06-25T00:00:00+02:00", "2024-07-02T00:00:00+02:00"
        )  # fmt: skip
        assert (item["parentId2"], item["previousStageId"], item["entityTypeId"]) == (
            None,
            None,
            31,
        )

    async def test_parent_id2_links_an_invoice_to_a_deal(self, portal: Portal) -> None:
        deal = await portal.add_deal()
        item = await new_invoice(portal, parentId2=deal, opportunity="150.5", title="Bill")
        assert (item["parentId2"], item["opportunity"], item["title"]) == (deal, 150.5, "Bill")
        listed = await portal.ok(
            "crm.item.list", {"entityTypeId": 31, "filter": {"parentId2": deal}, "select": ["id"]}
        )
        assert listed == {"items": [{"id": item["id"]}]}

    async def test_form_encoded_fields(self, portal: Portal) -> None:
        result = await portal.ok(
            "crm.item.add",
            form="entityTypeId=31&fields[title]=Form&fields[opportunity]=12.50"
            "&fields[observers][]=3&fields[isManualOpportunity]=Y&fields[ufCrm_7]=x",
        )
        item = result["item"]
        assert (item["title"], item["opportunity"], item["observers"]) == ("Form", 12.5, [3])
        assert (item["isManualOpportunity"], item["ufCrm_7"]) == ("Y", "x")

    async def test_original_uf_names_on_request(self, portal: Portal) -> None:
        await deal_funnel(portal, 9, "UC_KN8KFI")
        params = {**ADD_EXAMPLE, "useOriginalUfNames": "Y"}
        item = (await portal.ok("crm.item.add", params))["item"]
        assert item["UF_CRM_1721244707107"] == 1111.1
        assert "ufCrm_1721244707107" not in item

    @pytest.mark.parametrize(
        ("fields", "error", "text"),
        [
            ({"parentId2": 999}, "CRM_FIELD_ERROR_VALUE_NOT_VALID",
             'Invalid value for field "parentId2"'),
            ({"opportunity": "lots"}, "CRM_FIELD_ERROR_VALUE_NOT_VALID",
             'Invalid value for field "opportunity"'),
            ({"currencyId": "XYZ"}, "CRM_FIELD_ERROR_VALUE_NOT_VALID",
             'Invalid value for field "currencyId"'),
            ({"begindate": "formatDate(monthAgo)"}, "CRM_FIELD_ERROR_VALUE_NOT_VALID",
             'Invalid value for field "begindate"'),
            ({"observers": 5}, "100",
             "Expected iterable value for multiple field, but got integer instead"),
            ({"contactIds": "5"}, "100",
             "Expected iterable value for multiple field, but got string instead"),
        ],
    )  # fmt: skip
    async def test_bad_values(self, portal: Portal, fields: Any, error: Any, text: str) -> None:
        body = await error_of(portal, "crm.item.add", {"entityTypeId": 31, "fields": fields})
        assert body == {"error": error, "error_description": text}
        assert (await portal.call("crm.item.list", {"entityTypeId": 31})).json()["total"] == 0

    @pytest.mark.parametrize("value", [None, "", [], {"a": 1}])
    async def test_no_field_value_is_a_server_error(self, portal: Portal, value: Any) -> None:
        await portal.add_deal(1)
        await portal.add_invoice(1)
        for type_id, keys in ((2, DEAL_KEYS), (31, INVOICE_KEYS)):
            for name in [*keys, "ufCrm_1", "parentId7"]:
                fields = {name: value}
                added = await portal.call(
                    "crm.item.add", {"entityTypeId": type_id, "fields": fields}
                )
                params = {"entityTypeId": type_id, "id": 1, "fields": fields}
                updated = await portal.call("crm.item.update", params)
                for response in (added, updated):
                    assert response.status_code in (200, 400), (name, response.text)
                    codes = ("CRM_FIELD_ERROR_VALUE_NOT_VALID", 100, "")
                    assert response.json().get("error", "") in codes, name

    async def test_huge_amounts_stay_numbers(self, portal: Portal) -> None:
        item = await new_invoice(portal, opportunity="1" + "0" * 30)
        assert item["opportunity"] == 1e30

    async def test_missing_fields_is_code_100(self, portal: Portal) -> None:
        """As a string: every crm-item-*.md error example prints `"error": "100"` (issue 12)."""
        assert await error_of(portal, "crm.item.add", {"entityTypeId": 31}) == {
            "error": "100",
            "error_description": "Could not find value for parameter {fields}",
        }


class TestEntityTypes:
    """invoice.md and the NOT_FOUND rows of every crm-item-*.md page"""

    @pytest.mark.parametrize("method", ["crm.item.add", "crm.item.get", "crm.item.list",
                                        "crm.item.update", "crm.item.delete", "crm.item.fields"])  # fmt: skip
    async def test_old_invoices_are_not_supported(self, portal: Portal, method: str) -> None:
        body = await error_of(portal, method, {"entityTypeId": 5, "id": 1, "fields": {}})
        assert body == {
            "error": "ENTITY_TYPE_NOT_SUPPORTED",
            "error_description": "Entity type INVOICE is not supported",
        }

    @pytest.mark.parametrize("type_id", [1268, 1, "abc", 0])
    async def test_other_types_are_an_unknown_smart_process(
        self, portal: Portal, type_id: Any
    ) -> None:
        body = await error_of(portal, "crm.item.add", {"entityTypeId": type_id, "fields": {}})
        assert body == {"error": "NOT_FOUND", "error_description": "Smart process not found"}

    async def test_missing_type_is_code_100(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.item.get", {"id": 1}) == {
            "error": "100",
            "error_description": "Could not find value for parameter {entityTypeId}",
        }


class TestGet:
    """crm-item-get.md"""

    async def test_deal_is_the_row_crm_deal_wrote(self, portal: Portal) -> None:
        deal_id = await portal.ok(
            "crm.deal.add", {"fields": {"TITLE": "Legacy", "OPPORTUNITY": 10, "UF_CRM_5": "u"}}
        )
        params = {"entityTypeId": 2, "id": deal_id, "useOriginalUfNames": "N"}
        response = await portal.call("crm.item.get", params)
        assert response.status_code == 200
        item = response.json()["result"]["item"]
        assert list(item) == [*DEAL_KEYS[:57], "ufCrm_5", *DEAL_KEYS[57:]]
        assert (item["id"], item["title"], item["opportunity"], item["ufCrm_5"]) == (
            deal_id, "Legacy", 10, "u"
        )  # fmt: skip

    async def test_invoice_types(self, portal: Portal) -> None:
        created = await new_invoice(portal, taxValue=1.5, observers=[1], begindate="2024-07-01")
        item = (await portal.ok("crm.item.get", {"entityTypeId": "31", "id": created["id"]}))[
            "item"
        ]
        assert item == created
        assert (item["taxValue"], item["observers"], item["begindate"]) == (
            1.5, [1], "2024-07-01T00:00:00+02:00"
        )  # fmt: skip

    @pytest.mark.parametrize("params", [{"entityTypeId": 31, "id": 404}, {"entityTypeId": 31}])
    async def test_unknown_item(self, portal: Portal, params: Any) -> None:
        assert await error_of(portal, "crm.item.get", params) == {
            "error": "NOT_FOUND",
            "error_description": "Element not found",
        }


class TestList:
    """crm-item-list.md"""

    async def test_items_in_the_entity_order_whatever_the_select_order(
        self, portal: Portal
    ) -> None:
        deal = await portal.add_deal(title="T", date_create=1719315806)
        body = (
            await portal.call(
                "crm.item.list",
                {"entityTypeId": 2, "select": ["title", "createdTime", "id"],
                 "filter": {">=createdTime": "2024-06-25T00:00:00+02:00",
                            "<createdTime": "2024-06-26T00:00:00+02:00"}},
            )
        ).json()  # fmt: skip
        assert body["result"] == {"items": [{"id": deal, "createdTime": NOW, "title": "T"}]}
        assert body["total"] == 1

    async def test_docs_example_with_or_groups(self, portal: Portal) -> None:
        inside = await portal.add_deal(date_create=1730325600)  # 2024-10-31 00:00 +02:00
        await portal.add_deal(date_create=1719315806)
        params = {"entityTypeId": 2, "select": ["id", "title", "createdTime"], "filter": {"0": {
            "logic": "OR",
            "0": {">=createdTime": "2025-10-31T00:00:00+02:00",
                  "<createdTime": "2025-11-01T00:00:00+02:00"},
            "1": {">=createdTime": "2024-10-31T00:00:00+02:00",
                  "<createdTime": "2024-11-01T00:00:00+02:00"},
        }}}  # fmt: skip
        result = await portal.ok("crm.item.list", params)
        assert [i["id"] for i in result["items"]] == [inside]

    async def test_groups_nest_and_combine_with_plain_conditions(self, portal: Portal) -> None:
        a = await portal.add_deal(title="alpha", opportunity=10)
        b = await portal.add_deal(title="beta", opportunity=20)
        await portal.add_deal(title="gamma", opportunity=30)
        params = {"entityTypeId": 2, "select": ["id"], "order": {"id": "ASC"}, "filter": {
            "<opportunity": 30,
            "0": {"logic": "or", "0": {"title": "alpha"}, "1": {"logic": "and", "0": {"title": "beta"},
                                                               "1": {">opportunity": 15}}},
        }}  # fmt: skip
        result = await portal.ok("crm.item.list", params)
        assert [i["id"] for i in result["items"]] == [a, b]

    @pytest.mark.parametrize("logic", ["XOR", ""])
    async def test_unknown_logic_is_refused(self, portal: Portal, logic: str) -> None:
        body = await error_of(portal, "crm.item.list", {
            "entityTypeId": 2, "filter": {"0": {"logic": logic, "title": "x"}}})  # fmt: skip
        assert body["error"] == "INVALID_ARG_VALUE"

    async def test_custom_fields_by_name_and_with_star(self, portal: Portal) -> None:
        await new_invoice(portal, ufCrm_9=[1, 2], title="A")
        only = await portal.ok("crm.item.list", {"entityTypeId": 31, "select": ["ufCrm_9"]})
        assert only == {"items": [{"ufCrm_9": [1, 2]}]}
        (every,) = (await portal.ok("crm.item.list", {"entityTypeId": 31, "select": ["*"]}))[
            "items"
        ]
        assert list(every) == [*INVOICE_KEYS[:32], "ufCrm_9", *INVOICE_KEYS[32:]]

    async def test_custom_fields_filter_in_either_spelling_and_inside_groups(
        self, portal: Portal
    ) -> None:
        """As on crm.deal.list (docs/decisions.md): a custom field filters by its stored values
        (any value of a multiple one), named `ufCrm_9` or `UF_CRM_9`, in OR groups too."""
        a = (await new_invoice(portal, ufCrm_9=[1, 2], title="A"))["id"]
        b = (await new_invoice(portal, ufCrm_9=3, title="B"))["id"]
        c = (await new_invoice(portal, title="C"))["id"]

        async def ids(filter_: dict[str, Any]) -> list[int]:
            params = {"entityTypeId": 31, "select": ["id"], "order": {"id": "ASC"}}
            result = await portal.ok("crm.item.list", {**params, "filter": filter_})
            return [item["id"] for item in result["items"]]

        assert await ids({"ufCrm_9": 2}) == [a]
        assert await ids({">=ufCrm_9": 2}) == [a, b]
        assert await ids({"UF_CRM_9": "3"}) == [b]
        assert await ids({"!ufCrm_9": 1}) == [b, c]
        assert await ids({"0": {"logic": "OR", "0": {"ufCrm_9": 1}, "1": {"title": "C"}}}) == [
            a,
            c,
        ]

    @pytest.mark.parametrize(
        ("params", "text"),
        [
            ({"filter": {"FIELD": 1}}, "Invalid filter: field 'FIELD' is not allowed in filter"),
            ({"filter": {">id": "x"}}, "Invalid filter: field 'id' has invalid value"),
            ({"order": {"id": "up"}},
             "Invalid order: allowed sort directions are ASC, DESC. But got 'up' for field 'id'"),
        ],
    )  # fmt: skip
    async def test_errors_are_invalid_arg_value(
        self, portal: Portal, params: dict[str, Any], text: str
    ) -> None:
        body = await error_of(portal, "crm.item.list", {"entityTypeId": 31, **params})
        assert body == {"error": "INVALID_ARG_VALUE", "error_description": text}

    async def test_pages_of_fifty_with_next_only_while_rows_remain(self, portal: Portal) -> None:
        for _ in range(60):
            await portal.add_invoice()
        params: dict[str, Any] = {"entityTypeId": 31, "select": ["id"], "order": {"id": "desc"}}
        first = (await portal.call("crm.item.list", params)).json()
        assert (len(first["result"]["items"]), first["total"], first["next"]) == (50, 60, 50)
        assert first["result"]["items"][0] == {"id": 60}
        last = (await portal.call("crm.item.list", {**params, "start": 50})).json()
        assert (len(last["result"]["items"]), last["total"]) == (10, 60)
        assert "next" not in last


# crm-item-update.md, cURL (Webhook)
UPDATE_EXAMPLE: dict[str, Any] = {"entityTypeId": 2, "id": 351, "fields": {
    "title": "REST Deal #1", "stageId": "C9:UC_NYL06U", "assignedById": 6, "observers": [1, 2, 3],
    "opened": "N", "typeId": "SERVICE", "opportunity": 10000, "currencyId": "USD",
    "additionalInfo": "Changing a deal via REST", "isManualOpportunity": "N",
    "utmSource": "google", "ufCrm_1721244707107": 200.05, "parentId1220": 2,
}}  # fmt: skip


class TestUpdate:
    """crm-item-update.md"""

    async def test_docs_example(self, portal: Portal, clock: FrozenClock) -> None:
        await deal_funnel(portal, 9, "UC_NYL06U")
        await portal.add_deal(351, category_id=9, stage_id="C9:NEW", date_create=1719315806)
        clock.advance(60)
        response = await portal.call("crm.item.update", UPDATE_EXAMPLE)
        assert response.status_code == 200
        item = response.json()["result"]["item"]
        assert list(item) == list(ADD_ANSWER)  # the same 67 keys as the add answer
        changed = {k: item[k] for k in UPDATE_EXAMPLE["fields"]}
        assert changed == UPDATE_EXAMPLE["fields"]
        assert (item["categoryId"], item["stageSemanticId"], item["isNew"]) == (9, "P", "N")
        assert (item["createdTime"], item["updatedTime"], item["movedTime"]) == (NOW, LATER, LATER)
        assert item["opportunity"] == 10000
        assert isinstance(item["opportunity"], int)

    async def test_crm_deal_sees_the_change(self, portal: Portal) -> None:
        deal_id = await portal.ok("crm.deal.add", {"FIELDS": {"TITLE": "Old"}})
        await portal.ok(
            "crm.item.update", {"entityTypeId": 2, "id": deal_id, "fields": {"title": "New"}}
        )
        assert (await portal.ok("crm.deal.get", {"ID": deal_id}))["TITLE"] == "New"

    async def test_nothing_changed_saves_nothing(self, portal: Portal, clock: FrozenClock) -> None:
        item = await new_invoice(portal, title="Same")
        clock.advance(60)
        params = {"entityTypeId": 31, "id": item["id"], "fields": {"title": "Same"}}
        assert (await portal.ok("crm.item.update", params))["item"] == item

    @pytest.mark.parametrize("stage", [None, ""])
    async def test_an_empty_stage_keeps_the_current_one(
        self, portal: Portal, clock: FrozenClock, stage: Any
    ) -> None:
        created = await new_invoice(portal, stageId="DT31_0:P")
        clock.advance(60)
        params = {"entityTypeId": 31, "id": created["id"], "fields": {"stageId": stage}}
        assert (await portal.ok("crm.item.update", params))["item"] == created

    async def test_moving_a_deal_to_another_funnel_resets_its_stage(self, portal: Portal) -> None:
        deal = await portal.add_deal(stage_id="PREPARATION")
        await deal_funnel(portal, 3)
        params = {"entityTypeId": 2, "id": deal, "fields": {"categoryId": 3}}
        item = (await portal.ok("crm.item.update", params))["item"]
        assert (item["categoryId"], item["stageId"], item["isNew"]) == (3, "C3:NEW", "Y")

    async def test_invoice_stage_change_keeps_the_previous_stage(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        created = await new_invoice(portal)
        clock.advance(60)
        params = {"entityTypeId": 31, "id": created["id"], "fields": {"stageId": "DT31_0:P"}}
        item = (await portal.ok("crm.item.update", params))["item"]
        assert (item["stageId"], item["previousStageId"]) == ("DT31_0:P", "DT31_0:N")
        assert (item["movedTime"], item["updatedTime"], item["createdTime"]) == (LATER, LATER, NOW)

    @pytest.mark.parametrize(
        ("params", "error", "text"),
        [
            ({"entityTypeId": 31, "fields": {}}, "NOT_FOUND", "Element not found"),
            ({"entityTypeId": 31, "id": 404, "fields": {}}, "NOT_FOUND", "Element not found"),
            ({"entityTypeId": 1268, "id": 1, "fields": {}}, "NOT_FOUND",
             "Smart process not found"),
            ({"entityTypeId": 31, "id": 1}, "100", "Could not find value for parameter {fields}"),
        ],
    )  # fmt: skip
    async def test_errors(self, portal: Portal, params: Any, error: Any, text: str) -> None:
        await portal.add_invoice(1)
        body = await error_of(portal, "crm.item.update", params)
        assert body == {"error": error, "error_description": text}


class TestDelete:
    """crm-item-delete.md"""

    async def test_answers_an_empty_array_then_not_found(self, portal: Portal) -> None:
        await portal.add_invoice(1)
        response = await portal.call("crm.item.delete", {"entityTypeId": 31, "id": 1})
        assert response.status_code == 200
        assert response.json()["result"] == []
        assert await error_of(portal, "crm.item.delete", {"entityTypeId": 31, "id": 1}) == {
            "error": "NOT_FOUND",
            "error_description": "Element not found",
        }

    @pytest.mark.parametrize(("type_id", "table"), [(31, "invoice"), (2, "deal")])
    async def test_deleting_an_item_deletes_the_bindings_to_it(
        self, portal: Portal, type_id: int, table: str
    ) -> None:
        owner = await (portal.add_invoice() if table == "invoice" else portal.add_deal())
        await portal.add_order(5125)
        fields = {"orderId": 5125, "ownerId": owner, "ownerTypeId": type_id}
        await portal.ok("crm.orderentity.add", {"fields": fields})
        assert await portal.ok("crm.item.delete", {"entityTypeId": type_id, "id": owner}) == []
        assert await portal.ok("crm.orderentity.list", {}) == {"orderEntity": []}
        assert (await portal.ok("sale.order.get", {"id": 5125}))["order"]["id"] == 5125


class TestFields:
    """crm-item-fields.md"""

    async def test_invoice_descriptors_match_the_smart_process_example(
        self, portal: Portal
    ) -> None:
        response = await portal.call("crm.item.fields", {"entityTypeId": 31})
        assert response.status_code == 200
        fields = response.json()["result"]["fields"]
        for name, (type_, req, ro, mult, title, upper, *extra) in SPA_FIELDS.items():
            descriptor = {"type": type_, "isRequired": req, "isReadOnly": ro,
                          "isImmutable": False, "isMultiple": mult, "isDynamic": False}  # fmt: skip
            extras = extra[0] if extra else {}
            descriptor.update({k: v for k, v in extras.items() if k != "settings"})
            descriptor["title"] = title
            descriptor.update({k: v for k, v in extras.items() if k == "settings"})
            descriptor["upperName"] = upper
            assert list(fields[name].items()) == list(descriptor.items()), name
        assert fields["stageId"]["statusType"] == "SMART_INVOICE_STAGE_0"
        assert set(fields) == {k for k in INVOICE_KEYS if k != "entityTypeId"}

    async def test_deal_fields_carry_the_legacy_upper_names(self, portal: Portal) -> None:
        fields = (await portal.ok("crm.item.fields", {"entityTypeId": 2}))["fields"]
        assert fields["createdTime"]["upperName"] == "DATE_CREATE"
        assert fields["updatedBy"]["upperName"] == "MODIFY_BY_ID"
        assert fields["categoryId"] == {
            "type": "crm_category", "isRequired": False, "isReadOnly": False,
            "isImmutable": False, "isMultiple": False, "isDynamic": False,
            "title": "Sales Funnel", "upperName": "CATEGORY_ID",
        }  # fmt: skip
        assert fields["contactIds"]["isMultiple"] is True
        assert set(fields) < set(DEAL_KEYS)


class TestListOrder:
    """crm-item-list.md: an order field the entity lacks is refused; upper-case names (what
    fast-bitrix24's get_all sends: `{"ID": "ASC"}`) are the fields' other names."""

    async def test_unknown_order_field_is_refused(self, portal: Portal) -> None:
        response = await portal.call(
            "crm.item.list", {"entityTypeId": 31, "order": {"nope": "ASC"}}
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "INVALID_ARG_VALUE",
            "error_description": "Invalid order: field 'nope' is not allowed in order",
        }

    async def test_upper_case_id_sorts(self, portal: Portal) -> None:
        for _ in range(3):
            await portal.ok("crm.item.add", {"entityTypeId": 31, "fields": {"title": "x"}})
        result = await portal.ok("crm.item.list", {"entityTypeId": 31, "order": {"ID": "DESC"}})
        ids = [item["id"] for item in result["items"]]
        assert ids == sorted(ids, reverse=True)
