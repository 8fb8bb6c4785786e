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
import json
import math
import os
import selectors
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.errors import DocumentError
from core.settings import ParseLimits, child_environment
from core.text import printable
from tools.documents import ISOLATED, ParsedDocument, parse_bytes
from tools.parse_worker import READY, REPLY, REQUEST

MAX_WORKERS = max(2, min(8, os.cpu_count() or 2))
START_S = 20.0  # a worker that has not started after this long is not coming
POLL_S = 0.2  # how often a wait looks at its deadline and at a cancel
_CHUNK = 1 << 20
_ROOT = Path(__file__).resolve().parent.parent  # the folder that holds this package


class TimeLimit(DocumentError):
    """A parse ran out of time: ``permanent`` when it had the document's whole limit, not a caller's shorter one."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class ParserUnavailable(DocumentError):
    """No parser process could be started (a passing failure: the document is not to blame)."""


class _Worker:
    """One parser process and its pipes (used by one thread at a time; ``kill`` may come from any)."""

    def __init__(self, limits: ParseLimits) -> None:
        """Start the process; ``wait_ready`` waits for it to load its parsers (a cancel may kill it meanwhile)."""
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-s", "-m", "tools.parse_worker", json.dumps(asdict(limits))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=_ROOT,
                env=child_environment(str(_ROOT)), start_new_session=True)  # Ctrl-C goes to us; we stop it
        except OSError as exc:
            raise ParserUnavailable(f"the parser process could not start ({exc})") from exc
        self.reply_cap = 8 * limits.max_chars + (1 << 20)
        self.ready = False

    def wait_ready(self) -> None:
        """Return once the process has loaded its parsers (seconds on a busy machine); ParserUnavailable if not."""
        if self.ready:
            return
        try:
            ready = self._read(len(READY), time.monotonic() + START_S)
        except (TimeoutError, DocumentError):  # killed meanwhile (a cancel), crashed, or never coming
            ready = b""
        if ready != READY:
            self.close()
            raise ParserUnavailable("the parser process could not start")
        self.ready = True

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Stop the process at once (safe from any thread: the pipes stay open for their reader)."""
        if self.process.poll() is None:
            self.process.kill()

    def close(self) -> None:
        """Stop the process and release its pipes (by the thread that used it)."""
        self.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()

    def parse(self, header: dict[str, Any], data: bytes, deadline: float) -> dict[str, Any]:
        """Send one document and wait for the reply until ``deadline`` (monotonic); TimeoutError past it."""
        assert self.process.stdin is not None
        raw = json.dumps(header).encode("utf-8")
        try:
            self.process.stdin.write(REQUEST.pack(len(raw), len(data)) + raw)
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (OSError, ValueError) as exc:
            raise DocumentError("refused: the parser stopped on it") from exc
        size = REPLY.unpack(self._read(REPLY.size, deadline))[0]
        if size > self.reply_cap:
            raise DocumentError("the parser's reply is larger than any document may be")
        try:
            reply = json.loads(self._read(size, deadline))
        except (ValueError, RecursionError) as exc:
            raise DocumentError("the parser's reply is not valid JSON") from exc
        if not isinstance(reply, dict):
            raise DocumentError("the parser's reply is not an object")
        return reply

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        data = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while len(data) < size:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                if not selector.select(min(left, POLL_S)):
                    continue
                try:
                    chunk = os.read(fd, min(size - len(data), _CHUNK))
                except OSError as exc:
                    raise DocumentError("refused: the parser stopped on it") from exc
                if not chunk:
                    code = self.process.wait()
                    why = "ran out of memory" if code in (-9, 137) else f"stopped (exit {code})"
                    raise DocumentError(f"refused: the parser {why} on it")
                data += chunk
        return bytes(data)


class Job:
    """One parse that its caller may cancel: the worker doing it is killed at once."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    def attach(self, worker: _Worker | None) -> None:
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
        self._idle: list[_Worker] = []
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

    def _worker(self) -> _Worker:
        """An idle worker, or a new one (still starting: ``wait_ready``)."""
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.close()
        return _Worker(self.limits)

    def _run(self, worker: _Worker, job: Job, header: dict[str, Any], data: bytes, deadline: float) -> dict[str, Any]:
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
