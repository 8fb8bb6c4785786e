"""Parsing held to time and memory limits: PDF, DOCX and HTML are parsed in worker processes that can be killed.

A worker serves one document at a time and is reused; one that overruns its time, runs out of memory,
crashes, or whose caller is cancelled (Ctrl-C, a straggling read) is killed on the spot and replaced by
the next parse. Text, Markdown and CSV are parsed in linear time in this process. At most a few
workers run at once; they end with this process (their pipe closes) and idle ones are stopped at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.errors import DocumentError
from core.settings import ParseLimits
from tools.documents import ISOLATED, ParsedDocument, parse_bytes, read_document
from tools.parse_worker import REPLY, REQUEST

MAX_WORKERS = max(2, min(8, os.cpu_count() or 2))
_CHUNK = 1 << 20


class TimeLimit(DocumentError):
    """A parse ran out of the time it was given (``limit``: the document's own limit, not the caller's)."""

    def __init__(self, message: str, limit: bool) -> None:
        super().__init__(message)
        self.limit = limit


class _Worker:
    """One parser process and its pipes."""

    def __init__(self, limits: ParseLimits) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.parse_worker", json.dumps(asdict(limits))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)  # Ctrl-C in the terminal goes to us; we stop the worker

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()

    def parse(self, header: dict[str, Any], data: bytes, deadline: float) -> dict[str, Any]:
        """Send one document and wait for the reply until ``deadline`` (monotonic); TimeoutError past it."""
        assert self.process.stdin is not None and self.process.stdout is not None
        raw = json.dumps(header).encode("utf-8")
        try:
            self.process.stdin.write(REQUEST.pack(len(raw), len(data)) + raw)
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise DocumentError("the parser process stopped") from exc
        size = REPLY.unpack(self._read(REPLY.size, deadline))[0]
        reply: dict[str, Any] = json.loads(self._read(size, deadline))
        return reply

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        data = bytearray()
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], min(left, 0.2))[0]:
                if left <= 0:
                    raise TimeoutError
                continue
            chunk = os.read(fd, min(size - len(data), _CHUNK))
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
        self.worker: _Worker | None = None

    def cancel(self) -> None:
        """Stop the parse (its thread gets DocumentError)."""
        self.cancelled.set()
        if self.worker is not None:
            self.worker.kill()


class ParserPool:
    """Reusable parser processes for one set of limits; thread-safe."""

    def __init__(self, limits: ParseLimits, size: int = MAX_WORKERS) -> None:
        self.limits = limits
        self._idle: list[_Worker] = []
        self._slots = threading.Semaphore(size)
        self._lock = threading.Lock()

    def parse(self, data: bytes, kind: str, name: str, charset: str | None, seconds: float,
              job: Job | None = None) -> ParsedDocument:
        """Parse in a worker within ``seconds``; DocumentError (TimeLimit when out of time) if it cannot be had."""
        job = job or Job()
        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            job.worker = worker = worker or _Worker(self.limits)
            header = {"kind": kind, "name": name, "charset": charset, "seconds": seconds}
            try:
                if job.cancelled.is_set():
                    raise DocumentError("cancelled")
                reply = worker.parse(header, data, time.monotonic() + seconds)
            except BaseException as exc:  # out of time, cancelled, interrupted, crashed: the worker goes
                worker.kill()
                if job.cancelled.is_set():
                    raise DocumentError("cancelled") from None
                if isinstance(exc, TimeoutError):
                    raise TimeLimit(f"refused: not parsed within {seconds:g}s", seconds >= self.limits.timeout) \
                        from None
                raise
            with self._lock:
                self._idle.append(worker)
        if "error" in reply:
            raise DocumentError(str(reply["error"]))
        return ParsedDocument(str(reply["title"]), str(reply["text"]), str(reply["kind"]),
                              tuple(str(w) for w in reply.get("warnings", ())))

    def close(self) -> None:
        """Stop the idle workers (busy ones stop with their parse)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


_POOLS: dict[ParseLimits, ParserPool] = {}
_POOLS_LOCK = threading.Lock()


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


def parse_limited(data: bytes, kind: str, name: str, limits: ParseLimits, charset: str | None = None,
                  seconds: float | None = None) -> ParsedDocument:
    """Parse within the limits: PDF, DOCX and HTML in a worker process, the rest here (linear time)."""
    if kind not in ISOLATED:
        return parse_bytes(data, kind, name, limits, charset)
    return pool_for(limits).parse(data, kind, name, charset, min(seconds or limits.timeout, limits.timeout))


async def parse_async(data: bytes, kind: str, name: str, limits: ParseLimits, charset: str | None = None,
                      seconds: float | None = None) -> ParsedDocument:
    """``parse_limited`` without blocking the event loop; cancelling it stops the worker at once."""
    if kind not in ISOLATED:
        return await asyncio.to_thread(parse_bytes, data, kind, name, limits, charset)
    job = Job()
    budget = min(seconds or limits.timeout, limits.timeout)
    running = asyncio.ensure_future(asyncio.to_thread(pool_for(limits).parse, data, kind, name, charset, budget,
                                                      job))
    running.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved, even if abandoned
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        job.cancel()
        raise


def parse_file(path: Path, limits: ParseLimits) -> ParsedDocument:
    """Read and parse one local file within the limits; DocumentError (the reason only) if it cannot be."""
    kind, data = read_document(path, limits)
    return parse_limited(data, kind, path.name, limits)
