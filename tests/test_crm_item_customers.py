"""crm.item.* for contacts (entityTypeId 3) and companies (4): the rows crm.contact.* and
crm.company.* keep, in crm.item's camelCase, typed values and `item`/`items`/`fields` envelopes.

Pages: api-reference/crm/universal/crm-item-{add,get,list,update,delete,fields}.md (the Contact
and Company tabs), object-fields.md (#contact, #company), tutorials/crm/how-to-add-crm-objects/
how-to-add-contact.md; b24jssdk's integration tests (test/0_setup/hooks-under-load-jssdk.ts,
test/integration/core/actions-v2-batch.spec.ts) list contacts and companies this way.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderlink.settings import Settings

from .conftest import Portal, error_of, legacy
from .oauth_apps import register, tokens
from .receiver import Receiver

pytestmark = pytest.mark.anyio

CONTACT, COMPANY = 3, 4
NOW = "2024-06-25T13:43:26+02:00"  # the frozen clock in the portal zone


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A portal two hours east of UTC, as the docs' examples are."""
    return Settings(database=database_url, rate_limit=False, timezone="+02:00")


# how-to-add-contact.md: the contact its form handler creates (`fm`: a phone and an e-mail).
HOW_TO_CONTACT: dict[str, Any] = {"entityTypeId": CONTACT, "fields": {
    "name": "Klaus", "lastName": "Weber",
    "fm": [{"typeId": "PHONE", "valueType": "WORK", "value": "+49301234567"},
           {"typeId": "EMAIL", "valueType": "HOME", "value": "klaus@example.com"}],
}}  # fmt: skip

# crm-item-get.md's key order for the keys a contact shares with its lead, then object-fields.md's.
CONTACT_KEYS = [
    "id", "createdTime", "updatedTime", "createdBy", "updatedBy", "assignedById", "opened",
    "companyId", "sourceId", "sourceDescription", "name", "lastName", "secondName", "shortName",
    "photo", "post", "address", "comments", "leadId", "export", "typeId", "originatorId",
    "originId", "originVersion", "birthdate", "honorific", "hasPhone", "hasEmail", "hasImol",
    "login", "searchContent", "categoryId", "lastActivityBy", "lastActivityTime", "phoneMobile",
    "phoneWork", "phoneMailing", "emailHome", "emailWork", "emailMailing", "skype", "icq",
    "imol", "email", "phone", "fm", "utmSource", "utmMedium", "utmCampaign", "utmContent",
    "utmTerm", "observers", "companyIds", "entityTypeId",
]  # fmt: skip


async def item(portal: Portal, type_id: int, **fields: Any) -> dict[str, Any]:
    result = await portal.ok("crm.item.add", {"entityTypeId": type_id, "fields": fields})
    return dict(result["item"])


class TestContactAdd:
    """crm-item-add.md (Contact), how-to-add-contact.md."""

    async def test_the_how_to_example_answers_the_contact_with_its_multi_fields(
        self, portal: Portal
    ) -> None:
        added = (await portal.ok("crm.item.add", HOW_TO_CONTACT))["item"]
        assert list(added) == CONTACT_KEYS
        assert (added["name"], added["lastName"], added["entityTypeId"]) == ("Klaus", "Weber", 3)
        assert added["fm"] == [
            {"id": 1, "valueType": "WORK", "value": "+49301234567", "typeId": "PHONE"},
            {"id": 2, "valueType": "HOME", "value": "klaus@example.com", "typeId": "EMAIL"},
        ]
        assert (added["hasPhone"], added["hasEmail"], added["hasImol"]) == ("Y", "Y", "N")
        # crm-item-get.md: the phone and e-mail fields derived from `fm` ("" when none).
        assert (added["phone"], added["phoneWork"], added["phoneMobile"]) == (
            "+49301234567", "+49301234567", "")  # fmt: skip
        assert (added["email"], added["emailHome"], added["emailWork"]) == (
            "klaus@example.com", "klaus@example.com", "")  # fmt: skip
        assert (added["skype"], added["icq"], added["shortName"], added["address"]) == (
            None, None, None, None)  # fmt: skip
        assert (added["createdTime"], added["createdBy"], added["opened"]) == (NOW, 1, "Y")
        assert (added["categoryId"], added["companyIds"], added["observers"]) == (0, [], [])

    async def test_the_row_is_crm_contact_s(self, portal: Portal) -> None:
        """The same `contacts` row: crm.contact.get prints it in its own dialect."""
        added = (await portal.ok("crm.item.add", HOW_TO_CONTACT))["item"]
        legacy_row = await portal.ok("crm.contact.get", {"id": added["id"]})
        assert (legacy_row["NAME"], legacy_row["LAST_NAME"], legacy_row["HAS_PHONE"]) == (
            "Klaus", "Weber", "Y")  # fmt: skip
        assert legacy_row["PHONE"] == [
            {"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+49301234567", "TYPE_ID": "PHONE"}
        ]

    async def test_the_add_tab_s_fields_are_written(self, portal: Portal) -> None:
        company = await portal.ok("crm.company.add", {"fields": {"TITLE": "Acme"}})
        added = await item(
            portal, CONTACT, honorific="HNR_DE_1", secondName="M", birthdate="2001-11-11",
            typeId="PARTNER", sourceId="WEB", sourceDescription="fair", post="CEO",
            comments="hi", opened="N", export="N", assignedById=6, companyIds=[company],
            leadId=7, originatorId="shop", originId="42", originVersion="v1",
            observers=[2, 3], utmSource="google", ufCrm_1720697698689="x", parentId1224=12,
        )  # fmt: skip
        assert added["birthdate"] == "2001-11-11T00:00:00+02:00"
        assert (added["companyId"], added["companyIds"]) == (company, [company])
        assert (added["opened"], added["export"], added["assignedById"]) == ("N", "N", 6)
        assert (added["observers"], added["leadId"], added["originVersion"]) == ([2, 3], 7, "v1")
        assert (added["ufCrm_1720697698689"], added["parentId1224"]) == ("x", 12)
        shown = await portal.ok("crm.contact.get", {"id": added["id"]})
        assert (shown["COMPANY_ID"], shown["UF_CRM_1720697698689"]) == (str(company), "x")

    async def test_a_photo_is_accepted_and_not_stored(self, portal: Portal) -> None:
        """decisions.md (crm.contact): files are not stored; the photo prints null."""
        added = await item(portal, CONTACT, name="A", photo={"fileData": ["a.png", "AAAA"]})
        assert added["photo"] is None
        upper = await item(portal, CONTACT, NAME="B", PHOTO={"fileData": ["a.png", "AAAA"]})
        assert (upper["name"], upper["photo"]) == ("B", None)

    async def test_a_value_its_field_cannot_hold_is_refused(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.item.add", {
            "entityTypeId": CONTACT, "fields": {"birthdate": "no date"}}) == {
            "error": "CRM_FIELD_ERROR_VALUE_NOT_VALID",
            "error_description": 'Invalid value for field "birthdate"',
        }  # fmt: skip
        assert (await error_of(portal, "crm.item.add", {
            "entityTypeId": CONTACT, "fields": {"companyIds": 5}}))["error"] == "100"  # fmt: skip
        assert (await portal.call("crm.item.list", {"entityTypeId": CONTACT})).json()["total"] == 0


class TestContactGetUpdate:
    """crm-item-get.md, crm-item-update.md (Contact)."""

    async def test_a_contact_crm_contact_added_reads_in_camel_case(self, portal: Portal) -> None:
        contact = await portal.ok("crm.contact.add", {"fields": {
            "NAME": "Ann", "BIRTHDATE": "11.11.2001", "COMPANY_IDS": [12, 13],
            "EMAIL": [{"VALUE": "ann@example.work", "VALUE_TYPE": "WORK"}],
            "UF_CRM_1720697698689": "v"}})  # fmt: skip
        got = (await portal.ok("crm.item.get", {"entityTypeId": CONTACT, "id": contact}))["item"]
        at = CONTACT_KEYS.index("fm") + 1  # custom fields follow `fm`, parent links them
        assert list(got) == [*CONTACT_KEYS[:at], "ufCrm_1720697698689", *CONTACT_KEYS[at:]]
        assert (got["id"], got["name"], got["companyId"], got["companyIds"]) == (
            contact, "Ann", 12, [12, 13])  # fmt: skip
        assert got["birthdate"] == "2001-11-11T00:00:00+02:00"
        assert (got["emailWork"], got["email"]) == ("ann@example.work", "ann@example.work")
        assert got["hasEmail"] == "Y"
        original = await portal.ok("crm.item.get", {"entityTypeId": CONTACT, "id": contact,
                                                    "useOriginalUfNames": "Y"})  # fmt: skip
        assert original["item"]["UF_CRM_1720697698689"] == "v"

    async def test_update_answers_the_contact_and_fm_replaces_the_collection(
        self, portal: Portal
    ) -> None:
        """`fm` is the contact's whole multi-field collection (object-fields.md: "Array of
        multifields"): a value it names by `id` changes, one without `id` is added, the rest is
        deleted (inferred: no update example sends `fm`)."""
        added = (await portal.ok("crm.item.add", HOW_TO_CONTACT))["item"]
        fm = [{"id": 1, "typeId": "PHONE", "valueType": "MOBILE", "value": "+4917000"},
              {"typeId": "WEB", "valueType": "WORK", "value": "example.com"}]  # fmt: skip
        params = {"entityTypeId": CONTACT, "id": added["id"],
                  "fields": {"lastName": "Schmidt", "fm": fm}}  # fmt: skip
        updated = (await portal.ok("crm.item.update", params))["item"]
        assert updated["lastName"] == "Schmidt"
        assert updated["fm"] == [
            {"id": 1, "valueType": "MOBILE", "value": "+4917000", "typeId": "PHONE"},
            {"id": 3, "valueType": "WORK", "value": "example.com", "typeId": "WEB"},
        ]
        assert (updated["hasEmail"], updated["email"], updated["phoneMobile"]) == (
            "N", "", "+4917000")  # fmt: skip
        shown = await portal.ok("crm.contact.get", {"id": added["id"]})
        assert "EMAIL" not in shown
        assert shown["LAST_NAME"] == "Schmidt"

    async def test_an_update_that_changes_nothing_saves_nothing(self, portal: Portal) -> None:
        added = await item(portal, CONTACT, name="A")
        params = {"entityTypeId": CONTACT, "id": added["id"], "fields": {"name": "A"}}
        assert (await portal.ok("crm.item.update", params))["item"] == added

    async def test_missing_and_other_types_rows_are_not_found(self, portal: Portal) -> None:
        company = await item(portal, COMPANY, title="Acme")
        for params in ({"entityTypeId": CONTACT, "id": 999},
                       {"entityTypeId": CONTACT, "id": company["id"] + 100}):  # fmt: skip
            assert await error_of(portal, "crm.item.get", params) == {
                "error": "NOT_FOUND", "error_description": "Element not found"}  # fmt: skip
        assert (
            await error_of(
                portal,
                "crm.item.update",
                {"entityTypeId": CONTACT, "id": 999, "fields": {"name": "x"}},
            )
        )["error"] == "NOT_FOUND"


class TestList:
    """crm-item-list.md; b24jssdk's integration tests list contacts and companies by id."""

    async def test_the_sdk_s_select_and_filter(self, portal: Portal) -> None:
        ids = [(await item(portal, COMPANY, title=f"C{n}"))["id"] for n in range(4)]
        response = await portal.call("crm.item.list", {
            "entityTypeId": COMPANY, "select": ["id"], "filter": {">id": ids[1]}})  # fmt: skip
        body = response.json()
        assert body["result"] == {"items": [{"id": ids[2]}, {"id": ids[3]}]}
        assert body["total"] == 2
        assert body["time"]["operating"] >= 0
        assert body["time"]["operating_reset_at"] > 0

    async def test_an_unknown_filter_field_is_invalid_arg_value_in_a_batch(
        self, portal: Portal
    ) -> None:
        """actions-v2-batch.spec.ts: of four commands, the two filtering on `>ddId` fail with
        INVALID_ARG_VALUE, the others answer their items."""
        await item(portal, CONTACT, name="A")
        cmd = {
            "a": "crm.item.list?entityTypeId=3&select[]=id&filter[>id]=0",
            "b": "crm.item.list?entityTypeId=3&select[]=id&filter[>ddId]=0",
        }
        result = await portal.ok("batch", {"halt": 0, "cmd": cmd})
        assert result["result"]["a"] == {"items": [{"id": 1}]}
        assert result["result_error"]["b"]["error"] == "INVALID_ARG_VALUE"

    async def test_fm_is_printed_when_selected(self, portal: Portal) -> None:
        await portal.ok("crm.item.add", HOW_TO_CONTACT)
        result = await portal.ok("crm.item.list", {"entityTypeId": CONTACT,
                                                   "select": ["id", "fm", "email"]})  # fmt: skip
        (row,) = result["items"]
        assert list(row) == ["id", "email", "fm"]
        assert row["email"] == "klaus@example.com"
        assert len(row["fm"]) == 2

    async def test_filter_and_order_by_camel_case_fields(self, portal: Portal) -> None:
        for name in ("Bea", "Ann", "Cid"):
            await item(portal, CONTACT, name=name, post="dev" if name != "Cid" else "ops")
        result = await portal.ok("crm.item.list", {"entityTypeId": CONTACT,
                                                   "filter": {"post": "dev"},
                                                   "order": {"name": "ASC"},
                                                   "select": ["name"]})  # fmt: skip
        assert result["items"] == [{"name": "Ann"}, {"name": "Bea"}]
        assert (
            await error_of(
                portal, "crm.item.list", {"entityTypeId": CONTACT, "order": {"nope": "ASC"}}
            )
        )["error"] == "INVALID_ARG_VALUE"

    async def test_an_update_by_the_legacy_family_is_what_crm_item_lists(
        self, portal: Portal
    ) -> None:
        contact = await portal.ok("crm.contact.add", {"fields": {"NAME": "Old"}})
        await portal.ok("crm.contact.update", {"id": contact, "fields": {"NAME": "New"}})
        result = await portal.ok("crm.item.list", {"entityTypeId": CONTACT, "select": ["name"]})
        assert result["items"] == [{"name": "New"}]


class TestDelete:
    """crm-item-delete.md: `[]`; crm.contact.delete's rules hold (deals forget the contact)."""

    async def test_delete_answers_an_empty_array_and_unlinks_deals(self, portal: Portal) -> None:
        contact = await item(portal, CONTACT, name="A")
        deal = await portal.ok("crm.deal.add", {"fields": {"CONTACT_IDS": [contact["id"]]}})
        params = {"entityTypeId": CONTACT, "id": contact["id"]}
        assert await portal.ok("crm.item.delete", params) == []
        assert await error_of(portal, "crm.contact.get", {"id": contact["id"]}) == legacy(
            "Not found"
        )
        assert (await portal.ok("crm.deal.get", {"id": deal}))["CONTACT_ID"] == "0"
        assert (await error_of(portal, "crm.item.delete", params))["error"] == "NOT_FOUND"


class TestFields:
    """crm-item-fields.md: `fields`, each with `upperName` (the legacy name here)."""

    async def test_contact_fields(self, portal: Portal) -> None:
        fields = (await portal.ok("crm.item.fields", {"entityTypeId": CONTACT}))["fields"]
        assert fields["name"] == {
            "type": "string", "isRequired": True, "isReadOnly": False, "isImmutable": False,
            "isMultiple": False, "isDynamic": False, "title": "First Name", "upperName": "NAME",
        }  # fmt: skip
        assert fields["createdBy"]["upperName"] == "CREATED_BY_ID"
        assert (fields["opened"]["type"], fields["comments"]["type"]) == ("boolean", "text")
        assert fields["companyIds"]["isMultiple"] is True
        assert fields["companyId"]["isDeprecated"] is True
        assert fields["observers"]["upperName"] == "OBSERVERS"
        assert not {"address", "addressCity", "phone", "fm"} & set(fields)

    async def test_company_fields(self, portal: Portal) -> None:
        fields = (await portal.ok("crm.item.fields", {"entityTypeId": COMPANY}))["fields"]
        assert (fields["typeId"]["upperName"], fields["typeId"]["statusType"]) == (
            "COMPANY_TYPE", "COMPANY_TYPE")  # fmt: skip
        assert fields["isMyCompany"]["type"] == "boolean"
        assert fields["revenue"]["type"] == "double"
        assert "regAddress" not in fields


class TestCompany:
    """crm-item-add.md (Company): `Company #{id}` when untitled; `contactIds` are the contacts
    that name the company (crm.contact.*'s COMPANY_IDS)."""

    async def test_add_get_and_the_contacts_it_is_named_by(self, portal: Portal) -> None:
        added = await item(portal, COMPANY, typeId="CUSTOMER", industry="IT", revenue=1000.5,
                           currencyId="EUR", isMyCompany="Y")  # fmt: skip
        assert (added["title"], added["typeId"], added["revenue"]) == (
            f"Company #{added['id']}", "CUSTOMER", 1000.5)  # fmt: skip
        assert (added["isMyCompany"], added["contactIds"], added["entityTypeId"]) == ("Y", [], 4)
        assert list(added)[-2:] == ["contactIds", "entityTypeId"]
        shown = await portal.ok("crm.company.get", {"id": added["id"]})
        assert (shown["COMPANY_TYPE"], shown["REVENUE"]) == ("CUSTOMER", "1000.50")
        first = await item(portal, CONTACT, name="A", companyIds=[added["id"]])
        await item(portal, CONTACT, name="B", companyIds=[added["id"] + 10])
        third = await item(portal, CONTACT, name="C", companyIds=[7, added["id"]])
        got = await portal.ok("crm.item.get", {"entityTypeId": COMPANY, "id": added["id"]})
        assert got["item"]["contactIds"] == [first["id"], third["id"]]
        listed = await portal.ok("crm.item.list", {"entityTypeId": COMPANY})
        assert "contactIds" not in listed["items"][0]

    async def test_contact_ids_are_the_company_s_links(self, portal: Portal) -> None:
        """A company's `contactIds` write its links to contacts, as crm.company.update's
        CONTACT_ID does (crm.company.contact.items.get reads them; the contacts' COMPANY_IDS
        follow)."""
        first = await item(portal, CONTACT, name="A")
        second = await item(portal, CONTACT, name="B")
        company = await item(portal, COMPANY, title="Acme", contactIds=[second["id"], first["id"]])
        assert company["contactIds"] == [second["id"], first["id"]]
        links = await portal.ok("crm.company.contact.items.get", {"id": company["id"]})
        assert [(r["CONTACT_ID"], r["IS_PRIMARY"]) for r in links] == [
            (second["id"], "Y"), (first["id"], "N")]  # fmt: skip
        shown = await portal.ok("crm.contact.get", {"id": first["id"]})
        assert shown["COMPANY_ID"] == str(company["id"])
        params = {"entityTypeId": COMPANY, "id": company["id"], "fields": {"contactIds": []}}
        assert (await portal.ok("crm.item.update", params))["item"]["contactIds"] == []
        got = await portal.ok("crm.item.get", {"entityTypeId": CONTACT, "id": first["id"]})
        assert (got["item"]["companyId"], got["item"]["companyIds"]) == (None, [])

    async def test_a_contact_s_company_ids_are_its_links(self, portal: Portal) -> None:
        acme = await item(portal, COMPANY, title="Acme")
        beta = await item(portal, COMPANY, title="Beta")
        contact = await item(portal, CONTACT, name="A", companyIds=[beta["id"], acme["id"]])
        links = await portal.ok("crm.contact.company.items.get", {"id": contact["id"]})
        assert [r["COMPANY_ID"] for r in links] == [beta["id"], acme["id"]]
        params = {"entityTypeId": CONTACT, "id": contact["id"],
                  "fields": {"companyId": acme["id"]}}  # fmt: skip
        updated = (await portal.ok("crm.item.update", params))["item"]
        # crm-contact-update.md: COMPANY_ID alone makes that company the main one.
        assert (updated["companyId"], updated["companyIds"]) == (
            acme["id"],
            [acme["id"], beta["id"]],
        )

    async def test_an_unknown_currency_is_refused(self, portal: Portal) -> None:
        assert await error_of(portal, "crm.item.add", {
            "entityTypeId": COMPANY, "fields": {"currencyId": "XXX"}}) == {
            "error": "CRM_FIELD_ERROR_VALUE_NOT_VALID",
            "error_description": 'Invalid value for field "currencyId"',
        }  # fmt: skip

    async def test_update_and_delete(self, portal: Portal) -> None:
        added = await item(portal, COMPANY, title="Acme")
        params = {"entityTypeId": COMPANY, "id": added["id"], "fields": {"title": "Acme Ltd"}}
        assert (await portal.ok("crm.item.update", params))["item"]["title"] == "Acme Ltd"
        assert (await portal.ok("crm.company.get", {"id": added["id"]}))["TITLE"] == "Acme Ltd"
        deal = await portal.ok("crm.deal.add", {"fields": {"COMPANY_ID": added["id"]}})
        assert (
            await portal.ok("crm.item.delete", {"entityTypeId": COMPANY, "id": added["id"]}) == []
        )
        assert (await portal.ok("crm.deal.get", {"id": deal}))["COMPANY_ID"] == "0"


class TestEvents:
    """A contact or company changed through crm.item raises its own events (crm/contacts/
    events/, crm/companies/events/), as crm.contact.* does."""

    async def bind(self, portal: Portal, receiver: Receiver, *events: str) -> None:
        token = (await tokens(portal, await register(portal)))["access_token"]
        for event in events:
            response = await portal.client.post("/rest/event.bind", json={
                "auth": token, "event": event, "handler": receiver.url()})  # fmt: skip
            assert response.status_code == 200, response.text

    async def test_add_update_delete(self, portal: Portal, receiver: Receiver) -> None:
        await self.bind(portal, receiver, "ONCRMCONTACTADD", "ONCRMCONTACTUPDATE",
                        "ONCRMCOMPANYDELETE")  # fmt: skip
        contact = await item(portal, CONTACT, name="A")
        await portal.ok("crm.item.update", {"entityTypeId": CONTACT, "id": contact["id"],
                                            "fields": {"name": "B"}})  # fmt: skip
        company = await item(portal, COMPANY, title="C")
        await portal.ok("crm.item.delete", {"entityTypeId": COMPANY, "id": company["id"]})
        queued = sorted((d.event, d.data) for d in await portal.store.deliveries(None, 10))
        assert queued == [
            ("ONCRMCOMPANYDELETE", {"FIELDS": {"ID": str(company["id"])}}),
            ("ONCRMCONTACTADD", {"FIELDS": {"ID": str(contact["id"])}}),
            ("ONCRMCONTACTUPDATE", {"FIELDS": {"ID": str(contact["id"])}}),
        ]
