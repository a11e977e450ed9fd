"""Injected time: limits, `time` blocks and token expiry read one of these, never `time` itself."""

from __future__ import annotations

import threading
import time
from typing import Protocol


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
    """The real clock plus an offset that only grows: `orderlink serve --test-clock`.

    Both readings move together, so the rate limiter and the operating-time baskets see the
    same jump a client sees in `time.date_start`.
    """

    __slots__ = ("_lock", "_offset")

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()


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
