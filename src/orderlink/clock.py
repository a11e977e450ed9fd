"""Injected time: limits, `time` blocks and token expiry read one of these, never `time` itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

# How far one move may take a clock: far enough for any test, near enough that every later
# date stays representable.
MAX_CLOCK_ADVANCE = 10 * 366 * 86400.0

# The portal the running request acts on, once its credentials are known (auth.py sets it).
# An `AdjustableClock` adds that portal's own offset; every other clock ignores it. A
# ContextVar, so each request (its own asyncio task) sees only its own portal.
_PORTAL: ContextVar[int | None] = ContextVar("orderlink_portal", default=None)


@contextmanager
def portal_scope() -> Iterator[None]:
    """One request's portal: unknown until its credentials are read, forgotten after."""
    token = _PORTAL.set(None)
    try:
        yield
    finally:
        _PORTAL.reset(token)


def enter_portal(portal_id: int) -> None:
    """From here on this request reads its portal's clock (the test kit's per-portal offset)."""
    _PORTAL.set(portal_id)


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds (wall clock, may be advanced in tests)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; what limits decide on."""


class SystemClock:
    __slots__ = ()

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class AdjustableClock:
    """The real clock plus offsets that only grow: `orderlink serve --test-clock`.

    One offset moves the whole server; each portal may also run ahead on its own (the test
    kit: a test moves its portal's clock without touching the portals of other tests). A
    request reads the sum once its portal is known (`enter_portal`). Both readings move
    together, so the rate limiter and the operating-time baskets see the same jump a client
    sees in `time.date_start`; offsets never shrink, so each portal's monotonic time stays
    monotonic.
    """

    __slots__ = ("_lock", "_offset", "_portals")

    def __init__(self) -> None:
        self._offset = 0.0
        self._portals: dict[int, float] = {}
        self._lock = threading.Lock()

    def _shift(self) -> float:
        portal = _PORTAL.get()
        return self._offset + (self._portals.get(portal, 0.0) if portal is not None else 0.0)

    def now(self) -> float:
        return time.time() + self._shift()

    def monotonic(self) -> float:
        return time.monotonic() + self._shift()

    def advance(self, seconds: float, portal_id: int | None = None) -> float:
        """Move the server's clock, or with `portal_id` only that portal's; the new time
        (as that portal reads it)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            if portal_id is None:
                self._offset += seconds
            else:
                self._portals[portal_id] = self._portals.get(portal_id, 0.0) + seconds
        return self.now_of(portal_id)

    def now_of(self, portal_id: int | None) -> float:
        """The time as `portal_id` reads it (None: the server's own)."""
        ahead = self._portals.get(portal_id, 0.0) if portal_id is not None else 0.0
        return time.time() + self._offset + ahead

    def offset_of(self, portal_id: int | None) -> float:
        """Seconds `portal_id` (None: the server) runs ahead of the real clock."""
        ahead = self._portals.get(portal_id, 0.0) if portal_id is not None else 0.0
        return self._offset + ahead

    def forget(self, portal_id: int) -> None:
        """A deleted portal's offset goes with it (a later portal never reuses its id)."""
        with self._lock:
            self._portals.pop(portal_id, None)


def portal_shift(clock: Clock, portal_id: int) -> float:
    """How far `portal_id` runs ahead of the server on `clock`: what to add to a reading
    taken before the request's portal was known (its `time.date_start`, its journal entry)."""
    if isinstance(clock, AdjustableClock):
        return clock.offset_of(portal_id) - clock.offset_of(None)
    return 0.0


class FrozenClock:
    """A clock that moves only when told to: for unit tests."""

    __slots__ = ("_t",)

    def __init__(self, start: float = 1_719_315_806.0) -> None:
        self._t = start

    def now(self) -> float:
        return self._t

    def monotonic(self) -> float:
        return self._t

    def advance(self, seconds: float) -> float:
        self._t += seconds
        return self._t
