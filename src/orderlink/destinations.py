"""Where an event handler may point: a delivery POSTs fresh tokens there.

Always refused: URLs no delivery can reach (no host, a bad port or IPv6 literal, spaces or
control characters, over MAX_URL characters), link-local and cloud-metadata addresses (where a
token would reach the machine's own cloud credentials), and orderlink's own listening address.
Loopback and private addresses are allowed by default (the app under test runs there);
`--event-handler-policy public` refuses every destination that is not a public address or a
name that can resolve publicly, for a self-hosted production server (names are checked as
written: deliveries do not re-resolve them). docs/decisions.md.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from orderlink.settings import Settings

# api-reference/events/event-bind.md gives no limit; 2,048 is what browsers and proxies
# reliably carry, and the event_handlers row stays small.
MAX_URL = 2048

_METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_METADATA_IPS = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254")
)
# Names that never resolve publicly (RFC 6761, RFC 6762, RFC 8375, and the ones clouds use).
_PRIVATE_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home.arpa", ".test", ".invalid")
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def refusal(url: str, settings: Settings) -> str:
    """Why `url` may not receive deliveries, or "" when it may."""
    if len(url) > MAX_URL:
        return f"longer than {MAX_URL} characters"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"it cannot be parsed ({exc})"
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("http", "https") or not host:
        return "an absolute http:// or https:// URL with a host is required"
    if host in _METADATA_HOSTS:
        return f"{host} is a cloud metadata service"
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address in _METADATA_IPS or address.is_link_local:
            return f"{host} is a link-local or cloud metadata address"
        if address.is_unspecified or address.is_multicast:
            return f"{host} is not a destination address"
    port = port or (443 if parts.scheme == "https" else 80)
    if port == settings.port and _is_own_host(host, address, settings):
        return "it is orderlink's own address"
    if settings.event_handler_policy == "public":
        private_name = host in _LOCAL_NAMES or "." not in host or host.endswith(_PRIVATE_SUFFIXES)
        if address is None and private_name:
            return f"{host} is not a public host (--event-handler-policy public)"
        if address is not None and not address.is_global:
            return f"{host} is not a public address (--event-handler-policy public)"
    return ""


def _is_own_host(
    host: str,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
    settings: Settings,
) -> bool:
    if host == settings.host.lower() or host in _LOCAL_NAMES:
        return True
    if address is None:
        return False
    if address.is_loopback:
        return True
    return settings.host in ("0.0.0.0", "::") and not address.is_global
