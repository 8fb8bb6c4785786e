"""Parser worker processes as /proc shows them (Linux): which a process started, and whether one still runs."""

from __future__ import annotations

import os
from pathlib import Path


def workers_of(parent: int) -> set[int]:
    """The parser processes whose parent is ``parent``."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"tools.documents.parse_worker" in cmdline:
            found.add(int(pid))
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` is alive (a zombie, ended but not yet reaped, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
