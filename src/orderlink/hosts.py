"""Host names: which belong to Bitrix24, which are its authorization servers, and what a portal
domain may be. Pure functions, read by the HTTP layer, the proxy (proxy.py) and the commands.

Clients hard-code Bitrix24's hosts: b24pysdk refreshes at `https://oauth.bitrix24.tech/oauth/token/`
and asks `app.info` at `https://oauth.bitrix24.tech/rest/app.info/` (its BitrixOAuthRequester),
CRest refreshes at `https://oauth.bitrix.info/oauth/token/`, b24phpsdk names both (its
DefaultOAuthServerUrl east and west), b24jssdk follows `server_endpoint` and loads its frame
library from `api.bitrix24.com`; portals live on `*.bitrix24.<tld>` (`.com`, `.ru`, `.de`,
`.com.br`, ...). settings/oauth/index.md names `oauth.bitrix.info` as the authorization server.
"""

from __future__ import annotations

import ipaddress
import re

# The authorization servers (settings/oauth/index.md; b24pysdk, b24phpsdk, CRest).
OAUTH_SERVERS = frozenset({"oauth.bitrix.info", "oauth.bitrix24.tech"})
MAX_DOMAIN = 253
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


def hostname(value: str) -> str:
    """A Host header or CONNECT target (`Shop.Bitrix24.Test:443`, `[::1]:8080`) -> the lower-case
    host alone, without port, brackets or a trailing dot."""
    text = value.strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    if text.count(":") == 1:
        text = text.partition(":")[0]
    return text.rstrip(".")


def is_oauth_server(host: str) -> bool:
    """Bitrix24's authorization servers: the two the clients name, and `oauth.bitrix24.<tld>`."""
    labels = host.split(".")
    return host in OAUTH_SERVERS or (labels[0] == "oauth" and _bitrix24_at(labels) == 1)


def is_bitrix(host: str) -> bool:
    """A host of Bitrix24 or of its maker: `*.bitrix24.<tld>` and `bitrix24.<tld>` (any one- or
    two-label ending, so `x.bitrix24.com.br` too), `bitrix.info` and below it, `*.1c-bitrix.<tld>`.
    The leak guard never forwards to one of these (proxy.py). It errs on the side of owning:
    `bitrix24.example.com` counts too."""
    labels = host.split(".")
    if host == "bitrix.info" or host.endswith(".bitrix.info"):
        return True
    return _bitrix24_at(labels) >= 0 or _label_before_ending(labels, "1c-bitrix") >= 0


def _bitrix24_at(labels: list[str]) -> int:
    return _label_before_ending(labels, "bitrix24")


def _label_before_ending(labels: list[str], name: str) -> int:
    """Where `name` stands as a label followed by one or two more labels, else -1."""
    for at, label in enumerate(labels):
        if label == name and 1 <= len(labels) - at - 1 <= 2:
            return at
    return -1


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class InvalidDomain(ValueError):
    """Not something a portal can be reached at."""


def portal_domain(text: str) -> str:
    """A portal domain as stored: lower case, no trailing dot; a DNS name of letters, digits and
    hyphens (IDN in its `xn--` form), never an IP address, a port, a wildcard or an
    authorization server."""
    domain = text.strip().lower().rstrip(".")
    if not domain:
        raise InvalidDomain("a domain is required")
    if ":" in domain or "/" in domain:
        raise InvalidDomain(f"{text!r}: a domain is a host name, without scheme, port or path")
    if is_ip(domain):
        raise InvalidDomain(f"{text!r}: a portal domain is a name, not an IP address")
    if len(domain) > MAX_DOMAIN or not all(_LABEL.match(label) for label in domain.split(".")):
        raise InvalidDomain(
            f"{text!r}: not a host name (letters, digits and hyphens in dot-separated labels)"
        )
    if is_oauth_server(domain):
        raise InvalidDomain(f"{domain} is a Bitrix24 authorization server, not a portal")
    return domain
