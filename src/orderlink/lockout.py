"""Failed credential attempts, counted per client address.

A wrong webhook code, an unknown access token, a wrong client secret, refresh token or
authorization code, and a wrong code on the consent form each count one failure. An address with
`limit` failures inside `window` seconds is refused before any credential of its is checked,
until its oldest failure leaves the window. A correct client never fails, so the default costs it
nothing; the count is per process (docs/decisions.md). The clock is injected, so tests move it.
"""

from __future__ import annotations

from collections import deque

from orderlink.clock import Clock

# Addresses tracked at most; past this the oldest-seen half is forgotten (bounded memory under a
# flood of addresses, which the request-rate limit also meets).
MAX_ADDRESSES = 100_000


class Lockout:
    def __init__(self, clock: Clock, *, limit: int, window: float = 60.0) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, address: str) -> float:
        """Seconds until `address` may try a credential again; 0 when it may now."""
        if self.limit <= 0:
            return 0.0
        failures = self._failures.get(address)
        if failures is None or len(failures) < self.limit:
            return 0.0
        now = self.clock.monotonic()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) < self.limit:
            return 0.0
        return failures[0] + self.window - now

    def failed(self, address: str) -> None:
        if self.limit <= 0:
            return
        failures = self._failures.get(address)
        if failures is None:
            if len(self._failures) >= MAX_ADDRESSES:
                for key in list(self._failures)[: MAX_ADDRESSES // 2]:
                    del self._failures[key]
            failures = self._failures[address] = deque(maxlen=self.limit)
        failures.append(self.clock.monotonic())
