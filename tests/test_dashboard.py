"""The dashboard (`/_orderlink/ui/`, docs/dashboard.md) in a real browser: Debian's Chromium,
driven by Playwright, against a real `orderlink serve` on each store.

One walk through what a person debugging an integration does: sign in with the admin token,
create a portal, watch an order, a deal and their binding made over REST appear in the tables
(and the binding go when a REST call deletes it), read the call in the journal, add a fault and
see it fire, snapshot and restore. The same walk on SQLite takes the screenshots in docs/img/
that the README shows, so they show the pages as they are.

In CI (`CI=true`) a missing browser fails these tests; elsewhere they are skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from .conftest import STORES
from .receiver import Receiver
from .testkit import Live, live_on

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
# The closed network refuses Chromium's own background connections; these keep it quiet.
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
IMAGES = Path(__file__).resolve().parent.parent / "docs" / "img"
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

pytestmark = pytest.mark.live


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason + " (CI: the browser tests fail when the browser is missing)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(params=STORES)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    yield from live_on(request.param, request, tmp_path)


def rest(hook: str, method: str, params: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(hook + method, json=params or {}, timeout=10)


def ok(hook: str, method: str, params: dict[str, Any] | None = None) -> Any:
    response = rest(hook, method, params)
    assert response.status_code == 200, response.text
    return response.json()["result"]


class Walk:
    """The browser page, the server, and where screenshots go (None: none taken)."""

    def __init__(self, page: Page, live: Live, images: Path | None) -> None:
        self.page = page
        self.live = live
        self.images = images

    def shot(self, name: str) -> None:
        if self.images is not None:
            self.images.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.images / f"dashboard-{name}.png"), full_page=True)

    def open(self, fragment: str) -> None:
        self.page.goto(f"{self.live.server.base_url}/_orderlink/ui/#/{fragment}")
        self.page.wait_for_load_state("networkidle")

    def heading(self, text: str) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_role("heading", name=text, exact=True)).to_be_visible()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An app's event handler that answers its first delivery with a 500."""
    server = Receiver(statuses=[500])
    yield server
    server.close()


def test_the_dashboard_shows_and_drives_a_portal(
    browser: Browser, live: Live, receiver: Receiver
) -> None:
    from playwright.sync_api import expect

    # Waits, not timings: a loaded CI machine may take a while to poll and redraw.
    expect.set_options(timeout=20_000)
    sqlite = live.database.startswith("sqlite:")
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    walk = Walk(page, live, IMAGES if sqlite else None)
    base = live.server.base_url
    try:
        # Without the token: the sign-in form, and no portal data.
        response = page.goto(base + "/_orderlink/ui/")
        assert response is not None
        assert response.status == 401
        expect(page.get_by_label("Admin token")).to_be_visible()
        page.get_by_label("Admin token").fill("not the token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("That is not the admin token.")
        walk.shot("signin")
        page.get_by_label("Admin token").fill(live.admin_token)
        page.get_by_role("button", name="Sign in").click()
        walk.heading("Portals")
        (cookie,) = [c for c in context.cookies() if c["name"] == "orderlink_session"]
        assert cookie["httpOnly"]
        assert cookie["sameSite"] == "Strict"
        assert live.admin_token not in cookie["value"]

        # A new portal, made in the browser: its webhook URL is shown once.
        page.get_by_label("Name", exact=True).fill("shop")
        page.get_by_role("button", name="Create portal").click()
        webhook = page.locator("code.webhook").first
        expect(webhook).to_have_text(re.compile(r"^http://127\.0\.0\.1:\d+/rest/1/[a-z0-9]+/$"))
        hook = webhook.inner_text()
        made = re.match(r"Portal (\d+) created", page.locator(".note").first.inner_text())
        assert made is not None
        portal_id = int(made.group(1))
        page.select_option("#portal-picker", str(portal_id))
        expect(page.get_by_role("heading", name=f"Portal {portal_id}: webhooks")).to_be_visible()

        # An order, a deal and their binding, made over REST, appear in the tables.
        order = ok(hook, "sale.order.add", {"fields": {"lid": "s1", "personTypeId": 1,
                                                       "currency": "USD"}})["order"]["id"]  # fmt: skip
        deal = ok(hook, "crm.deal.add", {"fields": {"TITLE": "Big deal"}})
        binding = {"orderId": order, "ownerId": deal, "ownerTypeId": 2}
        ok(hook, "crm.orderentity.add", {"fields": binding})
        walk.shot("portals")
        walk.open("data?family=crm.deal")
        expect(page.get_by_role("cell", name="Big deal")).to_be_visible()
        walk.open("data?family=crm.orderentity")
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(1)
        walk.shot("data")
        # The binding leads to its order, the order back to its deal, and the deal to its order.
        page.get_by_role("link", name=f"sale.order {order}").click()
        walk.heading(f"sale.order {order}")
        expect(page.get_by_role("link", name=f"crm.deal {deal}")).to_be_visible()
        walk.shot("record")
        page.get_by_role("link", name=f"crm.deal {deal}").click()
        walk.heading(f"crm.deal {deal}")
        expect(page.get_by_role("link", name=f"sale.order {order}")).to_be_visible()

        # The binding deleted by a REST call goes from the live table.
        walk.open("data?family=crm.orderentity")
        expect(rows).to_have_count(1)
        ok(hook, "crm.orderentity.deleteByFilter", {"fields": binding})
        expect(page.get_by_text("No rows.")).to_be_visible()

        # The call, in the journal: its parameters, answer and decisions, and as curl.
        walk.open("journal")
        link = page.get_by_role("row").filter(has_text="crm.orderentity.deleteByFilter")
        expect(link).to_have_count(1)
        walk.shot("journal")
        link.get_by_role("link").click()
        walk.heading("As curl")
        curl = page.locator("pre").first
        expect(curl).to_contain_text("/rest/1/{code}/crm.orderentity.deleteByFilter.json")
        expect(curl).to_contain_text(f'"orderId":{order}')
        expect(page.get_by_text('"granted": true').first).to_be_visible()
        walk.shot("call")

        # A batch call shows each of its commands.
        commands = {"deals": "crm.deal.list", "bound": "crm.orderentity.list?filter[orderId]=1"}
        ok(hook, "batch", {"halt": 0, "cmd": commands})
        walk.open("journal?method=batch")
        page.get_by_role("row").filter(has_text="batch").get_by_role("link").click()
        walk.heading("Batch commands")
        expect(page.get_by_role("cell", name="crm.orderentity.list", exact=True)).to_be_visible()
        expect(page.get_by_role("cell", name="deals", exact=True)).to_be_visible()

        # A fault: added in the browser, fired by the next REST call, counted live.
        walk.open("faults")
        page.get_by_label("Method", exact=True).fill("crm.deal.list")
        page.get_by_label("Error", exact=True).fill("QUERY_LIMIT_EXCEEDED")
        page.get_by_label("Times", exact=True).fill("1")
        page.get_by_role("button", name="Add fault").click()
        fired = page.locator("strong.fired")
        expect(fired).to_have_text("0")
        assert rest(hook, "crm.deal.list").status_code == 503
        expect(fired).to_have_text("1")
        walk.shot("faults")
        walk.open("journal?status=503")
        expect(page.get_by_role("row").filter(has_text="crm.deal.list")).to_have_count(1)

        # Snapshot, change, restore: the deal added after the snapshot is gone.
        walk.open("portals")
        page.get_by_label(f"Snapshot name for portal {portal_id}").fill("base")
        page.get_by_role("row").filter(has_text="shop").get_by_role(
            "button", name="Snapshot"
        ).click()
        restore = page.get_by_label(f"Snapshot to restore on portal {portal_id}")
        expect(restore).to_have_value("base")
        ok(hook, "crm.deal.add", {"fields": {"TITLE": "After the snapshot"}})
        walk.open("data?family=crm.deal")
        expect(page.get_by_role("cell", name="After the snapshot")).to_be_visible()
        walk.open("portals")
        page.get_by_role("row").filter(has_text="shop").get_by_role(
            "button", name="Restore"
        ).click()
        expect(page.get_by_role("status")).to_have_text("Restored base")
        assert [d["TITLE"] for d in ok(hook, "crm.deal.list")] == ["Big deal"]
        walk.open("data?family=crm.deal")
        expect(page.get_by_role("cell", name="Big deal")).to_be_visible()
        expect(page.get_by_role("cell", name="After the snapshot")).to_have_count(0)

        # The limits and the events pages read live state too.
        walk.open("limits")
        expect(page.get_by_role("cell", name="127.0.0.1")).to_be_visible()
        expect(page.get_by_role("cell", name="crm.deal.add")).to_be_visible()
        walk.shot("limits")
        # An app listens to new deals at a handler whose first answer is a 500 (on portal 1:
        # `token issue` installs apps on the default portal).
        app = live.cli_json("app", "add", "--name", "Shop app", "--scope", "crm",
                            "--redirect-uri", "https://app.example/cb")[-1]  # fmt: skip
        token = live.cli_json("token", "issue", "--client-id", app["client_id"],
                              "--user-id", "1")[-1]["access_token"]  # fmt: skip
        bind = {"auth": token, "event": "ONCRMDEALADD", "handler": receiver.url()}
        assert httpx.post(base + "/rest/event.bind", json=bind).status_code == 200
        ok(live.hook, "crm.deal.add", {"fields": {"TITLE": "Seen by the app"}})
        # The event: failed once (500), retried and delivered; Redeliver sends it again.
        walk.open("events")
        page.select_option("#portal-picker", "1")
        expect(page.get_by_role("cell", name="Shop app (1)")).to_be_visible()
        expect(page.get_by_role("cell", name=receiver.url()).first).to_be_visible()
        redeliver = page.get_by_role("button", name="Redeliver")
        delivery = page.get_by_role("row").filter(has=redeliver).first
        expect(delivery.get_by_role("cell", name="delivered")).to_be_visible()
        expect(delivery.get_by_role("cell", name="2", exact=True)).to_be_visible()
        walk.shot("events")
        delivery.get_by_role("button", name="Redeliver").click()
        expect(delivery.get_by_role("cell", name="3", exact=True)).to_be_visible()
        assert len(receiver.wait(2)) >= 2
        page.select_option("#portal-picker", str(portal_id))

        # At phone width the same pages stay readable (nothing wider than the screen).
        page.set_viewport_size(PHONE)
        walk.open("data?family=crm.deal")
        expect(page.get_by_role("cell", name="Big deal")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        walk.shot("phone")

        # Keyboard: a page opens on its heading, Tab goes on to its first control, and a page
        # link followed with Enter lands on the next page's heading.
        page.set_viewport_size(LAPTOP)
        walk.open("portals")
        expect(page.get_by_role("heading", name="Portals", exact=True)).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_label("Name", exact=True)).to_be_focused()
        page.get_by_role("link", name="Journal").focus()
        page.keyboard.press("Enter")
        walk.heading("Journal")
        expect(page.get_by_role("heading", name="Journal")).to_be_focused()

        # Signed out: no data, the form again.
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_label("Admin token")).to_be_visible()
        assert errors == []
    finally:
        context.close()
