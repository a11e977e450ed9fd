"""The admin API's portals part (docs/admin-api.md): the same operations as `orderlink portal`,
over HTTP with the admin token, on both stores."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from orderlink.settings import Settings

from .conftest import Portal
from .testkit import ADMIN_TOKEN, api

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database=database_url, rate_limit=False, admin_token=ADMIN_TOKEN)


async def ok(portal: Portal, verb: str, path: str, body: Any = None, status: int = 200) -> Any:
    response = await api(portal, verb, path, body)
    assert response.status_code == status, response.text
    return response.json()


async def test_the_lifecycle_over_the_admin_api(portal: Portal) -> None:
    created = await ok(portal, "POST", "/portals", {"name": "shop", "plan": "enterprise"}, 201)
    assert list(created) == ["id", "name", "webhook"]
    pid, hook = created["id"], urlsplit(created["webhook"]).path
    assert [p["id"] for p in (await ok(portal, "GET", "/portals"))["portals"]] == [1, pid]
    described = await ok(portal, "GET", f"/portals/{pid}")
    assert (described["name"], described["plan"], described["snapshots"]) == (
        "shop", "enterprise", [])  # fmt: skip
    await portal.ok("crm.deal.add", {"fields": {"TITLE": "kept"}}, hook=hook)
    await ok(portal, "POST", f"/portals/{pid}/snapshots", {"name": "base"}, 201)
    await portal.ok("crm.deal.add", {"fields": {"TITLE": "later"}}, hook=hook)
    await ok(portal, "POST", f"/portals/{pid}/restore", {"name": "base"})
    titles = [d["TITLE"] for d in await portal.ok("crm.deal.list", {}, hook=hook)]
    assert titles == ["kept"]
    copy = await ok(portal, "POST", "/portals", {"snapshot": "base"}, 201)
    copied = await portal.ok("crm.deal.list", {}, hook=urlsplit(copy["webhook"]).path)
    assert [d["TITLE"] for d in copied] == ["kept"]
    exported = await ok(portal, "GET", f"/portals/{pid}/export")
    await ok(portal, "POST", f"/portals/{pid}/reset", {})
    assert await portal.ok("crm.deal.list", {}, hook=hook) == []
    imported = await ok(portal, "POST", "/portals/import", exported, 201)
    again = await portal.ok("crm.deal.list", {}, hook=urlsplit(imported["webhook"]).path)
    assert [d["TITLE"] for d in again] == ["kept"]
    await ok(portal, "DELETE", f"/portals/{pid}")
    assert (await api(portal, "GET", f"/portals/{pid}")).status_code == 404


@pytest.mark.parametrize(
    ("verb", "path", "body", "status"),
    [
        ("GET", "/portals/99", None, 404),
        ("POST", "/portals/99/reset", {}, 404),
        ("POST", "/portals", {"plan": "gold"}, 400),
        ("POST", "/portals", {"seed_examples": "yes"}, 400),
        ("POST", "/portals", {"snapshot": "nowhere"}, 400),
        ("POST", "/portals/1/snapshots", {"name": "../x"}, 400),
        ("POST", "/portals/1/restore", {"name": "missing"}, 400),
        ("POST", "/portals/import", {"format": "other"}, 400),
        ("DELETE", "/portals/1", None, 400),
    ],
)
async def test_refusals_are_json_errors_and_write_nothing(
    portal: Portal, verb: str, path: str, body: Any, status: int
) -> None:
    response = await api(portal, verb, path, body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "error_description"}
    assert [p["id"] for p in (await ok(portal, "GET", "/portals"))["portals"]] == [1]
