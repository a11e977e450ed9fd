"""Credentials -> Principal: who is calling, on which portal, with which scopes and store role.

Webhooks (`local-integrations/local-webhooks.md`): `/rest/{user_id}/{code}/...` acts as the user
who owns the code, limited to the webhook's scopes. Codes are stored as SHA-256 digests (they
are 16+ random characters, so a fast hash is enough) and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from orderlink.clock import Clock, enter_portal
from orderlink.errors import (
    ExpiredToken,
    InvalidCredentials,
    InvalidToken,
    UserAccessError,
)
from orderlink.principal import Principal, Role
from orderlink.storage.base import Store

# Scopes orderlink knows; `basic` is implied for everyone (auth.md section 2); `user` and its
# narrower versions `user_basic`, `user_brief` cover user.* (api-reference/user/user-scope.md);
# `userfieldconfig` the custom-field settings (crm/universal/userfieldconfig/index.md).
KNOWN_SCOPES = ("crm", "sale", "user", "user_basic", "user_brief", "userfieldconfig", "basic")
_CODE_ALPHABET = string.ascii_lowercase + string.digits


def new_webhook_code() -> str:
    """16 lower-case alphanumerics, the form the docs' examples show (`8g9l071eismy9q2l`)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Authenticator:
    """Resolves webhook credentials, caching what it found until users or webhooks change."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[tuple[str, str], Principal] = {}
        self._tokens: dict[str, tuple[Principal, float, bool]] = {}
        self._version: object = None

    async def _drop_if_stale(self) -> None:
        """Forget every cached credential once users, webhooks or apps have changed."""
        version = await self._store.auth_version()
        if version != self._version:
            self._cache.clear()
            self._tokens.clear()
            self._version = version

    async def webhook(self, user_id_text: str, code: str) -> Principal:
        key = (user_id_text, code)
        await self._drop_if_stale()
        cached = self._cache.get(key)
        if cached is None:
            cached = await self._lookup(user_id_text, code)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = cached
        enter_portal(cached.portal_id)
        return cached

    async def token(self, token: str, clock: Clock) -> Principal:
        """An OAuth access token (settings/oauth/index.md): unknown or revoked -> invalid_token,
        past its hour by its portal's clock -> expired_token (clients refresh on exactly
        that), an app limited to other users -> user_access_error."""
        await self._drop_if_stale()
        found = self._tokens.get(token)
        if found is None:
            if not token or len(token) > 256:
                raise InvalidToken()
            grant = await self._store.grant(hash_secret(token))
            if grant is None or not grant.install.installed:
                raise InvalidToken()
            principal = Principal(
                portal_id=grant.portal_id,
                user_id=grant.user.id,
                scopes=frozenset(grant.app.scopes),
                role=Role(grant.user.store_role),
                is_admin=grant.user.is_admin,
                credential=f"app:{grant.app.id}",
                kind="oauth",
                app_id=grant.app.id,
                client_id=grant.app.client_id,
            )
            allowed = grant.install.allowed_users
            found = (principal, grant.access_expires_at, not allowed or grant.user.id in allowed)
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[token] = found
        principal, expires_at, allowed_user = found
        enter_portal(principal.portal_id)
        if clock.now() >= expires_at:
            raise ExpiredToken()
        if not allowed_user:
            raise UserAccessError()
        return principal

    async def _lookup(self, user_id_text: str, code: str) -> Principal:
        if (
            not (user_id_text.isascii() and user_id_text.isdigit())
            or len(user_id_text) > 18
            or not code
            or len(code) > 128
        ):
            raise InvalidCredentials()
        digest = hash_secret(code)
        found = None
        for webhook, user in await self._store.webhooks_of_user(int(user_id_text)):
            if hmac.compare_digest(webhook.code_hash, digest):
                found = (webhook, user)
        if found is None:
            raise InvalidCredentials()
        webhook, user = found
        return Principal(
            portal_id=webhook.portal_id,
            user_id=user.id,
            scopes=frozenset(webhook.scopes),
            role=Role(user.store_role),
            is_admin=user.is_admin,
            credential=f"webhook:{webhook.id}",
        )
