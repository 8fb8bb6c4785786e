"""SQLite helpers for the project's own databases: one busy timeout, short-lived and read-only connections."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import StorageError

BUSY_TIMEOUT_S = 30.0


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL if the file is not in it yet (setting it needs a lock; reading it does not).

    Opening while another connection closes the last WAL handle can answer 'locked' without waiting for
    the busy timeout (SQLite runs no busy handler there), so that is retried briefly.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


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
        _use_wal(conn)
        yield conn
        conn.commit()
    except sqlite3.Error as exc:
        raise StorageError(f"database {path}: {exc}") from exc
    finally:
        conn.close()


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that reads and never writes, not even the journal mode; always closes.

    Any SQLite failure becomes a StorageError naming the file.
    """
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {path}: {exc}") from exc
    try:
        yield conn
    except sqlite3.Error as exc:
        raise StorageError(f"database {path}: {exc}") from exc
    finally:
        conn.close()
