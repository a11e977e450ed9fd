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

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from orderlink.clock import Clock

BASKET_SECONDS = 60
WINDOW_BASKETS = 10
WINDOW_SECONDS = BASKET_SECONDS * WINDOW_BASKETS


class LimitsUnavailable(Exception):
    """The shared limits store (Redis) cannot be reached."""


class Limits(Protocol):
    async def admit(self, key: str, bucket: tuple[int, float] | None = None) -> bool:
        """Count a request against `key`'s bucket; False (and nothing counted) if it is full.
        `bucket`: (X, Y) for this key (its portal's plan), else the limiter's own."""

    async def operating(self, key: str) -> tuple[float, int | None]:
        """(seconds accumulated in the window, unix time the oldest basket expires or None)."""

    async def record(self, key: str, seconds: float) -> tuple[float, int | None]:
        """Add a finished call's seconds; returns the state after it, as `operating()` does."""

    async def ping(self) -> None:
        """Return if the limits' store answers; raise LimitsUnavailable otherwise."""

    async def levels(self, prefix: str, rate: float) -> dict[str, float]:
        """Read only: each request bucket whose key starts with `prefix`, and its level now
        (drained by `rate` per second since its last request)."""

    async def windows(self, prefix: str) -> dict[str, list[tuple[float, float]]]:
        """Read only: each operating-time key starting with `prefix` and its live baskets,
        oldest first, as (unix time of the basket's first call, seconds)."""

    async def close(self) -> None:
        """Release connections."""


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
    is kept instead of summed on every call; `expires` (when the oldest basket leaves the
    window) lets a call that expires nothing skip the look.
    """

    __slots__ = ("expires", "minutes", "seconds")

    def __init__(self) -> None:
        self.minutes: dict[int, list[float]] = {}
        self.seconds = 0.0
        self.expires = float("inf")

    def expire(self, now: float) -> None:
        if now < self.expires:
            return
        minutes = self.minutes
        while minutes:
            minute, (first, seconds) = next(iter(minutes.items()))
            if first + WINDOW_SECONDS > now:
                break
            del minutes[minute]
            self.seconds -= seconds
        if minutes:
            self.expires = next(iter(minutes.values()))[0] + WINDOW_SECONDS
        else:
            self.seconds = 0.0
            self.expires = float("inf")

    def total(self, now: float) -> tuple[float, int | None]:
        self.expire(now)
        if not self.minutes:
            return 0.0, None
        return max(self.seconds, 0.0), int(self.expires)

    def add(self, started: float, seconds: float) -> None:
        minute = int(started // BASKET_SECONDS)
        basket = self.minutes.get(minute)
        if basket is None:
            if not self.minutes:
                self.expires = started + WINDOW_SECONDS
            basket = self.minutes[minute] = [started, 0.0]
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

    async def admit(self, key: str, bucket: tuple[int, float] | None = None) -> bool:
        size, rate = bucket or (self._size, self._rate)
        now = self._clock.monotonic()
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                found = self._buckets[key] = Bucket(0.0, now)
            admitted = try_admit(found, now, size, rate)
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
            baskets = self._baskets.get(key)
            if baskets is None:
                baskets = self._baskets[key] = Baskets()
            baskets.add(now, seconds)
            return baskets.total(now)

    async def ping(self) -> None:
        return None

    async def levels(self, prefix: str, rate: float) -> dict[str, float]:
        now = self._clock.monotonic()
        with self._lock:
            found = [(k, b.level, b.at) for k, b in self._buckets.items() if k.startswith(prefix)]
        return {key: max(0.0, level - max(now - at, 0.0) * rate) for key, level, at in found}

    async def windows(self, prefix: str) -> dict[str, list[tuple[float, float]]]:
        now = self._clock.now()
        with self._lock:
            shown = {}
            for key, baskets in self._baskets.items():
                if key.startswith(prefix):
                    baskets.expire(now)
                    if baskets.minutes:
                        shown[key] = [
                            (first, seconds) for first, seconds in baskets.minutes.values()
                        ]
            return shown

    async def close(self) -> None:
        return None


# The same two algorithms as Lua scripts, so that every worker sharing one Redis admits exactly
# what a single process would: each script runs atomically inside Redis. Times are the workers'
# injected wall clock (Unix seconds), passed in.
_ADMIT = """
local size, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level, at = tonumber(state[1]) or 0, tonumber(state[2]) or now
if now > at then
  level = math.max(0, level - (now - at) * rate)
  at = now
end
if level + 1 > size then
  redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(at))
  return 0
end
redis.call('HSET', KEYS[1], 'level', tostring(level + 1), 'at', tostring(at))
redis.call('EXPIRE', KEYS[1], math.ceil(size / rate) + 60)
return 1
"""

# KEYS[1]: minute -> first call's time; KEYS[2]: minute -> seconds. ARGV: now, window, seconds
# to add (0 to only read), basket length. Returns {total as text, oldest expiry or -1}.
_BASKETS = """
local now, window, add, length = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4])
if add > 0 then
  local minute = tostring(math.floor(now / length))
  redis.call('HSETNX', KEYS[1], minute, tostring(now))
  redis.call('HINCRBYFLOAT', KEYS[2], minute, tostring(add))
  redis.call('EXPIRE', KEYS[1], window + 60)
  redis.call('EXPIRE', KEYS[2], window + 60)
end
local firsts = redis.call('HGETALL', KEYS[1])
local total, oldest = 0, nil
for i = 1, #firsts, 2 do
  local minute, first = firsts[i], tonumber(firsts[i + 1])
  if first + window <= now then
    redis.call('HDEL', KEYS[1], minute)
    redis.call('HDEL', KEYS[2], minute)
  else
    total = total + (tonumber(redis.call('HGET', KEYS[2], minute)) or 0)
    if oldest == nil or first < oldest then oldest = first end
  end
end
if oldest == nil then return {'0', -1} end
return {tostring(total), math.floor(oldest + window)}
"""


REDIS_MISSING = "--redis needs the redis extra: pip install 'orderlink[redis]'"


def redis_installed() -> bool:
    """Whether the `redis` extra is installed (checked before `serve` prints its webhook)."""
    try:
        import redis  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(slots=True)
class _Queued:
    script: Any
    keys: list[str]
    args: list[Any]
    answer: asyncio.Future[Any] | None  # None: sent by its caller itself


class RedisLimits:
    """Both limits in Redis, shared by every worker (`orderlink serve --redis URL`).

    Every call is one script run, but the calls of all the requests in one turn of the event
    loop go to Redis together, as one pipeline: a round trip costs far more than a script (on
    the project's VM each socket send is ~100 us of the worker's CPU), and under load dozens of
    requests ask in the same turn. Redis still runs each script alone and in the order asked,
    so what is admitted and counted is exactly what one call at a time would give."""

    def __init__(self, url: str, clock: Clock, *, size: int, rate: float) -> None:
        try:
            import redis.asyncio as aioredis
        except ImportError:
            raise RuntimeError(REDIS_MISSING) from None

        self._redis = aioredis.Redis.from_url(
            url,
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
            retry_on_timeout=False,
            health_check_interval=5,
        )
        self._clock = clock
        self._size = size
        self._rate = rate
        self._admit = self._redis.register_script(_ADMIT)
        self._baskets = self._redis.register_script(_BASKETS)
        self._queue: list[_Queued] = []
        self._sender: asyncio.Task[Any] | None = None  # the task whose call is on the wire
        self._sending: set[asyncio.Task[None]] = set()

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        """One script run: at once when no call is on the wire, else in the next pipeline."""
        if self._sender is None:
            # The line is free: this call goes alone, and whatever queues meanwhile follows.
            self._sender = asyncio.current_task()
            try:
                [answer] = await self._send([_Queued(script, keys, args, None)])
            finally:
                self._sender = None
                if self._queue:
                    self._start_sending()
            if isinstance(answer, BaseException):
                raise LimitsUnavailable(str(answer)) from answer
            return answer
        queued = _Queued(script, keys, args, asyncio.get_running_loop().create_future())
        self._queue.append(queued)
        assert queued.answer is not None
        return await queued.answer

    def _start_sending(self) -> None:
        task = asyncio.get_running_loop().create_task(self._send_queued())
        self._sender = task
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_queued(self) -> None:
        """Send what queued while a call was on the wire, one pipeline at a time."""
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    answers = await self._send(batch)
                except BaseException as exc:  # cancelled at shutdown: no call waits for ever
                    answers = [LimitsUnavailable(str(exc) or "cancelled")] * len(batch)
                    raise
                finally:
                    for queued, answer in zip(batch, answers, strict=True):
                        assert queued.answer is not None
                        if queued.answer.done():  # its request went away
                            continue
                        if isinstance(answer, BaseException):
                            queued.answer.set_exception(LimitsUnavailable(str(answer)))
                        else:
                            queued.answer.set_result(answer)
        finally:
            self._sender = None

    async def _send(self, batch: list[_Queued]) -> list[Any]:
        """Each run's answer, or the exception that stands for it."""
        from redis.exceptions import NoScriptError, RedisError

        try:
            answers = await self._pipeline(batch)
            unknown = [q for q, a in zip(batch, answers, strict=True)
                       if isinstance(a, NoScriptError)]  # fmt: skip
            if unknown:  # Redis restarted or flushed its scripts: load them, run those again
                for script in (self._admit, self._baskets):
                    await self._redis.script_load(script.script)
                again = dict(zip(map(id, unknown), await self._pipeline(unknown), strict=True))
                answers = [again.get(id(q), a) for q, a in zip(batch, answers, strict=True)]
        except (RedisError, OSError) as exc:
            return [exc] * len(batch)
        return [LimitsUnavailable(str(a)) if isinstance(a, RedisError | OSError) else a
                for a in answers]  # fmt: skip

    async def _pipeline(self, batch: list[_Queued]) -> list[Any]:
        from redis.exceptions import NoScriptError

        if len(batch) == 1:  # alone: a plain call costs less than a pipeline
            one = batch[0]
            try:
                return [
                    await self._redis.execute_command(  # type: ignore[no-untyped-call]
                        "EVALSHA", one.script.sha, len(one.keys), *one.keys, *one.args
                    )
                ]
            except NoScriptError as exc:
                return [exc]
        pipe = self._redis.pipeline(transaction=False)
        for queued in batch:
            pipe.execute_command(
                "EVALSHA", queued.script.sha, len(queued.keys), *queued.keys, *queued.args
            )
        return list(await pipe.execute(raise_on_error=False))

    async def admit(self, key: str, bucket: tuple[int, float] | None = None) -> bool:
        size, rate = bucket or (self._size, self._rate)
        answer = await self._run(
            self._admit, [f"orderlink:bucket:{key}"], [size, rate, self._clock.now()]
        )
        return bool(answer)

    async def _window(self, key: str, seconds: float) -> tuple[float, int | None]:
        total, reset_at = await self._run(
            self._baskets,
            [f"orderlink:op:{key}:first", f"orderlink:op:{key}:sum"],
            [self._clock.now(), WINDOW_SECONDS, seconds, BASKET_SECONDS],
        )
        return float(total), None if int(reset_at) < 0 else int(reset_at)

    async def operating(self, key: str) -> tuple[float, int | None]:
        return await self._window(key, 0.0)

    async def record(self, key: str, seconds: float) -> tuple[float, int | None]:
        # A zero-second call still opens its minute's basket, as it does in-process.
        return await self._window(key, max(seconds, 1e-9))

    async def ping(self) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise LimitsUnavailable(str(exc)) from exc

    async def _scan(self, pattern: str) -> list[str]:
        from redis.exceptions import RedisError

        try:
            return [key.decode() async for key in self._redis.scan_iter(match=pattern, count=500)]
        except (RedisError, OSError) as exc:
            raise LimitsUnavailable(str(exc)) from exc

    async def levels(self, prefix: str, rate: float) -> dict[str, float]:
        from redis.exceptions import RedisError

        head = "orderlink:bucket:"
        now = self._clock.now()
        shown = {}
        for name in await self._scan(head + _glob_escaped(prefix) + "*"):
            try:
                level, at = await self._redis.hmget(name, ["level", "at"])
            except (RedisError, OSError) as exc:
                raise LimitsUnavailable(str(exc)) from exc
            if level is not None and at is not None:
                drained = float(level) - max(now - float(at), 0.0) * rate
                shown[name[len(head) :]] = max(0.0, drained)
        return shown

    async def windows(self, prefix: str) -> dict[str, list[tuple[float, float]]]:
        from redis.exceptions import RedisError

        head, tail = "orderlink:op:", ":first"
        now = self._clock.now()
        shown = {}
        for name in await self._scan(head + _glob_escaped(prefix) + "*" + tail):
            key = name[len(head) : -len(tail)]
            try:
                firsts = await self._redis.hgetall(name)
                sums = await self._redis.hgetall(f"{head}{key}:sum")
            except (RedisError, OSError) as exc:
                raise LimitsUnavailable(str(exc)) from exc
            live = sorted(
                (float(first), float(sums.get(minute, 0) or 0))
                for minute, first in firsts.items()
                if float(first) + WINDOW_SECONDS > now
            )
            if live:
                shown[key] = live
        return shown

    async def close(self) -> None:
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        await self._redis.aclose()


def _glob_escaped(text: str) -> str:
    """`text` matched literally in a Redis SCAN pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def parse_costs(pairs: Mapping[str, float] | None) -> dict[str, float]:
    """Fixed operating seconds per method (lower-cased), to reach the limit in tests."""
    return {name.lower(): float(cost) for name, cost in (pairs or {}).items()}
