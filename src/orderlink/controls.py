"""`/_orderlink/`: the controls a test drives a server with (`--test-clock`): move the clock,
charge a method a fixed operating time. The HTTP layer reads the body (JSON only, so a web page
cannot reach them without a CORS preflight) and hands it here."""

from __future__ import annotations

from typing import Any

from orderlink import errors
from orderlink.clock import MAX_CLOCK_ADVANCE, AdjustableClock, Clock
from orderlink.coerce import to_float

MAX_OPERATING_COST = 3600.0


class Controls:
    def __init__(self, clock: Clock, costs: dict[str, float]) -> None:
        self.clock = clock
        self.costs = costs  # the dispatcher's own per-method costs, changed in place

    @property
    def enabled(self) -> bool:
        return isinstance(self.clock, AdjustableClock)

    def routes(self) -> frozenset[str]:
        """The routes that take a body (beyond `/_orderlink/health`)."""
        return frozenset(
            {"/_orderlink/clock", "/_orderlink/operating-cost"} if self.enabled else ()
        )

    def now(self) -> dict[str, Any]:
        return {"now": self.clock.now()}

    def handle(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        if route == "/_orderlink/clock":
            return self._advance(body)
        if route == "/_orderlink/operating-cost":
            return self._operating_cost(body)
        raise errors.MethodNotFound("Not found")

    def _advance(self, body: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(self.clock, AdjustableClock)
        seconds = to_float(body.get("advance", 0))
        if seconds is None or not 0 <= seconds <= MAX_CLOCK_ADVANCE:
            raise errors.InvalidRequest(
                f"`advance` must be a number of seconds from 0 to {MAX_CLOCK_ADVANCE:.0f}"
            )
        return {"now": self.clock.advance(seconds)}

    def _operating_cost(self, body: dict[str, Any]) -> dict[str, Any]:
        """Charge a method a fixed operating time per call, to reach the limit in tests."""
        method, seconds = body.get("method"), to_float(body.get("seconds"))
        if (
            not isinstance(method, str)
            or not 0 < len(method) <= 200
            or seconds is None
            or not 0 <= seconds <= MAX_OPERATING_COST
        ):
            raise errors.InvalidRequest(
                'expected {"method": NAME, "seconds": SECONDS} with SECONDS from 0 to '
                f"{MAX_OPERATING_COST:.0f}"
            )
        self.costs[method.lower()] = seconds
        return {"method": method, "seconds": seconds}
