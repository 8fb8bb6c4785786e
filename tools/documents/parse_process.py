"""One parser process and the parent's side of its pipe protocol.

It starts from this package's own folder with no keys, is ready when it says so, and its replies are read
against a deadline and checked like any untrusted input (size, JSON, types).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.errors import DocumentError
from core.settings import ParseLimits, child_environment
from tools.documents.parse_worker import READY, REPLY, REQUEST

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


class WorkerProcess:
    """One parser process and its pipes (used by one thread at a time; ``kill`` may come from any)."""

    def __init__(self, limits: ParseLimits) -> None:
        """Start the process; ``wait_ready`` waits for it to load its parsers (a cancel may kill it meanwhile)."""
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-s", "-m", "tools.documents.parse_worker", json.dumps(asdict(limits))],
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
        """Whether the process still runs."""
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
