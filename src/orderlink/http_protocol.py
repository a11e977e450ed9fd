"""uvicorn's HTTP protocol, with its protocol-level refusals in the Bitrix24 envelope.

A request the HTTP parser rejects (an unknown verb, a bad header byte, a request line over
MAX_URL_BYTES) never reaches the app; uvicorn answers it with `text/plain "Invalid HTTP request
received."`, which clients that parse every body as JSON crash on. This subclass answers the same
refusals as JSON: 400 `INVALID_REQUEST`, or 414 for an over-long URL (a portal's nginx front answers
414 there). `orderlink serve` passes it to uvicorn as `http=`.

It also lends the app a way to drop the connection without an answer (`scope["orderlink.abort"]`,
for a `drop` fault, faults.py): ASGI itself has none.
"""

from __future__ import annotations

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from orderlink import errors

# The longest request target served: long GET query strings are real (`filter[...]` of a few
# hundred ids); 64 KiB is far past any client's and bounds what is buffered before the body.
MAX_URL_BYTES = 64 * 1024


class _UrlTooLong(Exception):
    pass


class Protocol(HttpToolsProtocol):
    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            # httptools reports a callback's exception as a parser error: send_400_response.
            self._url_too_long = True
            raise _UrlTooLong

    def on_message_begin(self) -> None:
        self._url_too_long = False
        super().on_message_begin()
        self.scope["orderlink.abort"] = self._abort  # type: ignore[typeddict-unknown-key]

    def _abort(self) -> None:
        self.transport.abort()

    def send_400_response(self, msg: str) -> None:
        error: errors.B24Error
        if getattr(self, "_url_too_long", False):
            error = errors.UrlTooLong(f"Request target is longer than {MAX_URL_BYTES} bytes")
        else:
            error = errors.InvalidRequest("Invalid HTTP request received")
        payload = orjson.dumps(errors.body(error))
        head = [f"HTTP/1.1 {error.status} {_PHRASES[error.status]}".encode()]
        head += [name + b": " + value for name, value in self.server_state.default_headers]
        head += [
            b"content-type: application/json; charset=utf-8",
            b"x-content-type-options: nosniff",
            b"content-length: " + str(len(payload)).encode(),
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + payload)
        self.transport.close()


_PHRASES = {400: "Bad Request", 414: "URI Too Long"}
