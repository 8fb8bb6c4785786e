"""The local document corpus: files split into passages and indexed in SQLite FTS5 (BM25 search)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import DocumentError, UserInputError
from core.limits import ParseLimits
from core.sqlite import connect, read_only, tables
from state.records import Hit
from tools.corpus.names import Selection, select
from tools.corpus.schema import prepare
from tools.documents.formats import KINDS, read_document
from tools.documents.parse_pool import parse_limited
from tools.documents.passages import cjk_grams, focus_text, split_passages, terms

if TYPE_CHECKING:
    import sqlite_utils


WHOLE_CHARS = 200_000  # documents up to this size are loaded whole to be focused; larger ones by passage
BEST_PASSAGES = 64


@dataclass
class IngestReport:
    """What one ingest did, file by file (full paths), with the reason each failed file failed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CorpusExcerpt:
    """What a reader is shown of a stored document, and the document's content hash."""

    path: str
    title: str
    text: str
    hash: str


@dataclass(frozen=True)
class StoredDocument:
    """One document of the corpus, as `corpus list` shows it."""

    path: str
    title: str
    kind: str
    chars: int
    passages: int
    ingested_at: float
    source: str | None  # the collection file a record was read from (None: a file, or a record stored before)


def fts_query(text: str) -> str:
    """A safe FTS5 query: each meaningful word or CJK bigram quoted, joined with OR (BM25 ranks partial matches).

    Words match the title and text columns, bigrams the grams column.
    """
    unique = list(dict.fromkeys(terms(text) or re.findall(r"\w+", text.lower())))
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in unique)


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every supported file under the given files and folders (recursive, hidden entries skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if child.is_file() and child.suffix.lower() in KINDS and not any(p.startswith(".") for p in rel):
                    yield child
        elif path.is_file() and path.suffix.lower() in KINDS:  # regular files only: a FIFO would block
            yield path


class Corpus:
    """SQLite FTS5 corpus at ``db_path``; each call opens its own connection (safe across threads)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    @contextmanager
    def _db(self) -> Iterator[sqlite_utils.Database]:
        import sqlite_utils  # loaded with the first query: commands that never search do not pay for it

        with connect(self.db_path, prepare) as conn:
            yield sqlite_utils.Database(conn)

    def ingest(self, paths: Iterable[Path], limits: ParseLimits | None = None) -> IngestReport:
        """Index files and folders; unchanged files are skipped, changed ones replaced, bad ones reported.

        Each file is read within ``limits`` (size, then the parse's time, memory and output).
        """
        limits = limits or ParseLimits()
        report = IngestReport()
        targets = [Path(p).expanduser() for p in paths]
        for path in targets:
            if not path.exists():
                raise UserInputError(f"no such file or folder: {path}")
        with self._db() as db:
            for file in iter_files(targets):
                key = str(file.resolve())
                try:
                    outcome, warnings = self._ingest_file(db, file, key, limits)
                except DocumentError as exc:
                    report.failed.append((key, str(exc)))
                    continue
                getattr(report, outcome).append(key)
                report.warnings += [(key, w) for w in warnings]
        return report

    def _ingest_file(self, db: sqlite_utils.Database, file: Path, key: str,
                     limits: ParseLimits) -> tuple[str, tuple[str, ...]]:
        kind, data = read_document(file, limits)
        digest = hashlib.sha256(data).hexdigest()
        existing = list(db.table("documents").rows_where("path = ?", [key], limit=1))
        if existing and existing[0]["hash"] == digest:
            return "unchanged", ()
        old_id = existing[0]["id"] if existing else None
        try:
            doc = parse_limited(data, kind, file.name, limits)
            if not doc.text.strip():
                raise DocumentError("no text could be extracted")
        except DocumentError:
            if old_id is not None:  # the file changed into something unreadable: its old text is no longer true
                with db.conn:
                    db.conn.execute("DELETE FROM passages WHERE doc_id = ?", [old_id])
                    db.conn.execute("DELETE FROM documents WHERE id = ?", [old_id])
            raise
        self._store(db.conn, key, digest, doc.title, doc.kind, doc.text, old_id)
        return "updated" if existing else "added", doc.warnings

    @staticmethod
    def _store(conn: sqlite3.Connection, key: str, digest: str, title: str, kind: str, text: str,
               old_id: int | None, source: str | None = None) -> None:
        """Replace one document and its passages in a single transaction.

        A failure (a full disk) leaves the corpus as it was, never a document row without its passages.
        """
        if "\x00" in text:  # what the parsers and collections let through never has one: no path stores one
            raise DocumentError("binary content, not text (refused)")
        passages = split_passages(text)
        with conn:  # plain statements: sqlite-utils' writers commit on their own, mid-document
            if old_id is not None:
                conn.execute("DELETE FROM passages WHERE doc_id = ?", [old_id])
                conn.execute("DELETE FROM documents WHERE id = ?", [old_id])
            doc_id = conn.execute(
                "INSERT INTO documents (path, title, kind, hash, chars, ingested_at, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", [key, title, kind, digest, len(text), time.time(), source]).lastrowid
            conn.executemany(
                "INSERT INTO passages (doc_id, seq, path, title, text, grams) VALUES (?, ?, ?, ?, ?, ?)",
                [(doc_id, i, key, title, body, cjk_grams(f"{title}\n{body}")) for i, body in enumerate(passages)])

    def put(self, key: str, title: str, kind: str, text: str, source: str | None = None) -> str:
        """Store one document under ``key`` (not a file: a record of the collection file ``source``).

        Returns whether it was added, updated or unchanged.
        """
        with self.writer() as put:
            return put(key, title, kind, text, source)

    @contextmanager
    def writer(self) -> Iterator[Callable[[str, str, str, str, str | None], str]]:
        """``put`` for many documents on one connection (a collection's records; each still its own transaction)."""
        with self._db() as db:
            def put(key: str, title: str, kind: str, text: str, source: str | None) -> str:
                digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
                row = db.execute("SELECT id, hash, source FROM documents WHERE path = ?", [key]).fetchone()
                if row is not None and row[1] == digest:
                    if row[2] != source:  # stored before records knew their file, or read from another file since
                        with db.conn:
                            db.conn.execute("UPDATE documents SET source = ? WHERE id = ?", [source, row[0]])
                    return "unchanged"
                self._store(db.conn, key, digest, title, kind, text, row[0] if row else None, source)
                return "updated" if row else "added"

            yield put

    def search(self, query: str, k: int) -> list[Hit]:
        """BM25 search; one hit per document (its best passage as the snippet)."""
        match = fts_query(query)
        if not match:
            return []
        sql = """
            SELECT p.path, p.title, snippet(passages_fts, 1, '', '', ' … ', 40) AS snippet
            FROM passages_fts JOIN passages p ON p.rowid = passages_fts.rowid
            WHERE passages_fts MATCH ? ORDER BY bm25(passages_fts, 3.0, 1.0, 1.0) LIMIT ?
        """
        hits: list[Hit] = []
        seen: set[str] = set()
        with self._db() as db:
            for path, title, snippet in db.execute(sql, [match, k * 8]).fetchall():
                if path in seen:
                    continue
                seen.add(path)
                hits.append(Hit(title=title, url=path, snippet=" ".join(snippet.split()), rank=len(hits) + 1,
                                backend="local", query=query))
                if len(hits) == k:
                    break
        return hits

    def excerpt(self, path: str, focus: str, max_chars: int) -> CorpusExcerpt | None:
        """What of a document (by the path it was ingested under) a reader with ``focus`` needs, in order.

        A document that fits is shown whole; a longer one by its opening and best-matching passages, and
        only those passages are loaded (a large document is never read whole).
        """
        with self._db() as db:
            row = db.execute("SELECT id, title, hash, chars FROM documents WHERE path = ?", [path]).fetchone()
            if row is None:
                return None
            doc_id, title, digest, chars = row
            if chars <= max(WHOLE_CHARS, max_chars):
                texts = [r[0] for r in db.execute("SELECT text FROM passages WHERE doc_id = ? ORDER BY seq",
                                                  [doc_id])]
                return CorpusExcerpt(path, title, focus_text("\n\n".join(texts), focus, max_chars), digest)
            return CorpusExcerpt(path, title, self._best_passages(db, doc_id, focus, max_chars), digest)

    @staticmethod
    def _best_passages(db: sqlite_utils.Database, doc_id: int, focus: str, max_chars: int) -> str:
        match = fts_query(focus)
        ranked = db.execute(
            "SELECT p.seq, p.text FROM passages_fts JOIN passages p ON p.rowid = passages_fts.rowid "
            "WHERE passages_fts MATCH ? AND p.doc_id = ? ORDER BY bm25(passages_fts, 3.0, 1.0, 1.0) LIMIT ?",
            [match, doc_id, BEST_PASSAGES]).fetchall() if match else []
        opening = db.execute("SELECT seq, text FROM passages WHERE doc_id = ? ORDER BY seq LIMIT ?",
                             [doc_id, BEST_PASSAGES]).fetchall()
        chosen: dict[int, str] = {}
        used = 0
        for seq, text in ranked + opening:  # the best matches first, then the document's opening
            if seq not in chosen and used + len(text) + 3 <= max_chars:
                chosen[seq] = text
                used += len(text) + 3
        if opening and opening[0][0] not in chosen and max_chars - used > 100:  # what the document is: its start
            chosen[opening[0][0]] = str(opening[0][1])[: max_chars - used - 3]
        if not chosen:  # one passage longer than the limit
            return str((ranked or opening)[0][1])[:max_chars] if ranked or opening else ""
        return "\n…\n".join(chosen[seq] for seq in sorted(chosen))

    def documents(self) -> list[StoredDocument]:
        """Every document, by path (a quick read: it neither creates nor migrates the database)."""
        if not self.db_path.exists():
            return []
        with read_only(self.db_path) as conn:
            if "documents" not in tables(conn):
                return []
            columns = {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
            source = "d.source" if "source" in columns else "NULL"  # a corpus an older version wrote
            rows = conn.execute(
                "SELECT d.path, d.title, d.kind, d.chars, (SELECT count(*) FROM passages p WHERE p.doc_id = d.id), "
                f"d.ingested_at, {source} FROM documents d ORDER BY d.path").fetchall()
        return [StoredDocument(*row) for row in rows]

    def select(self, target: str) -> Selection:
        """The documents ``target`` names: a file, a folder, a collection (its file or NAME), or NAME:ID.

        The files need not exist any more; see ``tools.corpus.names.select``. Nothing is removed.
        """
        with self._db() as db:
            return select(db.execute("SELECT path, source FROM documents").fetchall(), target)

    def delete(self, keys: Sequence[str]) -> int:
        """Remove documents (by key) and their passages in one transaction; how many there were."""
        with self._db() as db, db.conn:
            db.conn.executemany("DELETE FROM passages WHERE doc_id = (SELECT id FROM documents WHERE path = ?)",
                                [(key,) for key in keys])
            return db.conn.executemany("DELETE FROM documents WHERE path = ?", [(key,) for key in keys]).rowcount

    def is_empty(self) -> bool:
        """Whether no document was ingested yet (a quick read: it neither creates nor migrates the database)."""
        if not self.db_path.exists():
            return True
        with read_only(self.db_path) as conn:
            return "documents" not in tables(conn) or conn.execute("SELECT 1 FROM documents LIMIT 1").fetchone() is None

    def stats(self) -> dict[str, int]:
        """Documents, passages and database size (a quick read: it neither creates nor migrates the database)."""
        if not self.db_path.exists():
            return {"documents": 0, "passages": 0, "bytes": 0}
        with read_only(self.db_path) as conn:
            names = tables(conn)
            docs, passages = (conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] if name in names else 0
                              for name in ("documents", "passages"))
        return {"documents": docs, "passages": passages, "bytes": self.db_path.stat().st_size}
