"""Limits shared through Redis (`--redis`): the same maths as in-process, exact across workers,
fail fast while Redis is away and recover by itself (issue: scale out)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from orderlink.clock import FrozenClock
from orderlink.limits import Limits, LimitsUnavailable, LocalLimits, RedisLimits
from orderlink.settings import Settings

from .conftest import Portal
from .live import hammer, start_server
from .services import REDIS_URL, PrivateRedis, require


@pytest.fixture
def redis_url() -> Iterator[str]:
    require("Redis", "127.0.0.1", 6379)
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture(params=["local", "redis"])
async def limits(request: pytest.FixtureRequest, clock: FrozenClock) -> AsyncIterator[Limits]:
    if request.param == "local":
        yield LocalLimits(clock, size=5, rate=1.0)
        return
    url = request.getfixturevalue("redis_url")
    shared = RedisLimits(url, clock, size=5, rate=1.0)
    yield shared
    await shared.close()


@pytest.mark.anyio
class TestSameMathsEverywhere:
    async def test_bucket(self, limits: Limits, clock: FrozenClock) -> None:
        assert [await limits.admit("p|1.2.3.4") for _ in range(7)] == [True] * 5 + [False] * 2
        clock.advance(2.0)
        assert [await limits.admit("p|1.2.3.4") for _ in range(3)] == [True, True, False]
        assert await limits.admit("other|1.2.3.4")

    async def test_baskets(self, limits: Limits, clock: FrozenClock) -> None:
        assert await limits.operating("w|m") == (0.0, None)
        start = clock.now()
        assert await limits.record("w|m", 20.0) == (20.0, int(start + 600))
        clock.advance(61)
        total, reset_at = await limits.record("w|m", 10.0)
        assert (total, reset_at) == (30.0, int(start + 600))
        clock.advance(540)  # the first basket leaves the window
        assert await limits.operating("w|m") == (10.0, int(start + 61 + 600))


@pytest.mark.anyio
class TestOnTheWire:
    @pytest.fixture
    def settings(self, tmp_path: Path, redis_url: str) -> Settings:
        return Settings(
            database=f"sqlite:///{tmp_path / 'r.db'}",
            bucket_size=3,
            drain_rate=1.0,
            redis=redis_url,
        )

    async def test_redis_bucket_refuses_with_503(self, portal: Portal) -> None:
        statuses = [(await portal.call("crm.orderentity.getFields")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 503]

    async def test_readyz_reports_database_and_limits(self, portal: Portal) -> None:
        response = await portal.client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "limits": "ok"}
        assert (await portal.client.get("/healthz")).json() == {"status": "ok"}


@pytest.mark.anyio
async def test_redis_away_fails_fast_and_recovers(tmp_path: Path) -> None:
    from orderlink.app import create_app
    from orderlink.bootstrap import bootstrap

    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    settings = Settings(database=f"sqlite:///{tmp_path / 'f.db'}", redis=redis_server.url)
    app = create_app(settings)
    await app.startup()
    started = await bootstrap(app.store, settings, app.clock)
    hook = f"/rest/1/{started.webhook_code}/crm.orderentity.getFields"
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.post(hook, json={})).status_code == 200
            redis_server.stop()
            began = time.monotonic()
            down = await client.post(hook, json={})
            assert time.monotonic() - began < 3
            assert down.status_code == 503
            assert down.json() == {
                "error": "INTERNAL_SERVER_ERROR",
                "error_description": "Limits store is temporarily unavailable",
            }
            assert (await client.get("/readyz")).status_code == 503
            redis_server.start()
            deadline = time.monotonic() + 10
            while (await client.post(hook, json={})).status_code != 200:
                assert time.monotonic() < deadline, "never recovered"
                time.sleep(0.1)
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await app.shutdown()
        redis_server.stop()


def test_several_workers_refuse_to_start_without_shared_limits(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orderlink", "serve", "--workers", "2",
         "--database", f"sqlite:///{tmp_path / 'w.db'}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--redis" in done.stderr


@pytest.mark.live
def test_two_workers_admit_no_more_than_one_process_would(tmp_path: Path, redis_url: str) -> None:
    size, rate = 20, 5.0
    server = start_server(
        tmp_path / "workers.db", "--workers", "2", "--redis", redis_url,
        "--bucket-size", str(size), "--drain-rate", str(rate),
    )  # fmt: skip
    url = server.webhook_url + "crm.orderentity.getFields"
    try:
        codes, elapsed = hammer(url, seconds=2.0)
    finally:
        server.stop()
    assert set(codes) == {200, 503}
    assert size <= codes.count(200) <= size + rate * elapsed


def test_limits_unavailable_is_raised_by_a_dead_redis(clock: FrozenClock) -> None:
    import anyio

    async def go() -> None:
        dead = RedisLimits("redis://127.0.0.1:1/0", clock, size=5, rate=1.0)
        try:
            with pytest.raises(LimitsUnavailable):
                await dead.admit("k")
        finally:
            await dead.close()

    anyio.run(go)
