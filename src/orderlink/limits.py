"""The two Bitrix24 limits (limits.md): a leaky bucket on requests, and operating time per method.

Request rate: each admitted HTTP request adds 1 to its key's counter, which drains by Y per
second; a request that would lift the counter above X is refused (503 QUERY_LIMIT_EXCEEDED) and
adds nothing. So a burst admits at most X, and t seconds admit at most X + Y*t.

Operating time: the seconds a method ran for one app/webhook are summed in one-minute baskets;
a basket lives 10 minutes from the first call recorded in it. Before a call, if the sum already
exceeds the limit the call is refused (429 OPERATION_TIME_LIMIT); the call that crosses the
limit still completes (the docs' worked example: 500 s > 480 s, only the next call is blocked).

Both read the injected clock's monotonic time when they decide. `LocalLimits` keeps the state
in this process; a shared store (Redis) implements the same `Limits` protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from orderlink.clock import Clock

BASKET_SECONDS = 60
WINDOW_BASKETS = 10
WINDOW_SECONDS = BASKET_SECONDS * WINDOW_BASKETS


class Limits(Protocol):
    async def admit(self, key: str) -> bool:
        """Count a request against `key`'s bucket; False (and nothing counted) if it is full."""

    async def operating(self, key: str) -> tuple[float, int | None]:
        """(seconds accumulated in the window, unix time the oldest basket expires or None)."""

    async def record(self, key: str, seconds: float) -> tuple[float, int | None]:
        """Add a finished call's seconds; returns the state after it, as `operating()` does."""


@dataclass(slots=True)
class Bucket:
    level: float = 0.0
    at: float = 0.0


def drain(bucket: Bucket, now: float, rate: float) -> None:
    if now > bucket.at:
        bucket.level = max(0.0, bucket.level - (now - bucket.at) * rate)
        bucket.at = now


def try_admit(bucket: Bucket, now: float, size: int, rate: float) -> bool:
    drain(bucket, now, rate)
    if bucket.level + 1 > size:
        return False
    bucket.level += 1
    return True


class Baskets:
    """Per-minute sums, oldest first: minute number -> [first call's time, seconds].

    Minutes arrive in time order, so expiry only ever looks at the front, and the running total
    is kept instead of summed on every call.
    """

    __slots__ = ("minutes", "seconds")

    def __init__(self) -> None:
        self.minutes: dict[int, list[float]] = {}
        self.seconds = 0.0

    def expire(self, now: float) -> None:
        minutes = self.minutes
        while minutes:
            minute, (first, seconds) = next(iter(minutes.items()))
            if first + WINDOW_SECONDS > now:
                break
            del minutes[minute]
            self.seconds -= seconds
        if not minutes:
            self.seconds = 0.0

    def total(self, now: float) -> tuple[float, int | None]:
        self.expire(now)
        if not self.minutes:
            return 0.0, None
        oldest = next(iter(self.minutes.values()))[0]
        return max(self.seconds, 0.0), int(oldest + WINDOW_SECONDS)

    def add(self, started: float, seconds: float) -> None:
        basket = self.minutes.setdefault(int(started // BASKET_SECONDS), [started, 0.0])
        basket[1] += seconds
        self.seconds += seconds


class LocalLimits:
    """Both limits for a single process. Thread-safe, so a server on another thread is exact."""

    def __init__(self, clock: Clock, *, size: int, rate: float) -> None:
        self._clock = clock
        self._size = size
        self._rate = rate
        self._buckets: dict[str, Bucket] = {}
        self._baskets: dict[str, Baskets] = {}
        self._lock = threading.Lock()

    async def admit(self, key: str) -> bool:
        now = self._clock.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = Bucket(0.0, now)
            admitted = try_admit(bucket, now, self._size, self._rate)
            if len(self._buckets) > 100_000:
                self._forget_empty(now)
            return admitted

    def _forget_empty(self, now: float) -> None:
        for key in list(self._buckets):
            drain(self._buckets[key], now, self._rate)
            if self._buckets[key].level <= 0:
                del self._buckets[key]

    async def operating(self, key: str) -> tuple[float, int | None]:
        with self._lock:
            baskets = self._baskets.get(key)
            return baskets.total(self._clock.now()) if baskets else (0.0, None)

    async def record(self, key: str, seconds: float) -> tuple[float, int | None]:
        now = self._clock.now()
        with self._lock:
            baskets = self._baskets.setdefault(key, Baskets())
            baskets.add(now, seconds)
            return baskets.total(now)


def parse_costs(pairs: Mapping[str, float] | None) -> dict[str, float]:
    """Fixed operating seconds per method (lower-cased), to reach the limit in tests."""
    return {name.lower(): float(cost) for name, cost in (pairs or {}).items()}
