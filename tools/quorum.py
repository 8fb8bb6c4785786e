"""Stragglers: parallel jobs of one batch (a round's reads, or its searches) that keep the rest waiting.

Once at least half of a batch is in, a job still running after ``max(floor, factor x the median time of
the finished ones)`` is cancelled: the batch goes on without it, and the caller records it as failed for
passing reasons, to be tried again later. A batch that is all slow is left to the jobs' own timeouts.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from core.errors import Transient

T = TypeVar("T")
LATE_FACTOR = 3.0


class Late(Transient):
    """A job cancelled because most of its batch was in long before it."""


@dataclass
class Quorum:
    """The jobs of one batch, as they finish."""

    total: int
    floor: float  # seconds a job may always take
    durations: list[float] = field(default_factory=list)  # of the jobs that came in (done or failed)
    ended: int = 0  # jobs over, late ones included
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def reached(self) -> bool:
        """At least half of the batch is in."""
        return bool(self.durations) and 2 * len(self.durations) >= self.total

    def late_after(self) -> float:
        """Seconds after which a job still running is late (meaningful once the quorum is reached)."""
        return max(self.floor, LATE_FACTOR * statistics.median(self.durations))

    def _came_in(self, seconds: float) -> None:
        self.durations.append(seconds)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()  # wakes every job waiting for the quorum

    async def run(self, job: Awaitable[T]) -> T:
        """The job's result, or Late if it fell behind a batch that is mostly done."""
        task = asyncio.ensure_future(job)
        started = time.monotonic()
        try:
            while not task.done():
                if self.reached:
                    remaining = started + self.late_after() - time.monotonic()
                    if remaining <= 0:
                        raise Late(f"no answer after {time.monotonic() - started:.0f}s, when most of its round "
                                   f"took {statistics.median(self.durations):.1f}s (read_deadline_seconds)")
                    await asyncio.wait({task}, timeout=remaining)
                else:
                    waiter = asyncio.ensure_future(self._changed.wait())
                    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
            self._came_in(time.monotonic() - started)
            return task.result()
        finally:
            self.ended += 1
            if not task.done():
                task.cancel()


@dataclass
class Quorums:
    """The batches in flight on one event loop, by key; a batch is forgotten when its last job ends."""

    batches: dict[str, Quorum] = field(default_factory=dict)

    async def run(self, key: str, total: int, floor: float, job: Awaitable[T]) -> T:
        """Run ``job`` as one of the ``total`` jobs of batch ``key``."""
        quorum = self.batches.get(key) or self.batches.setdefault(key, Quorum(total, floor))
        try:
            return await quorum.run(job)
        finally:
            if quorum.ended >= quorum.total:
                self.batches.pop(key, None)
