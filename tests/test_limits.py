"""The request-rate limit and the operating-time limit (limits.md), with time under control."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from orderlink.clock import FrozenClock
from orderlink.limits import Baskets, Bucket, LocalLimits, try_admit
from orderlink.settings import Settings

from .conftest import Portal
from .live import hammer, start_server


class TestBucketMaths:
    def test_burst_admits_exactly_x(self) -> None:
        bucket = Bucket(0.0, 0.0)
        admitted = sum(try_admit(bucket, 0.0, 50, 2.0) for _ in range(80))
        assert admitted == 50

    def test_drains_y_per_second_and_refusals_add_nothing(self) -> None:
        bucket = Bucket(0.0, 0.0)
        for _ in range(60):
            try_admit(bucket, 0.0, 50, 2.0)
        assert bucket.level == 50
        assert [try_admit(bucket, 1.0, 50, 2.0) for _ in range(3)] == [True, True, False]
        assert [try_admit(bucket, 1.5, 50, 2.0) for _ in range(2)] == [True, False]

    def test_never_more_than_x_plus_y_t(self) -> None:
        bucket = Bucket(0.0, 0.0)
        admitted = 0
        for step in range(1000):  # a request every 10 ms for 10 s
            admitted += try_admit(bucket, step * 0.01, 50, 2.0)
        assert admitted <= 50 + 2 * 10
        assert admitted >= 50 + 2 * 9


class TestBaskets:
    """The worked example in limits.md: limit 480 s, each call 20 s."""

    def test_docs_worked_example(self) -> None:
        baskets = Baskets()
        t0 = 1_000_000.0 - 1_000_000.0 % 60
        baskets.add(t0 + 20, 20)
        baskets.add(t0 + 30, 20)  # the oldest basket holds 40 s
        for minute in range(1, 10):
            baskets.add(t0 + minute * 60 + 1, 40)  # two 20 s calls a minute
        total, reset_at = baskets.total(t0 + 9 * 60 + 10)
        assert total == 20 * 20  # 20 calls -> 400 s
        assert reset_at == int(t0 + 20 + 600)  # first call of the oldest basket + 10 minutes
        for _ in range(5):
            baskets.add(t0 + 9 * 60 + 30, 20)
        assert baskets.total(t0 + 9 * 60 + 40)[0] == 500  # over 480: the next call is refused
        total, _ = baskets.total(t0 + 20 + 600)  # the oldest basket leaves the window
        assert total == 460

    @pytest.mark.anyio
    async def test_local_limits_report_state_after_each_call(self) -> None:
        clock = FrozenClock(600.0)
        limits = LocalLimits(clock, size=5, rate=1.0)
        assert await limits.operating("k") == (0.0, None)
        assert await limits.record("k", 1.5) == (1.5, 1200)
        clock.advance(30)
        assert await limits.record("k", 1.0) == (2.5, 1200)
        assert await limits.record("other", 1.0) == (1.0, 1230)


@pytest.mark.anyio
class TestRateLimitOnTheWire:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(
            database=database_url,
            rate_limit=True,
            bucket_size=3,
            drain_rate=1.0,
        )

    async def test_refusal_is_503_and_drains_with_time(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        statuses = [(await portal.call("crm.orderentity.getFields")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 503]
        refused = await portal.call("crm.orderentity.getFields")
        assert refused.json() == {
            "error": "QUERY_LIMIT_EXCEEDED",
            "error_description": "Too many requests",
        }
        clock.advance(1.0)
        assert [(await portal.call("crm.orderentity.getFields")).status_code for _ in range(2)] == [
            200,
            503,
        ]

    async def test_a_batch_counts_as_one_request(self, portal: Portal) -> None:
        cmd = ["crm.orderentity.getFields"] * 20
        assert (await portal.call("batch", {"cmd": cmd})).status_code == 200
        assert (await portal.call("batch", {"cmd": cmd})).status_code == 200
        assert (await portal.call("batch", {"cmd": cmd})).status_code == 200
        assert (await portal.call("batch", {"cmd": cmd})).status_code == 503

    async def test_bucket_is_kept_per_client_address(self, portal: Portal) -> None:
        for _ in range(3):
            await portal.call("crm.orderentity.getFields")
        assert (await portal.call("crm.orderentity.getFields")).status_code == 503
        other = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=portal.app, client=("10.0.0.7", 1234)),
            base_url="http://testserver",
        )
        async with other:
            response = await other.post(portal.hook + "crm.orderentity.getFields", json={})
        assert response.status_code == 200

    async def test_failed_authentication_does_not_count(self, portal: Portal) -> None:
        for _ in range(10):
            await portal.call("crm.orderentity.getFields", hook="/rest/1/wrongwrongwrong1/")
        assert (await portal.call("crm.orderentity.getFields")).status_code == 200


@pytest.mark.anyio
class TestOperatingLimitOnTheWire:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(
            database=database_url,
            rate_limit=False,
            operating_costs=(("crm.orderentity.list", 20.0),),
        )

    async def test_call_crossing_the_limit_finishes_and_the_next_is_429(
        self, portal: Portal, clock: FrozenClock
    ) -> None:
        first = (await portal.call("crm.orderentity.list")).json()["time"]
        assert first["operating"] == 20
        assert first["operating_reset_at"] == int(clock.now()) + 600
        for _ in range(24):  # 25 calls: 500 s > 480 s, each of them answered
            assert (await portal.call("crm.orderentity.list")).status_code == 200
        refused = await portal.call("crm.orderentity.list")
        assert refused.status_code == 429
        assert refused.json()["error"] == "OPERATION_TIME_LIMIT"
        # Other methods of the same webhook are not blocked.
        assert (await portal.call("crm.orderentity.getFields")).status_code == 200
        clock.advance(600)
        again = await portal.call("crm.orderentity.list")
        assert again.status_code == 200
        assert again.json()["time"]["operating"] == 20

    async def test_inside_batch_each_command_is_checked(self, portal: Portal) -> None:
        outer = (await portal.call("batch", {"cmd": ["crm.orderentity.list"] * 26})).json()[
            "result"
        ]
        assert len(outer["result"]) == 25
        assert outer["result_error"] == {
            "25": {
                "error": "OPERATION_TIME_LIMIT",
                "error_description": "Method is blocked due to operation time limit.",
            }
        }


@pytest.mark.anyio
class TestTestClock:
    async def test_clock_advances_only_with_the_flag(self, tmp_path: Path) -> None:
        from orderlink.app import create_app

        for flag, expected in ((True, 200), (False, 404)):
            app = create_app(Settings(database=f"sqlite:///{tmp_path}/c{flag}.db", test_clock=flag))
            await app.startup()
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as client:
                before = time.time()
                response = await client.post("/_orderlink/clock", json={"advance": 3600})
                assert response.status_code == expected
                if flag:
                    assert response.json()["now"] >= before + 3600
            await app.shutdown()


@pytest.mark.live
class TestLive:
    def test_parallel_clients_never_exceed_x_plus_y_t(self, tmp_path: Path) -> None:
        size, rate = 20, 5.0
        server = start_server(
            tmp_path / "rate.db", "--bucket-size", str(size), "--drain-rate", str(rate)
        )
        url = server.webhook_url + "crm.orderentity.getFields"
        try:
            with httpx.Client() as client:
                client.post(url, json={})  # warm-up, counted
            codes, elapsed = hammer(url, seconds=2.0)
        finally:
            server.stop()
        admitted = codes.count(200) + 1
        assert set(codes) == {200, 503}
        assert admitted <= size + rate * elapsed
        assert admitted >= size
