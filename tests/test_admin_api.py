"""The admin API (admin.py, docs/admin-api.md): a bearer token guards every path under
/_orderlink/api/, the first `serve` makes one and prints it once, `--admin-token` sets one, only
its digest is stored; the test controls under /_orderlink/ keep working beside it."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import httpx
import pytest

from orderlink import admin
from orderlink.app import create_app
from orderlink.settings import Settings

from .conftest import Portal
from .live import start_server
from .testkit import ADMIN_TOKEN, BEARER, api, printed_admin_token

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database=database_url, rate_limit=False, admin_token=ADMIN_TOKEN, test_clock=True
    )


UNAUTHORIZED = {
    "error": "NO_AUTH_FOUND",
    "error_description": "The admin API needs the header Authorization: Bearer <admin token>",
}


class TestWithoutTheToken:
    @pytest.mark.parametrize(
        ("verb", "path"),
        [
            ("GET", "/portals/1/faults"),
            ("POST", "/portals/1/faults"),
            ("DELETE", "/portals/1/faults/1"),
            ("GET", "/portals/1/journal"),
            ("GET", "/portals/999/journal"),
            ("GET", "/no/such/path"),
            ("PUT", "/portals"),
            ("GET", ""),
            ("GET", "/"),
        ],
    )
    @pytest.mark.parametrize(
        "headers",
        [{}, {"authorization": "Bearer wrong"}, {"authorization": ADMIN_TOKEN},
         {"authorization": f"Basic {ADMIN_TOKEN}"}, {"authorization": "Bearer "}],
        ids=["none", "wrong", "no-scheme", "basic", "empty"],
    )  # fmt: skip
    async def test_every_path_answers_the_same_401(
        self, portal: Portal, verb: str, path: str, headers: dict[str, str]
    ) -> None:
        response = await portal.client.request(
            verb, "/_orderlink/api" + path, headers=headers, json={"error": "OVERLOAD_LIMIT"}
        )
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
        assert response.headers["www-authenticate"] == 'Bearer realm="orderlink"'
        # and nothing was done
        assert (await api(portal, "GET", "/portals/1/faults")).json() == {"faults": []}

    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    async def test_a_server_with_no_token_stored_refuses_every_token(
        self, database_url: str, portal: Portal
    ) -> None:
        await portal.store.set_info(admin.TOKEN_KEY, "", 0.0)
        response = await portal.client.get("/_orderlink/api/portals/1/faults", headers=BEARER)
        assert response.status_code == 401


class TestWithTheToken:
    async def test_an_unknown_path_is_not_found(self, portal: Portal) -> None:
        response = await api(portal, "GET", "/no/such/path")
        assert response.status_code == 404
        assert response.json() == {"error": "NOT_FOUND", "error_description": "Not found"}

    async def test_a_verb_a_route_does_not_take_is_405_with_allow(self, portal: Portal) -> None:
        response = await api(portal, "PUT", "/portals/1/faults")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST, DELETE"
        assert response.json()["error"] == "INVALID_REQUEST"

    async def test_an_unknown_portal_is_not_found(self, portal: Portal) -> None:
        for verb in ("GET", "DELETE"):
            response = await api(portal, verb, "/portals/2/faults")
            assert response.status_code == 404
            assert response.json() == {"error": "NOT_FOUND", "error_description": "No portal 2"}

    async def test_faults_are_added_listed_removed_and_cleared(self, portal: Portal) -> None:
        added = await api(portal, "POST", "/portals/1/faults",
                          {"method": "crm.deal.list", "error": "QUERY_LIMIT_EXCEEDED",
                           "times": 3, "probability": 0.5, "seed": 1})  # fmt: skip
        assert added.status_code == 201
        fault = added.json()["fault"]
        assert fault == {
            "id": fault["id"], "portal_id": 1, "method": "crm.deal.list",
            "error": "QUERY_LIMIT_EXCEEDED", "status": 503, "drop": False, "delay": 0.0,
            "times": 3, "fired": 0, "probability": 0.5, "seed": 1,
            "created_at": portal.app.clock.now(),
        }  # fmt: skip
        second = (await api(portal, "POST", "/portals/1/faults", {"drop": True})).json()["fault"]
        listed = (await api(portal, "GET", "/portals/1/faults")).json()["faults"]
        assert [f["id"] for f in listed] == [fault["id"], second["id"]]
        removed = await api(portal, "DELETE", f"/portals/1/faults/{fault['id']}")
        assert (removed.status_code, removed.json()) == (200, {"deleted": 1})
        again = await api(portal, "DELETE", f"/portals/1/faults/{fault['id']}")
        assert again.status_code == 404
        assert (await api(portal, "DELETE", "/portals/1/faults")).json() == {"deleted": 1}
        assert (await api(portal, "GET", "/portals/1/faults/")).json() == {"faults": []}

    async def test_a_body_must_be_declared_json(self, portal: Portal) -> None:
        response = await portal.client.post(
            "/_orderlink/api/portals/1/faults", content=b'{"drop": true}',
            headers={**BEARER, "content-type": "text/plain"},
        )  # fmt: skip
        assert response.status_code == 400
        assert "application/json" in response.json()["error_description"]

    async def test_a_body_that_is_not_an_object_is_refused(self, portal: Portal) -> None:
        response = await api(portal, "POST", "/portals/1/faults", ["drop"])
        assert response.status_code == 400

    async def test_the_test_clock_beside_the_api(self, settings: Settings) -> None:
        """controls.py's /_orderlink/clock (with --test-clock, its own clock) and
        /_orderlink/health answer as before."""
        app = create_app(settings)
        await app.startup()
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                before = (await client.get("/_orderlink/clock")).json()["now"]
                moved = await client.post("/_orderlink/clock", json={"advance": 60})
                assert moved.json()["now"] >= before + 60
                assert (await client.get("/_orderlink/health")).json() == {"status": "ok"}
                assert (await client.get("/_orderlink/nothing")).status_code == 404
                listed = await client.get("/_orderlink/api/portals/1/journal", headers=BEARER)
                assert listed.status_code == 404  # no portal yet: nothing has started one
        finally:
            await app.shutdown()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_only_the_tokens_digest_is_stored(database_url: str, portal: Portal) -> None:
    stored = await portal.store.info(admin.TOKEN_KEY)
    assert stored == hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()


def test_the_token_setting_reads_its_variable() -> None:
    assert Settings.from_env({"ORDERLINK_ADMIN_TOKEN": "abc"}).admin_token == "abc"
    assert "abc" not in repr(Settings(admin_token="abc"))


# -- `serve` and its token ------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "orderlink.db"


def _faults(base_url: str, token: str) -> int:
    return httpx.get(
        base_url + "/_orderlink/api/portals/1/faults", headers={"authorization": f"Bearer {token}"}
    ).status_code


@pytest.mark.live
def test_the_first_serve_prints_a_token_once_and_later_ones_keep_it(database: Path) -> None:
    server = start_server(database, "--no-rate-limit")
    try:
        token = printed_admin_token(server)
        assert _faults(server.base_url, token) == 200
        assert _faults(server.base_url, token + "x") == 401
        httpx.post(server.webhook_url + "crm.deal.list", json={})  # a call the log may show
    finally:
        server.stop()
    assert sum(token in line for line in server.output) == 1  # printed once, never logged
    again = start_server(database, "--no-rate-limit")
    try:
        assert not any(line.startswith("admin token:") for line in again.output)
        assert any("Admin API token already set" in line for line in again.output)
        assert _faults(again.base_url, token) == 200
    finally:
        again.stop()


@pytest.mark.live
def test_admin_token_sets_the_token(database: Path) -> None:
    server = start_server(database, "--no-rate-limit", "--admin-token", "chosen-token-1")
    try:
        assert not any(line.startswith("admin token:") for line in server.output)
        assert _faults(server.base_url, "chosen-token-1") == 200
    finally:
        server.stop()
    with_other = start_server(database, "--no-rate-limit", "--admin-token", "chosen-token-2")
    try:
        assert _faults(with_other.base_url, "chosen-token-1") == 401
        assert _faults(with_other.base_url, "chosen-token-2") == 200
    finally:
        with_other.stop()
    conn = sqlite3.connect(database)
    try:
        stored = conn.execute("SELECT key, value FROM server_info").fetchall()
    finally:
        conn.close()
    assert "chosen-token" not in repr(stored)
    assert (admin.TOKEN_KEY, hashlib.sha256(b"chosen-token-2").hexdigest()) in stored
