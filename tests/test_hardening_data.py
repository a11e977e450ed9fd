"""Issue 12, data and events: dates that would break every later read, NUL characters, a LIKE
pattern SQLite cannot run, whose token an event delivery carries, where a handler may point,
and what the delivery log may show. On both stores."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from orderlink.clock import FrozenClock
from orderlink.destinations import refusal
from orderlink.events import shown_url
from orderlink.registry import Role
from orderlink.settings import Settings

from .conftest import Portal, error_of
from .oauth_apps import register, tokens
from .receiver import Receiver
from .test_events import deliveries, rest

pytestmark = pytest.mark.anyio


ORDER = {"lid": "s1", "personTypeId": 1, "currency": "USD"}


class TestDates:
    """Point 3: year 0 / year 10000 in some zone answered 500 and was saved anyway."""

    @pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
    async def test_unprintable_dates_are_refused_and_nothing_is_saved(
        self, portal: Portal, moment: str
    ) -> None:
        response = await portal.call("sale.order.add", {"fields": {**ORDER, "dateInsert": moment}})
        assert response.status_code == 400, response.text
        listed = await portal.ok("sale.order.list", {})
        assert listed["orders"] == []

    async def test_update_with_an_unprintable_date_changes_nothing(self, portal: Portal) -> None:
        order = (await portal.ok("sale.order.add", {"fields": ORDER}))["order"]["id"]
        response = await portal.call(
            "sale.order.update",
            {"id": order, "fields": {"dateInsert": "9999-12-31T23:59:59-14:00"}},
        )
        assert response.status_code == 400
        assert (await portal.call("sale.order.get", {"id": order})).status_code == 200

    async def test_deal_dates_are_bounded_too(self, portal: Portal) -> None:
        response = await portal.call(
            "crm.deal.add", {"fields": {"TITLE": "x", "BEGINDATE": "0001-01-01T00:00:00+14:00"}}
        )
        assert response.status_code == 400
        assert await portal.ok("crm.deal.list", {}) == []


class TestStringBounds:
    """Point 7: a 70,000-character TITLE was stored whole. A portal's columns are varchar(255)
    (comments and descriptions TEXT, 65,535 bytes) in MySQL without strict mode, so a longer
    value is cut to fit and the call succeeds (schema.py, docs/decisions.md). Inferred from the
    portal's storage rather than read on a method page: this test names why."""

    async def test_a_deal_title_keeps_255_characters(self, portal: Portal) -> None:
        title = "Ж" * 70_000
        deal = await portal.ok("crm.deal.add", {"fields": {"TITLE": title, "COMMENTS": title}})
        got = await portal.ok("crm.deal.get", {"id": deal})
        assert got["TITLE"] == "Ж" * 255
        # TEXT holds 65,535 bytes: 32,767 two-byte characters, never half of one.
        assert got["COMMENTS"] == "Ж" * 32_767

    async def test_items_and_orders_too(self, portal: Portal) -> None:
        item = await portal.ok("crm.item.add", {"entityTypeId": 2, "fields": {"title": "t" * 300}})
        assert len(item["item"]["title"]) == 255
        order = await portal.ok(
            "sale.order.add", {"fields": {**ORDER, "comments": "c" * 70_000, "id1c": "x" * 999}}
        )
        got = (await portal.ok("sale.order.get", {"id": order["order"]["id"]}))["order"]
        assert (len(got["comments"]), len(got["id1c"])) == (65_535, 255)

    async def test_a_short_value_is_untouched(self, portal: Portal) -> None:
        deal = await portal.ok("crm.deal.add", {"fields": {"TITLE": "x" * 255}})
        assert (await portal.ok("crm.deal.get", {"id": deal}))["TITLE"] == "x" * 255


class TestNul:
    """Points 4 and 6: PostgreSQL cannot store U+0000 (it answered 500) and SQLite's LIKE
    stopped at it (a `%` filter matched every row): refused on both stores alike."""

    @pytest.mark.parametrize(
        ("method", "params"),
        [
            ("crm.deal.add", {"fields": {"TITLE": "a\u0000b"}}),
            ("crm.item.add", {"entityTypeId": 31, "fields": {"title": "a\u0000b"}}),
            ("sale.order.add", {"fields": {**ORDER, "comments": "a\u0000"}}),
            ("crm.deal.list", {"filter": {"%TITLE": "\u0000zz"}}),
            ("crm.deal.list", {"filter": {"TITLE\u0000": "x"}}),
        ],
    )
    async def test_nul_is_a_400_and_writes_nothing(
        self, portal: Portal, method: str, params: dict[str, object]
    ) -> None:
        await portal.add_deal(6933)
        body = await error_of(portal, method, params)
        assert body["error"] == "INVALID_REQUEST"
        assert len(await portal.ok("crm.deal.list", {})) == 1

    async def test_nul_in_a_form_and_in_oauth_parameters(self, portal: Portal) -> None:
        assert (await portal.call("crm.deal.add", form="fields[TITLE]=a%00b")).status_code == 400
        response = await portal.client.get("/oauth/token/?client_id=%00")
        assert response.status_code == 400
        assert response.json()["error"] == "INVALID_REQUEST"


async def test_a_huge_like_pattern_is_a_400_not_a_503(portal: Portal) -> None:
    """Point 5: SQLite's `LIKE or GLOB pattern too complex` is about the request's value; a
    503 would make a retrying client retry for ever. PostgreSQL runs it (no match)."""
    await portal.add_deal(6933)
    for method, params in (
        ("crm.deal.list", {"filter": {"%TITLE": "%_" * 30_000}}),
        ("crm.orderentity.list", {"filter": {"%orderId": "%_" * 30_000}}),
    ):
        response = await portal.call(method, params)
        assert response.status_code in (200, 400), response.text
        assert response.status_code != 503


class TestEventTokens:
    """Point 26 (high): a non-admin's handler got the admin's tokens when the admin caused the
    event. event-bind.md: for a user without admin rights, events are set on behalf of the
    current user."""

    async def test_a_managers_handler_gets_the_managers_token(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        manager = int(hook.split("/")[2])
        app = await register(portal)
        token = (await tokens(portal, app, user_id=manager))["access_token"]
        await rest(
            portal, token, "event.bind", {"event": "ONCRMDEALADD", "handler": receiver.url()}
        )
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "by the admin"}})
        (body,) = await deliveries(portal, receiver, 1)
        assert body["auth"]["user_id"] == str(manager)
        profile = await rest(portal, body["auth"]["access_token"], "profile", {})
        assert profile["ID"] == str(manager)
        assert profile["ADMIN"] is False

    async def test_an_admins_default_handler_still_gets_the_causing_user(
        self, portal: Portal, receiver: Receiver
    ) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        await rest(
            portal, token, "event.bind", {"event": "ONCRMDEALADD", "handler": receiver.url()}
        )
        (handler,) = await rest(portal, token, "event.get", {})
        assert handler["auth_type"] == "0"

    async def test_unbind_uses_the_unbind_wording(self, portal: Portal) -> None:
        """Point 34: event-unbind.md says "Event unbinding with AUTH_TYPE ..."."""
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        manager = int(hook.split("/")[2])
        app = await register(portal)
        token = (await tokens(portal, app, user_id=manager))["access_token"]
        response = await portal.client.post(
            "/rest/event.unbind",
            json={
                "auth": token,
                "event": "ONCRMDEALADD",
                "handler": "https://x.example/h",
                "auth_type": 1,
            },
        )
        assert response.status_code == 403
        assert "Event unbinding with AUTH_TYPE" in response.json()["error_description"]


class TestDestinations:
    """Points 10 and 29: URLs no delivery can reach, and where tokens must never go."""

    @pytest.mark.parametrize(
        "url",
        [
            "http://",
            "http://[::1",
            "http://a.example/x\r\nInjected: 1",
            "http://a.example/" + "x" * 100_000,
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/h",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://127.0.0.1:8080/rest/1/abc/profile",
            "http://a.example:99999/",
        ],
    )
    async def test_refused_at_bind(self, portal: Portal, url: str) -> None:
        app = await register(portal)
        token = (await tokens(portal, app))["access_token"]
        response = await portal.client.post(
            "/rest/event.bind", json={"auth": token, "event": "ONCRMDEALADD", "handler": url}
        )
        assert response.status_code == 400
        # The rest module's handler check (issue 12 point 10, tests/test_hardening_events.py).
        assert response.json()["error"] == "ERROR_WRONG_HANDLER_URL"
        assert await rest(portal, token, "event.get", {}) == []

    def test_loopback_and_private_are_allowed_by_default_and_refused_when_public(self) -> None:
        local, public = Settings(), Settings(event_handler_policy="public")
        for url in ("http://127.0.0.1:9999/h", "http://10.0.0.5/h", "http://app.internal/h"):
            assert refusal(url, local) == ""
            assert refusal(url, public) != ""
        assert refusal("https://8.8.8.8/h", public) == ""
        assert refusal("https://app.example.com/h", public) == ""


def test_the_delivery_log_shows_no_credentials_and_one_row_per_url() -> None:
    """Point 9 and 10: `orderlink events log` rows."""
    assert shown_url("http://user:pass@h.example/x") == "http://***@h.example/x"
    assert "\n" not in shown_url("http://h.example/a\r\nb")


async def test_httpx_request_lines_never_reach_the_log(
    portal: Portal, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """Point 9: httpx logged `HTTP Request: POST http://user:pass@...` at INFO."""
    app = await register(portal)
    token = (await tokens(portal, app))["access_token"]
    url = receiver.url().replace("http://", "http://user:s3cretpass@")
    await rest(portal, token, "event.bind", {"event": "ONCRMDEALADD", "handler": url})
    with caplog.at_level(logging.DEBUG):
        await portal.ok("crm.deal.add", {"fields": {"TITLE": "x"}})
        await deliveries(portal, receiver, 1)
    assert all("s3cretpass" not in record.getMessage() for record in caplog.records)


class TestConsentAndTokenHeaders:
    """Point 27: the consent page asks for a webhook code, so it may not be framed; token
    answers and the redirect carrying a code are not cached (RFC 6749 section 5.1). Point 18:
    a wrong code on the form shows the form again, with the error."""

    async def test_the_consent_page_cannot_be_framed_or_cached(self, portal: Portal) -> None:
        app = await register(portal)
        page = await portal.client.get("/oauth/authorize/", params={"client_id": app.client_id})
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"

    async def test_a_wrong_code_shows_the_form_again(self, portal: Portal) -> None:
        app = await register(portal)
        wrong = await portal.client.post(
            "/oauth/authorize/", data={"client_id": app.client_id, "user_id": "1", "code": "nope"}
        )
        assert wrong.status_code == 401
        assert wrong.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in wrong.text
        assert "<form" in wrong.text

    async def test_the_redirect_and_token_answers_are_not_cached(self, portal: Portal) -> None:
        app = await register(portal)
        code = portal.hook.split("/")[3]
        approved = await portal.client.post(
            "/oauth/authorize/", data={"client_id": app.client_id, "user_id": "1", "code": code}
        )
        assert approved.headers["cache-control"] == "no-store"
        issued = await portal.client.get(
            "/oauth/token/",
            params={"grant_type": "authorization_code", "client_id": app.client_id,
                    "client_secret": app.client_secret, "code": approved.headers["location"].split("code=")[1].split("&")[0]},
        )  # fmt: skip
        assert issued.status_code == 200
        assert issued.headers["cache-control"] == "no-store"


class TestFailedCredentials:
    """Point 31: 10,000 wrong client secrets in 0.8 s went unanswered by any limit. An address
    past `--auth-failure-limit` failures a minute is refused before its credentials are read."""

    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database=database_url, rate_limit=False, auth_failure_limit=3)

    async def test_wrong_webhook_codes_lock_the_address_out_for_a_minute(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        for _ in range(3):
            response = await portal.call("profile", hook="/rest/1/wrongcode1234567/")
            assert response.json()["error"] == "INVALID_CREDENTIALS"
        refused = await portal.call("profile")  # even the right code, for now
        assert refused.status_code == 503
        assert refused.json()["error"] == "QUERY_LIMIT_EXCEEDED"
        clock.advance(61)
        assert (await portal.call("profile")).status_code == 200

    async def test_wrong_client_secrets_count_too(self, portal: Portal) -> None:
        app = await register(portal)
        form = {"grant_type": "refresh_token", "client_id": app.client_id, "refresh_token": "x"}
        for _ in range(3):
            wrong = await portal.client.get("/oauth/token/", params={**form, "client_secret": "no"})
            assert wrong.status_code in (400, 401)
        locked = await portal.client.get("/oauth/token/", params={**form, "client_secret": "no"})
        assert locked.status_code == 503

    async def test_a_correct_client_is_never_slowed(self, portal: Portal) -> None:
        for _ in range(20):
            assert (await portal.call("profile")).status_code == 200


class TestArrayFilterValues:
    """Point 20: `{"ID": [a, b]}` without `@` means "any of" (with `!`, "none of"): b24phpsdk's
    batch paging sends it; the portals' filter engines read a PHP array under an equality key
    as a list of values."""

    async def test_deals(self, portal: Portal) -> None:
        for deal in (7058, 7059, 7060):
            await portal.add_deal(deal)
        found = await portal.ok("crm.deal.list", {"filter": {"ID": [7058, 7059]}})
        assert sorted(int(d["ID"]) for d in found) == [7058, 7059]
        others = await portal.ok("crm.deal.list", {"filter": {"!ID": [7058, 7059]}})
        assert [int(d["ID"]) for d in others] == [7060]

    async def test_items_orders_and_bindings(self, portal: Portal) -> None:
        for deal in (7058, 7059, 7060):
            await portal.add_deal(deal)
        items = await portal.ok(
            "crm.item.list", {"entityTypeId": 2, "filter": {"id": [7058, 7060]}}
        )
        assert sorted(i["id"] for i in items["items"]) == [7058, 7060]
        for order in (5125, 5127):
            await portal.add_order(order)
        orders = await portal.ok("sale.order.list", {"filter": {"id": [5127]}})
        assert [int(o["id"]) for o in orders["orders"]] == [5127]
        await portal.ok(
            "crm.orderentity.add", {"fields": {"orderId": 5125, "ownerId": 7058, "ownerTypeId": 2}}
        )
        await portal.ok(
            "crm.orderentity.add", {"fields": {"orderId": 5127, "ownerId": 7059, "ownerTypeId": 2}}
        )
        bound = await portal.ok("crm.orderentity.list", {"filter": {"orderId": [5127, 1]}})
        assert [int(b["orderId"]) for b in bound["orderEntity"]] == [5127]


class TestCliListings:
    """Point 18: listings print a header row; `orderlink user list` exists."""

    def test_user_list_webhook_list_and_app_list(self, tmp_path: Path) -> None:
        from click.testing import CliRunner

        from orderlink.cli import main

        db = f"sqlite:///{tmp_path / 'o.db'}"
        runner = CliRunner()
        assert (
            runner.invoke(
                main,
                [
                    "user",
                    "add",
                    "--name",
                    "Shop manager",
                    "--store-role",
                    "manager",
                    "--database",
                    db,
                ],
            ).exit_code
            == 0
        )
        users = runner.invoke(main, ["user", "list", "--database", db]).output.splitlines()
        assert users[0] == "id\tname\tstore role\tadmin"
        assert users[-1] == "1\tShop manager\tmanager\tno" or users[-1].startswith(
            "2\tShop manager\tmanager"
        )
        as_json = runner.invoke(
            main, ["user", "list", "--json", "--database", db]
        ).output.splitlines()
        assert json.loads(as_json[-1])["store_role"] == "manager"
        hooks = runner.invoke(main, ["webhook", "list", "--database", db]).output.splitlines()
        assert hooks[0] == "id\tuser\tscopes\tstate"
        apps = runner.invoke(main, ["app", "list", "--database", db]).output.splitlines()
        assert apps[0] == "client_id\tname\tscopes\tstate"
        status = runner.invoke(main, ["db", "status", "--database", db])
        assert status.exit_code == 0, status.output
        for table in ("portals", "users", "webhooks", "tokens", "event_handlers"):
            assert any(line.startswith(table + "\t") for line in status.output.splitlines())
