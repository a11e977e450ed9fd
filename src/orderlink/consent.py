"""The consent page of `/oauth/authorize/` (settings/oauth/index.md, step 2) and the headers
it is sent with. orderlink has no sign-in page, so the portal user proves who they are with a
webhook code of theirs."""

from __future__ import annotations

import html

from orderlink.storage.base import App

HTML_HEADERS = [(b"content-type", b"text/html; charset=utf-8")]
# RFC 6749 5.1: answers carrying tokens or codes must not be cached; the consent page asks for
# a webhook code, so no other site may frame it (clickjacking).
NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
CONSENT_HEADERS = [
    *HTML_HEADERS,
    *NO_STORE,
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]


def consent_page(app: App, state: str, error: str = "") -> bytes:
    fields = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in (("client_id", app.client_id), ("state", state))
    )
    return (
        "<!doctype html><title>orderlink: authorize</title>"
        f"<h1>{html.escape(app.name)}</h1><p>asks for: {html.escape(', '.join(app.scopes))}</p>"
        + (f'<p role="alert">{html.escape(error)}</p>' if error else "")
        + '<form method="post">'
        + fields
        + '<label>User id <input name="user_id"></label> '
        '<label>A webhook code of that user <input name="code" type="password"></label> '
        "<button>Allow</button></form>"
    ).encode()
