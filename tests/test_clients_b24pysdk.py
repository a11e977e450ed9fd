"""b24pysdk, Bitrix24's official Python SDK (PyPI, pinned in the `test` extra), unchanged.

`BitrixWebhook` builds only `https://{domain}/rest/{user}/{code}/{method}.json` URLs and posts
JSON through `requests`, so it meets a local orderlink started with `--tls` and trusts it through
`REQUESTS_CA_BUNDLE`. Its typed wrappers spell the methods their own way (`crm.orderentity.Add`,
`.List`, `.deleteByFilter`, `.Fields`), `call_list` pages with a batch of `start` offsets, and it
retries a 503 three times, 1 s then 2 s apart.

OAuth: `BitrixToken(domain=, auth_token=, bitrix_app=BitrixApp(client_id=, client_secret=))`
posts to `https://{domain}/rest/{method}.json` with `auth` in the JSON body. It refreshes only at
`https://oauth.bitrix24.tech/oauth/token/`, a constant of its OAuth requester, so against orderlink
the tests give it no refresh token (it then never refreshes, and never sends the app's secret to
Bitrix24): an expired token surfaces as `BitrixAPIExpiredToken`, and the application refreshes at
orderlink's /oauth/token/ itself.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from b24pysdk import BitrixApp, BitrixToken, BitrixWebhook, Client
from b24pysdk.api.requesters import BitrixOAuthRequester
from b24pysdk.constants import B24AppStatus
from b24pysdk.credentials import RenewedOAuth
from b24pysdk.errors import BitrixAPIBadRequest, BitrixAPIExpiredToken, BitrixAPINotFound

from .clients import (  # noqa: F401 (fixtures pytest finds by name)
    DEAL,
    HOUR,
    Bound,
    OAuthApp,
    Records,
    Target,
    bound_fixture,
    clocked_fixture,
    oauth_app_fixture,
    records_fixture,
    target_fixture,
)
from .live import start_server

pytestmark = [pytest.mark.clients, pytest.mark.live]


@pytest.fixture
def hook(target: Target, monkeypatch: pytest.MonkeyPatch) -> BitrixWebhook:
    """The webhook as b24pysdk takes it, trusting the target's CA for this test only."""
    for name, value in target.trust_env().items():
        monkeypatch.setenv(name, value)
    return BitrixWebhook(domain=target.domain, webhook_token=target.webhook_token)


@pytest.fixture
def client(hook: BitrixWebhook) -> Client:
    return Client(hook)


def binding(order_id: int, deal_id: int) -> dict[str, int]:
    return {"orderId": order_id, "ownerId": deal_id, "ownerTypeId": DEAL}


class TestTypedOrderContents:
    """`client.sale.paysystem.list` (SELECT/FILTER/ORDER upper-case), `client.sale.delivery.
    getlist`, `client.sale.payment.*` and `client.sale.shipment.*`: the ids one names exist."""

    def test_a_payment_and_a_shipment_on_the_listed_ids(
        self, client: Client, records: Records
    ) -> None:
        """Its requests are lazy: each runs when its `.result` is first read."""
        systems = client.sale.paysystem.list(select=["ID", "NAME"], filter={"ACTIVE": "Y"}).result
        services = client.sale.delivery.getlist(select=["ID"], order={"SORT": "ASC"}).result
        order_id = records.order()
        paid = client.sale.payment.add(
            {"orderId": order_id, "paySystemId": systems[0]["ID"], "sum": 0, "paid": "Y"}
        ).result["payment"]
        shipped = client.sale.shipment.add({"orderId": order_id, "deliveryId": services[0]["ID"],
                                            "allowDelivery": "N", "deducted": "Y"}).result  # fmt: skip
        shipment_id = shipped["shipment"]["id"]
        assert paid["paySystemName"] == systems[0]["NAME"]
        listed = client.sale.shipment.list(select=["id"], filter={"orderId": order_id})
        assert listed.result == {"shipments": [{"id": shipment_id}]}
        assert listed.response.total == 1
        order = client.sale.order.get(order_id).result["order"]
        assert (order["payed"], order["deducted"]) == ("Y", "Y")
        assert client.sale.shipment.update(shipment_id, {"deducted": "N"}).result
        assert client.sale.shipment.delete(shipment_id).result is True
        assert client.sale.payment.delete(paid["id"]).result is True


class TestTypedOrderentity:
    """`client.crm.orderentity.*` sends the wrappers' own spellings of the method names and reads
    the documented shapes back: add `{dealOrder}`, list `{orderEntity: [...]}` + `total`,
    deleteByFilter `true`, getFields `{orderEntity: {...}}`."""

    def test_wrappers_send_their_own_spellings_and_bind_list_unbind(
        self, client: Client, records: Records
    ) -> None:
        deal_id, order_id = records.deal(), records.order()
        add = client.crm.orderentity.add(binding(order_id, deal_id))
        listed = client.crm.orderentity.list(
            select=["orderId", "ownerTypeId"], filter={"ownerId": deal_id}
        )
        unbind = client.crm.orderentity.delete_by_filter(binding(order_id, deal_id))
        assert str(add).startswith("<BitrixAPIRequest crm.orderentity.Add(")
        assert str(listed).startswith("<BitrixAPIRequest crm.orderentity.List(")
        assert str(unbind).startswith("<BitrixAPIRequest crm.orderentity.deleteByFilter(")

        assert add.result == {"dealOrder": binding(order_id, deal_id)}
        assert add.time.duration >= 0
        assert listed.result == {"orderEntity": [{"orderId": order_id, "ownerTypeId": DEAL}]}
        assert listed.response.total == 1
        assert unbind.result is True
        assert client.crm.orderentity.list(filter={"ownerId": deal_id}).result == {
            "orderEntity": []
        }

    def test_get_fields_sends_fields_and_reads_the_descriptors(self, client: Client) -> None:
        fields = client.crm.orderentity.get_fields()
        assert str(fields).startswith("<BitrixAPIValueRequest crm.orderentity.Fields(")
        descriptor = {
            "isImmutable": True,
            "isReadOnly": False,
            "isRequired": True,
            "type": "integer",
        }
        assert fields.result == {
            "orderEntity": {"orderId": descriptor, "ownerId": descriptor, "ownerTypeId": descriptor}
        }

    def test_typed_fields_value_wants_keys_the_documented_answer_lacks(
        self, client: Client
    ) -> None:
        """`.value` adapts each descriptor as a full `crm_rest_field_description` and requires
        `isMultiple`, `isDynamic` and `title`; the getFields page's answer (which orderlink
        returns verbatim) carries only four keys. A client limitation: read `.result`."""
        with pytest.raises(KeyError, match="isMultiple"):
            _ = client.crm.orderentity.get_fields().value

    def test_refusal_raises_bad_request_with_the_wire_error(
        self, client: Client, records: Records
    ) -> None:
        with pytest.raises(BitrixAPIBadRequest) as caught:
            _ = client.crm.orderentity.add({"orderId": records.order()}).result
        assert caught.value.status_code == 400
        assert caught.value.error_description == "Required fields: ownerId, ownerTypeId"

    def test_unknown_method_raises_not_found(self, hook: BitrixWebhook) -> None:
        with pytest.raises(BitrixAPINotFound) as caught:
            hook.call_method("crm.orderentity.nosuchmethod")
        assert caught.value.error == "ERROR_METHOD_NOT_FOUND"


class TestTypedProductRows:
    """`client.crm.item.productrow.*` (api-reference/crm/universal/product-rows/): a deal's rows
    through the SDK's own wrappers, the documented envelopes read back, the amount following."""

    def test_add_get_list_update_set_delete(self, client: Client, records: Records) -> None:
        rows = client.crm.item.productrow
        deal_id = records.deal()
        added = rows.add({"ownerType": "D", "ownerId": deal_id, "productName": "Pen",
                          "price": 80000, "quantity": 2, "discountRate": 20, "taxRate": 20,
                          "taxIncluded": "Y"}).result["productRow"]  # fmt: skip
        prices = ("priceExclusive", "priceNetto", "priceBrutto", "discountSum")
        assert [added[k] for k in prices] == [66666.67, 83333.34, 100000.01, 16666.67]
        assert rows.get(added["id"]).result["productRow"]["productName"] == "Pen"
        listed = rows.list(filter={"=ownerType": "D", "=ownerId": deal_id})
        assert [r["id"] for r in listed.result["productRows"]] == [added["id"]]
        assert listed.response.total == 1
        assert rows.update(added["id"], {"quantity": 3}).result["productRow"]["quantity"] == 3
        (only,) = rows.set(deal_id, "D", [{"productName": "A", "price": 5}]).result["productRows"]
        assert client.crm.deal.get(bitrix_id=deal_id).result["OPPORTUNITY"] == "5.00"
        assert rows.delete(only["id"]).result is None
        assert rows.list(filter={"=ownerType": "D", "=ownerId": deal_id}).result == {
            "productRows": []
        }

    def test_typed_fields_value_reads_every_descriptor(self, client: Client) -> None:
        """`.value` adapts each descriptor as a full `crm_rest_field_description`: the fields
        page prints all seven keys, so every field reads."""
        fields = client.crm.item.productrow.fields().value
        assert fields["ownerType"].is_immutable is True
        assert (fields["priceNetto"].type, fields["priceNetto"].is_read_only) == ("double", True)


class TestCallList:
    """`call_list` reads the first page, then asks for every remaining `start` offset in one
    batch and flattens the pages: all 55 bindings of a deal, none twice."""

    def test_call_list_returns_every_binding_past_the_first_page(
        self, hook: BitrixWebhook, bound: Bound
    ) -> None:
        answer = hook.call_list("crm.orderentity.list", {"filter": {"ownerId": bound.deal_id}})
        assert sorted(row["orderId"] for row in answer["result"]) == bound.order_ids
        assert {row["ownerId"] for row in answer["result"]} == {bound.deal_id}

    def test_typed_list_as_list_pages_and_honours_its_limit(
        self, client: Client, bound: Bound
    ) -> None:
        request = client.crm.orderentity.list(
            filter={"ownerId": bound.deal_id}, order={"orderId": "asc"}
        )
        assert request.as_list().result == bound.rows
        assert request.as_list(limit=52).result == bound.rows[:52]


class TestBatch:
    """`call_batch` of typed requests keeps the caller's keys; a refused command lands in
    `result_error` while the rest answer."""

    def test_typed_requests_in_one_batch(
        self, client: Client, bound: Bound, records: Records
    ) -> None:
        batch = client.call_batch(
            {
                "fields": client.crm.orderentity.get_fields(),
                "first": client.crm.orderentity.list(filter={"orderId": bound.order_ids[0]}),
                "refused": client.crm.orderentity.add({"orderId": records.order()}),
            }
        )
        result = batch.result
        assert set(result.result) == {"fields", "first"}
        assert set(result.result["fields"]["orderEntity"]) == {"orderId", "ownerId", "ownerTypeId"}
        assert result.result["first"] == {"orderEntity": [bound.rows[0]]}
        assert result.result_total["first"] == 1
        assert result.result_error["refused"]["error_description"] == (
            "Required fields: ownerId, ownerTypeId"
        )
        assert set(result.result_time) == {"fields", "first"}

    def test_token_call_batch_with_a_list_of_method_tuples(
        self, hook: BitrixWebhook, bound: Bound
    ) -> None:
        answer = hook.call_batch(
            [
                ("crm.orderentity.list", {"filter": {"orderId": bound.order_ids[-1]}}),
                ("crm.orderentity.list", {"filter": {"ownerId": bound.deal_id}}),
            ]
        )
        assert answer["result"]["result"][0] == {"orderEntity": [bound.rows[-1]]}
        assert len(answer["result"]["result"][1]["orderEntity"]) == 50
        assert answer["result"]["result_total"] == [1, 55]
        assert answer["result"]["result_next"] == {"1": 50}


class TestRateLimitRetries:
    """Against a local orderlink whose bucket holds 3 requests (drains 2/s): b24pysdk meets
    HTTP 503 QUERY_LIMIT_EXCEEDED and gets through with its own retries."""

    def test_survives_503_with_its_own_retries(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        server = start_server(
            tmp_path / "retry.db", "--tls", "--bucket-size", "3", "--drain-rate", "2",
            "--access-log",
        )  # fmt: skip
        try:
            assert server.ca_file is not None
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
            token = server.webhook_url.split("/rest/", 1)[1]
            client = Client(BitrixWebhook(domain=f"127.0.0.1:{server.port}", webhook_token=token))
            for _ in range(6):
                assert client.crm.orderentity.list().result == {"orderEntity": []}
        finally:
            server.stop()
        assert any('" 503' in line for line in server.output), "the limit was never hit"


def app_token(app: OAuthApp, monkeypatch: pytest.MonkeyPatch) -> BitrixToken:
    """The user's access token as b24pysdk takes it, trusting the app's server for this test.
    No `refresh_token`: b24pysdk would spend it (and the client secret) at oauth.bitrix24.tech."""
    for name, value in app.trust_env().items():
        monkeypatch.setenv(name, value)
    bitrix_app = BitrixApp(client_id=app.client_id, client_secret=app.client_secret)
    return BitrixToken(domain=app.domain, auth_token=app.access_token, bitrix_app=bitrix_app)


class TestOAuthToken:
    """An application's access token in place of the webhook: the same typed wrappers, paging and
    batches, with `auth` in every body."""

    @pytest.fixture
    def token(self, oauth_app: OAuthApp, monkeypatch: pytest.MonkeyPatch) -> BitrixToken:
        return app_token(oauth_app, monkeypatch)

    def test_typed_calls_with_an_access_token_bind_list_and_unbind(
        self, token: BitrixToken, records: Records
    ) -> None:
        client = Client(token)
        deal_id, order_id = records.deal(), records.order()
        add = client.crm.orderentity.add(binding(order_id, deal_id))
        listed = client.crm.orderentity.list(filter={"ownerId": deal_id})
        unbind = client.crm.orderentity.delete_by_filter(binding(order_id, deal_id))

        assert not token.is_webhook
        assert add.result == {"dealOrder": binding(order_id, deal_id)}
        assert listed.result == {"orderEntity": [binding(order_id, deal_id)]}
        assert listed.response.total == 1
        assert unbind.result is True
        assert client.crm.orderentity.list(filter={"ownerId": deal_id}).result == {
            "orderEntity": []
        }

    def test_call_list_with_the_token_returns_every_binding(
        self, token: BitrixToken, bound: Bound
    ) -> None:
        answer = token.call_list("crm.orderentity.list", {"filter": {"ownerId": bound.deal_id}})
        assert sorted(row["orderId"] for row in answer["result"]) == bound.order_ids

    def test_renewed_oauth_reads_the_refresh_reply_but_keeps_only_the_hostname(
        self, oauth_app: OAuthApp
    ) -> None:
        """`RenewedOAuth.from_dict` (what `BitrixApp.refresh_oauth_token` returns) parses the
        reply of the refresh grant; its `portal_domain`, and so `BitrixToken.from_oauth`, takes
        the hostname of `client_endpoint` and drops a port: build `BitrixToken(domain=...)`
        with `host:port` yourself."""
        reply = oauth_app.refresh()
        renewed = RenewedOAuth.from_dict(reply)
        endpoint = urlsplit(reply["client_endpoint"])

        assert renewed.oauth_token.access_token == reply["access_token"]
        assert renewed.oauth_token.refresh_token == reply["refresh_token"]
        assert renewed.oauth_token.expires_in == reply["expires_in"]
        assert int(renewed.oauth_token.expires.timestamp()) == reply["expires"]
        assert renewed.member_id == reply["member_id"]
        assert renewed.scope == reply["scope"].split(",")
        assert renewed.user_id == reply["user_id"]
        assert isinstance(renewed.status, B24AppStatus)
        app = BitrixApp(client_id=oauth_app.client_id, client_secret=oauth_app.client_secret)
        assert BitrixToken.from_oauth(renewed, app).domain == endpoint.hostname


class TestOAuthExpiry:
    """Against a local orderlink with a test clock: an hour later the token is refused with 401
    `expired_token`, which b24pysdk raises as `BitrixAPIExpiredToken`; it cannot refresh at
    orderlink, so the application does."""

    def test_expired_token_raises_expired_token_and_a_refresh_at_orderlink_recovers(
        self, clocked: OAuthApp, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        token = app_token(clocked, monkeypatch)
        client = Client(token)
        assert client.crm.orderentity.list().result == {"orderEntity": []}
        clocked.advance_clock(HOUR)

        with pytest.raises(BitrixAPIExpiredToken) as caught:
            _ = client.crm.orderentity.list().result
        assert caught.value.status_code == 401
        assert caught.value.error == "expired_token"
        assert caught.value.error_description == "The access token provided has expired"

        # What the application does in place of b24pysdk's own refresh.
        token.auth_token = clocked.refresh()["access_token"]
        assert client.crm.orderentity.list().result == {"orderEntity": []}
        assert len(clocked.answered(401, "/rest/crm.orderentity.List.json")) == 1

    def test_its_own_refresh_goes_to_a_hard_coded_host(self) -> None:
        """`BitrixApp.refresh_oauth_token` and the automatic refresh of an expired token with a
        `refresh_token` post to this class constant; nothing points them at orderlink."""
        assert BitrixOAuthRequester._OAUTH_TOKEN_URL == "https://oauth.bitrix24.tech/oauth/token/"
