"""fast-bitrix24 (PyPI, the `test` extra), unchanged, through its async client `BitrixAsync`.

It lower-cases method names, posts JSON with aiohttp, wraps every `call()` in a `batch` (adding
`__order=orderNNN` to each command), pages `get_all()` by `start` offsets fetched in batches
(always adding `order: {"ID": "ASC"}`), looks only at HTTP statuses for errors and retries every
5xx. It trusts a server through the aiohttp session it is given (`client=`), or turns checking
off with `ssl=False` for plain-HTTP development servers.

OAuth: `BitrixAsync(client_endpoint, token_func=...)` puts `auth` in every JSON body and gets its
tokens only from `token_func`, an async function of the application's: here one that sends
orderlink's own /oauth/token/ the refresh grant. fast-bitrix24 calls it before its first request
and again after any HTTP 401, then repeats the request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from fast_bitrix24 import BitrixAsync
from fast_bitrix24.server_response import ErrorInServerResponseException

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
from .live import LiveServer, start_server

pytestmark = [pytest.mark.clients, pytest.mark.live, pytest.mark.anyio]


@pytest.fixture
async def bx(target: Target) -> AsyncIterator[BitrixAsync]:
    """The client on a session that trusts the target's CA. `raise_for_status=True` is what
    fast-bitrix24 sets on the sessions it makes itself; its retries depend on it."""
    connector = aiohttp.TCPConnector(ssl=target.ssl_context())
    async with aiohttp.ClientSession(connector=connector, raise_for_status=True) as session:
        yield BitrixAsync(target.webhook_url, verbose=False, client=session)


class TestGetAll:
    """`get_all` reads the first page's `total`, fetches the other pages by `start` in batches
    and returns one flat list; the `order: {"ID": "ASC"}` it adds is ignored (no such field)."""

    async def test_get_all_returns_every_binding_past_the_first_page(
        self, bx: BitrixAsync, bound: Bound
    ) -> None:
        rows = await bx.get_all("crm.orderentity.list", {"filter": {"ownerId": bound.deal_id}})
        assert sorted(rows, key=lambda row: row["orderId"]) == bound.rows

    async def test_get_all_with_select_returns_only_the_selected_key(
        self, bx: BitrixAsync, bound: Bound
    ) -> None:
        rows = await bx.get_all(
            "crm.orderentity.list", {"filter": {"ownerId": bound.deal_id}, "select": ["orderId"]}
        )
        assert sorted(row["orderId"] for row in rows) == bound.order_ids
        assert all(set(row) == {"orderId"} for row in rows)


class TestCall:
    """`call` sends its items as a batch and unwraps each result; `raw=True` posts the params
    as they are and returns the whole answer."""

    async def test_call_with_one_item_unwraps_the_single_key_result(
        self, bx: BitrixAsync, records: Records
    ) -> None:
        deal_id, order_id = records.deal(), records.order()
        fields = {"orderId": order_id, "ownerId": deal_id, "ownerTypeId": DEAL}
        assert await bx.call("crm.orderentity.add", {"fields": fields}) == fields
        assert await bx.call("crm.orderentity.deleteByFilter", {"fields": fields}) is True

    async def test_call_with_many_items_answers_in_their_order(
        self, bx: BitrixAsync, records: Records
    ) -> None:
        deal_id = records.deal()
        items = [
            {"fields": {"orderId": records.order(), "ownerId": deal_id, "ownerTypeId": DEAL}}
            for _ in range(3)
        ]
        added = await bx.call("crm.orderentity.add", items)
        assert list(added) == [item["fields"] for item in items]
        rows = await bx.get_all("crm.orderentity.list", {"filter": {"ownerId": deal_id}})
        assert sorted(rows, key=lambda row: row["orderId"]) == [item["fields"] for item in items]

    async def test_call_raw_returns_the_whole_answer(self, bx: BitrixAsync) -> None:
        answer = await bx.call("crm.orderentity.getFields", raw=True)
        assert set(answer) == {"result", "time"}
        assert set(answer["result"]["orderEntity"]) == {"orderId", "ownerId", "ownerTypeId"}
        assert answer["time"]["operating"] >= 0

    async def test_refused_command_inside_call_raises_with_its_error(
        self, bx: BitrixAsync, records: Records
    ) -> None:
        with pytest.raises(ErrorInServerResponseException) as caught:
            await bx.call("crm.orderentity.add", {"fields": {"orderId": records.order()}})
        (error,) = caught.value.args[0].values()
        assert error["error_description"] == "Required fields: ownerId, ownerTypeId"


class TestOrderContents:
    """sale.basketitem.* and sale.order.get: `call` unwraps `{"basketItem": ...}` per command,
    `get_all` pages `{"basketItems": [...]}` past the first 50 (sale-basket-item-list.md)."""

    async def test_a_basket_added_in_batches_is_listed_whole_and_priced(
        self, bx: BitrixAsync, records: Records
    ) -> None:
        order_id = records.order()
        items = [
            {"fields": {"orderId": order_id, "productId": 0, "currency": "USD", "quantity": 1,
                        "name": f"Item {n}", "price": n}}
            for n in range(1, 56)
        ]  # fmt: skip
        added = await bx.call("sale.basketitem.add", items)
        assert [item["price"] for item in added] == list(range(1, 56))
        rows = await bx.get_all(
            "sale.basketitem.list", {"filter": {"orderId": order_id}, "select": ["id", "price"]}
        )
        assert sorted(row["price"] for row in rows) == list(range(1, 56))
        order = await bx.call("sale.order.get", {"id": order_id})
        assert order["price"] == sum(range(1, 56))
        assert len(order["basketItems"]) == 55


class TestTrust:
    """Without `client=`, fast-bitrix24's own sessions use aiohttp's default TLS context, which
    aiohttp builds when it is imported: `SSL_CERT_FILE` exported before the process starts
    makes it trust orderlink's CA."""

    def test_default_sessions_trust_ssl_cert_file_set_before_start(self, target: Target) -> None:
        program = (
            "import asyncio, json, sys\n"
            "from fast_bitrix24 import BitrixAsync\n"
            "bx = BitrixAsync(sys.argv[1], verbose=False)\n"
            "answer = asyncio.run(bx.call('crm.orderentity.getFields', raw=True))\n"
            "print(json.dumps(sorted(answer['result']['orderEntity'])))\n"
        )
        completed = subprocess.run(
            [sys.executable, "-c", program, target.webhook_url], capture_output=True, text=True,
            timeout=120, env=os.environ | target.trust_env(),
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr
        assert json.loads(completed.stdout) == ["orderId", "ownerId", "ownerTypeId"]


class TestCallBatch:
    """`call_batch` posts `halt` and `cmd` as given and returns the inner `result` map."""

    async def test_call_batch_returns_results_by_command_key(
        self, bx: BitrixAsync, bound: Bound
    ) -> None:
        answer = await bx.call_batch(
            {
                "halt": 0,
                "cmd": {
                    "fields": "crm.orderentity.getFields",
                    "first": f"crm.orderentity.list?filter[orderId]={bound.order_ids[0]}",
                },
            }
        )
        assert answer["first"] == {"orderEntity": [bound.rows[0]]}
        assert set(answer["fields"]["orderEntity"]) == {"orderId", "ownerId", "ownerTypeId"}


class TestFastBitrix24:
    """fast-bitrix24 from PyPI in its direct-call mode (`call(raw=True)`), unchanged, over plain
    HTTP with `ssl=False` (the README's example), on the docs' example rows."""

    async def test_raw_add_list_delete(self, live_server: LiveServer) -> None:
        bx = BitrixAsync(live_server.webhook_url, ssl=False, verbose=False)
        fields = {"fields": {"orderId": 5127, "ownerId": 6937, "ownerTypeId": 2}}
        deleted = await bx.call("crm.orderentity.deleteByFilter", fields, raw=True)
        assert deleted["result"] is True
        added = await bx.call("crm.orderentity.add", fields, raw=True)
        assert added["result"] == {
            "dealOrder": {"orderId": 5127, "ownerId": 6937, "ownerTypeId": 2}
        }
        listed = await bx.call("crm.orderentity.list", {"filter": {"orderId": 5127}}, raw=True)
        assert listed["result"]["orderEntity"] == [
            {"orderId": 5127, "ownerId": 6937, "ownerTypeId": 2}
        ]
        assert listed["total"] == 1

    async def test_raw_error_surfaces_as_client_error(self, live_server: LiveServer) -> None:
        bx = BitrixAsync(live_server.webhook_url, ssl=False, verbose=False)
        with pytest.raises(aiohttp.ClientResponseError) as caught:
            await bx.call("crm.orderentity.add", {"fields": {"orderId": 1}}, raw=True)
        assert caught.value.status == 400


class TestRateLimitRetries:
    """Against a local orderlink whose bucket holds 3 requests (drains 2/s): fast-bitrix24
    meets HTTP 503 QUERY_LIMIT_EXCEEDED and gets through with its own retries."""

    async def test_fast_bitrix24_survives_503_with_its_own_retries(self, tmp_path: Path) -> None:
        server = start_server(
            tmp_path / "retry.db", "--seed-examples", "--bucket-size", "3", "--drain-rate", "2",
            "--access-log",
        )  # fmt: skip
        try:
            bx = BitrixAsync(server.webhook_url, ssl=False, verbose=False)
            for _ in range(8):
                answer = await bx.call(
                    "crm.orderentity.list", {"filter": {"ownerTypeId": 2}}, raw=True
                )
                assert answer["total"] == 3
        finally:
            server.stop()
        assert any('" 503' in line for line in server.output), "the limit was never hit"


@asynccontextmanager
async def app_client(app: OAuthApp) -> AsyncIterator[BitrixAsync]:
    """The client for an application: calls go to `client_endpoint`, tokens come from
    `token_func` (a refresh grant at the app's authorization server)."""
    connector = aiohttp.TCPConnector(ssl=app.ssl_context())
    async with aiohttp.ClientSession(connector=connector, raise_for_status=True) as session:
        yield BitrixAsync(
            app.tokens["client_endpoint"], token_func=app.fresh_access_token, verbose=False,
            client=session,
        )  # fmt: skip


class TestOAuthTokenFunc:
    """With `token_func` in place of a webhook: batches (`call`) and paging (`get_all`) carry
    the token it returned; it is asked once, before the first request."""

    async def test_token_func_supplies_the_auth_of_call_and_get_all(
        self, oauth_app: OAuthApp, records: Records, bound: Bound
    ) -> None:
        deal_id, order_id = records.deal(), records.order()
        fields = {"orderId": order_id, "ownerId": deal_id, "ownerTypeId": DEAL}
        refreshes = oauth_app.refreshes
        async with app_client(oauth_app) as bx:
            added = await bx.call("crm.orderentity.add", {"fields": fields})
            rows = await bx.get_all("crm.orderentity.list", {"filter": {"ownerId": bound.deal_id}})
            deleted = await bx.call("crm.orderentity.deleteByFilter", {"fields": fields})

        assert added == fields
        assert sorted(rows, key=lambda row: row["orderId"]) == bound.rows
        assert deleted is True
        assert oauth_app.refreshes == refreshes + 1


class TestOAuthExpiry:
    """Against a local orderlink with a test clock: an hour after its token was issued a call
    gets 401 `expired_token`; fast-bitrix24 calls `token_func` again by itself, repeats the
    call, and it succeeds."""

    async def test_after_401_it_calls_token_func_again_and_the_call_succeeds(
        self, clocked: OAuthApp
    ) -> None:
        made = clocked.records()
        fields = {"orderId": made.order(), "ownerId": made.deal(), "ownerTypeId": DEAL}
        async with app_client(clocked) as bx:
            added = await bx.call("crm.orderentity.add", {"fields": fields})
            first = dict(clocked.tokens)  # the pair token_func got for the first call
            clocked.advance_clock(HOUR)
            rows = await bx.get_all(
                "crm.orderentity.list", {"filter": {"ownerId": fields["ownerId"]}}
            )

        assert added == fields
        assert rows == [fields]
        assert clocked.refreshes == 2
        assert clocked.access_token != first["access_token"]
        assert len(clocked.answered(401, "/rest/crm.orderentity.list")) == 1
        spent = clocked.refused_grant(first["refresh_token"])
        assert (spent.status_code, spent.json()["error"]) == (400, "invalid_grant")
