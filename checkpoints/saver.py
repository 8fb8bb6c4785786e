"""The SQLite checkpointer shared by the CLI and `langgraph dev` (LangGraph's async saver, WAL mode)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from deepresearch.errors import StorageError
from deepresearch.settings import load_settings

BUSY_TIMEOUT_S = 30.0


@asynccontextmanager
async def open_saver(path: Path) -> AsyncIterator[AsyncSqliteSaver]:
    """Open (creating if needed) the checkpoint database: WAL journal, busy timeout, tables set up."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_S)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open {path}: {exc}") from exc
    try:
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            saver = AsyncSqliteSaver(conn)
            await saver.setup()
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS deepresearch_threads (
                       thread_id TEXT PRIMARY KEY, question TEXT, mode TEXT, context TEXT, created_at REAL)"""
            )
            await conn.commit()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot use {path} as the checkpoint database: {exc}") from exc
        yield saver
    finally:
        await conn.close()


@asynccontextmanager
async def checkpointer() -> AsyncIterator[AsyncSqliteSaver]:
    """Entry point named in langgraph.json: the saver on $DEEPRESEARCH_HOME/checkpoints.db."""
    async with open_saver(load_settings().checkpoints_db) as saver:
        yield saver
