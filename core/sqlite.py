"""SQLite helpers for the project's own databases: one busy timeout, short-lived and read-only connections."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from core.errors import DamagedDatabase, StorageError

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


def storage_error(path: Path, exc: sqlite3.Error, doing: str) -> StorageError:
    """A SQLite failure on a database of the home as the error a user sees: damage names the file and the remedy."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    if name == "SQLITE_NOTADB" or name.startswith("SQLITE_CORRUPT"):
        return DamagedDatabase(path, str(exc))
    return StorageError(f"{doing} {path}: {exc}")


def _size(path: Path) -> int | None:
    """The file's size, or None if there is no file."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def create_database(path: Path) -> None:
    """Make a new, empty WAL database at ``path`` in one step, unless a file is there already.

    SQLite creates the file when it opens it and writes the header only later, so another process could
    meet a zero-length file under the name. Made aside and linked into place, a database of the home is
    never empty: a zero-length one was cut short by something else, and is refused as damaged.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)
    try:
        conn = sqlite3.connect(temporary)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # writes the header (and WAL mode into it)
        finally:
            conn.close()
        with suppress(FileExistsError):  # another process made it first: its database is as good
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def ensure_database(path: Path) -> bool:
    """Create the database if there is no file (see ``create_database``); True if it was made now.

    An empty file is a DamagedDatabase: SQLite would take it for a new database and fill it silently.
    """
    size = _size(path)
    if size == 0:
        raise DamagedDatabase(path, "empty file")
    if size is None:
        create_database(path)
    return size is None


@contextmanager
def connect(path: Path, setup: Callable[[sqlite3.Connection], None] | None = None) -> Iterator[sqlite3.Connection]:
    """WAL journal and a busy timeout (readers and one writer at a time); commits on success, always closes.

    The first connection of this process to a file (or to a file that does not exist yet) switches it to
    WAL and runs ``setup`` (create tables, migrate); later connections go straight to work. A missing file
    is created (see ``ensure_database``); an empty or damaged one is a DamagedDatabase, any other SQLite
    failure a StorageError naming the file.
    """
    key = (str(path.absolute()), setup)
    try:
        created = ensure_database(path)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    except OSError as exc:
        raise StorageError(f"cannot use {path}: {exc.strerror or exc}") from exc
    except sqlite3.Error as exc:
        raise storage_error(path, exc, "cannot open") from exc
    try:
        # WAL with NORMAL: a commit survives the process being killed (what resume relies on), without an
        # fsync per commit; only a power cut may lose the last commits
        conn.execute("PRAGMA synchronous=NORMAL")
        if created or key not in _PREPARED:
            _use_wal(conn)
            if setup is not None:
                setup(conn)
                conn.commit()
            _PREPARED.add(key)
        yield conn
        conn.commit()
    except sqlite3.Error as exc:
        raise storage_error(path, exc, "database") from exc
    finally:
        conn.close()


# opened read-only, SQLite must find or create a WAL database's -shm file; where it cannot (a read-only mount
# says CANTOPEN, a read-only folder READONLY_DIRECTORY), the fallbacks of ``_without_shm`` apply
_NO_SHM = ("SQLITE_CANTOPEN", "SQLITE_READONLY_DIRECTORY")


def _attempt(uri: str, timeout: float, shared: bool, *first: str) -> sqlite3.Connection:
    """A connection that has read the schema (``first`` run before), or the error SQLite gave; nothing left open.

    Reading the schema reads the first page whole: a file cut short fails here, not at its first query.
    """
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=not shared)
    try:
        for statement in first:
            conn.execute(statement)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _without_shm(path: Path, timeout: float, shared: bool) -> sqlite3.Connection | None:
    """The database read where its -shm file can be neither used nor created, or None if it cannot be read safely.

    With no -wal file, or an empty one, every committed transaction is in the database file itself:
    ``immutable=1`` reads it with no locks and no WAL index. A -wal file with content holds transactions
    that immutable would ignore, and no -shm file means no process is writing (a writer keeps one open):
    exclusive locking mode builds the WAL index in this connection's own memory, without the -shm file and
    (with the ``unix-none`` VFS) without the locks a read-only file refuses. A -wal beside an -shm file that
    cannot be used may have a writer: None, the error stands.
    """
    uri = path.resolve().as_uri()
    if not _size(Path(f"{path}-wal")):
        return _attempt(f"{uri}?mode=ro&immutable=1", timeout, shared)
    if Path(f"{path}-shm").exists():
        return None
    return _attempt(f"{uri}?mode=ro&vfs=unix-none", timeout, shared, "PRAGMA locking_mode=EXCLUSIVE")


def _open_read_only(path: Path, timeout: float, shared: bool = False) -> sqlite3.Connection:
    """``open_read_only`` with SQLite's own errors."""
    try:
        return _attempt(path.resolve().as_uri() + "?mode=ro", timeout, shared)
    except sqlite3.OperationalError as exc:
        conn = _without_shm(path, timeout, shared) if exc.sqlite_errorname in _NO_SHM else None
        if conn is None:
            raise
        return conn


def open_read_only(path: Path, timeout: float = BUSY_TIMEOUT_S, shared: bool = False) -> sqlite3.Connection:
    """A connection to an existing database that reads and never writes (nor creates anything), read-only home or not.

    The one way the project reads its databases without writing: `threads`, `show`, `corpus list`, `doctor`
    and the read-only checkpoint saver all come here. ``mode=ro`` first, which works wherever SQLite can use
    or create the -shm file; else the fallbacks of ``_without_shm``. An empty file is damaged (SQLite would
    take it for a new database); any failure is a StorageError naming the file (DamagedDatabase for damage).
    ``shared``: the connection may be handed to another thread (aiosqlite's), one user at a time.
    """
    try:
        if path.stat().st_size == 0:
            raise DamagedDatabase(path, "empty file")
        return _open_read_only(path, timeout, shared)
    except OSError as exc:
        raise StorageError(f"cannot open {path}: {exc.strerror or exc}") from exc
    except sqlite3.Error as exc:
        raise storage_error(path, exc, "cannot open") from exc


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """``open_read_only`` as a context: always closes; any SQLite failure becomes a StorageError naming the file."""
    conn = open_read_only(path)
    try:
        yield conn
    except sqlite3.Error as exc:
        raise storage_error(path, exc, "database") from exc
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
        conn = _open_read_only(path, timeout)
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
