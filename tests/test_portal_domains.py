"""Portal domains (issue 18, part 1): a portal answers on its domains, a request on a portal's
domain is that portal's, and OAuth replies and event `auth` blocks name the portal's first
domain. Without a domain, every host reaches the portal the credentials belong to, as before.
On both stores (the `portal` fixture)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from orderlink import domains, hosts
from orderlink.auth import hash_secret, new_webhook_code
from orderlink.cli import main
from orderlink.storage.base import Delivery

from .conftest import Portal
from .oauth_apps import TestApp, register, tokens

pytestmark = pytest.mark.anyio

SHOP = "shop.bitrix24.test"
OTHER = "other.bitrix24.test"
INVALID_CREDENTIALS = {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"}  # fmt: skip
INVALID_TOKEN = {"error": "invalid_token", "error_description": "Unable to get application by token"}  # fmt: skip


async def default_id(portal: Portal) -> int:
    return int((await portal.store.default_portal()).id)


async def second_portal(portal: Portal, domain: str = OTHER) -> tuple[int, str]:
    """Another portal on the same orderlink (id 2, its user 1 an administrator) with a domain
    and an admin webhook; (its id, its webhook path). Loaded as `db copy` loads rows: portals
    are made by the portal commands, which this test does not need."""
    store = portal.store
    await store.load("portals", [{"id": 2, "domain": "orderlink.local", "member_id": "b" * 32,
                                  "created_at": 0.0}])  # fmt: skip
    await store.load("users", [{"portal_id": 2, "id": 1, "name": "B admin", "store_role": 2,
                                "is_admin": 1}])  # fmt: skip
    code = new_webhook_code()
    await store.add_webhook(2, 1, hash_secret(code), ("crm", "sale"), 0.0)
    await domains.add_domain(store, 2, domain)
    return 2, f"/rest/1/{code}/"


async def call(portal: Portal, hook: str, method: str, host: str, **body: Any) -> Any:
    response = await portal.client.post(hook + method, json=body, headers={"host": host})
    return response.status_code, response.json()


class TestDomainNames:
    """What `portal domain add` accepts (hosts.portal_domain): a DNS name, stored lower case."""

    @pytest.mark.parametrize(
        ("given", "stored"),
        [("Shop.Bitrix24.Test", SHOP), ("shop.bitrix24.test.", SHOP), (" xn--e1aybc.test ", "xn--e1aybc.test")],
    )  # fmt: skip
    def test_a_domain_is_stored_lower_case_without_its_trailing_dot(
        self, given: str, stored: str
    ) -> None:
        assert hosts.portal_domain(given) == stored

    @pytest.mark.parametrize(
        "given",
        ["", "127.0.0.1", "::1", "shop.test:443", "https://shop.test", "*.bitrix24.com",
         "shop..test", "-shop.test", "shop_1.test", "oauth.bitrix.info", "oauth.bitrix24.tech",
         "a" * 64 + ".test"],
    )  # fmt: skip
    def test_what_is_not_a_host_name_or_is_an_authorization_server_is_refused(
        self, given: str
    ) -> None:
        with pytest.raises(hosts.InvalidDomain):
            hosts.portal_domain(given)

    def test_the_hosts_orderlink_owns(self) -> None:
        owned = ["oauth.bitrix.info", "oauth.bitrix24.tech", "x.bitrix24.com", "x.bitrix24.com.br",
                 "bitrix24.de", "api.bitrix24.com", "bitrix.info", "util.bitrix.info",
                 "dev.1c-bitrix.ru"]  # fmt: skip
        assert all(hosts.is_bitrix(host) for host in owned)
        assert not any(hosts.is_bitrix(h) for h in ["example.com", "bitrix24", "pypi.org"])
        assert hosts.is_oauth_server("oauth.bitrix24.com")
        assert not hosts.is_oauth_server("oauth.example.com")


class TestAddDomain:
    async def test_add_lists_in_order_and_again_is_a_no_op(self, portal: Portal) -> None:
        pid = await default_id(portal)
        assert await domains.add_domain(portal.store, pid, "Shop.Bitrix24.Test") == (SHOP, True)
        assert await domains.add_domain(portal.store, pid, "second.test") == ("second.test", True)
        assert await domains.add_domain(portal.store, pid, SHOP) == (SHOP, False)
        assert await portal.store.portal_domains(pid) == [SHOP, "second.test"]
        assert (await portal.store.portal_of_domain(SHOP)).id == pid

    async def test_a_domain_belongs_to_one_portal(self, portal: Portal) -> None:
        await second_portal(portal)
        with pytest.raises(domains.DomainTaken, match="already a domain of portal 2"):
            await domains.add_domain(portal.store, await default_id(portal), OTHER)

    async def test_an_unknown_portal_is_refused(self, portal: Portal) -> None:
        with pytest.raises(domains.NoSuchPortal, match="no portal 9"):
            await domains.add_domain(portal.store, 9, SHOP)

    async def test_remove_takes_it_away_once(self, portal: Portal) -> None:
        pid = await default_id(portal)
        await domains.add_domain(portal.store, pid, SHOP)
        assert await domains.remove_domain(portal.store, pid, "SHOP.bitrix24.test")
        assert not await domains.remove_domain(portal.store, pid, SHOP)
        assert await portal.store.portal_domains(pid) == []
        assert await portal.store.portal_of_domain(SHOP) is None


class TestRoutingByHost:
    async def test_without_domains_every_host_reaches_the_credentials_portal(
        self, portal: Portal
    ) -> None:
        for host in ("testserver", SHOP, "anything.example"):
            status, _ = await call(portal, portal.hook, "profile", host)
            assert status == 200

    async def test_a_webhook_works_on_its_portal_domain(self, portal: Portal) -> None:
        await domains.add_domain(portal.store, await default_id(portal), SHOP)
        status, body = await call(portal, portal.hook, "profile", f"{SHOP}:443")
        assert (status, body["result"]["ID"]) == (200, "1")

    async def test_a_webhook_of_another_portal_on_this_domain_is_invalid_credentials(
        self, portal: Portal
    ) -> None:
        """Portal 2's webhook on portal 1's domain, and portal 1's on portal 2's, answer as a
        wrong webhook code does; on a host that is nobody's domain each reaches its own."""
        await domains.add_domain(portal.store, await default_id(portal), SHOP)
        _, other_hook = await second_portal(portal)
        assert await call(portal, other_hook, "profile", SHOP) == (401, INVALID_CREDENTIALS)
        assert await call(portal, portal.hook, "profile", OTHER) == (401, INVALID_CREDENTIALS)
        assert (await call(portal, other_hook, "profile", OTHER))[0] == 200
        assert (await call(portal, other_hook, "profile", "testserver"))[0] == 200

    async def test_a_token_of_another_portal_on_this_domain_is_an_unknown_token(
        self, portal: Portal
    ) -> None:
        app = await register(portal)
        access = (await tokens(portal, app))["access_token"]
        await second_portal(portal)
        response = await portal.client.post(
            "/rest/profile", json={"auth": access}, headers={"host": OTHER}
        )
        assert (response.status_code, response.json()) == (401, INVALID_TOKEN)
        response = await portal.client.post(
            "/rest/profile", json={"auth": access}, headers={"host": SHOP}
        )
        assert response.status_code == 200

    async def test_a_domain_added_while_serving_routes_at_once(self, portal: Portal) -> None:
        """The app caches which portal a host names until portals or domains change."""
        _, other_hook = await second_portal(portal, "late.test")
        assert (await call(portal, other_hook, "profile", SHOP))[0] == 200
        await domains.add_domain(portal.store, await default_id(portal), SHOP)
        assert (await call(portal, other_hook, "profile", SHOP))[0] == 401


async def refresh(portal: Portal, app: TestApp, refresh_token: str, host: str) -> Any:
    grant = {"grant_type": "refresh_token", "client_id": app.client_id,
             "client_secret": app.client_secret, "refresh_token": refresh_token}  # fmt: skip
    response = await portal.client.get("/oauth/token/", params=grant, headers={"host": host})
    assert response.status_code == 200, response.text
    return response.json()


class TestOAuthRepliesNameTheDomain:
    async def test_a_refresh_names_the_portals_first_domain_wherever_it_is_asked(
        self, portal: Portal
    ) -> None:
        """settings/oauth/index.md: `domain`, `client_endpoint` and `server_endpoint` name the
        portal (over HTTPS), `member_id` the portal; here at the authorization server's host,
        as b24pysdk and CRest refresh."""
        pid = await default_id(portal)
        await domains.add_domain(portal.store, pid, SHOP)
        await domains.add_domain(portal.store, pid, "second.test")
        app = await register(portal)
        first = await tokens(portal, app)
        assert first["client_endpoint"] == f"https://{SHOP}/rest/"
        reply = await refresh(portal, app, first["refresh_token"], "oauth.bitrix24.tech")
        assert reply["domain"] == SHOP
        assert reply["client_endpoint"] == reply["server_endpoint"] == f"https://{SHOP}/rest/"
        assert reply["member_id"] == (await portal.store.portal(pid)).member_id

    async def test_without_a_domain_the_reply_names_where_it_was_asked(
        self, portal: Portal
    ) -> None:
        app = await register(portal)
        first = await tokens(portal, app)
        reply = await refresh(portal, app, first["refresh_token"], "orders.example:8443")
        assert reply["client_endpoint"] == "http://orders.example:8443/rest/"
        assert reply["domain"] == "orders.example:8443"

    async def test_at_an_authorization_server_without_a_domain_it_names_orderlink(
        self, portal: Portal
    ) -> None:
        """Not the authorization server itself: REST calls there would find no portal."""
        app = await register(portal)
        first = await tokens(portal, app)
        reply = await refresh(portal, app, first["refresh_token"], "oauth.bitrix.info")
        assert reply["client_endpoint"] == portal.app.settings.public_base_url() + "/rest/"

    async def test_an_event_auth_block_names_the_domain(self, portal: Portal) -> None:
        pid = await default_id(portal)
        await domains.add_domain(portal.store, pid, SHOP)
        app = await register(portal)
        delivery = Delivery(1, pid, app.app.id, None, "https://app.example/h", "ONCRMDEALADD",
                            {}, 1, True, 0.0, 0, "pending", "", None)  # fmt: skip
        auth = await portal.app.oauth.event_auth(delivery)
        assert (auth["domain"], auth["client_endpoint"]) == (SHOP, f"https://{SHOP}/rest/")
        assert auth["application_token"]
        uninstalled = Delivery(2, pid, app.app.id, None, "", "ONAPPUNINSTALL", {}, 1, False,
                               0.0, 0, "pending", "", None)  # fmt: skip
        without = await portal.app.oauth.event_auth(uninstalled)
        assert without["domain"] == SHOP
        assert without["server_endpoint"] == f"https://{SHOP}/rest/"


class TestAuthorizationServerAppInfo:
    """`app.info` at the authorization server (settings/oauth/simple-way.md: "call app.info on
    the authorization server: oauth.bitrix.info/rest/app.info"). The page prints no answer;
    the keys are the ones b24pysdk reads (its BitrixAppInfoResponse), and its check of a token
    against them (`install.domain` is the host of `client_endpoint`, `member_id` the same)."""

    async def test_the_install_the_token_belongs_to(self, portal: Portal) -> None:
        pid = await default_id(portal)
        await domains.add_domain(portal.store, pid, SHOP)
        app = await register(portal)
        access = (await tokens(portal, app))["access_token"]
        response = await portal.client.get(
            "/rest/app.info/", params={"auth": access}, headers={"host": "oauth.bitrix24.tech"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        result = body["result"]
        assert set(body) == {"result", "time"}
        assert (result["client_id"], result["scope"], result["user_id"]) == (
            app.client_id, "crm,sale", 1,
        )  # fmt: skip
        expires = dt.datetime.fromisoformat(result["expires"])
        assert expires.timestamp() == int(portal.app.clock.now()) + 3600
        assert result["install"] == {
            "installed": True, "version": 1, "status": "L", "scope": "crm,sale", "domain": SHOP,
            "uri": f"https://{SHOP}", "client_endpoint": f"https://{SHOP}/rest/",
            "member_id": (await portal.store.portal(pid)).member_id, "member_type": "company",
        }  # fmt: skip

    async def test_an_unknown_token_and_other_methods_are_refused(self, portal: Portal) -> None:
        at = {"host": "oauth.bitrix.info"}
        unknown = await portal.client.get("/rest/app.info", params={"auth": "x"}, headers=at)
        assert (unknown.status_code, unknown.json()) == (401, INVALID_TOKEN)
        missing = await portal.client.get("/rest/app.info", headers=at)
        assert missing.status_code == 401
        other = await portal.client.post(portal.hook + "profile", json={}, headers=at)
        assert other.status_code == 404
        assert other.json()["error"] == "ERROR_METHOD_NOT_FOUND"


def run(*args: str) -> list[str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def refused(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code != 0
    return result.output


class TestPortalDomainCommands:
    @pytest.fixture
    def db(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'domains.db'}"

    def test_add_list_remove(self, db: str) -> None:
        assert run("portal", "domain", "add", "1", "Shop.Bitrix24.Test", "--database", db) == [
            f"{SHOP}\tadded to portal 1"
        ]
        assert run("portal", "domain", "add", "1", SHOP, "--database", db) == [
            f"{SHOP}\talready a domain of portal 1"
        ]
        run("portal", "domain", "add", "1", "second.test", "--database", db)
        assert run("portal", "domain", "list", "1", "--database", db) == [SHOP, "second.test"]
        assert run("portal", "domain", "remove", "1", SHOP, "--database", db) == [
            f"{SHOP}\tremoved from portal 1"
        ]
        assert run("portal", "domain", "list", "1", "--database", db) == ["second.test"]

    def test_refusals_say_why(self, db: str) -> None:
        assert "not a host name" in refused("portal", "domain", "add", "1", "a b", "--database", db)
        assert "authorization server" in refused(
            "portal", "domain", "add", "1", "oauth.bitrix.info", "--database", db
        )
        assert "no portal 7" in refused("portal", "domain", "add", "7", SHOP, "--database", db)
        assert "no portal 7" in refused("portal", "domain", "list", "7", "--database", db)
        assert "has no domain" in refused("portal", "domain", "remove", "1", SHOP, "--database", db)

    def test_ca_path_prints_the_ca_it_makes(self, db: str, tmp_path: Path) -> None:
        (path,) = run("ca", "path", "--database", db)
        assert path == str(tmp_path / "orderlink-tls" / "orderlink-ca.pem")
        assert Path(path).read_text().startswith("-----BEGIN CERTIFICATE-----")
        made = Path(path).read_bytes()
        assert run("ca", "path", "--database", db) == [path]
        assert Path(path).read_bytes() == made  # made once
