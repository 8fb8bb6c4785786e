"""Short-lived SQLite connections for the project's own databases (corpus, page store)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deepresearch.errors import StorageError

BUSY_TIMEOUT_S = 30.0


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """WAL journal and a busy timeout (readers and one writer at a time); commits on success, always closes.

    Any SQLite failure becomes a StorageError naming the file.
    """
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {path}: {exc}") from exc
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        yield conn
        conn.commit()
    except sqlite3.Error as exc:
        raise StorageError(f"database {path}: {exc}") from exc
    finally:
        conn.close()
