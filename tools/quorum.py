"""Stragglers: parallel jobs of one batch (a round's reads, or its searches) that keep the rest waiting.

Once at least half of a batch is in, a job still running is late after three times the median time of
the jobs in (but never before ``MIN_WAIT``), and in any case once it has held the batch ``cap`` seconds
past that point (``read_deadline_seconds``). A late job is cancelled: the batch goes on without it, and
the caller records it as failed for passing reasons, to be tried again later (a page it was loading goes
on loading in the background: tools/web/loads.py). A batch that is all slow is left to the jobs' own timeouts.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from core.errors import Transient

T = TypeVar("T")
LATE_FACTOR = 3.0
MIN_WAIT = 2.0  # seconds a job may always take: a very fast round does not cut a page only a little slower


class Late(Transient):
    """A job cancelled because most of its batch was in long before it."""


@dataclass
class Quorum:
    """The jobs of one batch, as they finish."""

    total: int
    cap: float  # seconds a job may hold the batch once the quorum is reached
    durations: list[float] = field(default_factory=list)  # of the jobs that came in (done or failed)
    ended: int = 0  # jobs over, late ones included
    reached_at: float = math.inf  # monotonic time the quorum was reached
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def reached(self) -> bool:
        """At least half of the batch is in."""
        return bool(self.durations) and 2 * len(self.durations) >= self.total

    def late_at(self, started: float) -> float:
        """When a job started at ``started`` (monotonic) is late: meaningful once the quorum is reached.

        Three times the median of the jobs in (at least ``MIN_WAIT``) after its start, and no later than
        ``cap`` after the quorum: how fast the rest of the round was sets the wait, the user's cap bounds it.
        """
        relative = max(MIN_WAIT, LATE_FACTOR * statistics.median(self.durations))
        return min(started + relative, self.reached_at + self.cap)

    def _came_in(self, seconds: float) -> None:
        self.durations.append(seconds)
        if self.reached and self.reached_at == math.inf:
            self.reached_at = time.monotonic()
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()  # wakes every job waiting for the quorum

    async def run(self, job: Awaitable[T]) -> T:
        """The job's result, or Late if it fell behind a batch that is mostly done."""
        task = asyncio.ensure_future(job)
        started = time.monotonic()
        try:
            while not task.done():
                remaining = self.late_at(started) - time.monotonic() if self.reached else None
                if remaining is not None and remaining <= 0:
                    raise Late(f"no answer after {time.monotonic() - started:.1f}s, when most of its round "
                               f"took {statistics.median(self.durations):.1f}s: left for a later round")
                # until it ends, it is late, or another job comes in (which moves the median)
                waiter = asyncio.ensure_future(self._changed.wait())
                try:
                    await asyncio.wait({task, waiter}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                finally:
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

    async def run(self, key: str, total: int, cap: float, job: Awaitable[T]) -> T:
        """Run ``job`` as one of the ``total`` jobs of batch ``key`` (``cap``: see ``Quorum``)."""
        quorum = self.batches.get(key) or self.batches.setdefault(key, Quorum(total, cap))
        try:
            return await quorum.run(job)
        finally:
            if quorum.ended >= quorum.total:
                self.batches.pop(key, None)
