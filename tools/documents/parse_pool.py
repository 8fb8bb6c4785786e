"""Parsing held to time and memory limits: PDF, DOCX and HTML are parsed in worker processes that can be killed.

A worker serves one document at a time and is reused; one that overruns its time, runs out of memory,
crashes, or whose caller is cancelled (Ctrl-C, a straggling read) is killed on the spot and replaced by
the next parse, whether it is parsing, still starting, or not yet reached (a parse waiting for a free
worker stops waiting). A document's time limit runs from when a worker takes it: a worker slow to start
on a busy machine is not the document's fault. Text, Markdown and CSV are parsed in linear time in this
process. At most a few workers run at once; they end with this process (their pipe closes, and they watch
for it) and idle ones are stopped at exit.

Workers start from this package's own folder (never the current one: ``-P``) with a minimal environment
(no keys), and their replies are checked like any untrusted input: size, JSON, types.
"""

from __future__ import annotations

import asyncio
import atexit
import math
import os
import threading
import time
import weakref
from typing import Any

from core.errors import DocumentError
from core.settings import ParseLimits
from core.text import printable
from tools.documents.formats import ISOLATED, ParsedDocument, parse_bytes
from tools.documents.parse_process import POLL_S, TimeLimit, WorkerProcess

MAX_WORKERS = max(2, min(8, os.cpu_count() or 2))


class Job:
    """One parse that its caller may cancel: the worker doing it is killed at once."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self._worker: WorkerProcess | None = None
        self._lock = threading.Lock()

    def attach(self, worker: WorkerProcess | None) -> None:
        """The worker now doing this parse (None: done, the worker is no longer this job's)."""
        with self._lock:
            self._worker = worker

    def cancel(self) -> None:
        """Stop the parse (its thread gets DocumentError); a parse already done is left alone."""
        self.cancelled.set()
        with self._lock:
            if self._worker is not None:
                self._worker.kill()


class ParserPool:
    """Reusable parser processes for one set of limits; thread-safe."""

    def __init__(self, limits: ParseLimits, size: int = MAX_WORKERS) -> None:
        self.limits = limits
        self._idle: list[WorkerProcess] = []
        self._slots = threading.Semaphore(size)
        self._lock = threading.Lock()

    def parse(self, data: bytes, kind: str, name: str, charset: str | None, deadline: float = math.inf,
              job: Job | None = None) -> ParsedDocument:
        """Parse in a worker within the document's limit and before ``deadline`` (monotonic: the caller's time).

        DocumentError if it cannot be (TimeLimit: out of time; "cancelled" once ``job`` is).
        """
        job = job or Job()
        if not self._acquire(job, deadline):
            raise TimeLimit("no parser was free in time", permanent=False)
        try:
            reply = self._run(self._worker(), job, {"kind": kind, "name": name, "charset": charset}, data, deadline)
        finally:
            self._slots.release()
        if "error" in reply:
            raise DocumentError(str(reply["error"]))
        title, text, kind_, warnings = (reply.get(k) for k in ("title", "text", "kind", "warnings"))
        if not (isinstance(title, str) and isinstance(text, str) and isinstance(kind_, str)
                and isinstance(warnings, list)):
            raise DocumentError("the parser's reply is not a document")
        return ParsedDocument(printable(title)[:300], text, kind_,
                              tuple(printable(str(w))[:300] for w in warnings[:10]))

    def _acquire(self, job: Job, deadline: float) -> bool:
        """Take a worker slot before ``deadline`` (False if none came free); DocumentError once ``job`` is cancelled."""
        while not self._slots.acquire(timeout=max(0.0, min(POLL_S, deadline - time.monotonic()))):
            if job.cancelled.is_set():
                raise DocumentError("cancelled")
            if time.monotonic() >= deadline:
                return False
        return True

    def _worker(self) -> WorkerProcess:
        """An idle worker, or a new one (still starting: ``wait_ready``)."""
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.close()
        return WorkerProcess(self.limits)

    def _run(self, worker: WorkerProcess, job: Job, header: dict[str, Any], data: bytes,
             deadline: float) -> dict[str, Any]:
        """The worker's reply to one document; the worker goes back to the pool unless it must end."""
        job.attach(worker)  # from here a cancel kills it, starting or parsing; before, the check below sees it
        permanent = False
        try:
            if job.cancelled.is_set():
                raise DocumentError("cancelled")
            worker.wait_ready()
            now = time.monotonic()
            until = min(deadline, now + self.limits.timeout)  # the document's limit runs from here
            permanent = until - now >= self.limits.timeout - 0.5  # it has its whole limit
            if until <= now:  # the caller's time ran out while the worker started
                raise TimeoutError
            reply = worker.parse({**header, "seconds": until - now}, data, until)
        except BaseException as exc:  # out of time, cancelled, interrupted, crashed: the worker goes
            job.attach(None)
            worker.close()
            if job.cancelled.is_set():
                raise DocumentError("cancelled") from None
            if isinstance(exc, TimeoutError):
                limit = f"{self.limits.timeout:g}s" if permanent else "the time the run had left"
                raise TimeLimit(f"refused: not parsed within {limit}", permanent) from None
            raise
        job.attach(None)
        if reply.get("retire"):  # it ran out of memory: it ends, a fresh one takes over
            worker.close()
        else:
            with self._lock:
                self._idle.append(worker)
        if reply.get("late") and not permanent:  # cut short by the caller's time, not the document's limit
            raise TimeLimit("not parsed in the time the run had left", permanent=False)
        return reply

    def close(self) -> None:
        """Stop the idle workers (busy ones stop with their parse)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()


_POOLS: dict[ParseLimits, ParserPool] = {}
_POOLS_LOCK = threading.Lock()
# parses waiting for a worker wait here, not in the event loop's thread pool (which DNS lookups share)
_WAITING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def pool_for(limits: ParseLimits) -> ParserPool:
    """The process's pool of workers for these limits."""
    with _POOLS_LOCK:
        if limits not in _POOLS:
            _POOLS[limits] = ParserPool(limits)
        return _POOLS[limits]


@atexit.register
def close_pools() -> None:
    """Stop every parser process of this process."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
    for pool in pools:
        pool.close()


def _deadline(seconds: float | None) -> float:
    """When the caller's time for a parse asked for now ends (none: only the document's own limit holds)."""
    return math.inf if seconds is None else time.monotonic() + seconds


def parse_limited(data: bytes, kind: str, name: str, limits: ParseLimits, charset: str | None = None,
                  seconds: float | None = None) -> ParsedDocument:
    """Parse within the limits: PDF, DOCX and HTML in a worker process, the rest here (linear time)."""
    if kind not in ISOLATED:
        return parse_bytes(data, kind, name, limits, charset)
    return pool_for(limits).parse(data, kind, name, charset, _deadline(seconds))


async def parse_async(data: bytes, kind: str, name: str, limits: ParseLimits, charset: str | None = None,
                      seconds: float | None = None) -> ParsedDocument:
    """``parse_limited`` without blocking the event loop; cancelling it stops the worker at once."""
    if kind not in ISOLATED:
        return await asyncio.to_thread(parse_bytes, data, kind, name, limits, charset)
    deadline = _deadline(seconds)
    waiting = _WAITING.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(MAX_WORKERS))
    async with waiting:
        job = Job()
        running = asyncio.ensure_future(asyncio.to_thread(pool_for(limits).parse, data, kind, name, charset,
                                                          deadline, job))
        running.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved if abandoned
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            job.cancel()
            raise
