"""The corpus's SQLite schema: documents, passages and their FTS5 index, created or migrated once per file."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from tools.documents.passages import cjk_grams

if TYPE_CHECKING:
    import sqlite_utils

SCHEMA_VERSION = 3  # 1: words only; 2: CJK bigrams in a column of their own; 3: each record's collection file
FTS_COLUMNS = ["title", "text", "grams"]


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tables and index, or migrate those of an earlier version (once per file and process)."""
    if "passages" in db.table_names():
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version < 2:
            _add_grams(db)
        if version < 3:
            _add_source(db)
        return
    # source: the collection file (full path) a record was read from; NULL for a file, its path is its source
    db.table("documents").create(
        {"id": int, "path": str, "title": str, "kind": str, "hash": str, "chars": int, "ingested_at": float,
         "source": str},
        pk="id", not_null={"path", "hash"},
    )
    db.table("documents").create_index(["path"], unique=True)
    db.table("passages").create(
        {"id": int, "doc_id": int, "seq": int, "path": str, "title": str, "text": str, "grams": str},
        pk="id", foreign_keys=[("doc_id", "documents", "id")],
    )
    db.table("passages").create_index(["doc_id", "seq"])
    db.table("passages").enable_fts(FTS_COLUMNS, create_triggers=True, tokenize="porter unicode61")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _add_grams(db: sqlite_utils.Database) -> None:
    """Migrate a corpus indexed before CJK bigrams: add and fill the grams column, rebuild the index."""
    with db.conn:
        if "grams" not in db.table("passages").columns_dict:
            db.execute("ALTER TABLE passages ADD COLUMN grams TEXT")
        rows = db.execute("SELECT id, title, text FROM passages").fetchall()
        db.conn.executemany("UPDATE passages SET grams = ? WHERE id = ?",
                            [(cjk_grams(f"{title}\n{text}"), pid) for pid, title, text in rows])
    db.table("passages").enable_fts(FTS_COLUMNS, create_triggers=True, tokenize="porter unicode61",
                                    replace=True)
    db.table("passages").rebuild_fts()
    db.execute("PRAGMA user_version = 2")


def _add_source(db: sqlite_utils.Database) -> None:
    """Migrate a corpus whose records do not know their collection's file: they keep NULL, their name tells it."""
    with db.conn:
        if "source" not in db.table("documents").columns_dict:
            db.execute("ALTER TABLE documents ADD COLUMN source TEXT")
        db.execute("PRAGMA user_version = 3")


def prepare(conn: sqlite3.Connection) -> None:
    """Create the tables and index, or migrate those of an earlier version (``connect``'s setup)."""
    import sqlite_utils

    ensure_schema(sqlite_utils.Database(conn))
