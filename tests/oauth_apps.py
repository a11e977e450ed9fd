"""Applications for tests: registered and installed through the same code the CLI uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orderlink.auth import hash_secret
from orderlink.oauth import Endpoints, OAuth, new_client_id, new_client_secret

from .conftest import Portal


@dataclass
class TestApp:
    client_id: str
    client_secret: str
    app: Any

    __test__ = False  # not a test class


async def register(
    portal: Portal,
    *,
    scopes: tuple[str, ...] = ("crm", "sale"),
    redirect_uri: str = "https://app.example/callback",
    handler_url: str = "",
    install: bool = True,
) -> TestApp:
    store = portal.store
    row = await store.default_portal()
    client_id, secret = new_client_id(), new_client_secret()
    app = await store.add_app(
        row.id, name="Test app", client_id=client_id, secret_hash=hash_secret(secret),
        scopes=scopes, redirect_uri=redirect_uri, handler_url=handler_url, now=0.0,
    )  # fmt: skip
    if install:
        await OAuth(store, portal.app.settings, portal.app.clock).install(app, 1)
    return TestApp(client_id, secret, app)


async def tokens(portal: Portal, app: TestApp, user_id: int = 1) -> dict[str, Any]:
    """The /oauth/token/ reply for a user, as `orderlink token issue` gives it."""
    store = portal.store
    row = await store.default_portal()
    grant = await store.grant_for(row.id, app.app.id, user_id)
    assert grant is not None
    return await portal.app.oauth.issue(grant, Endpoints("http://testserver"))
