"""The one translation of failures into wire errors.

Handlers raise `B24Error`s; what else a request can run into is a store that refused one of its
values (400), a store or limits store that is down (503, so the client retries), or a bug (500,
logged with its traceback, never shown). `dispatch` uses this for every method, `batch`
commands included, and the HTTP layer for whatever fails outside a method.
"""

from __future__ import annotations

import logging

from orderlink import errors
from orderlink.limits import LimitsUnavailable
from orderlink.storage.base import StoreRefused, StoreUnavailable

log = logging.getLogger("orderlink")


def to_wire(exc: Exception, during: str) -> errors.B24Error:
    """The error the client is answered with when `exc` ends `during` (a method or a path)."""
    if isinstance(exc, errors.B24Error):
        return exc
    if isinstance(exc, StoreRefused):
        return errors.InvalidRequest(f"The database refused a value of this request: {exc}")
    if isinstance(exc, StoreUnavailable):
        log.warning("storage unavailable during %s: %s", during, exc)
        return errors.ServiceUnavailable()
    if isinstance(exc, LimitsUnavailable):
        log.warning("limits store unavailable during %s: %s", during, exc)
        return errors.ServiceUnavailable("Limits store is temporarily unavailable")
    log.error("unhandled error in %s", during, exc_info=exc)
    return errors.InternalServerError()
