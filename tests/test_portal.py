"""Portal basics real clients call first (api-reference/common/system/*, profile, user.current)."""

from __future__ import annotations

from datetime import datetime

import pytest

from orderlink.registry import Role

from .conftest import Portal

pytestmark = pytest.mark.anyio


async def test_profile_of_the_admin(portal: Portal) -> None:
    assert await portal.ok("profile") == {
        "ID": "1", "ADMIN": True, "NAME": "Administrator", "LAST_NAME": "",
        "PERSONAL_GENDER": "", "TIME_ZONE": "",
    }  # fmt: skip


async def test_profile_of_another_user_is_not_admin(portal: Portal) -> None:
    hook = await portal.webhook_for(Role.STORE_MANAGER)
    result = await portal.ok("profile", hook=hook)
    assert result["ADMIN"] is False
    assert result["ID"] != "1"


async def test_user_current_needs_the_user_scope(portal: Portal) -> None:
    denied = await portal.call("user.current")
    assert denied.status_code == 401
    assert denied.json()["error"] == "insufficient_scope"
    hook = await portal.webhook_for(Role.NONE, scopes=("user",))
    result = await portal.ok("user.current", hook=hook)
    assert result["ID"].isdigit()
    assert result["ACTIVE"] is True
    assert result["UF_DEPARTMENT"] == [1]


async def test_scope_lists_the_callers_scopes_or_all(portal: Portal) -> None:
    assert await portal.ok("scope") == ["crm", "sale", "userfieldconfig"]
    every = ["crm", "sale", "user", "user_basic", "user_brief", "userfieldconfig"]
    assert await portal.ok("scope", {"full": True}) == every
    assert await portal.ok("scope", query="full=true") == every


async def test_methods_by_scope_and_in_full(portal: Portal) -> None:
    crm = await portal.ok("methods", {"scope": "crm"})
    assert "crm.orderentity.add" in crm
    assert "sale.order.add" not in crm
    assert "batch" in await portal.ok("methods", {"scope": ""})
    assert "user.current" not in await portal.ok("methods")
    assert "user.current" in await portal.ok("methods", {"full": True})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("crm.orderentity.add", {"isExisting": True, "isAvailable": True}),
        ("CRM.ORDERENTITY.DELETEBYFILTER", {"isExisting": True, "isAvailable": True}),
        ("user.current", {"isExisting": True, "isAvailable": False}),
        ("no.such.method", {"isExisting": False, "isAvailable": False}),
        ("", {"isExisting": False, "isAvailable": False}),
    ],
)
async def test_method_get(portal: Portal, name: str, expected: dict[str, bool]) -> None:
    assert await portal.ok("method.get", {"name": name}) == expected


async def test_server_time_is_iso_with_offset(portal: Portal) -> None:
    text = await portal.ok("server.time")
    assert datetime.fromisoformat(text).utcoffset() is not None
    assert text.endswith("+00:00")


async def test_app_info_through_a_webhook_answers_the_licence_and_scopes(portal: Portal) -> None:
    """Issue 12 point 21: the official SDKs' real-portal tests call app.info with a webhook and
    read SCOPE and LICENSE (the page's ACCESS_DENIED example is not what portals answer)."""
    result = await portal.ok("app.info")
    assert result["SCOPE"] == ["crm", "sale", "userfieldconfig"]
    assert isinstance(result["LICENSE"], str)
    assert result["INSTALLED"] is True


async def test_scope_never_lists_basic(portal: Portal) -> None:
    """Issue 12 point 24: b24phpsdk throws on "unknown application scope code - basic"."""
    hook = await portal.webhook_for(Role.STORE_ADMIN, scopes=("basic", "crm"))
    assert await portal.ok("scope", hook=hook) == ["crm"]
    assert "basic" not in await portal.ok("scope", {"full": True}, hook=hook)


async def test_user_current_has_the_documented_keys_with_string_dates(portal: Portal) -> None:
    """Issue 12 point 22: api-reference/user/user-current.md's example."""
    hook = await portal.webhook_for(Role.NONE, scopes=("user",))
    result = await portal.ok("user.current", hook=hook)
    for key in (
        "XML_ID",
        "TIME_ZONE",
        "TIMESTAMP_X",
        "LAST_ACTIVITY_DATE",
        "LAST_LOGIN",
        "DATE_REGISTER",
    ):
        assert key in result
    for key in ("TIMESTAMP_X", "LAST_ACTIVITY_DATE", "LAST_LOGIN", "DATE_REGISTER"):
        assert datetime.fromisoformat(result[key]).utcoffset() is not None
