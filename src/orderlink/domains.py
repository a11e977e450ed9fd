"""Portal domains (issue 18): the host names a portal answers on.

A request whose `Host` is a portal's domain is that portal's: its webhook or token must belong
to that portal. OAuth replies and event `auth` blocks name the portal's first domain
(`https://{domain}/rest/`, as a cloud portal's do: settings/oauth/index.md). A portal without
domains answers on every host, as before. `add_domain` is what `orderlink portal domain add`
and `portal add --domain` call.
"""

from __future__ import annotations

from orderlink import hosts
from orderlink.clock import Clock, SystemClock
from orderlink.storage.base import Portal, Store

# Hosts a running server remembers the portal of (and the lack of one) before starting over.
_CACHED = 10_000


class NoSuchPortal(LookupError):
    def __init__(self, portal_id: int) -> None:
        super().__init__(f"no portal {portal_id}")


class DomainTaken(ValueError):
    def __init__(self, domain: str, owner: int) -> None:
        super().__init__(f"{domain} is already a domain of portal {owner}")


async def add_domain(
    store: Store, portal_id: int, text: str, clock: Clock | None = None
) -> tuple[str, bool]:
    """Give portal `portal_id` the domain `text`: (the domain as stored, whether it is new to the
    portal). Adding a domain the portal has is a no-op. Raises hosts.InvalidDomain, NoSuchPortal,
    DomainTaken (another portal has it)."""
    domain = hosts.portal_domain(text)
    if await store.portal(portal_id) is None:
        raise NoSuchPortal(portal_id)
    if domain in await store.portal_domains(portal_id):
        return domain, False
    owner = await store.add_portal_domain(portal_id, domain, (clock or SystemClock()).now())
    if owner != portal_id:
        raise DomainTaken(domain, owner)
    return domain, True


async def remove_domain(store: Store, portal_id: int, text: str) -> bool:
    """Take a domain from a portal; False when it had no such domain."""
    if await store.portal(portal_id) is None:
        raise NoSuchPortal(portal_id)
    return await store.remove_portal_domain(portal_id, hosts.hostname(text))


class PortalDomains:
    """Which portal a host names and which domain names a portal, cached until portals or their
    domains change (the store's auth_version, as auth.Authenticator does)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._portals: dict[str, Portal | None] = {}
        self._first: dict[int, str | None] = {}
        self._version: object = None

    async def _fresh(self) -> None:
        version = await self._store.auth_version()
        if version != self._version or len(self._portals) + len(self._first) > _CACHED:
            self._portals.clear()
            self._first.clear()
            self._version = version

    async def portal_of(self, host: str) -> Portal | None:
        """The portal whose domain `host` is (a bare, lower-case host name), or None."""
        await self._fresh()
        if host not in self._portals:
            found = None if hosts.is_ip(host) else await self._store.portal_of_domain(host)
            self._portals[host] = found
        return self._portals[host]

    async def first_domain(self, portal_id: int) -> str | None:
        """The domain a portal's OAuth replies name, or None when it has none."""
        await self._fresh()
        if portal_id not in self._first:
            domains = await self._store.portal_domains(portal_id)
            self._first[portal_id] = domains[0] if domains else None
        return self._first[portal_id]
