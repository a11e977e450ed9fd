"""OAuth 2.0 applications (settings/oauth/index.md, auth.md sections 3-4): the authorization-code
and refresh flows over HTTP, REST calls with `auth`, and expiry on the injected clock."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from orderlink import app as app_module
from orderlink.auth import hash_secret
from orderlink.cli import main
from orderlink.clock import FrozenClock
from orderlink.registry import Role
from orderlink.settings import Settings

from .conftest import Portal
from .oauth_apps import TestApp, register, tokens

pytestmark = pytest.mark.anyio

REPLY_KEYS = [
    "access_token", "expires", "expires_in", "scope", "domain", "server_endpoint", "status",
    "client_endpoint", "member_id", "user_id", "refresh_token",
]  # fmt: skip
HEX70 = re.compile(r"[0-9a-f]{70}\Z")


class TestAuthorizationCode:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.replace(oauth_auto_approve=True)

    async def authorize(self, portal: Portal, app: TestApp, **extra: str) -> dict[str, str]:
        query = {"client_id": app.client_id, "state": "xyz", **extra}
        response = await portal.client.get("/oauth/authorize/", params=query)
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith("https://app.example/callback?")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    async def test_code_redirect_carries_the_documented_parameters(self, portal: Portal) -> None:
        app = await register(portal)
        sent = await self.authorize(portal, app)
        portal_row = await portal.store.default_portal()
        assert sent["state"] == "xyz"
        assert sent["member_id"] == portal_row.member_id
        assert sent["scope"] == "crm,sale"
        assert sent["domain"] == sent["server_domain"] == "testserver"
        assert HEX70.match(sent["code"])

    async def test_exchange_gives_the_full_reply_and_the_code_works_once(
        self, portal: Portal
    ) -> None:
        app = await register(portal)
        code = (await self.authorize(portal, app))["code"]
        query = {"grant_type": "authorization_code", "client_id": app.client_id,
                 "client_secret": app.client_secret, "code": code}  # fmt: skip
        reply = await portal.client.get("/oauth/token/", params=query)
        assert reply.status_code == 200
        body = reply.json()
        assert list(body) == REPLY_KEYS
        assert HEX70.match(body["access_token"])
        assert HEX70.match(body["refresh_token"])
        assert body["expires_in"] == 3600
        assert body["expires"] == int(portal.app.clock.now()) + 3600
        assert body["client_endpoint"] == body["server_endpoint"] == "http://testserver/rest/"
        assert (body["user_id"], body["status"], body["scope"]) == (1, "L", "crm,sale")
        again = await portal.client.get("/oauth/token/", params=query)
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"

    async def test_code_lives_thirty_seconds(self, portal: Portal, clock: FrozenClock) -> None:
        app = await register(portal)
        code = (await self.authorize(portal, app))["code"]
        clock.advance(31)
        reply = await portal.client.post(
            "/oauth/token/",
            data={"grant_type": "authorization_code", "client_id": app.client_id,
                  "client_secret": app.client_secret, "code": code},
        )  # fmt: skip
        assert (reply.status_code, reply.json()["error"]) == (400, "invalid_grant")

    async def test_expired_codes_are_pruned(self, portal: Portal, clock: FrozenClock) -> None:
        app = await register(portal)
        await self.authorize(portal, app)
        assert await portal.app.oauth.prune() == 0  # still usable
        clock.advance(31)
        assert await portal.app.oauth.prune() == 1
        assert await portal.app.oauth.prune() == 0

    async def test_app_not_installed_gets_no_code(self, portal: Portal) -> None:
        app = await register(portal, install=False)
        response = await portal.client.get("/oauth/authorize/", params={"client_id": app.client_id})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_client"

    async def test_chosen_user(self, portal: Portal) -> None:
        app = await register(portal)
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        user_id = hook.split("/")[2]
        code = (await self.authorize(portal, app, user_id=user_id))["code"]
        body = (await portal.client.get("/oauth/token/", params={
            "grant_type": "authorization_code", "client_id": app.client_id,
            "client_secret": app.client_secret, "code": code,
        })).json()  # fmt: skip
        assert body["user_id"] == int(user_id)


async def test_consent_form_needs_a_webhook_code_of_the_user(portal: Portal) -> None:
    app = await register(portal)
    page = await portal.client.get("/oauth/authorize/", params={"client_id": app.client_id})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Test app" in page.text
    code = portal.hook.split("/")[3]
    wrong = await portal.client.post(
        "/oauth/authorize/", data={"client_id": app.client_id, "user_id": "1", "code": "nope"}
    )
    assert wrong.status_code == 401
    approved = await portal.client.post(
        "/oauth/authorize/",
        data={"client_id": app.client_id, "user_id": "1", "code": code, "state": "s"},
    )
    assert approved.status_code == 302
    assert "code=" in approved.headers["location"]


class TestRefresh:
    async def test_refresh_issues_a_new_pair_and_the_old_refresh_token_dies(
        self, portal: Portal
    ) -> None:
        app = await register(portal)
        first = await tokens(portal, app)
        form = {"grant_type": "refresh_token", "client_id": app.client_id,
                "client_secret": app.client_secret, "refresh_token": first["refresh_token"]}  # fmt: skip
        second = await portal.client.post("/oauth/token/", data=form)
        assert second.status_code == 200
        body = second.json()
        assert list(body) == REPLY_KEYS
        assert body["refresh_token"] != first["refresh_token"]
        assert body["access_token"] != first["access_token"]
        call = await portal.client.post(
            "/rest/crm.orderentity.getFields", json={"auth": body["access_token"]}
        )
        assert call.status_code == 200
        reused = await portal.client.post("/oauth/token/", data=form)
        assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")

    async def test_a_dead_pair_is_pruned_a_day_after_its_access_token_expired(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        """Every refresh leaves the old pair behind (its access token lives out its hour), and
        so does every event delivery: kept forever, the table grows without end. A pair goes
        once its refresh token is used or expired and its access token expired a day ago
        (docs/decisions.md); the current pair stays however old its access token is."""
        app = await register(portal)
        first = await tokens(portal, app)
        form = {"grant_type": "refresh_token", "client_id": app.client_id,
                "client_secret": app.client_secret, "refresh_token": first["refresh_token"]}  # fmt: skip
        second = (await portal.client.post("/oauth/token/", data=form)).json()
        clock.advance(3600 + 86400 - 10)
        assert await portal.app.oauth.prune() == 0  # the old access token: expired_token still

        async def error_for(access: str) -> str:
            response = await portal.client.post("/rest/profile", json={"auth": access})
            return str(response.json()["error"])

        assert await error_for(first["access_token"]) == "expired_token"
        clock.advance(20)
        assert await portal.app.oauth.prune() == 1
        assert await error_for(first["access_token"]) == "invalid_token"
        assert await error_for(second["access_token"]) == "expired_token"
        again = await portal.client.post(
            "/oauth/token/", data={**form, "refresh_token": second["refresh_token"]}
        )
        assert again.status_code == 200

    async def test_the_server_prunes_by_itself(
        self, portal: Portal, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The hourly housekeeping task is running and does the pruning above (hurried here)."""
        app = await register(portal)
        first = await tokens(portal, app)
        form = {"grant_type": "refresh_token", "client_id": app.client_id,
                "client_secret": app.client_secret, "refresh_token": first["refresh_token"]}  # fmt: skip
        assert (await portal.client.post("/oauth/token/", data=form)).status_code == 200
        clock.advance(3600 + 86400 + 1)
        monkeypatch.setattr(app_module, "HOUSEKEEPING_FIRST", 0.0)
        monkeypatch.setattr(app_module, "HOUSEKEEPING_EVERY", 0.01)
        await portal.app.shutdown()  # restart with the hurried timings
        await portal.app.startup()
        dead = hash_secret(first["access_token"])
        for _ in range(300):
            if await portal.store.grant(dead) is None:
                break
            await asyncio.sleep(0.01)
        assert await portal.store.grant(dead) is None

    async def test_refresh_by_get_query_string(self, portal: Portal) -> None:
        app = await register(portal)
        first = await tokens(portal, app)
        reply = await portal.client.get("/oauth/token/", params={
            "grant_type": "refresh_token", "client_id": app.client_id,
            "client_secret": app.client_secret, "refresh_token": first["refresh_token"],
        })  # fmt: skip
        assert reply.status_code == 200

    async def test_refresh_token_expires(self, portal: Portal, clock: FrozenClock) -> None:
        app = await register(portal)
        first = await tokens(portal, app)
        clock.advance(180 * 86400 + 1)
        reply = await portal.client.post("/oauth/token/", data={
            "grant_type": "refresh_token", "client_id": app.client_id,
            "client_secret": app.client_secret, "refresh_token": first["refresh_token"],
        })  # fmt: skip
        assert reply.json()["error"] == "invalid_grant"

    @pytest.mark.parametrize(
        ("change", "status", "error"),
        [
            ({"client_secret": "wrong"}, 401, "invalid_client"),
            ({"client_id": "local.nope.00000000"}, 401, "invalid_client"),
            ({"grant_type": "password"}, 400, "unsupported_grant_type"),
            ({"refresh_token": "0" * 70}, 400, "invalid_grant"),
            ({"refresh_token": ""}, 400, "invalid_request"),
        ],
    )
    async def test_token_endpoint_errors(
        self, portal: Portal, change: dict[str, str], status: int, error: str
    ) -> None:
        app = await register(portal)
        first = await tokens(portal, app)
        form = {"grant_type": "refresh_token", "client_id": app.client_id,
                "client_secret": app.client_secret, "refresh_token": first["refresh_token"], **change}  # fmt: skip
        reply = await portal.client.post("/oauth/token/", data=form)
        assert reply.status_code == status
        assert reply.json()["error"] == error
        assert set(reply.json()) == {"error", "error_description"}


class TestRestWithToken:
    async def test_token_in_query_json_or_form(self, portal: Portal) -> None:
        app = await register(portal)
        access = (await tokens(portal, app))["access_token"]
        by_query = await portal.client.post(f"/rest/crm.orderentity.list?auth={access}", json={})
        by_json = await portal.client.post("/rest/crm.orderentity.list.json", json={"auth": access})
        by_form = await portal.client.post(
            "/rest/crm.orderentity.list/", content=f"auth={access}",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert [r.status_code for r in (by_query, by_json, by_form)] == [200, 200, 200]

    async def test_unknown_token(self, portal: Portal) -> None:
        response = await portal.client.post("/rest/crm.orderentity.list", json={"auth": "f" * 70})
        assert response.status_code == 401
        assert response.json() == {
            "error": "invalid_token",
            "error_description": "Unable to get application by token",
        }

    async def test_expired_token_is_expired_token(self, portal: Portal, clock: FrozenClock) -> None:
        app = await register(portal)
        access = (await tokens(portal, app))["access_token"]
        clock.advance(3600)
        response = await portal.client.post("/rest/crm.orderentity.list", json={"auth": access})
        assert response.status_code == 401
        assert response.json() == {
            "error": "expired_token", "error_description": "The access token provided has expired",
        }  # fmt: skip

    async def test_scope_of_the_app(self, portal: Portal) -> None:
        app = await register(portal, scopes=("sale",))
        access = (await tokens(portal, app))["access_token"]
        response = await portal.client.post("/rest/crm.orderentity.list", json={"auth": access})
        assert response.status_code == 401
        assert response.json() == {
            "error": "insufficient_scope",
            "error_description": "The request requires higher privileges than provided by the access token",
        }

    async def test_app_limited_to_other_users(self, portal: Portal) -> None:
        app = await register(portal)
        hook = await portal.webhook_for(Role.STORE_ADMIN)
        other = int(hook.split("/")[2])
        access = (await tokens(portal, app, other))["access_token"]
        row = await portal.store.default_portal()
        await portal.store.limit_app(row.id, app.app.id, [1])
        response = await portal.client.post("/rest/crm.orderentity.list", json={"auth": access})
        assert response.status_code == 403
        assert response.json() == {
            "error": "user_access_error",
            "error_description": "The user does not have access to the application",
        }

    async def test_uninstall_revokes_tokens(self, portal: Portal) -> None:
        app = await register(portal)
        access = (await tokens(portal, app))["access_token"]
        assert await portal.app.oauth.uninstall(app.app, 1)
        response = await portal.client.post("/rest/crm.orderentity.list", json={"auth": access})
        assert response.status_code == 401

    async def test_the_token_acts_as_its_user(self, portal: Portal) -> None:
        app = await register(portal)
        hook = await portal.webhook_for(Role.STORE_MANAGER)
        access = (await tokens(portal, app, int(hook.split("/")[2])))["access_token"]
        denied = await portal.client.post(
            "/rest/crm.orderentity.add",
            json={"auth": access, "fields": {"orderId": 1, "ownerId": 1, "ownerTypeId": 2}},
        )
        assert denied.json() == {"error": "200040300020", "error_description": "Access Denied"}

    async def test_app_info_for_an_app(self, portal: Portal) -> None:
        app = await register(portal)
        access = (await tokens(portal, app))["access_token"]
        info = (await portal.client.post("/rest/app.info", json={"auth": access})).json()["result"]
        assert info["CODE"] == app.client_id
        assert (info["STATUS"], info["INSTALLED"], info["PAYMENT_EXPIRED"]) == ("L", True, "N")


def test_cli_app_add_and_token_issue_print_json_last(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    added = runner.invoke(main, [
        "app", "add", "--name", "Shop sync", "--scope", "crm", "--scope", "sale",
        "--redirect-uri", "https://app.example/cb", "--database", db, "--json",
    ])  # fmt: skip
    assert added.exit_code == 0, added.output
    credentials = json.loads(added.output.strip().splitlines()[-1])
    assert set(credentials) == {"client_id", "client_secret"}
    assert credentials["client_id"].startswith("local.")
    issued = runner.invoke(main, [
        "token", "issue", "--client-id", credentials["client_id"], "--user-id", "1",
        "--database", db, "--json", "--base-url", "https://orders.example",
    ])  # fmt: skip
    assert issued.exit_code == 0, issued.output
    reply = json.loads(issued.output.strip().splitlines()[-1])
    assert list(reply) == REPLY_KEYS
    assert reply["client_endpoint"] == "https://orders.example/rest/"
    listed = runner.invoke(main, ["app", "list", "--database", db])
    assert listed.output.strip().endswith("crm,sale\tinstalled")


class TestReplayRevokesTheFamily:
    """Issue 12, point 28 (RFC 6749 4.1.2, RFC 9700 4.2.4 and 4.14.2): a used authorization code
    or a rotated-out refresh token presented again means two parties hold it; every token that
    descends from it is revoked, the live pair included. Inferred rather than read: the Bitrix24
    pages say only that a code works once and a refresh kills the old refresh token."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.replace(oauth_auto_approve=True)

    async def exchange(self, portal: Portal, app: TestApp) -> tuple[dict[str, str], dict[str, str]]:
        response = await portal.client.get("/oauth/authorize/", params={"client_id": app.client_id})
        code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
        form = {"grant_type": "authorization_code", "client_id": app.client_id,
                "client_secret": app.client_secret, "code": code}  # fmt: skip
        reply = await portal.client.post("/oauth/token/", data=form)
        assert reply.status_code == 200, reply.text
        return form, reply.json()

    async def refresh(self, portal: Portal, app: TestApp, token: str) -> httpx.Response:
        form = {"grant_type": "refresh_token", "client_id": app.client_id,
                "client_secret": app.client_secret, "refresh_token": token}  # fmt: skip
        return await portal.client.post("/oauth/token/", data=form)

    async def status_of(self, portal: Portal, access: str) -> int:
        response = await portal.client.post("/rest/profile", json={"auth": access})
        return response.status_code

    async def test_a_replayed_code_revokes_the_tokens_issued_from_it(self, portal: Portal) -> None:
        app = await register(portal)
        form, first = await self.exchange(portal, app)
        rotated = await self.refresh(portal, app, first["refresh_token"])
        assert rotated.status_code == 200
        second = rotated.json()
        assert await self.status_of(portal, second["access_token"]) == 200  # cached now
        again = await portal.client.post("/oauth/token/", data=form)
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
        for pair in (first, second):
            assert await self.status_of(portal, pair["access_token"]) == 401
        refreshed = await self.refresh(portal, app, second["refresh_token"])
        assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant")

    async def test_a_replayed_refresh_token_revokes_the_live_pair(self, portal: Portal) -> None:
        app = await register(portal)
        _, first = await self.exchange(portal, app)
        second = (await self.refresh(portal, app, first["refresh_token"])).json()
        third = (await self.refresh(portal, app, second["refresh_token"])).json()
        assert await self.status_of(portal, third["access_token"]) == 200
        # The oldest refresh token, two rotations back, is still recognised as spent.
        replay = await self.refresh(portal, app, first["refresh_token"])
        assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
        assert await self.status_of(portal, third["access_token"]) == 401
        live = await self.refresh(portal, app, third["refresh_token"])
        assert (live.status_code, live.json()["error"]) == (400, "invalid_grant")

    async def test_other_families_keep_working(self, portal: Portal) -> None:
        app = await register(portal)
        _, mine = await self.exchange(portal, app)
        _, theirs = await self.exchange(portal, app)
        issued = await tokens(portal, app)
        await self.refresh(portal, app, mine["refresh_token"])
        await self.refresh(portal, app, mine["refresh_token"])  # the replay
        assert await self.status_of(portal, theirs["access_token"]) == 200
        assert await self.status_of(portal, issued["access_token"]) == 200
        assert (await self.refresh(portal, app, theirs["refresh_token"])).status_code == 200

    async def test_an_unknown_refresh_token_revokes_nothing(self, portal: Portal) -> None:
        app = await register(portal)
        _, pair = await self.exchange(portal, app)
        unknown = await self.refresh(portal, app, "f" * 70)
        assert unknown.status_code == 400
        assert await self.status_of(portal, pair["access_token"]) == 200
        assert (await self.refresh(portal, app, pair["refresh_token"])).status_code == 200

    async def test_spent_digests_go_with_their_family(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        """What replay detection keeps is bounded: a spent digest goes once no pair of its
        family is left (or once it would have expired anyway)."""
        app = await register(portal)
        form, first = await self.exchange(portal, app)
        await self.refresh(portal, app, first["refresh_token"])
        assert await portal.store.count("spent_credentials") == 2  # the code and the refresh
        assert await portal.app.oauth.prune() == 0
        await portal.client.post("/oauth/token/", data=form)  # the replay revokes the family
        assert await portal.store.count("spent_credentials") == 0
        assert await portal.store.count("tokens") == 0
