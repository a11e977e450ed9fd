"""The dashboard's sign-in sessions: a signed cookie, and the CSRF token that goes with it.

A browser signs in once with the admin token (ui.py); it then holds a cookie
`orderlink_session=<issued>.<nonce>.<signature>` that the admin API accepts instead of the
bearer header. Nothing is kept per session on the server: the signature is an HMAC keyed by the
admin token's stored digest, so every worker checks it alike, and a new admin token (`serve
--admin-token`) ends every session at once. The cookie is HttpOnly, SameSite=Strict, and Secure
when served over TLS; it lives `LIFETIME` seconds.

A state-changing request that authenticates with the cookie must also carry the session's CSRF
token in `X-Orderlink-CSRF` (the page reads it from its own HTML): a custom header no other
site can send without a CORS preflight, which /_orderlink/ never grants.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "orderlink_session"
CSRF_HEADER = "x-orderlink-csrf"
LIFETIME = 12 * 3600.0
# The path the cookie is sent to: the dashboard's pages and the admin API they call.
COOKIE_PATH = "/_orderlink/"


def _mac(key: str, *parts: str) -> str:
    message = "|".join(parts).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def issue(token_digest: str, now: float) -> str:
    """A new session cookie's value, signed under the admin token's digest."""
    issued, nonce = str(int(now)), secrets.token_urlsafe(18)
    return f"{issued}.{nonce}.{_mac(token_digest, 'session', issued, nonce)}"


def nonce_of(value: str, token_digest: str, now: float) -> str | None:
    """The session's nonce when `value` is a live session signed under `token_digest`."""
    issued, _, rest = value.partition(".")
    nonce, _, signature = rest.partition(".")
    if not (issued.isascii() and issued.isdigit() and len(issued) <= 12 and nonce and signature):
        return None
    expected = _mac(token_digest, "session", issued, nonce)
    if not hmac.compare_digest(expected, signature):
        return None
    if not int(issued) - 60 <= now < int(issued) + LIFETIME:
        return None
    return nonce


def csrf_token(token_digest: str, nonce: str) -> str:
    """What a cookie-authenticated request that changes something must send in X-Orderlink-CSRF."""
    return _mac(token_digest, "csrf", nonce)


def cookie_value(header: str) -> str:
    """Our cookie's value in a `Cookie` header, or ""."""
    for pair in header.split(";"):
        name, _, value = pair.strip().partition("=")
        if name == COOKIE:
            return value.strip()
    return ""


def set_cookie(value: str, *, secure: bool) -> bytes:
    """The `Set-Cookie` header value; an empty `value` clears the cookie."""
    age = int(LIFETIME) if value else 0
    parts = [f"{COOKIE}={value}", f"Path={COOKIE_PATH}", f"Max-Age={age}", "HttpOnly",
             "SameSite=Strict"]  # fmt: skip
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode()
