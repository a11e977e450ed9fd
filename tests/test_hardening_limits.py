"""Issue 12, point 25: a method is charged its own execution, not its wait for the store.

limits.md ("Resource Intensity Limits") sums the time each method *runs*; a portal measures
the method's execution, and `api-reference/data-types.md#time` keeps the whole request in
`duration` apart from `processing`. Under load, orderlink's calls queue for a pooled PostgreSQL
connection (or, on SQLite, for another task's `batch` transaction); that queueing is the
server's, not the method's, so it must be in `duration` and in neither `processing` nor
`operating`. Each test makes the wait deterministic: it holds the store's only connection (a
pool of one on PostgreSQL, a batch transaction on SQLite) from the test, starts a call, moves
the frozen clock while the call waits, then lets it run: nothing else advances the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from orderlink.clock import FrozenClock
from orderlink.settings import Settings
from orderlink.storage import waiting

from .conftest import Portal

pytestmark = pytest.mark.anyio

T = TypeVar("T")

WAIT = 300.0
BIND = {"fields": {"orderId": 5125, "ownerId": 6933, "ownerTypeId": 2}}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """One pooled connection on PostgreSQL: holding it makes every other store call queue."""
    if database_url.startswith("postgresql"):
        database_url += "&pool_size=1"
    return Settings(database=database_url, rate_limit=False)


async def _hold(portal: Portal, held: asyncio.Event, release: asyncio.Event) -> None:
    # A group is one transaction on one connection (the only one of a pool of one on
    # PostgreSQL; on SQLite other tasks' store calls wait for the group to end).
    async with portal.store.group():
        held.set()
        await release.wait()


async def _after_a_wait(portal: Portal, clock: FrozenClock, work: Awaitable[T]) -> T:
    """Run `work` while the test holds the store, advancing the clock by WAIT meanwhile."""
    held, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(portal, held, release))
    await held.wait()
    call: asyncio.Future[T] = asyncio.ensure_future(work)
    # The call reaches the store without any I/O of its own (credentials are cached), so a
    # few turns of the loop bring it to its wait.
    for _ in range(200):
        await asyncio.sleep(0)
    assert not call.done(), "the call should be queued behind the held connection"
    clock.advance(WAIT)
    release.set()
    await holder
    return await call


@pytest.fixture
async def ready(portal: Portal) -> Portal:
    await portal.add_order(5125)
    await portal.add_deal(6933)
    await portal.ok("crm.orderentity.getFields")  # the webhook is now in the auth cache
    return portal


class TestQueueingForTheStoreIsNotCharged:
    async def test_a_method_that_waited_for_a_connection_is_charged_only_its_run(
        self, ready: Portal, clock: FrozenClock
    ) -> None:
        """The dispatcher measures from the moment the method holds its connection: the wait
        is left out of `processing` and `operating` (both 0: the frozen clock moved only while
        the call queued), and stays in the request's `duration`."""
        principal = await ready.app.auth.webhook("1", ready.hook.split("/")[3])
        started = clock.now()
        reply = await _after_a_wait(
            ready,
            clock,
            ready.app.dispatcher.call("crm.orderentity.add", BIND, principal, started=started),
        )
        assert reply.result["dealOrder"]["orderId"] == 5125
        assert reply.time["operating"] == 0
        assert reply.time["processing"] == 0
        assert reply.time["duration"] == WAIT

    async def test_an_http_call_that_queued_reports_the_wait_only_in_duration(
        self, ready: Portal, clock: FrozenClock
    ) -> None:
        """The same on the wire, wherever the request queued (on SQLite already its credential
        check waits for the held transaction, before the method starts)."""
        response = await _after_a_wait(ready, clock, ready.call("crm.orderentity.add", BIND))
        assert response.status_code == 200, response.text
        time = response.json()["time"]
        assert (time["operating"], time["processing"], time["duration"]) == (0, 0, WAIT)


class TestWaitMeter:
    """storage/waiting.py: what the stores report and the dispatcher subtracts."""

    def test_a_wait_counts_in_every_open_meter_and_outside_none(self) -> None:
        clock = FrozenClock(100.0)
        with waiting.waiting():
            clock.advance(5)  # no meter open: nothing to count, nothing fails
        with waiting.metered(clock.monotonic) as outer:
            with waiting.waiting():
                clock.advance(2)
            with waiting.metered(clock.monotonic) as inner:
                with waiting.waiting():
                    clock.advance(3)
                clock.advance(7)  # running, not waiting
        assert (outer.waited, inner.waited) == (5, 3)

    async def test_tasks_started_inside_a_meter_report_to_it(self) -> None:
        clock = FrozenClock(100.0)

        async def queued() -> None:
            with waiting.waiting():
                clock.advance(4)
                await asyncio.sleep(0)

        with waiting.metered(clock.monotonic) as meter:
            await asyncio.create_task(queued())
        assert meter.waited == 4
