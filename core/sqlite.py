"""SQLite helpers for the project's own databases: one busy timeout, short-lived and read-only connections."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import StorageError

BUSY_TIMEOUT_S = 30.0


LOCK_RETRY_S = 0.02


def transient_lock(exc: BaseException, deadline: float) -> bool:
    """Whether a failure is SQLite answering 'locked' without waiting, and there is time left to try again.

    Setting the journal mode needs the file to itself, and two connections that open a new file at once
    (eight eval rollouts starting together), or one opening while another closes the last WAL handle, can
    be told 'database is locked' at once: SQLite runs no busy handler there. Such a step is retried until
    the busy timeout would have passed.
    """
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc) and time.monotonic() < deadline


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL if the file is not in it yet (setting it needs a lock; reading it does not)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not transient_lock(exc, deadline):
                raise
            time.sleep(LOCK_RETRY_S)


# (file, setup) pairs this process has prepared: the journal mode and the tables are the file's own, so
# they are set once, not on every connection
_PREPARED: set[tuple[str, Callable[[sqlite3.Connection], None] | None]] = set()


@contextmanager
def connect(path: Path, setup: Callable[[sqlite3.Connection], None] | None = None) -> Iterator[sqlite3.Connection]:
    """WAL journal and a busy timeout (readers and one writer at a time); commits on success, always closes.

    The first connection of this process to a file (or to a file that does not exist yet) switches it to
    WAL and runs ``setup`` (create tables, migrate); later connections go straight to work. Any SQLite
    failure becomes a StorageError naming the file.
    """
    key = (str(path.absolute()), setup)
    fresh = key not in _PREPARED or not path.exists()
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {path}: {exc}") from exc
    try:
        # WAL with NORMAL: a commit survives the process being killed (what resume relies on), without an
        # fsync per commit; only a power cut may lose the last commits
        conn.execute("PRAGMA synchronous=NORMAL")
        if fresh:
            _use_wal(conn)
            if setup is not None:
                setup(conn)
                conn.commit()
            _PREPARED.add(key)
        yield conn
        conn.commit()
    except sqlite3.Error as exc:
        raise StorageError(f"database {path}: {exc}") from exc
    finally:
        conn.close()


def read_only_uri(path: Path, timeout: float = BUSY_TIMEOUT_S) -> str:
    """The URI that opens an existing database for reading only, creating nothing, even in a read-only folder.

    ``mode=ro`` first. SQLite cannot read a WAL database that way when its ``-shm`` file is gone (the last
    connection closed cleanly) and the folder is read-only: it would have to create the file, and answers
    SQLITE_READONLY_DIRECTORY. Such a file then holds every committed transaction itself, and nothing can
    write it while the folder stays read-only, so it is opened ``immutable=1`` (no locks, no WAL index),
    which reads the same data. Not when a ``-wal`` file with content is there: immutable would ignore the
    transactions in it, so the error stands. (With both files there, ``mode=ro`` works.)
    """
    uri = path.resolve().as_uri()
    try:
        probe = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=timeout)
        try:
            probe.execute("PRAGMA schema_version").fetchone()
        finally:
            probe.close()
    except sqlite3.OperationalError as exc:
        wal = Path(f"{path}-wal")
        if exc.sqlite_errorname != "SQLITE_READONLY_DIRECTORY" or (wal.exists() and wal.stat().st_size):
            raise
        return uri + "?immutable=1"
    return uri + "?mode=ro"


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that reads and never writes, not even the journal mode; always closes.

    Works in a read-only home too (see ``read_only_uri``). Any SQLite failure becomes a StorageError
    naming the file.
    """
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {path}: {exc}") from exc
    try:
        yield conn
    except sqlite3.Error as exc:
        raise StorageError(f"database {path}: {exc}") from exc
    finally:
        conn.close()


def tables(conn: sqlite3.Connection) -> set[str]:
    """The names of the tables in a database."""
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


BUSY = "busy"  # quick_check's answer for a database another process holds locked: not damage


def quick_check(path: Path, timeout: float = 3.0) -> str | None:
    """The first problem SQLite's quick check finds in an existing database file, or None if it is sound.

    A file that is not SQLite at all (random bytes, a truncated header) fails, and so does a zero-length
    one, which SQLite would silently take for a new, empty database. A database locked for longer than
    ``timeout`` (a writer at work) is ``BUSY``, which is no problem of the file.
    """
    if path.stat().st_size == 0:
        return "empty file"
    try:
        conn = sqlite3.connect(read_only_uri(path, timeout), uri=True, timeout=timeout)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if exc.sqlite_errorname in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            return BUSY
        return "not a SQLite database" if exc.sqlite_errorname == "SQLITE_NOTADB" else str(exc)
    # problems come as lines, under a '*** in database main ***' heading
    lines = [line for row in rows for line in str(row[0]).splitlines() if line and not line.startswith("***")]
    return None if lines == ["ok"] else (lines[0] if lines else "quick check found problems")
