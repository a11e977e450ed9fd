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

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from orderlink import errors

# The longest request target served: long GET query strings are real (`filter[...]` of a few
# hundred ids); 64 KiB is far past any client's and bounds what is buffered before the body.
MAX_URL_BYTES = 64 * 1024


class _UrlTooLong(Exception):
    pass


class _Joined:
    """The connection's transport, sending a response's head and body in one write.

    uvicorn writes the status line and headers when the app sends `http.response.start`, and
    the body at `http.response.body`: two sends per answer, and each send costs far more than
    the copy (~10-100 us of CPU each on the project's VM). A write is held until the next
    write, which goes out with it, or the end of the loop's turn (a HEAD answer has no body)."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held is None:
            self._held = bytes(data)
            self._loop.call_soon(self._flush)
            return
        held, self._held = self._held, None
        self._transport.write(held + data)

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # abort, is_closing, get_extra_info, ...
        return getattr(self._transport, name)


class Protocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = _Joined(self.transport, self.loop)  # type: ignore[assignment]

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
