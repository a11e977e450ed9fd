"""Each portal's own test clock (issue 15: "each portal has its own ... clock offset"): the
admin API moves one portal's time, and only that portal's `time` blocks, token expiry and date
stamps follow; other portals and the server keep theirs. Both stores."""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from orderlink.clock import AdjustableClock, SystemClock
from orderlink.settings import Settings

from .conftest import Portal
from .oauth_apps import register, tokens
from .testkit import ADMIN_TOKEN, api

pytestmark = pytest.mark.anyio

DAY = 86400.0


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database=database_url, rate_limit=False, admin_token=ADMIN_TOKEN, test_clock=True
    )


@pytest.fixture
def clock() -> AdjustableClock:
    return AdjustableClock()


async def new_portal(portal: Portal) -> tuple[int, str]:
    created = (await api(portal, "POST", "/portals", {"name": "other"})).json()
    return int(created["id"]), urlsplit(created["webhook"]).path


async def date_start(portal: Portal, hook: str) -> float:
    answer = (await portal.call("crm.deal.fields", hook=hook)).json()
    return datetime.fromisoformat(answer["time"]["date_start"]).timestamp()


async def test_moving_one_portal_leaves_the_others_where_they_are(portal: Portal) -> None:
    other, other_hook = await new_portal(portal)
    moved = await api(portal, "POST", "/portals/1/clock", {"advance": DAY})
    assert moved.status_code == 200, moved.text
    assert moved.json()["offset"] == DAY
    assert moved.json()["now"] == pytest.approx(time.time() + DAY, abs=60)

    assert await date_start(portal, portal.hook) == pytest.approx(time.time() + DAY, abs=60)
    assert await date_start(portal, other_hook) == pytest.approx(time.time(), abs=60)
    read = (await api(portal, "GET", f"/portals/{other}/clock")).json()
    assert read["offset"] == 0.0
    # What a portal stores is stamped by its own clock.
    made = await portal.ok("crm.deal.add", {"fields": {"TITLE": "ahead"}})
    deal = await portal.ok("crm.deal.get", {"id": made})
    stamped = datetime.fromisoformat(deal["DATE_CREATE"]).timestamp()
    assert stamped == pytest.approx(time.time() + DAY, abs=60)
    other_made = await portal.ok("crm.deal.add", {"fields": {"TITLE": "now"}}, hook=other_hook)
    other_deal = await portal.ok("crm.deal.get", {"id": other_made}, hook=other_hook)
    other_stamp = datetime.fromisoformat(other_deal["DATE_CREATE"]).timestamp()
    assert other_stamp == pytest.approx(time.time(), abs=60)


async def test_a_portals_tokens_expire_by_its_own_clock(portal: Portal) -> None:
    """An app's access token lives an hour of its portal's time: moving that portal's clock
    past the hour answers `expired_token`, and the refresh grant issues a pair that lives an
    hour from the portal's new time (or clients would refresh forever)."""
    app = await register(portal)
    pair = await tokens(portal, app)
    assert (
        await portal.client.post("/rest/crm.deal.fields", json={"auth": pair["access_token"]})
    ).status_code == 200
    await api(portal, "POST", "/portals/1/clock", {"advance": 3601})
    expired = await portal.client.post("/rest/crm.deal.fields", json={"auth": pair["access_token"]})
    assert (expired.status_code, expired.json()["error"]) == (401, "expired_token")

    refreshed = await portal.client.post(
        "/oauth/token/",
        data={
            "grant_type": "refresh_token", "client_id": app.client_id,
            "client_secret": app.client_secret, "refresh_token": pair["refresh_token"],
        },
    )  # fmt: skip
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert fresh["expires"] == pytest.approx(time.time() + 3601 + 3600, abs=60)
    again = await portal.client.post("/rest/crm.deal.fields", json={"auth": fresh["access_token"]})
    assert again.status_code == 200, again.text


async def test_the_server_clock_still_moves_every_portal(portal: Portal) -> None:
    _, other_hook = await new_portal(portal)
    await api(portal, "POST", "/portals/1/clock", {"advance": DAY})
    moved = await portal.client.post("/_orderlink/clock", json={"advance": DAY})
    assert moved.status_code == 200
    assert await date_start(portal, other_hook) == pytest.approx(time.time() + DAY, abs=60)
    assert await date_start(portal, portal.hook) == pytest.approx(time.time() + 2 * DAY, abs=60)


@pytest.mark.parametrize(
    ("verb", "path", "body", "status"),
    [
        ("POST", "/portals/1/clock", {"advance": -1}, 400),
        ("POST", "/portals/1/clock", {"advance": "soon"}, 400),
        ("POST", "/portals/1/clock", {"advance": 1e12}, 400),
        ("POST", "/portals/99/clock", {"advance": 1}, 404),
        ("GET", "/portals/99/clock", None, 404),
    ],
)
async def test_refused_moves_are_json_errors_and_move_nothing(
    portal: Portal, verb: str, path: str, body: object, status: int
) -> None:
    response = await api(portal, verb, path, body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "error_description"}
    assert (await api(portal, "GET", "/portals/1/clock")).json()["offset"] == 0.0


class TestWithoutTestClock:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database=database_url, rate_limit=False, admin_token=ADMIN_TOKEN)

    @pytest.fixture
    def clock(self) -> SystemClock:
        return SystemClock()  # what `serve` runs on without --test-clock

    async def test_a_real_clock_is_refused_a_move(self, portal: Portal) -> None:
        moved = await api(portal, "POST", "/portals/1/clock", {"advance": 1})
        assert moved.status_code == 400
        assert "--test-clock" in moved.json()["error_description"]
        assert (await api(portal, "GET", "/portals/1/clock")).status_code == 400
