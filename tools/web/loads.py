"""Page loads that outlive the read that asked for them: one load per URL at a time, per event loop.

A read that falls behind its round is cancelled (tools/quorum.py), but the page it was loading goes on
loading, bounded by the fetcher's own timeout, into the page store. A later read of the URL takes what
arrived (the page, or why it could not be had) without fetching it again; while the page is still
loading, the selector leaves it for a later round rather than wait on it a second time.

A load left behind holds none of its host's connection slots (the round's reads get them) and only so
many are kept, per host and in all: beyond that the oldest is stopped, to be fetched again if a later
round picks its page.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter, OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from tools.web.fetch import BACKGROUND, Background
from tools.web.pages import StoredPage

KEEP = 1000  # outcomes kept for a later read at most (the oldest go first): a long-lived server stays bounded


@dataclass(frozen=True)
class Arrived:
    """What became of a load after its readers gave up: the page (its text is in the page store), or the error."""

    title: str = ""
    page_hash: str = ""
    error: BaseException | None = None


@dataclass(frozen=True)
class _Load:
    task: asyncio.Task[StoredPage]
    background: Background


class PageLoads:
    """The page loads of one event loop, by URL (a toolbox owns them and closes them with its clients).

    ``per_host`` and ``most``: loads left behind kept at once on one host, and in all.
    """

    def __init__(self, per_host: int = 4, most: int = 8) -> None:
        self.per_host = per_host
        self.most = most
        self._running: dict[str, _Load] = {}  # oldest first
        self._waiting: Counter[str] = Counter()  # reads awaiting each running load
        self._arrived: OrderedDict[str, Arrived] = OrderedDict()

    def left_behind(self) -> set[str]:
        """URLs still loading that no read waits for any more: their readers were late."""
        return set(self._behind())

    def take(self, url: str) -> Arrived | None:
        """What arrived for ``url`` after its readers gave up on it; the first read that asks takes it."""
        return self._arrived.pop(url, None)

    async def load(self, url: str, job: Callable[[], Coroutine[Any, Any, StoredPage]]) -> StoredPage:
        """The page ``job`` loads, shared with any read of the URL already loading it.

        A read that is cancelled stops waiting, not loading: the load goes on to its end, in the background.
        """
        load = self._running.get(url)
        if load is None:
            background = Background()
            context = contextvars.copy_context()  # the load's fetch learns through it when it is left behind
            context.run(BACKGROUND.set, background)
            task = asyncio.create_task(job(), name=f"page load {url}", context=context)
            load = self._running[url] = _Load(task, background)
            task.add_done_callback(partial(self._ended, url))
        self._waiting[url] += 1
        try:
            return await asyncio.shield(load.task)
        finally:
            self._waiting[url] -= 1
            if not self._waiting[url]:
                del self._waiting[url]
                if not load.task.done():
                    self._left(url, load)

    def _behind(self) -> list[str]:
        return [url for url, load in self._running.items()
                if not self._waiting[url] and not load.task.cancelling()]

    def _left(self, url: str, load: _Load) -> None:
        """Every read of ``url`` gave up: its load goes on in the background, unless too many already do."""
        load.background.begin()
        host = urlsplit(url).hostname
        same_host = [u for u in self._behind() if urlsplit(u).hostname == host]
        for oldest in same_host[:max(0, len(same_host) - self.per_host)]:
            self._running[oldest].task.cancel()
        behind = self._behind()
        for oldest in behind[:max(0, len(behind) - self.most)]:
            self._running[oldest].task.cancel()

    def _ended(self, url: str, task: asyncio.Task[StoredPage]) -> None:
        if url in self._running and self._running[url].task is task:
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
        tasks = [load.task for load in self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._arrived.clear()
