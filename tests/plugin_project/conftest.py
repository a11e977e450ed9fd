"""A fixture portal built once per session and saved as a snapshot, for tests to start from."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest


@pytest.fixture(scope="session", autouse=True)
def shop(orderlink_admin: Any) -> Iterator[Any]:
    portal = orderlink_admin.new_portal(name="shop")
    for title in ("first", "second"):
        answer = httpx.post(portal.webhook + "crm.deal.add", json={"fields": {"TITLE": title}})
        answer.raise_for_status()
    portal.admin.snapshot("shop")
    yield portal
    orderlink_admin.request("DELETE", f"/portals/{portal.id}")
