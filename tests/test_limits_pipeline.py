"""RedisLimits sends the calls made while one is on the wire as one pipeline (issue 17): the
counts are those of one call at a time. Runs against the shared Redis without stopping or
flushing it (its own database and a fresh key prefix per run)."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from orderlink.clock import FrozenClock
from orderlink.limits import LimitsUnavailable, LocalLimits, RedisLimits

from .services import require

URL = "redis://127.0.0.1:6379/12"

pytestmark = pytest.mark.anyio


async def test_concurrent_calls_count_as_one_at_a_time_would() -> None:
    require("Redis", "127.0.0.1", 6379)
    clock = FrozenClock()
    shared = RedisLimits(URL, clock, size=5, rate=1.0)
    local = LocalLimits(clock, size=5, rate=1.0)
    prefix = secrets.token_hex(6)
    try:
        for limits in (shared, local):
            admitted = await asyncio.gather(*(limits.admit(f"{prefix}|ip") for _ in range(7)))
            assert sorted(admitted) == [False] * 2 + [True] * 5
        clock.advance(2.0)
        assert [await shared.admit(f"{prefix}|ip") for _ in range(3)] == [True, True, False]
        start = clock.now()
        totals = await asyncio.gather(*(shared.record(f"{prefix}w|m", 1.0) for _ in range(20)))
        assert sorted(total for total, _ in totals) == [float(n) for n in range(1, 21)]
        assert {reset_at for _, reset_at in totals} == {int(start + 600)}
        assert await shared.operating(f"{prefix}w|m") == (20.0, int(start + 600))
    finally:
        await shared.close()


async def test_every_waiting_call_fails_fast_without_redis() -> None:
    dead = RedisLimits("redis://127.0.0.1:1/0", FrozenClock(), size=5, rate=1.0)
    try:
        results = await asyncio.gather(
            dead.admit("k"), dead.record("a", 1.0), dead.operating("b"), return_exceptions=True
        )
        assert all(isinstance(r, LimitsUnavailable) for r in results), results
    finally:
        await dead.close()
