"""The SQLite checkpointer shared by the CLI and `langgraph dev`.

LangGraph's async SQLite saver (WAL mode, busy timeout), plus the maintenance operations the server
expects and the CLI uses: delete a run's checkpoints, copy a thread, and prune old checkpoints (LangGraph's
saver has none of them: they rewrite its tables, whose layout ``checkpoints.langgraph_private`` holds). Pruning
is DeltaChannel-aware: before older checkpoints go, the oldest one kept gets a full snapshot of every
delta channel, so the thread still reconstructs and resumes. Which channels of a thread are delta channels
is the graphs' business: whoever opens the saver (the CLI's runner, the server's checkpointer factory)
hands it a function that answers from a checkpoint's metadata.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata, get_checkpoint_metadata
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from checkpoints.langgraph_private import (
    CHAIN,
    DELETE_CHECKPOINT,
    DELETE_WRITES_OF,
    DROP_CHECKPOINTS,
    DROP_WRITES,
    INSERT_CHECKPOINT,
    INSERT_WRITE,
    MAKE_ROOT,
    REWRITE_CHECKPOINT,
    RUN_CHECKPOINTS,
    SINCE_SNAPSHOT,
    THREAD_CHECKPOINTS,
    THREAD_WRITES,
    delta_snapshot,
)
from core.errors import StorageError
from core.redact import redact_text
from core.sqlite import (
    BUSY_TIMEOUT_S,
    LOCK_RETRY_S,
    ensure_database,
    open_read_only,
    storage_error,
    tables,
    transient_lock,
)

ITER_CHUNK_SIZE = 64  # aiosqlite's default: rows fetched per step of an async iteration
# a checkpoint's metadata -> the delta channels of the graph that wrote it (by name)
DeltaChannels = Callable[[dict[str, Any]], dict[str, DeltaChannel[Any]]]


def graph_id_of(metadata: dict[str, Any]) -> str:
    """The graph that ran a thread (the CLI and the server both record it; old threads ran IterResearch)."""
    return str(metadata.get("graph_id") or "iterresearch")


def stored_metadata(config: RunnableConfig, metadata: CheckpointMetadata) -> CheckpointMetadata:
    """A checkpoint's metadata as LangGraph stores it, with its text redacted.

    It copies the run's settings (a Studio or API run's context, the CLI's ``--set``): a base URL with a
    password or key is stored without them, and resume asks for it again.
    """
    merged = get_checkpoint_metadata(config, metadata)
    return {key: redact_text(value) if isinstance(value, str) else value  # type: ignore[return-value]
            for key, value in merged.items()}


class DeepResearchSaver(AsyncSqliteSaver):
    """AsyncSqliteSaver with run deletion, thread copies and DeltaChannel-safe pruning."""

    def __init__(self, conn: aiosqlite.Connection, *, delta_channels: DeltaChannels | None = None) -> None:
        super().__init__(conn)
        self.delta_channels = delta_channels

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> RunnableConfig:
        """As LangGraph's, with the metadata redacted (``stored_metadata``)."""
        return await super().aput(config, checkpoint, stored_metadata(config, metadata), new_versions)

    async def rows(self, sql: str, args: Sequence[Any]) -> list[Any]:
        """Rows of a query, under the saver's lock (one connection, shared with LangGraph)."""
        async with self.lock:
            cursor = await self.conn.execute(sql, args)
            return list(await cursor.fetchall())

    async def _exec(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        async with self.lock:
            for sql, args in statements:
                await self.conn.execute(sql, args)
            await self.conn.commit()

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) that the given runs wrote."""
        if not run_ids:
            return
        rows = await self.rows(RUN_CHECKPOINTS.format(marks=",".join("?" * len(run_ids))), list(run_ids))
        await self._exec([(sql, row) for row in rows for sql in (DELETE_WRITES_OF, DELETE_CHECKPOINT)])

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a thread (the whole chain, so delta channels rebuild)."""
        checkpoints = await self.rows(THREAD_CHECKPOINTS, [source_thread_id])
        writes = await self.rows(THREAD_WRITES, [source_thread_id])
        statements: list[tuple[str, Sequence[Any]]] = []
        for ns, cid, parent, kind, blob, meta in checkpoints:
            statements.append((INSERT_CHECKPOINT,
                               (target_thread_id, ns, cid, parent, kind, blob, _retag(meta, target_thread_id))))
        statements.extend((INSERT_WRITE, (target_thread_id, *row)) for row in writes)
        await self._exec(statements)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """``keep_latest``: keep only the newest checkpoint per thread; ``delete``: remove the threads."""
        for thread_id in thread_ids:
            if strategy == "delete":
                await self.adelete_thread(thread_id)
            else:
                await self.prune_thread(thread_id, keep=1)

    async def prune_thread(self, thread_id: str, keep: int) -> int:
        """Keep the newest ``keep`` checkpoints of the thread's current history; returns how many were deleted.

        The history is the parent chain of the newest checkpoint, so branches left by edits at older
        checkpoints go too. The oldest checkpoint kept gets a snapshot of every delta channel first.
        """
        rows = await self.rows(CHAIN, [thread_id])
        by_id = {row[0]: row for row in rows}
        chain: list[str] = []
        current: str | None = max(by_id, default=None)
        while current is not None and current in by_id and len(chain) < keep:
            chain.append(current)
            current = by_id[current][1]
        dropped = [cid for cid in by_id if cid not in set(chain)]
        if not dropped:
            return 0
        oldest = by_id[chain[-1]]
        if oldest[1] is not None:
            await self._snapshot_deltas(thread_id, oldest)
        marks = ",".join("?" * len(dropped))
        await self._exec([
            (DROP_WRITES.format(marks=marks), [thread_id, *dropped]),
            (DROP_CHECKPOINTS.format(marks=marks), [thread_id, *dropped]),
            (MAKE_ROOT, [thread_id, oldest[0]]),
        ])
        return len(dropped)

    async def _snapshot_deltas(self, thread_id: str, row: Sequence[Any]) -> None:
        """Store the full value of every delta channel in this checkpoint, so no ancestor is needed.

        The value is rebuilt the way LangGraph does it (seed + ancestors' writes, through the channel's
        reducer), without this checkpoint's own pending writes, which stay and are replayed as before.
        """
        checkpoint_id, _parent, kind, blob, meta = row
        metadata = json.loads(meta) if meta else {}
        checkpoint = self.serde.loads_typed((kind, blob))
        # a channel this checkpoint already stores (e.g. an update_state fork) needs no ancestor
        if self.delta_channels is None:  # pruning blind would lose the history those channels rebuild from
            raise StorageError("cannot prune checkpoints: the saver was opened without the graphs' delta channels")
        deltas = {name: spec for name, spec in self.delta_channels(metadata).items()
                  if name not in checkpoint["channel_values"]}
        if not deltas:
            return
        config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": "",
                                                   "checkpoint_id": checkpoint_id}}
        history = await self.aget_delta_channel_history(config=config, channels=list(deltas))
        for name, spec in deltas.items():
            channel = spec.from_checkpoint(history[name].get("seed"))
            channel.replay_writes(history[name]["writes"])
            checkpoint["channel_values"][name] = delta_snapshot(channel.get())
        counters = metadata.get(SINCE_SNAPSHOT) or {}
        metadata[SINCE_SNAPSHOT] = {k: v for k, v in counters.items() if k not in deltas}
        new_kind, new_blob = self.serde.dumps_typed(checkpoint)
        await self._exec([(REWRITE_CHECKPOINT,
                           (new_kind, new_blob, json.dumps(metadata).encode(), thread_id, checkpoint_id))])


def _retag(meta: bytes | None, thread_id: str) -> bytes | None:
    if not meta:
        return meta
    data = json.loads(meta)
    if isinstance(data, dict) and "thread_id" in data:
        data["thread_id"] = thread_id
    return json.dumps(data).encode()


def _read_only_connection(path: Path) -> tuple[sqlite3.Connection, bool]:
    """What a read-only saver reads, and whether it is the file (its tables are there: set up, nothing to write).

    The file, through ``open_read_only``; while it has no checkpoints (or there is none), an empty database in
    memory, which the saver sets up there.
    """
    if path.exists():
        conn = open_read_only(path, shared=True)
        try:
            found = {"checkpoints", "writes"} <= tables(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise storage_error(path, exc, "cannot open") from exc
        if found:
            return conn, True
        conn.close()
    return sqlite3.connect(":memory:", check_same_thread=False), False


async def _prepare(conn: aiosqlite.Connection, saver: DeepResearchSaver) -> None:
    """Busy timeout, then WAL and tables (the saver's setup), tried again while SQLite refuses it at once as locked."""
    await conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    await conn.execute("PRAGMA synchronous=NORMAL")
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            await saver.setup()  # WAL and the tables; marks itself done only when it got through
            return
        except sqlite3.OperationalError as exc:
            if not transient_lock(exc, deadline):
                raise
            await asyncio.sleep(LOCK_RETRY_S)


@asynccontextmanager
async def open_saver(path: Path, delta_channels: DeltaChannels | None = None, *,
                     read_only: bool = False) -> AsyncIterator[DeepResearchSaver]:
    """Open (creating if needed) the checkpoint database: WAL journal, busy timeout, tables set up.

    ``delta_channels`` names each thread's delta channels for pruning (without it, nothing is snapshotted).
    ``read_only`` (for commands that only read) creates nothing, neither the folder, the file nor its tables,
    and leaves the journal mode alone, so it works in a read-only home; a database with no checkpoints yet
    reads as empty.
    """
    try:  # off the event loop: `langgraph dev` refuses blocking calls
        ready = False  # the tables are there (setting them up would write)
        if read_only:  # opened here, through the project's one read-only opener, and handed to aiosqlite's thread
            opened, ready = await asyncio.to_thread(_read_only_connection, path)
            conn = await aiosqlite.Connection(lambda: opened, ITER_CHUNK_SIZE)
        else:
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(ensure_database, path)  # never an empty file taken for a new database
            conn = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_S)
    except OSError as exc:
        raise StorageError(f"cannot open {path}: {exc.strerror or exc}") from exc
    except sqlite3.Error as exc:
        raise storage_error(path, exc, "cannot open") from exc
    try:
        try:
            saver = DeepResearchSaver(conn, delta_channels=delta_channels)
            if ready:
                saver.is_setup = True
            else:  # WAL and the tables (in memory, for a read-only saver with no checkpoints to read yet)
                await _prepare(conn, saver)
        except sqlite3.Error as exc:
            raise storage_error(path, exc, "cannot use the checkpoint database") from exc
        yield saver
    finally:
        await conn.close()
