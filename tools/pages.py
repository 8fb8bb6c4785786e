"""Content-addressed page store: page text lives here, keyed by its hash, never in checkpoints."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.sqlite import connect


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


class PageStore:
    """SQLite store of page text by hash, plus the URL -> latest hash mapping."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with connect(self.db_path) as conn:
            conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS pages (hash TEXT PRIMARY KEY, text TEXT NOT NULL, chars INTEGER);
                CREATE TABLE IF NOT EXISTS urls (
                    url TEXT PRIMARY KEY, hash TEXT NOT NULL REFERENCES pages(hash),
                    title TEXT, fetched_at REAL
                );
                """
            )
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

    def stats(self) -> dict[str, int]:
        """Pages, URLs and bytes of text stored."""
        with self._conn() as conn:
            pages, chars = conn.execute("SELECT count(*), coalesce(sum(chars), 0) FROM pages").fetchone()
            urls = conn.execute("SELECT count(*) FROM urls").fetchone()[0]
        return {"pages": pages, "urls": urls, "chars": chars}
