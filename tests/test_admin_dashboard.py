"""What the dashboard reads and drives, through the admin API (docs/admin-api.md), on both
stores: the sign-in session and its CSRF guard, `--no-ui`, the families and their rows (the
same list and get handlers as REST), the limits, the events and a redelivery, the webhooks.
The browser side is tests/test_dashboard.py."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from orderlink import sessions
from orderlink.clock import FrozenClock
from orderlink.limits import LocalLimits, RedisLimits
from orderlink.settings import Settings

from .conftest import Portal
from .oauth_apps import register, tokens
from .receiver import Receiver
from .services import REDIS_URL, require
from .testkit import ADMIN_TOKEN, api

pytestmark = pytest.mark.anyio

UI = "/_orderlink/ui"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database=database_url, admin_token=ADMIN_TOKEN, rate_limit=False)


async def ok(portal: Portal, verb: str, path: str, body: Any = None, status: int = 200,
             **params: Any) -> Any:  # fmt: skip
    response = await api(portal, verb, path, body, **params)
    assert response.status_code == status, response.text
    return response.json()


async def signed_in(portal: Portal) -> tuple[str, str]:
    """Sign in through the form: (the session cookie's value, the page's CSRF token)."""
    response = await portal.client.post(f"{UI}/signin", data={"token": ADMIN_TOKEN})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{UI}/"
    cookie = response.headers["set-cookie"]
    value = re.match(r"orderlink_session=([^;]+)", cookie)
    assert value is not None
    page = await portal.client.get(f"{UI}/", headers={"cookie": f"orderlink_session={value[1]}"})
    assert page.status_code == 200
    csrf = re.search(r'name="orderlink-csrf" content="([0-9a-f]+)"', page.text)
    assert csrf is not None
    return value[1], csrf[1]


def with_cookie(value: str, **more: str) -> dict[str, str]:
    return {"cookie": f"other=1; orderlink_session={value}", **more}


class TestSignIn:
    async def test_without_token_or_cookie_the_page_is_the_sign_in_form(
        self, portal: Portal
    ) -> None:
        page = await portal.client.get(f"{UI}/")
        assert page.status_code == 401
        assert 'name="token"' in page.text
        assert "csrf" not in page.text
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert (await portal.client.get("/_orderlink/api/portals")).status_code == 401

    async def test_the_bearer_token_gets_the_page(self, portal: Portal) -> None:
        page = await portal.client.get(f"{UI}/", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
        assert page.status_code == 200
        assert '<script type="module" src="/_orderlink/ui/app.js">' in page.text

    async def test_assets_ship_in_the_package_and_name_no_other_site(self, portal: Portal) -> None:
        from orderlink.dashboard import PREFIX, Dashboard

        assert PREFIX == UI
        assert portal.app.dashboard is not None
        assert isinstance(portal.app.dashboard, Dashboard)
        kinds = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
        for name in sorted(portal.app.dashboard.assets):
            if name == "index.html":
                continue
            kind = kinds[name.rsplit(".", 1)[1]]
            asset = await portal.client.get(f"{UI}/{name}")
            assert asset.status_code == 200, name
            assert asset.headers["content-type"].startswith(kind)
            assert "https://" not in asset.text
            assert "http://" not in asset.text.replace("http://www.w3.org/2000/svg", "")
        assert (await portal.client.get(f"{UI}/nothing.js")).status_code == 404

    def test_every_asset_is_package_data(self) -> None:
        """pyproject's package-data globs take every file of src/orderlink/ui/ into the wheel."""
        import fnmatch
        import tomllib
        from pathlib import Path

        root = Path(__file__).resolve().parent.parent
        project = tomllib.loads((root / "pyproject.toml").read_text())
        globs = project["tool"]["setuptools"]["package-data"]["orderlink"]
        files = sorted((root / "src" / "orderlink" / "ui").iterdir())
        assert {f.name for f in files} >= {"index.html", "app.js", "api.js", "style.css"}
        for path in files:
            name = f"ui/{path.name}"
            assert any(fnmatch.fnmatch(name, glob) for glob in globs), name

    async def test_a_wrong_token_is_refused_and_counted(self, portal: Portal) -> None:
        response = await portal.client.post(f"{UI}/signin", data={"token": "guess"})
        assert response.status_code == 401
        assert "That is not the admin token." in response.text
        assert "set-cookie" not in response.headers
        assert portal.app.lockout.retry_after("127.0.0.1") == 0  # one failure of fifty

    @pytest.mark.one_store
    async def test_guessing_the_token_is_locked_out_like_a_webhook_code(
        self, database_url: str
    ) -> None:
        from orderlink.app import create_app

        settings = Settings(database=database_url, admin_token=ADMIN_TOKEN, auth_failure_limit=2)
        app = create_app(settings, clock=FrozenClock())
        await app.startup()
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for _ in range(2):
                wrong = await client.post(f"{UI}/signin", data={"token": "guess"})
                assert wrong.status_code == 401
            locked = await client.post(f"{UI}/signin", data={"token": ADMIN_TOKEN})
            assert locked.status_code == 429
            assert "Too many failed sign-ins" in locked.text
            assert "set-cookie" not in locked.headers
        await app.shutdown()

    async def test_the_cookie_is_httponly_strict_and_holds_no_token(self, portal: Portal) -> None:
        response = await portal.client.post(f"{UI}/signin", data={"token": ADMIN_TOKEN})
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert "Path=/_orderlink/" in cookie
        assert "Secure" not in cookie  # plain HTTP
        assert ADMIN_TOKEN not in cookie

    async def test_over_tls_the_cookie_is_secure(self, portal: Portal) -> None:
        transport = httpx.ASGITransport(app=portal.app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as tls:
            response = await tls.post(f"{UI}/signin", data={"token": ADMIN_TOKEN})
        assert "; Secure" in response.headers["set-cookie"]

    async def test_the_session_reads_the_admin_api(self, portal: Portal) -> None:
        cookie, _ = await signed_in(portal)
        response = await portal.client.get("/_orderlink/api/portals", headers=with_cookie(cookie))
        assert response.status_code == 200
        assert [p["id"] for p in response.json()["portals"]] == [1]

    async def test_a_change_needs_the_csrf_token_and_without_it_writes_nothing(
        self, portal: Portal
    ) -> None:
        cookie, csrf = await signed_in(portal)
        refused = await portal.client.post(
            "/_orderlink/api/portals", json={"name": "x"}, headers=with_cookie(cookie)
        )
        assert refused.status_code == 403
        assert refused.json() == {
            "error": "ACCESS_DENIED",
            "error_description": "A signed-in request that changes something needs the header "
            "X-Orderlink-CSRF",
        }
        wrong = with_cookie(cookie, **{"x-orderlink-csrf": "0" * 64})
        assert (await portal.client.delete("/_orderlink/api/portals/1/faults",
                                           headers=wrong)).status_code == 403  # fmt: skip
        assert [p["id"] for p in (await ok(portal, "GET", "/portals"))["portals"]] == [1]
        made = await portal.client.post(
            "/_orderlink/api/portals", json={"name": "x"},
            headers=with_cookie(cookie, **{"x-orderlink-csrf": csrf}),
        )  # fmt: skip
        assert made.status_code == 201, made.text

    async def test_a_forged_or_stale_cookie_is_no_session(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        cookie, _ = await signed_in(portal)
        issued, nonce, signature = cookie.split(".")
        forged = f"{issued}.{nonce}x.{signature}"
        for value in (forged, "", "1.2.3", cookie.replace(issued, str(int(issued) + 1))):
            response = await portal.client.get(
                "/_orderlink/api/portals", headers=with_cookie(value)
            )
            assert response.status_code == 401, value
        clock.advance(sessions.LIFETIME + 1)
        stale = await portal.client.get("/_orderlink/api/portals", headers=with_cookie(cookie))
        assert stale.status_code == 401

    async def test_a_new_admin_token_ends_every_session(self, portal: Portal) -> None:
        from orderlink import admin

        cookie, _ = await signed_in(portal)
        await admin.set_token(portal.store, "another-token-0123456789", 0.0)
        response = await portal.client.get("/_orderlink/api/portals", headers=with_cookie(cookie))
        assert response.status_code == 401

    async def test_a_wrong_bearer_beside_a_good_cookie_is_refused(self, portal: Portal) -> None:
        cookie, _ = await signed_in(portal)
        response = await portal.client.get(
            "/_orderlink/api/portals", headers=with_cookie(cookie, authorization="Bearer nope")
        )
        assert response.status_code == 401

    async def test_sign_out_clears_the_cookie(self, portal: Portal) -> None:
        response = await portal.client.post(f"{UI}/signout")
        assert response.status_code == 303
        assert response.headers["set-cookie"].startswith("orderlink_session=; ")
        assert "Max-Age=0" in response.headers["set-cookie"]


@pytest.mark.one_store
async def test_no_ui_serves_no_page_and_takes_no_cookie(database_url: str) -> None:
    from orderlink.app import create_app
    from orderlink.bootstrap import bootstrap

    with_ui = Settings(database=database_url, admin_token=ADMIN_TOKEN)
    app = create_app(with_ui, clock=FrozenClock())
    await app.startup()
    await bootstrap(app.store, with_ui, app.clock)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        signin = await client.post(f"{UI}/signin", data={"token": ADMIN_TOKEN})
        cookie = signin.headers["set-cookie"].split(";")[0]
    await app.shutdown()
    app = create_app(with_ui.replace(ui=False), clock=FrozenClock())
    await app.startup()
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for path in (f"{UI}/", UI, f"{UI}/app.js"):
            bearer = {"authorization": f"Bearer {ADMIN_TOKEN}"}
            assert (await client.get(path, headers=bearer)).status_code == 404, path
        assert (await client.post(f"{UI}/signin", data={"token": ADMIN_TOKEN})).status_code == 404
        refused = await client.get("/_orderlink/api/portals", headers={"cookie": cookie})
        assert refused.status_code == 401
        bearer_ok = await client.get(
            "/_orderlink/api/portals", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert bearer_ok.status_code == 200
    await app.shutdown()


class TestData:
    async def bound(self, portal: Portal) -> tuple[int, int, int, int]:
        """Two orders: the first bound to a deal, the second to a smart invoice (an order has
        one owner: crm-order-entity-add.md)."""
        orders = []
        for _ in range(2):
            fields = {"lid": "s1", "personTypeId": 1, "currency": "USD"}
            orders.append((await portal.ok("sale.order.add", {"fields": fields}))["order"]["id"])
        deal = await portal.ok("crm.deal.add", {"fields": {"TITLE": "Big deal"}})
        invoice = (await portal.ok("crm.item.add", {"entityTypeId": 31, "fields": {
            "title": "Invoice"}}))["item"]["id"]  # fmt: skip
        for order, owner, kind in ((orders[0], deal, 2), (orders[1], invoice, 31)):
            fields = {"orderId": order, "ownerId": owner, "ownerTypeId": kind}
            await portal.ok("crm.orderentity.add", {"fields": fields})
        return orders[0], orders[1], deal, invoice

    async def test_families_come_from_the_registry_and_their_fields_methods(
        self, portal: Portal
    ) -> None:
        families = {
            f["key"]: f for f in (await ok(portal, "GET", "/portals/1/families"))["families"]
        }
        assert {"crm.deal", "sale.order", "crm.orderentity", "crm.item:31"} <= set(families)
        deal = families["crm.deal"]
        assert deal["methods"] == {"list": "crm.deal.list", "fields": "crm.deal.fields",
                                   "get": "crm.deal.get"}  # fmt: skip
        described = await portal.ok("crm.deal.fields")
        assert [f["name"] for f in deal["fields"]] == list(described)
        assert deal["id_field"] == "ID"
        assert deal["binds"] == "owner"
        assert families["sale.order"]["binds"] == "order"
        assert families["crm.item:31"]["params"] == {"entityTypeId": 31}
        bindings = families["crm.orderentity"]
        assert [f["name"] for f in bindings["fields"]] == ["orderId", "ownerId", "ownerTypeId"]
        assert bindings["methods"]["fields"] == "crm.orderentity.getFields"

    async def test_a_smart_process_appears_as_a_family(self, portal: Portal) -> None:
        made = await portal.ok("crm.type.add", {"fields": {"title": "Repairs"}})
        type_id = made["type"]["entityTypeId"]
        families = (await ok(portal, "GET", "/portals/1/families"))["families"]
        (found,) = [f for f in families if f["key"] == f"crm.item:{type_id}"]
        assert found["title"] == "crm.item: Repairs"

    async def test_rows_are_the_list_methods_rows_filtered_and_paged(self, portal: Portal) -> None:
        for number in range(52):
            await portal.ok("crm.deal.add", {"fields": {"TITLE": f"deal {number}"}})
        first = await ok(portal, "GET", "/portals/1/families/crm.deal/records")
        assert (first["total"], first["next"], len(first["rows"])) == (52, 50, 50)
        assert first["rows"] == await portal.ok("crm.deal.list", {})
        second = await ok(portal, "GET", "/portals/1/families/crm.deal/records", start="50")
        assert [r["TITLE"] for r in second["rows"]] == ["deal 50", "deal 51"]
        assert second["next"] is None
        wanted = await ok(portal, "GET", "/portals/1/families/crm.deal/records",
                          filter='{"%TITLE": "deal 5"}', order='{"ID": "desc"}')  # fmt: skip
        assert [r["TITLE"] for r in wanted["rows"]] == ["deal 51", "deal 50", "deal 5"]

    async def test_a_bad_filter_is_the_familys_own_error(self, portal: Portal) -> None:
        rest = await portal.call("crm.orderentity.list", {"filter": {"nope": 1}})
        response = await api(portal, "GET", "/portals/1/families/crm.orderentity/records",
                             filter='{"nope": 1}')  # fmt: skip
        assert (response.status_code, response.json()) == (rest.status_code, rest.json())
        for bad in ("[1]", "{", "1"):
            response = await api(portal, "GET", "/portals/1/families/crm.deal/records", filter=bad)
            assert response.status_code == 400, bad
            assert response.json()["error"] == "INVALID_REQUEST"
        unknown = await api(portal, "GET", "/portals/1/families/crm.nothing/records")
        assert unknown.status_code == 404

    async def test_binding_rows_link_to_both_sides(self, portal: Portal) -> None:
        order, other, deal, invoice = await self.bound(portal)
        page = await ok(portal, "GET", "/portals/1/families/crm.orderentity/records")
        assert page["rows"] == [
            {"orderId": order, "ownerId": deal, "ownerTypeId": 2},
            {"orderId": other, "ownerId": invoice, "ownerTypeId": 31},
        ]
        assert page["links"][1] == [
            {"field": "orderId", "family": "sale.order", "id": other},
            {"field": "ownerId", "family": "crm.item:31", "id": invoice},
        ]

    async def test_a_record_shows_what_it_is_bound_to_and_back(self, portal: Portal) -> None:
        order, other, deal, invoice = await self.bound(portal)
        shown = await ok(portal, "GET", f"/portals/1/families/sale.order/records/{order}")
        assert shown["record"] == (await portal.ok("sale.order.get", {"id": order}))["order"]
        owners = [(b["ownerTypeId"], b["ownerId"]) for b in shown["bindings"]]
        assert owners == [(2, deal)]
        assert shown["bindings"][0]["links"][1] == {"field": "ownerId", "family": "crm.deal",
                                                    "id": deal}  # fmt: skip
        back = await ok(portal, "GET", f"/portals/1/families/crm.deal/records/{deal}")
        assert back["record"]["TITLE"] == "Big deal"
        (binding,) = back["bindings"]
        assert binding["links"][0] == {"field": "orderId", "family": "sale.order", "id": order}
        item = await ok(portal, "GET", f"/portals/1/families/crm.item:31/records/{invoice}")
        assert item["record"]["title"] == "Invoice"
        assert [b["orderId"] for b in item["bindings"]] == [other]
        await portal.ok("crm.orderentity.deleteByFilter", {"fields": {
            "orderId": order, "ownerId": deal, "ownerTypeId": 2}})  # fmt: skip
        again = await ok(portal, "GET", f"/portals/1/families/crm.deal/records/{deal}")
        assert again["bindings"] == []

    async def test_a_missing_record_is_the_familys_not_found(self, portal: Portal) -> None:
        rest = await portal.call("crm.deal.get", {"id": 999})
        response = await api(portal, "GET", "/portals/1/families/crm.deal/records/999")
        assert (response.status_code, response.json()) == (rest.status_code, rest.json())

    async def test_reading_data_is_not_a_call_of_the_portal(self, portal: Portal) -> None:
        await ok(portal, "GET", "/portals/1/families/crm.deal/records")
        assert (await ok(portal, "GET", "/portals/1/journal"))["journal"] == []


class TestLimits:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database=database_url, admin_token=ADMIN_TOKEN)

    async def test_bucket_level_and_operating_time_per_method(self, portal: Portal) -> None:
        await portal.ok("crm.deal.list")
        await portal.ok("crm.deal.list")
        limits = await ok(portal, "GET", "/portals/1/limits")
        rate = limits["rate_limit"]
        assert (rate["on"], rate["size"], rate["drain"]) == (True, 50, 2.0)
        (bucket,) = rate["buckets"]
        assert bucket == {"client": "127.0.0.1", "level": 2.0}  # the frozen clock drains nothing
        (method,) = limits["operating"]["methods"]
        assert (method["credential"], method["method"]) == ("webhook:1", "crm.deal.list")
        assert len(method["baskets"]) == 1
        assert method["seconds"] == method["baskets"][0]["seconds"]
        assert limits["operating"]["limit"] == 480.0

    async def test_another_portal_shows_none_of_them(self, portal: Portal) -> None:
        await portal.ok("crm.deal.list")
        created = await ok(portal, "POST", "/portals", {"name": "two"}, 201)
        limits = await ok(portal, "GET", f"/portals/{created['id']}/limits")
        assert limits["rate_limit"]["buckets"] == []
        assert limits["operating"]["methods"] == []


async def test_the_limiters_read_accessors_agree(clock: FrozenClock) -> None:
    """LocalLimits and RedisLimits answer `levels` and `windows` alike."""
    require("Redis", "127.0.0.1", 6379)
    local = LocalLimits(clock, size=5, rate=1.0)
    shared = RedisLimits(REDIS_URL, clock, size=5, rate=1.0)
    prefix = f"ui-test-{id(clock)}*[x]|"
    try:
        for limits in (local, shared):
            for _ in range(3):
                assert await limits.admit(prefix + "127.0.0.1")
            await limits.record(prefix + "crm.deal.list", 1.5)
            assert await limits.admit("elsewhere|127.0.0.1")
        for limits in (local, shared):
            assert await limits.levels(prefix, 1.0) == {prefix + "127.0.0.1": 3.0}
            windows = await limits.windows(prefix)
            assert list(windows) == [prefix + "crm.deal.list"]
            assert [s for _, s in windows[prefix + "crm.deal.list"]] == [1.5]
        clock.advance(2.0)
        for limits in (local, shared):
            assert await limits.levels(prefix, 1.0) == {prefix + "127.0.0.1": 1.0}
        clock.advance(600.0)
        for limits in (local, shared):
            assert await limits.windows(prefix) == {}
    finally:
        keys = [k async for k in shared._redis.scan_iter(match="orderlink:*ui-test-*")]
        keys += [k async for k in shared._redis.scan_iter(match="orderlink:bucket:elsewhere*")]
        if keys:
            await shared._redis.delete(*keys)
        await shared.close()


class TestEvents:
    async def delivered(self, portal: Portal, status: str) -> dict[str, Any]:
        for _ in range(500):
            portal.app.deliverer.wake()
            await asyncio.sleep(0.01)
            (latest, *_) = (await ok(portal, "GET", "/portals/1/events"))["deliveries"]
            if latest["status"] == status and latest["last_status"]:
                return dict(latest)
        raise AssertionError(f"no delivery became {status}")

    async def test_handlers_deliveries_attempts_and_a_redelivery(self, portal: Portal) -> None:
        receiver = Receiver(statuses=[500])
        try:
            app = await register(portal)
            token = (await tokens(portal, app))["access_token"]
            bind = {"auth": token, "event": "ONCRMDEALADD", "handler": receiver.url()}
            assert (await portal.client.post("/rest/event.bind", json=bind)).status_code == 200
            await portal.ok("crm.deal.add", {"fields": {"TITLE": "Big"}})
            failed = await self.delivered(portal, "pending")
            assert (failed["attempts"], failed["last_status"]) == (1, "HTTP 500")
            events = await ok(portal, "GET", "/portals/1/events")
            (handler,) = events["handlers"]
            assert (handler["event"], handler["handler"], handler["app"]) == (
                "ONCRMDEALADD", receiver.url(), "Test app")  # fmt: skip
            again = await ok(portal, "POST", f"/portals/1/deliveries/{failed['id']}/redeliver", {})
            assert again == {"redelivered": failed["id"]}
            done = await self.delivered(portal, "delivered")
            assert (done["attempts"], done["last_status"]) == (2, "HTTP 200")
            assert receiver.received[0]["event"] == "ONCRMDEALADD"
            # A delivered one can be sent once more too; an unknown one is a 404.
            await ok(portal, "POST", f"/portals/1/deliveries/{failed['id']}/redeliver", {})
            await self.delivered(portal, "delivered")
            assert len(receiver.wait(2)) == 2
            missing = await api(portal, "POST", "/portals/1/deliveries/999/redeliver", {})
            assert missing.status_code == 404
        finally:
            receiver.close()


class TestWebhooksAndApps:
    async def test_webhooks_show_no_code_and_a_new_one_works(self, portal: Portal) -> None:
        (webhook,) = (await ok(portal, "GET", "/portals/1/webhooks"))["webhooks"]
        assert webhook["url"].endswith("/rest/1/{code}/")
        assert webhook["scopes"] == ["crm", "sale", "userfieldconfig"]
        made = await ok(portal, "POST", "/portals/1/webhooks", {}, 201)
        path = httpx.URL(made["webhook"]).path
        assert await portal.ok("crm.deal.list", hook=path) == []
        assert len((await ok(portal, "GET", "/portals/1/webhooks"))["webhooks"]) == 2

    async def test_apps_and_whether_installed(self, portal: Portal) -> None:
        await register(portal, handler_url="https://user:pw@app.example/install")
        (app,) = (await ok(portal, "GET", "/portals/1/apps"))["apps"]
        assert (app["name"], app["installed"], app["scopes"]) == ("Test app", True, ["crm", "sale"])
        assert app["handler_url"] == "https://***@app.example/install"
