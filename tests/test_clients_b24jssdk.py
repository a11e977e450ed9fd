"""@bitrix24/b24jssdk, Bitrix24's official JavaScript SDK (npm, pinned in tests/js/package.json),
unchanged, on Node 20.

Each test runs one script from tests/js with `node`: the case goes in as JSON on stdin, the
script prints what the SDK answered as JSON (tests/js/harness.mjs). `B24Hook.fromWebhookUrl`
accepts only `https://` URLs; Node trusts a local orderlink's CA through `NODE_EXTRA_CA_CERTS`.
The SDK adds `bx24_request_id`, `bx24_sdk_ver` and `bx24_sdk_type` to every URL's query.

Its OAuth client `B24OAuth` is built from an /oauth/token/ reply (tests/js/harness.mjs
`connectOAuth`): calls go to `clientEndpoint` (as `/rest//method`, which orderlink collapses),
`auth` in the JSON body. On 401 `expired_token` or `invalid_token`, or before a call once
`expires` has passed by its own clock, it POSTs the refresh grant as a form to `serverEndpoint`
with `/rest/` cut off plus `/oauth/token/`: orderlink names itself there, so the SDK refreshes
against orderlink by itself, no hook needed (`setCustomRefreshAuth` exists for other servers).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .clients import (  # noqa: F401 (fixtures pytest finds by name)
    DEAL,
    HOUR,
    JS_DIR,
    Bound,
    OAuthApp,
    Records,
    Target,
    bound_fixture,
    clocked_fixture,
    missing,
    oauth_app_fixture,
    records_fixture,
    register_app,
    target_fixture,
)
from .live import start_server

pytestmark = [pytest.mark.clients, pytest.mark.live]

SDK = JS_DIR / "node_modules" / "@bitrix24" / "b24jssdk"


@pytest.fixture(scope="module", autouse=True)
def nodejs() -> None:
    """Node 20 or later and the installed SDK, before any record is made."""
    if shutil.which("node") is None:
        missing("node is not on PATH (Node 20 runs the b24jssdk tests)")
    version = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        missing(f"the b24jssdk tests need Node 20 or later, found {version}")
    if not SDK.is_dir():
        missing("b24jssdk is not installed: npm ci --prefix tests/js")


def node(script: str, case: dict[str, Any], trust: dict[str, str]) -> Any:
    """Run tests/js/<script> on `case` and return the JSON it printed."""
    completed = subprocess.run(
        ["node", str(JS_DIR / script)], input=json.dumps(case), capture_output=True, text=True,
        timeout=120, env=os.environ | trust, cwd=JS_DIR,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


def test_the_installed_sdk_is_the_pinned_one() -> None:
    """npm ci installs exactly what package-lock.json names; the tests speak of that version."""
    pinned = json.loads((JS_DIR / "package.json").read_text())["dependencies"]["@bitrix24/b24jssdk"]
    installed = json.loads((SDK / "package.json").read_text())["version"]
    assert installed == pinned == "2.2.0"


class TestWebhook:
    """`B24Hook` over HTTPS: bind, list with select, read the fields, be refused with the
    documented statuses, unbind; every answer carries the full `time` block it needs."""

    def test_bind_list_describe_refuse_unbind(self, target: Target, records: Records) -> None:
        deal_id, order_id = records.deal(), records.order()
        case = {"webhook": target.webhook_url, "orderId": order_id, "dealId": deal_id}
        answer = node("hook.mjs", case, target.trust_env())

        binding = {"orderId": order_id, "ownerId": deal_id, "ownerTypeId": DEAL}
        assert answer["added"] == {"dealOrder": binding}
        assert answer["addedTimeKeys"] == sorted(
            ["start", "finish", "duration", "processing", "date_start", "date_finish",
             "operating", "operating_reset_at"]
        )  # fmt: skip
        assert answer["listed"] == {"orderEntity": [{"orderId": order_id}]}
        assert (answer["listedTotal"], answer["listedMore"]) == (1, False)
        assert set(answer["described"]["orderEntity"]) == {"orderId", "ownerId", "ownerTypeId"}
        # The SDK reports the numeric-string code "0" by its transport code instead.
        assert answer["missingOwner"] == {
            "status": 400,
            "code": "ERR_BAD_REQUEST",
            "message": "Required fields: ownerId, ownerTypeId",
        }
        assert answer["unknownMethod"]["status"] == 404
        assert answer["unknownMethod"]["code"] == "ERROR_METHOD_NOT_FOUND"
        assert answer["deleted"] is True
        assert answer["afterDelete"] == {"orderEntity": []}


@pytest.fixture(scope="module")
def paged(target: Target, bound: Bound) -> Iterator[tuple[Any, list[int]]]:
    """paging.mjs run once over the module's bindings and 53 deals sharing a new title."""
    deals = Records(target)
    try:
        title, deal_ids = deals.deals_titled(53)
        case = {"webhook": target.webhook_url, "dealId": bound.deal_id, "dealTitle": title}
        yield node("paging.mjs", case, target.trust_env()), sorted(deal_ids)
    finally:
        deals.delete()


class TestCursorPaging:
    """`callList` and `fetchList` page by cursor: a `>orderId` (or `>ID`) filter raised to the
    last row's id, `order: {idKey: "ASC"}`, `start: -1`, until a page holds fewer than 50."""

    def test_call_list_by_order_id_returns_every_binding(
        self, paged: tuple[Any, list[int]], bound: Bound
    ) -> None:
        listed, _ = paged
        assert listed["callListSuccess"] is True
        assert listed["callList"] == bound.rows

    def test_fetch_list_by_order_id_yields_a_full_page_then_the_rest(
        self, paged: tuple[Any, list[int]], bound: Bound
    ) -> None:
        listed, _ = paged
        assert listed["fetchListChunks"] == [50, 5]
        assert listed["fetchList"] == bound.rows

    def test_fetch_list_of_deals_by_id(self, paged: tuple[Any, list[int]]) -> None:
        listed, deal_ids = paged
        assert listed["dealChunks"] == [50, 3]
        assert listed["dealIds"] == deal_ids


class TestBatch:
    """`actions.v2.batch`: keyed and listed commands, per-command `total`, a refused command
    beside a successful one (halt off), and a `$result[...]` reference between commands."""

    def test_batch_forms_totals_errors_and_references(
        self, target: Target, bound: Bound, records: Records
    ) -> None:
        case = {"webhook": target.webhook_url, "dealId": bound.deal_id, "orderIds": bound.order_ids}
        answer = node("batch.mjs", case, target.trust_env())
        chained_order = answer["chained"]["order"]["order"]["id"]
        records.orders.append(chained_order)

        assert answer["keyedSuccess"] is True
        assert answer["keyed"]["first"] == {"orderEntity": [bound.rows[0]]}
        assert set(answer["keyed"]["fields"]["orderEntity"]) == {
            "orderId",
            "ownerId",
            "ownerTypeId",
        }
        assert answer["listedPages"] == [{"rows": 50, "total": 55}, {"rows": 5, "total": 55}]
        assert answer["mixedSuccess"] is False
        assert answer["mixed"] == [{"orderEntity": [bound.rows[1]]}]
        assert answer["mixedErrors"] == ["Required fields: ownerId, ownerTypeId"]
        assert answer["chainedSuccess"] is True
        assert answer["chained"]["bind"] == {
            "dealOrder": {"orderId": chained_order, "ownerId": bound.deal_id, "ownerTypeId": DEAL}
        }


class TestRateLimitRetries:
    """Against a local orderlink whose bucket holds 3 requests (drains 2/s), far below the
    SDK's own limiter (50, 2/s): the SDK meets HTTP 503 QUERY_LIMIT_EXCEEDED, waits and retries."""

    def test_survives_503_with_its_own_retries(self, tmp_path: Path) -> None:
        server = start_server(
            tmp_path / "retry.db", "--tls", "--bucket-size", "3", "--drain-rate", "2",
            "--access-log",
        )  # fmt: skip
        try:
            assert server.ca_file is not None
            trust = {"NODE_EXTRA_CA_CERTS": str(server.ca_file)}
            answer = node("retries.mjs", {"webhook": server.webhook_url, "times": 6}, trust)
        finally:
            server.stop()
        assert answer["totals"] == [0] * 6
        assert any('" 503' in line for line in server.output), "the limit was never hit"


class TestOAuth:
    """`B24OAuth` with a valid access token: bind, list, a batch, unbind, and no refresh while
    the token's `expires` lies ahead."""

    def test_oauth_client_binds_lists_batches_and_unbinds_with_its_token(
        self, oauth_app: OAuthApp, records: Records
    ) -> None:
        deal_id, order_id = records.deal(), records.order()
        case = {
            "tokens": oauth_app.tokens,
            **oauth_app.secret,
            "orderId": order_id,
            "dealId": deal_id,
        }
        answer = node("oauth.mjs", case, oauth_app.trust_env())

        binding = {"orderId": order_id, "ownerId": deal_id, "ownerTypeId": DEAL}
        assert answer["added"] == {"dealOrder": binding}
        assert (answer["listed"], answer["listedTotal"]) == ({"orderEntity": [binding]}, 1)
        assert answer["batchSuccess"] is True
        assert set(answer["batch"]["fields"]["orderEntity"]) == {
            "orderId",
            "ownerId",
            "ownerTypeId",
        }
        assert answer["batch"]["mine"] == {"orderEntity": [{"ownerId": deal_id}]}
        assert answer["deleted"] is True
        assert answer["refreshes"] == 0
        assert answer["accessToken"] == oauth_app.access_token


def refresh_case(app: OAuthApp, deal_id: int, advance: float | None = None) -> dict[str, Any]:
    """oauth-refresh.mjs's case: the app's current pair; with `advance`, the clock to move."""
    case = {"tokens": app.tokens, **app.secret, "dealId": deal_id}
    if advance is not None:
        assert app.server is not None
        case |= {"clockUrl": app.server.base_url + "/_orderlink/clock", "advance": advance}
    return case


class TestOAuthRefreshOnFault:
    """The test kit's `expired_token` fault on an OAuth call: b24jssdk cannot tell it from a
    token past its hour, so it refreshes at orderlink and repeats the call (issue 15: "each
    fault kind seen by a real client")."""

    def test_an_expired_token_fault_makes_it_refresh_and_repeat_the_call(
        self, tmp_path: Path
    ) -> None:
        token = secrets.token_urlsafe(24)
        server = start_server(
            tmp_path / "fault.db", "--tls", "--access-log", "--graceful-timeout", "1",
            "--admin-token", token,
        )  # fmt: skip
        try:
            app = register_app(server)
            deal_id = app.records().deal()
            issued = dict(app.tokens)
            with httpx.Client(verify=app.ssl_context(), timeout=30) as http:
                added = http.post(
                    server.base_url + "/_orderlink/api/portals/1/faults",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"method": "crm.orderentity.list", "error": "expired_token", "times": 1},
                )
            assert added.status_code == 201, added.text
            answer = node("oauth-refresh.mjs", refresh_case(app, deal_id), app.trust_env())

            assert answer["calls"] == [{"result": {"orderEntity": []}}] * 3
            (refreshed,) = answer["refreshed"]
            assert refreshed["refreshToken"] != issued["refresh_token"]
            assert answer["authData"]["access_token"] == refreshed["accessToken"]
            # The fault answered once, the SDK refreshed once at orderlink, then called again.
            assert len(app.answered(401, "/rest//crm.orderentity.list")) == 1
            assert len(app.answered(200, "/oauth/token/")) == 1
            with httpx.Client(verify=app.ssl_context(), timeout=30) as http:
                faults = http.get(
                    server.base_url + "/_orderlink/api/portals/1/faults",
                    headers={"Authorization": f"Bearer {token}"},
                ).json()["faults"]
            assert [fault["fired"] for fault in faults] == [1]
        finally:
            server.stop()


class TestOAuthRefresh:
    """Against a local orderlink with a test clock: once the access token has expired the SDK
    refreshes at orderlink by itself, keeps the new pair, and the old refresh token is dead."""

    def test_after_401_expired_token_it_refreshes_at_orderlink_and_repeats_the_call(
        self, clocked: OAuthApp
    ) -> None:
        made = clocked.records()
        deal_id = made.deal()
        (order_id,) = made.bound_orders(deal_id, 1)
        issued = dict(clocked.tokens)
        answer = node(
            "oauth-refresh.mjs", refresh_case(clocked, deal_id, HOUR), clocked.trust_env()
        )

        rows = {"orderEntity": [{"orderId": order_id, "ownerId": deal_id, "ownerTypeId": DEAL}]}
        assert answer["calls"] == [{"result": rows}] * 3
        (refreshed,) = answer["refreshed"]  # the third call reused the new token
        assert answer["authData"]["access_token"] == refreshed["accessToken"]
        assert refreshed["refreshToken"] != issued["refresh_token"]
        # An hour after the refresh by orderlink's clock, which the test moved an hour on.
        assert refreshed["expires"] >= issued["expires"] + HOUR
        # orderlink saw the 401, one refresh grant at its own /oauth/token/, and the call again.
        assert len(clocked.answered(401, "/rest//crm.orderentity.list")) == 1
        assert len(clocked.answered(200, "/oauth/token/")) == 1
        assert (
            clocked.call("crm.orderentity.getFields", refreshed["accessToken"]).status_code == 200
        )
        # The rotated-out refresh token is dead; presented again it also revokes the pair the
        # SDK refreshed to (RFC 9700 4.14.2, docs/decisions.md).
        spent = clocked.refused_grant(issued["refresh_token"])
        assert (spent.status_code, spent.json()["error"]) == (400, "invalid_grant")
        revoked = clocked.call("crm.orderentity.getFields", refreshed["accessToken"])
        assert (revoked.status_code, revoked.json()["error"]) == (401, "invalid_token")

    def test_once_expires_has_passed_it_refreshes_before_calling(self, clocked: OAuthApp) -> None:
        """`expires` is absolute Unix time: the SDK compares it with its own clock and refreshes
        first, so orderlink never answers 401."""
        deal_id = clocked.records().deal()
        issued = clocked.issue("--access-token-ttl", "1")
        time.sleep(max(0.0, issued["expires"] + 0.1 - time.time()))
        answer = node("oauth-refresh.mjs", refresh_case(clocked, deal_id), clocked.trust_env())

        assert answer["calls"] == [{"result": {"orderEntity": []}}] * 3
        assert len(answer["refreshed"]) == 1
        assert clocked.answered(401, "/rest/") == []
        assert len(clocked.answered(200, "/oauth/token/")) == 1

    def test_a_refresh_token_past_its_180_days_surfaces_as_invalid_grant(
        self, clocked: OAuthApp
    ) -> None:
        """Refresh tokens live 180 days: past that, the 401 makes the SDK refresh, orderlink
        answers 400 `invalid_grant`, and the call fails with the SDK's RefreshTokenError inside
        (the application must send its user through /oauth/authorize/ again)."""
        deal_id = clocked.records().deal()
        answer = node(
            "oauth-refresh.mjs",
            refresh_case(clocked, deal_id, 181 * 24 * HOUR),
            clocked.trust_env(),
        )

        refused = {
            "status": 0,
            "code": "JSSDK_UNKNOWN_ERROR",
            "message": "Invalid refresh token",
            "cause": {"status": 400, "code": "invalid_grant", "message": "Invalid refresh token"},
        }
        assert answer["calls"] == [
            {"result": {"orderEntity": []}},
            {"error": refused},
            {"error": refused},
        ]
        assert answer["refreshed"] == []
        assert len(clocked.answered(400, "/oauth/token/")) == 2
