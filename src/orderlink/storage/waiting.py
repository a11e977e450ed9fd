"""Time a store call spends waiting for its turn, kept apart from the method's own execution.

A method is charged the time it runs (limits.md, "Resource Intensity Limits"), not the time it
queued for a pooled PostgreSQL connection or for another task's `batch` transaction on SQLite.
`dispatch` opens a `Meter` around each handler; the stores wrap every such wait in `waiting()`,
which adds it to the meters of the calling task (a batch command's meter and the batch's own).
Outside a meter (the CLI, housekeeping) `waiting()` costs one context-variable read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar


class Meter:
    """Seconds waited so far, read on the clock the caller charges with."""

    __slots__ = ("parent", "read", "waited")

    def __init__(self, read: Callable[[], float], parent: Meter | None) -> None:
        self.read = read
        self.parent = parent
        self.waited = 0.0


_current: ContextVar[Meter | None] = ContextVar("orderlink_wait_meter", default=None)


@contextlib.contextmanager
def metered(read: Callable[[], float]) -> Iterator[Meter]:
    """Count the waits of the code inside (and of tasks it starts) on the clock `read`."""
    meter = Meter(read, _current.get())
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)


@contextlib.contextmanager
def waiting() -> Iterator[None]:
    """Wrap a wait for a connection or a lock: its length goes to every open meter."""
    meter = _current.get()
    if meter is None:
        yield
        return
    began = meter.read()
    try:
        yield
    finally:
        waited = meter.read() - began
        while meter is not None:
            meter.waited += waited
            meter = meter.parent
