"""Where an event handler may point: a delivery POSTs fresh tokens there.

Always refused: URLs no delivery can reach (no host, a bad port or IPv6 literal, spaces or
control characters, over MAX_URL characters), link-local and cloud-metadata addresses (where a
token would reach the machine's own cloud credentials), and orderlink's own listening address.
Loopback and private addresses are allowed by default (the app under test runs there);
`--event-handler-policy public` refuses every destination that is not a public address or a
name that can resolve publicly, for a self-hosted production server.

`refusal` checks a URL as written (event.bind); `pinned` checks it again at each delivery on the
addresses its host resolves to then, and the delivery connects to the address that passed, so a
name that changes its answer between the check and the connection (DNS rebinding) cannot reach
a refused address. docs/decisions.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from orderlink.settings import Settings

# api-reference/events/event-bind.md gives no limit; 2,048 is what browsers and proxies
# reliably carry, and the event_handlers row stays small.
MAX_URL = 2048

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses the host resolves to now (as getaddrinfo gives them).
Lookup = Callable[[str, int], Awaitable[Sequence[str]]]

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


class Refused(Exception):
    """A delivery's destination is refused; the message says why."""


def unsupported_scheme(url: str) -> bool:
    """A URL with a host but a scheme other than http/https (ERROR_UNSUPPORTED_PROTOCOL)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(parts.hostname) and parts.scheme.lower() not in ("http", "https")


def shape_refusal(url: str) -> str:
    """Why `url` is not an absolute http(s) URL with a host that a client can send a request
    to, or "" when it is."""
    if len(url) > MAX_URL:
        return f"longer than {MAX_URL} characters"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port out of range raises ValueError
    except ValueError as exc:
        return f"it cannot be parsed ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "an absolute http:// or https:// URL with a host is required"
    return ""


def refusal(url: str, settings: Settings) -> str:
    """Why `url` may not receive deliveries, or "" when it may."""
    problem = shape_refusal(url)
    if problem:
        return problem
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "an absolute http:// or https:// URL with a host is required"
    if host in _METADATA_HOSTS:
        return f"{host} is a cloud metadata service"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _literal(host)
    if address is not None:
        return address_refusal(address, port, settings)
    if port == settings.port and (host == settings.host.lower() or host in _LOCAL_NAMES):
        return "it is orderlink's own address"
    private_name = host in _LOCAL_NAMES or "." not in host or host.endswith(_PRIVATE_SUFFIXES)
    if settings.event_handler_policy == "public" and private_name:
        return f"{host} is not a public host (--event-handler-policy public)"
    return ""


def address_refusal(address: Address, port: int, settings: Settings) -> str:
    """Why a delivery may not connect to `address`:`port`, or "" when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in _METADATA_IPS or address.is_link_local:
        return f"{address} is a link-local or cloud metadata address"
    if address.is_unspecified or address.is_multicast:
        return f"{address} is not a destination address"
    if port == settings.port and _is_own_address(address, settings):
        return "it is orderlink's own address"
    if settings.event_handler_policy == "public" and not address.is_global:
        return f"{address} is not a public address (--event-handler-policy public)"
    return ""


async def pinned(url: str, settings: Settings, lookup: Lookup) -> Address | None:
    """At delivery: `url` checked again, and the address of its host to connect to (None: the
    host is an address already). Raises Refused, or OSError when the name does not resolve.

    Every address the name resolves to must pass, not just one: the connection goes to the
    first, and a resolver that mixes in a refused address is not to be trusted with the next."""
    problem = refusal(url, settings)
    if problem:
        raise Refused(problem)
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if _literal(host) is not None:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    found = [_literal(text.split("%", 1)[0]) for text in await lookup(host, port)]
    addresses = [a for a in found if a is not None]
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    for address in addresses:
        problem = address_refusal(address, port, settings)
        if problem:
            raise Refused(f"{host} resolves to {address}: {problem}")
    return addresses[0]


async def system_lookup(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_own_address(address: Address, settings: Settings) -> bool:
    if address.is_loopback:
        return True
    own = _literal(settings.host)
    if own is not None and address == own:
        return True
    return settings.host in ("0.0.0.0", "::") and not address.is_global
