"""OAuth 2.0 for applications, as a Bitrix24 portal and its authorization server do it.

settings/oauth/index.md: authorization codes live 30 s; access tokens an hour; refresh tokens 180
days, and each refresh issues a new refresh token and kills the old one. orderlink is portal and
authorization server at once, so `server_endpoint` and `client_endpoint` both point at it.
Tokens, codes and secrets are opaque random strings, stored only as SHA-256 digests.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

from orderlink import errors
from orderlink.auth import hash_secret
from orderlink.clock import Clock, enter_portal
from orderlink.domains import PortalDomains
from orderlink.settings import Settings
from orderlink.storage.base import (
    App,
    Delivery,
    Emit,
    Grant,
    Install,
    Portal,
    Store,
    TokenPair,
)

CODE_TTL = 30.0
# An expired access token still answers `expired_token` (what clients refresh on) for a day;
# after that, once its refresh token is used or expired too, its pair is deleted and it answers
# NO_AUTH_FOUND like any unknown token (docs/decisions.md).
EXPIRED_TOKENS_KEPT = 86400.0
_ALNUM = string.ascii_letters + string.digits


def new_token() -> str:
    """70 lower-case hex characters, the form today's portals issue."""
    return secrets.token_hex(35)


def new_client_id() -> str:
    """`local.<14 hex>.<8 digits>`, the form of a portal's local-application ids."""
    return f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}"


def new_client_secret() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(50))


def new_application_token() -> str:
    """32 hex characters: what handlers compare `auth[application_token]` with."""
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where this orderlink answers, as the client reached it (scheme, host, port)."""

    base: str  # "https://orders.example.com"

    @property
    def rest(self) -> str:
        return self.base.rstrip("/") + "/rest/"

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc


class OAuth:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        domains: PortalDomains | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.domains = domains if domains is not None else PortalDomains(store)

    async def prune(self) -> int:
        """Delete authorization codes and token pairs that can never be used again."""
        now = self.clock.now()
        return await self.store.prune_credentials(now, now - EXPIRED_TOKENS_KEPT)

    async def portal(self) -> Portal:
        portal = await self.store.default_portal()
        if portal is None:
            raise errors.OAuthInvalidRequest("The portal is not set up")
        return portal

    async def portal_of(self, portal_id: int) -> Portal:
        return await self.store.portal(portal_id) or await self.portal()

    async def endpoints_for(self, portal_id: int, endpoints: Endpoints) -> Endpoints:
        """Where a portal's replies point: its first domain, over HTTPS as a cloud portal's
        (settings/oauth/index.md), else `endpoints`, where the client reached orderlink."""
        domain = await self.domains.first_domain(portal_id)
        return Endpoints(f"https://{domain}") if domain else endpoints

    async def issue(self, grant: Grant, endpoints: Endpoints, family: str = "") -> dict[str, Any]:
        """A new token pair for what `grant` allows; the reply /oauth/token/ gives. `family`:
        the digest of the authorization code it comes from (empty: a family of its own)."""
        access, refresh = new_token(), new_token()
        pair = replace(self._pair(grant, access, refresh), family=family)
        await self.store.save_tokens(pair, self.clock.now())
        return await self.reply(grant, access, refresh, pair, endpoints)

    def _pair(self, grant: Grant, access: str, refresh: str) -> TokenPair:
        now = self.clock.now()
        return TokenPair(
            access_hash=hash_secret(access),
            refresh_hash=hash_secret(refresh),
            portal_id=grant.portal_id,
            app_id=grant.app.id,
            user_id=grant.user.id,
            access_expires_at=now + self.settings.access_token_ttl,
            refresh_expires_at=now + self.settings.refresh_token_ttl,
        )

    async def reply(
        self, grant: Grant, access: str, refresh: str, pair: TokenPair, endpoints: Endpoints
    ) -> dict[str, Any]:
        # settings/oauth/index.md, the refresh example: every key, in this order.
        portal = await self.portal_of(grant.portal_id)
        endpoints = await self.endpoints_for(grant.portal_id, endpoints)
        return {
            "access_token": access,
            "expires": int(pair.access_expires_at),
            "expires_in": int(self.settings.access_token_ttl),
            "scope": ",".join(s for s in grant.app.scopes if s != "basic"),
            "domain": endpoints.host,
            "server_endpoint": endpoints.rest,
            "status": "L",
            "client_endpoint": endpoints.rest,
            "member_id": portal.member_id,
            "user_id": grant.user.id,
            "refresh_token": refresh,
        }

    async def client(self, params: dict[str, Any]) -> App:
        client_id, secret = params.get("client_id"), params.get("client_secret")
        if not isinstance(client_id, str) or not client_id:
            raise errors.OAuthInvalidRequest("client_id is required")
        app = await self.store.app(client_id)
        if app is None or not isinstance(secret, str):
            raise errors.InvalidClient("Invalid client credentials")
        if not secrets.compare_digest(app.secret_hash, hash_secret(secret)):
            raise errors.InvalidClient("Invalid client credentials")
        enter_portal(app.portal_id)  # its codes and tokens follow its portal's clock
        return app

    async def token(self, params: dict[str, Any], endpoints: Endpoints) -> dict[str, Any]:
        """/oauth/token/: `authorization_code` and `refresh_token` grants."""
        grant_type = params.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise errors.UnsupportedGrantType("Unsupported grant type")
        app = await self.client(params)
        if grant_type == "authorization_code":
            return await self._from_code(app, params.get("code"), endpoints)
        return await self._from_refresh(app, params.get("refresh_token"), endpoints)

    async def _from_code(self, app: App, code: Any, endpoints: Endpoints) -> dict[str, Any]:
        if not isinstance(code, str) or not code:
            raise errors.OAuthInvalidRequest("code is required")
        digest = hash_secret(code)
        now = self.clock.now()
        taken = await self.store.take_code(digest, now + self.settings.refresh_token_ttl)
        if taken is None:
            # A code used before: the tokens issued from it are revoked (RFC 6749 4.1.2).
            await self.store.revoke_replayed(digest)
            raise errors.InvalidGrant("Invalid authorization code")
        grant, expires_at = taken
        if grant.app.id != app.id or expires_at <= now:
            raise errors.InvalidGrant("Invalid authorization code")
        self._installed(grant.install)
        return await self.issue(grant, endpoints, family=digest)

    async def _from_refresh(self, app: App, token: Any, endpoints: Endpoints) -> dict[str, Any]:
        if not isinstance(token, str) or not token:
            raise errors.OAuthInvalidRequest("refresh_token is required")
        old_hash = hash_secret(token)
        grant = await self.store.refresh_grant(old_hash)
        if grant is None:
            # A rotated-out refresh token presented again: whoever holds the live one may be
            # an attacker, so the whole family goes (RFC 9700 4.14.2).
            await self.store.revoke_replayed(old_hash)
            raise errors.InvalidGrant("Invalid refresh token")
        if grant.app.id != app.id:
            raise errors.InvalidGrant("Invalid refresh token")
        self._installed(grant.install)
        access, refresh = new_token(), new_token()
        pair = self._pair(grant, access, refresh)
        if not await self.store.refresh(old_hash, app.id, pair, self.clock.now()):
            await self.store.revoke_replayed(old_hash)  # lost a race with another use of it
            raise errors.InvalidGrant("Invalid refresh token")
        return await self.reply(grant, access, refresh, pair, endpoints)

    @staticmethod
    def _installed(install: Install) -> None:
        if not install.installed:
            raise errors.InvalidClient("The application is not installed")

    async def install(self, app: App, user_id: int) -> Install:
        """Install (or re-install) an app for a user; its install handler gets ONAPPINSTALL
        with the user's tokens (api-reference/common/events/on-app-install.md). On the
        app's own portal."""
        portal = await self.portal_of(app.portal_id)
        now = self.clock.now()
        earlier = await self.store.install_of(portal.id, app.id)
        token = earlier.application_token if earlier else new_application_token()
        emits: tuple[Emit, ...] = ()
        if app.handler_url:
            data = {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "en"}
            emits = (Emit("ONAPPINSTALL", data, user_id, now, app.id, app.handler_url),)
        return await self.store.install_app(portal.id, app.id, user_id, token, now, events=emits)

    async def uninstall(self, app: App, user_id: int) -> bool:
        """Uninstall: ONAPPUNINSTALL to the app's handlers (no tokens, on-app-uninstall.md),
        then its tokens, codes and handlers are gone."""
        portal = await self.portal_of(app.portal_id)
        data = {"LANGUAGE_ID": "en", "CLEAN": "0"}
        emit = Emit("ONAPPUNINSTALL", data, user_id, self.clock.now(), app.id, tokens=False)
        return await self.store.uninstall_app(portal.id, app.id, events=(emit,))

    async def authorize(self, app: App, user_id: int, state: str, endpoints: Endpoints) -> str:
        """The redirect that ends a consent: `redirect_uri?code=...&state=...&domain=...`
        (settings/oauth/index.md, step 2)."""
        enter_portal(app.portal_id)
        portal = await self.portal_of(app.portal_id)
        endpoints = await self.endpoints_for(portal.id, endpoints)
        install = await self.store.install_of(portal.id, app.id)
        if install is None or not install.installed:
            raise errors.UnknownClient("The application is not installed on the portal")
        code = new_token()
        await self.store.save_code(
            hash_secret(code), portal.id, app.id, user_id, self.clock.now() + CODE_TTL
        )
        query = urlencode(
            {
                "code": code,
                "state": state,
                "domain": endpoints.host,
                "member_id": portal.member_id,
                "scope": ",".join(s for s in app.scopes if s != "basic"),
                "server_domain": endpoints.host,
            }
        )
        separator = "&" if "?" in app.redirect_uri else "?"
        return f"{app.redirect_uri}{separator}{query}"

    async def event_auth(self, delivery: Delivery) -> dict[str, Any]:
        """The `auth` block of an event (_includes/auth-params-in-events.md): fresh tokens of
        the user when the event carries them, and always the app's `application_token`."""
        portal = await self.portal_of(delivery.portal_id)
        here = Endpoints(self.settings.public_base_url())
        endpoints = await self.endpoints_for(portal.id, here)
        install = await self.store.install_of(delivery.portal_id, delivery.app_id)
        token = install.application_token if install else ""
        if delivery.with_tokens and install is not None and install.installed:
            grant = await self.store.grant_for(
                delivery.portal_id, delivery.app_id, delivery.user_id
            )
            if grant is not None:
                return {**await self.issue(grant, endpoints), "application_token": token}
        # Without a user to issue for (on-app-uninstall.md): where, and the app's token.
        return {
            "domain": endpoints.host,
            "server_endpoint": endpoints.rest,
            "client_endpoint": endpoints.rest,
            "member_id": portal.member_id,
            "application_token": token,
        }

    async def server_app_info(self, token: Any) -> dict[str, Any]:
        """`app.info` asked of the authorization server (`oauth.bitrix.info/rest/app.info`,
        settings/oauth/simple-way.md: "to obtain a trusted status"): not the portal's card
        (api-reference/common/system/app-info.md) but the install the token belongs to. The
        page prints no answer; this is the shape b24pysdk reads (its BitrixAppInfoResponse:
        `client_id`, `scope`, `expires` as ISO time, `install{...}`, `user_id`) and checks
        against a token's `member_id` and portal host."""
        if not isinstance(token, str) or not token:
            raise errors.NoAuthFound()
        grant = await self.store.grant(hash_secret(token))
        if grant is None or not grant.install.installed:
            raise errors.InvalidToken()
        enter_portal(grant.portal_id)
        if self.clock.now() >= grant.access_expires_at:
            raise errors.ExpiredToken()
        portal = await self.portal_of(grant.portal_id)
        here = Endpoints(self.settings.public_base_url())
        endpoints = await self.endpoints_for(portal.id, here)
        scope = ",".join(s for s in grant.app.scopes if s != "basic")
        return {
            "client_id": grant.app.client_id,
            "scope": scope,
            "expires": dt.datetime.fromtimestamp(grant.access_expires_at, dt.UTC).isoformat(
                timespec="seconds"
            ),
            "install": {
                "installed": True,
                "version": 1,
                "status": "L",
                "scope": scope,
                "domain": urlsplit(endpoints.base).hostname or endpoints.host,
                "uri": endpoints.base.rstrip("/"),
                "client_endpoint": endpoints.rest,
                "member_id": portal.member_id,
                "member_type": "company",
            },
            "user_id": grant.user.id,
        }
