"""Content-addressed page store: page text lives here, keyed by its hash, never in checkpoints.

Beside the pages it keeps what the reader model extracted from each (by page, model, thread and goal),
written before the read is reported done: a run killed in the instant between a read's end and the
checkpoint that records it does not pay for that read again when it resumes. Other threads read afresh.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.sqlite import connect, read_only, tables


@dataclass(frozen=True)
class StoredPage:
    """A page as last stored for a URL."""

    url: str
    title: str
    page_hash: str
    text: str
    fetched_at: float


def page_hash(text: str) -> str:
    """The key of a page's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reading_key(page: str, model: str, *asked: str) -> str:
    """The key of one reading: this page (by hash), read by this model, in this thread, for this goal."""
    return hashlib.sha256("\x1f".join([page, model, *asked]).encode("utf-8")).hexdigest()


def _create_tables(conn: sqlite3.Connection) -> None:
    conn.executescript(
        """
        CREATE TABLE IF NOT EXISTS pages (hash TEXT PRIMARY KEY, text TEXT NOT NULL, chars INTEGER);
        CREATE TABLE IF NOT EXISTS urls (
            url TEXT PRIMARY KEY, hash TEXT NOT NULL REFERENCES pages(hash),
            title TEXT, fetched_at REAL
        );
        CREATE TABLE IF NOT EXISTS readings (key TEXT PRIMARY KEY, reply TEXT NOT NULL, read_at REAL);
        """
    )


class PageStore:
    """SQLite store of page text by hash, plus the URL -> latest hash mapping."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with connect(self.db_path, _create_tables) as conn:
            yield conn

    def put(self, url: str, title: str, text: str) -> str:
        """Store a page's text (once per distinct text) and point the URL at it; returns the hash."""
        key = page_hash(text)
        with self._conn() as conn:
            conn.execute("INSERT OR IGNORE INTO pages(hash, text, chars) VALUES (?, ?, ?)", (key, text, len(text)))
            conn.execute(
                "INSERT OR REPLACE INTO urls(url, hash, title, fetched_at) VALUES (?, ?, ?, ?)",
                (url, key, title, time.time()),
            )
        return key

    def get(self, key: str) -> str | None:
        """Text stored under a hash."""
        with self._conn() as conn:
            row = conn.execute("SELECT text FROM pages WHERE hash = ?", (key,)).fetchone()
        return row[0] if row else None

    def lookup(self, url: str, max_age: float | None = None) -> StoredPage | None:
        """The latest page stored for a URL, if any (and younger than ``max_age`` seconds when given)."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT u.title, u.hash, p.text, u.fetched_at FROM urls u JOIN pages p ON p.hash = u.hash "
                "WHERE u.url = ?",
                (url,),
            ).fetchone()
        if row is None or (max_age is not None and time.time() - row[3] > max_age):
            return None
        return StoredPage(url, row[0], row[1], row[2], row[3])

    def reading(self, key: str) -> str | None:
        """A reader's reply remembered under ``key`` (see ``reading_key``), if any."""
        with self._conn() as conn:
            row = conn.execute("SELECT reply FROM readings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def remember_reading(self, key: str, reply: str) -> None:
        """Keep a reader's reply, durably, before the run moves on (a kill cannot make it pay again)."""
        with self._conn() as conn:
            conn.execute("INSERT OR REPLACE INTO readings(key, reply, read_at) VALUES (?, ?, ?)",
                         (key, reply, time.time()))

    def stats(self) -> dict[str, int]:
        """Pages, URLs and bytes of text stored (a quick read: it creates nothing)."""
        if not self.db_path.exists():
            return {"pages": 0, "urls": 0, "chars": 0}
        with read_only(self.db_path) as conn:
            if not {"pages", "urls"} <= tables(conn):
                return {"pages": 0, "urls": 0, "chars": 0}
            pages, chars = conn.execute("SELECT count(*), coalesce(sum(chars), 0) FROM pages").fetchone()
            urls = conn.execute("SELECT count(*) FROM urls").fetchone()[0]
        return {"pages": pages, "urls": urls, "chars": chars}
