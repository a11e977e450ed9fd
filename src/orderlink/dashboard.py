"""The dashboard at `/_orderlink/ui/` (docs/dashboard.md): a static page and its scripts, which
read the admin API (admin.py) from the browser, and the sign-in form that gives a browser its
session cookie (sessions.py).

- `GET /_orderlink/ui/` with the admin token (`Authorization: Bearer`) or a live session: the
  dashboard; without either, `401` and the sign-in form. No portal data is in the page itself:
  the scripts fetch it from the admin API, which checks the same credentials.
- `POST /_orderlink/ui/signin` (a form with `token`): the right token sets the cookie and sends
  the browser back to the page (303); a wrong one is a failed credential (lockout.py).
- `POST /_orderlink/ui/signout`: clears the cookie.
- `GET /_orderlink/ui/<file>`: the page's scripts and style sheet, shipped in the package
  (`orderlink/ui/`): nothing comes from another site, so it works offline.

`serve --no-ui` leaves the app without a Dashboard: every path here is a 404.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Any

from orderlink import errors, params, sessions
from orderlink.admin import TOKEN_KEY, AdminApi, Credentials
from orderlink.clock import Clock
from orderlink.lockout import Lockout

PREFIX = "/_orderlink/ui"
Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, Any, Headers]

_TYPES = {
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".svg": b"image/svg+xml",
    ".html": b"text/html; charset=utf-8",
}
# Everything the page loads comes from here; no inline script, no other origin.
_POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_PAGE_HEADERS: Headers = [
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", _POLICY),
]
_CSRF_MARK = "__ORDERLINK_CSRF__"


def _assets() -> dict[str, bytes]:
    folder = resources.files("orderlink") / "ui"
    found: dict[str, bytes] = {}
    for entry in folder.iterdir():
        if entry.is_file() and any(entry.name.endswith(ext) for ext in _TYPES):
            found[entry.name] = entry.read_bytes()
    return found


class Dashboard:
    def __init__(self, api: AdminApi, lockout: Lockout, clock: Clock) -> None:
        self.api = api
        self.lockout = lockout
        self.clock = clock
        self.assets = _assets()

    async def answer(
        self, verb: str, path: str, offered: Credentials, address: str, secure: bool,
        body: tuple[bytes, str] | None,
    ) -> Answer:  # fmt: skip
        """The answer for `verb path` below PREFIX; `body` (bytes, content type) for a POST."""
        tail = path[len(PREFIX) :].strip("/")
        if tail in ("", "index.html") and verb == "GET":
            return await self._page(offered)
        if tail == "signin" and verb == "POST":
            return await self._sign_in(address, secure, body)
        if tail == "signout" and verb == "POST":
            return 303, b"", [(b"location", f"{PREFIX}/".encode()),
                              (b"set-cookie", sessions.set_cookie("", secure=secure))]  # fmt: skip
        if verb == "GET" and tail in self.assets and tail != "index.html":
            kind = _TYPES[tail[tail.rindex(".") :]]
            return (
                200,
                self.assets[tail],
                [(b"content-type", kind), (b"cache-control", b"no-cache")],
            )
        raise errors.MethodNotFound("Not found")

    async def _page(self, offered: Credentials) -> Answer:
        try:
            await self.api.authorized("GET", offered)
        except errors.AdminAuthRequired:
            return 401, sign_in_page(), [*_html(), *_PAGE_HEADERS]
        csrf = ""
        stored = await self.api.store.info(TOKEN_KEY)
        nonce = sessions.nonce_of(offered.cookie, stored, self.clock.now()) if stored else None
        if nonce is not None and stored:
            csrf = sessions.csrf_token(stored, nonce)
        page = self.assets["index.html"].decode().replace(_CSRF_MARK, html.escape(csrf))
        return 200, page.encode(), [*_html(), *_PAGE_HEADERS]

    async def _sign_in(self, address: str, secure: bool, body: tuple[bytes, str] | None) -> Answer:
        wait = self.lockout.retry_after(address)
        if wait > 0:
            text = f"Too many failed sign-ins from this address; retry in {wait:.0f} seconds."
            return 429, sign_in_page(text), [*_html(), *_PAGE_HEADERS]
        raw, content_type = body or (b"", "")
        try:
            form = params.parse_body(raw, content_type)
        except errors.B24Error:
            form = {}
        token = form.get("token")
        stored = await self.api.check_token(token.strip()) if isinstance(token, str) else None
        if stored is None:
            self.lockout.failed(address)
            return 401, sign_in_page("That is not the admin token."), [*_html(), *_PAGE_HEADERS]
        cookie = sessions.issue(stored, self.clock.now())
        return (
            303,
            b"",
            [
                (b"location", f"{PREFIX}/".encode()),
                (b"set-cookie", sessions.set_cookie(cookie, secure=secure)),
                (b"cache-control", b"no-store"),
            ],
        )


def _html() -> Headers:
    return [(b"content-type", _TYPES[".html"])]


def sign_in_page(error: str = "") -> bytes:
    alert = f'<p class="alert" role="alert">{html.escape(error)}</p>' if error else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>orderlink: sign in</title>"
        f'<link rel="stylesheet" href="{PREFIX}/style.css"></head>'
        '<body class="signin"><main><h1>orderlink</h1>'
        "<p>The dashboard shows this server's portals. Sign in with the admin token "
        "(<code>serve</code> printed it once as <code>admin token: ...</code>).</p>"
        f"{alert}"
        f'<form method="post" action="{PREFIX}/signin">'
        '<label for="token">Admin token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" '
        "required autofocus>"
        '<button type="submit">Sign in</button></form></main></body></html>'
    ).encode()
