"""The parser process: ``python -m tools.documents.parse_worker LIMITS_JSON``, one document at a time over its pipes.

It holds itself to the memory limit (an address-space limit set before any document is read), ignores
Ctrl-C (the parent decides when it stops), and answers every request with JSON, never with pickles:
a parser subverted by a hostile document can at worst send wrong text back. What libraries print or log
is collected as the document's warnings, never written to the terminal.

Once ready it writes ``R``. Request: 8 bytes (header length, data length, big-endian), a JSON header
(kind, name, charset, seconds), then the document's bytes. Reply: 4 bytes of length, then JSON: title,
text, kind, warnings and late (stopped early for time), or error. A watchdog ends the process when its
parent is gone.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import struct
import sys
import threading
import time
import warnings
from dataclasses import asdict
from typing import IO, Any

from core.errors import DocumentError
from core.limits import ParseLimits
from tools.documents.formats import parse_bytes

REQUEST = struct.Struct(">II")
REPLY = struct.Struct(">I")
READY = b"R"  # written once the parsers are loaded
SOFT_SHARE = 0.8  # page-by-page parsers stop and return what they have at this share of the time allowed
BACKSTOP_S = 5.0


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split())[:200])


def _limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the time limit still holds
        return
    limit = megabytes * 1024 * 1024
    for which in ("RLIMIT_AS", "RLIMIT_DATA"):
        if hasattr(resource, which):
            try:
                resource.setrlimit(getattr(resource, which), (limit, limit))
                return
            except (ValueError, OSError):
                continue


def _preload() -> None:
    """Import the parsers once, before the memory limit (the worker serves many documents)."""
    import docx  # noqa: F401
    import pypdf  # noqa: F401
    import trafilatura  # noqa: F401


def _out_of_memory(limits: ParseLimits) -> str:
    return f"refused: parsing it needs more than the parser's {limits.memory_mb:,} MB of memory"


def _near_limit(limits: ParseLimits) -> bool:
    """Whether this process came close to its memory limit (Linux; elsewhere, never known)."""
    try:
        status = open("/proc/self/status", encoding="ascii").read()  # noqa: SIM115 - a one-shot read
    except OSError:
        return False
    peak = next((line.split()[1] for line in status.splitlines() if line.startswith("VmPeak:")), "0")
    return int(peak) * 1024 > 0.9 * limits.memory_mb * 1024 * 1024


def _read(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def handle(header: dict[str, Any], data: bytes, limits: ParseLimits) -> dict[str, Any]:
    """Parse one document; the reply as a dict."""
    collect = _Collect()
    logging.getLogger().addHandler(collect)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seconds = float(header.get("seconds") or limits.timeout)
            # a backstop of our own: should the parent be gone, the alarm still ends this process
            signal.setitimer(signal.ITIMER_REAL, seconds + BACKSTOP_S)
            stop_at = time.monotonic() + SOFT_SHARE * seconds
            try:
                doc = parse_bytes(data, header["kind"], header["name"], limits, header.get("charset"), stop_at)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        complaints = collect.messages + [" ".join(str(w.message).split())[:200] for w in caught]
        reply = asdict(doc)
        reply["late"] = time.monotonic() > stop_at  # page-by-page parsers stopped early for time
        summary = [f"{len(complaints)} warnings, the first: {complaints[0]}"] if complaints else []
        reply["warnings"] = [*summary, *doc.warnings]
        return reply
    except MemoryError:
        return {"error": _out_of_memory(limits), "retire": True}
    except DocumentError as exc:  # a C library that ran out of memory says so in its own words, or not at all
        if _near_limit(limits):
            return {"error": _out_of_memory(limits), "retire": True}
        return {"error": str(exc)}
    finally:
        logging.getLogger().removeHandler(collect)


def _orphan_watch(parent: int) -> None:
    """End this process as soon as its parent is gone (killed with SIGKILL, say), even mid-parse."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def main() -> None:
    """Serve requests until the parent closes the pipe (or is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.stack_size(256 * 1024)  # the watchdog's stack counts against the memory limit: keep it small
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    limits = ParseLimits(**json.loads(sys.argv[1]))
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # a library's print cannot corrupt the replies
    logging.getLogger().setLevel(logging.WARNING)
    _preload()
    _limit_memory(limits.memory_mb)
    replies.write(READY)
    replies.flush()
    requests = sys.stdin.buffer
    while True:
        sizes = _read(requests, REQUEST.size)
        if sizes is None:
            return
        header_size, data_size = REQUEST.unpack(sizes)
        raw_header = _read(requests, header_size)
        data = _read(requests, data_size) if raw_header is not None else None
        if raw_header is None or data is None:
            return
        reply = handle(json.loads(raw_header), data, limits)
        body = json.dumps(reply).encode("utf-8")
        replies.write(REPLY.pack(len(body)) + body)
        replies.flush()
        if reply.get("retire"):
            return  # what is left of this process's memory is not to be trusted: a fresh one takes over


if __name__ == "__main__":
    main()
