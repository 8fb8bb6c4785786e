"""Checkpoints in Postgres (``DEEPRESEARCH_CHECKPOINT_URL``): one thread store for several servers and CLIs.

LangGraph's Postgres saver, with the queries the thread commands use. Everything goes through public APIs:
the connection is opened here with psycopg, as LangGraph's documentation says to (autocommit, rows as dicts,
no prepared statements), handed to the saver, and the thread commands' queries run on it too (a psycopg
connection is safe to share between tasks: it runs one statement at a time). Only the tables' layout is
LangGraph's own (``checkpoints.langgraph_private``).

Pruning is refused here: a thread's delta channels need the oldest checkpoint kept to get a full snapshot
first, which only the SQLite store's pruning does.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row

from checkpoints.langgraph_private import MIGRATION_VERSION, fully_migrated
from checkpoints.saver import stored_metadata
from core.errors import StorageError
from core.redact import redact_text, url_secrets

log = logging.getLogger(__name__)

NO_PRUNING = "pruning keeps delta channels whole only in the SQLite store; with Postgres, delete old threads instead"
LITERAL = re.compile(r"('[^']*'|\"[^\"]*\")")  # a quoted SQL string or name ('it''s' reads as two: harmless)


def postgres_sql(sql: str) -> str:
    """A query written with ``?`` placeholders (as SQLite takes it) in psycopg's style: ``%s``.

    A ``?`` inside a quoted string or name stays; every ``%`` is doubled, since psycopg reads one anywhere
    in the text as the start of a placeholder.
    """
    parts = LITERAL.split(sql.replace("%", "%%"))
    return "".join(part if quoted % 2 else part.replace("?", "%s") for quoted, part in enumerate(parts))


class PostgresStore(AsyncPostgresSaver):
    """AsyncPostgresSaver with ``rows`` (the thread commands' queries, written with ``?`` placeholders)."""

    def __init__(self, connection: AsyncConnection[DictRow]) -> None:
        super().__init__(connection)
        self.connection = connection

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> RunnableConfig:
        """As LangGraph's, with the metadata redacted (``checkpoints.saver.stored_metadata``)."""
        return await super().aput(config, checkpoint, stored_metadata(config, metadata), new_versions)

    async def rows(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows of a query, as tuples."""
        async with self.connection.cursor() as cursor:
            await cursor.execute(postgres_sql(sql), list(args))  # type: ignore[arg-type]
            return [tuple(row.values()) for row in await cursor.fetchall()]

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Refused (see the module's note)."""
        raise StorageError(NO_PRUNING)

    async def prune_thread(self, thread_id: str, keep: int) -> int:
        """Refused (see the module's note)."""
        raise StorageError(NO_PRUNING)


SETUP_LOCK = 0x64726573  # the advisory lock that one setup at a time holds ("dres")
SETUP_WAIT_S = 120.0  # migrations take well under a second; a session holding the lock longer is stuck


async def _migrated(saver: PostgresStore) -> bool:
    """Whether the database already has every migration this saver knows (no lock needed then)."""
    try:
        async with saver.connection.cursor() as cursor:
            await cursor.execute(MIGRATION_VERSION)
            row = await cursor.fetchone()
    except psycopg.errors.UndefinedTable:
        return False
    return fully_migrated(row["v"] if row else None, saver.MIGRATIONS)


async def _set_up(saver: PostgresStore) -> None:
    """The saver's migrations, one process at a time, and only when some are missing.

    Two that set up a new database at once would both create its tables, and one would fail on the
    other's (a duplicate key in Postgres' own catalogue).

    The lock is polled, not waited on: a migration builds an index CONCURRENTLY, which waits for every open
    transaction to end, and a session blocked in ``pg_advisory_lock`` would be one (a deadlock).
    """
    if await _migrated(saver):
        return
    deadline = time.monotonic() + SETUP_WAIT_S
    async with saver.connection.cursor() as cursor:
        while True:
            await cursor.execute("SELECT pg_try_advisory_lock(%s) AS got", (SETUP_LOCK,))
            row = await cursor.fetchone()
            if row and row["got"]:
                break
            if time.monotonic() > deadline:
                raise StorageError(f"another process has been setting up the checkpoint tables for {SETUP_WAIT_S:g} s "
                                   "(DEEPRESEARCH_CHECKPOINT_URL); try again when it is done")
            await asyncio.sleep(0.05)
    try:
        await saver.setup()
    finally:
        async with saver.connection.cursor() as cursor:
            await cursor.execute("SELECT pg_advisory_unlock(%s) AS released", (SETUP_LOCK,))
            row = await cursor.fetchone()
        if not (row and row["released"]):  # another server session took it (a transaction-mode pooler)
            log.warning("the checkpoint setup lock was not held by this session; a connection pooler in "
                        "transaction mode may keep it locked (connect to Postgres directly for setup)")


def _unusable(exc: Exception, url: str) -> StorageError:
    """The error for a database that cannot be used, in one line.

    libpq quotes parts of the URL it could not parse (``invalid percent-encoded token: "pa%zz"``), outside any URL:
    the URL's own secrets are masked wherever they appear.
    """
    text = redact_text(" ".join(str(exc).split()), url_secrets(url))
    return StorageError(f"cannot use the checkpoint database (DEEPRESEARCH_CHECKPOINT_URL): {text[:200]}")


@asynccontextmanager
async def open_postgres(url: str) -> AsyncIterator[PostgresStore]:
    """Connect and set up the tables (once per database); an unreachable database is one StorageError."""
    try:
        connection = await AsyncConnection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    except (psycopg.Error, OSError) as exc:
        raise _unusable(exc, url) from exc
    try:
        saver = PostgresStore(connection)
        try:
            await _set_up(saver)
        except (psycopg.Error, OSError) as exc:
            raise _unusable(exc, url) from exc
        yield saver
    finally:  # the connection goes (and with it any lock it held), whatever failed
        await connection.close()
