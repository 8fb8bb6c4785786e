"""Page loads that outlive the read that asked for them: one load per URL at a time, per event loop.

A read that falls behind its round is cancelled (tools/quorum.py), but the page it was loading goes on
loading, bounded by the fetcher's own timeout, into the page store. A later read of the URL takes what
arrived (the page, or why it could not be had) without fetching it again; while the page is still
loading, the selector leaves it for a later round rather than wait on it a second time.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

from tools.pages import StoredPage

KEEP = 1000  # outcomes kept for a later read at most (the oldest go first): a long-lived server stays bounded


@dataclass(frozen=True)
class Arrived:
    """What became of a load after its readers gave up: the page (its text is in the page store), or the error."""

    title: str = ""
    page_hash: str = ""
    error: BaseException | None = None


class PageLoads:
    """The page loads of one event loop, by URL (a toolbox owns them and closes them with its clients)."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[StoredPage]] = {}
        self._waiting: Counter[str] = Counter()  # reads awaiting each running load
        self._arrived: OrderedDict[str, Arrived] = OrderedDict()

    def left_behind(self) -> set[str]:
        """URLs still loading that no read waits for any more: their readers were late."""
        return {url for url in self._running if not self._waiting[url]}

    def take(self, url: str) -> Arrived | None:
        """What arrived for ``url`` after its readers gave up on it; the first read that asks takes it."""
        return self._arrived.pop(url, None)

    async def load(self, url: str, job: Callable[[], Coroutine[Any, Any, StoredPage]]) -> StoredPage:
        """The page ``job`` loads, shared with any read of the URL already loading it.

        A read that is cancelled stops waiting, not loading: the load goes on to its end.
        """
        task = self._running.get(url)
        if task is None:
            task = asyncio.create_task(job(), name=f"page load {url}")
            self._running[url] = task
            task.add_done_callback(partial(self._ended, url))
        self._waiting[url] += 1
        try:
            return await asyncio.shield(task)
        finally:
            self._waiting[url] -= 1
            if not self._waiting[url]:
                del self._waiting[url]

    def _ended(self, url: str, task: asyncio.Task[StoredPage]) -> None:
        if self._running.get(url) is task:
            del self._running[url]
        if task.cancelled():
            return
        error = task.exception()  # retrieved here: a failure nobody awaits is kept for the next read, not logged
        if self._waiting[url]:
            return  # its readers get the outcome themselves
        page = None if error else task.result()
        self._arrived[url] = Arrived(page.title, page.page_hash) if page else Arrived(error=error)
        self._arrived.move_to_end(url)
        while len(self._arrived) > KEEP:
            self._arrived.popitem(last=False)

    async def close(self) -> None:
        """Cancel the loads still running and wait until they end: the run is over, nothing will read them."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._arrived.clear()
