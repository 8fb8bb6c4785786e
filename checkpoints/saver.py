"""The SQLite checkpointer shared by the CLI and `langgraph dev`.

LangGraph's async SQLite saver (WAL mode, busy timeout), plus the maintenance operations the server
expects and the CLI uses: delete a run's checkpoints, copy a thread, and prune old checkpoints. Pruning
is DeltaChannel-aware: before older checkpoints go, the oldest one kept gets a full snapshot of every
delta channel, so the thread still reconstructs and resumes.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.serde.types import _DeltaSnapshot
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from deepresearch.errors import StorageError
from deepresearch.settings import load_settings

BUSY_TIMEOUT_S = 30.0

# resolves a thread's state at one checkpoint: (saver, config) -> (values, names of delta channels)
StateReader = Callable[["DeepResearchSaver", RunnableConfig, dict[str, Any]],
                       Awaitable[tuple[dict[str, Any], list[str]]]]


async def _graph_state(saver: DeepResearchSaver, config: RunnableConfig,
                       metadata: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Values at a checkpoint, read through the graph that wrote it (reducers replay the deltas)."""
    from graphs.registry import GRAPHS  # the graphs import nodes and tools: only when pruning

    builder = GRAPHS.get(str(metadata.get("graph_id") or "iterresearch"))
    if builder is None:
        return {}, []
    graph = builder().compile(checkpointer=saver)
    deltas = [name for name, channel in graph.channels.items() if isinstance(channel, DeltaChannel)]
    return (await graph.aget_state(config)).values, deltas


class DeepResearchSaver(AsyncSqliteSaver):
    """AsyncSqliteSaver with run deletion, thread copies and DeltaChannel-safe pruning."""

    state_reader: StateReader = staticmethod(_graph_state)  # type: ignore[assignment]

    async def _rows(self, sql: str, args: Sequence[Any]) -> list[Any]:
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
        marks = ",".join("?" * len(run_ids))
        rows = await self._rows(
            f"SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints "
            f"WHERE json_extract(CAST(metadata AS TEXT), '$.run_id') IN ({marks})", list(run_ids))
        await self._exec([(sql, row) for row in rows for sql in (
            "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
            "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?")])

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a thread (the whole chain, so delta channels rebuild)."""
        checkpoints = await self._rows(
            "SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM checkpoints "
            "WHERE thread_id = ?", [source_thread_id])
        writes = await self._rows(
            "SELECT checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value FROM writes "
            "WHERE thread_id = ?", [source_thread_id])
        statements: list[tuple[str, Sequence[Any]]] = []
        for ns, cid, parent, kind, blob, meta in checkpoints:
            statements.append(("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (target_thread_id, ns, cid, parent, kind, blob, _retag(meta, target_thread_id))))
        for row in writes:
            statements.append(("INSERT OR REPLACE INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, "
                               "task_path, idx, channel, type, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               (target_thread_id, *row)))
        await self._exec(statements)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """``keep_latest``: keep only the newest checkpoint per thread; ``delete``: remove the threads."""
        for thread_id in thread_ids:
            if strategy == "delete":
                await self.adelete_thread(thread_id)
            else:
                await self.prune_thread(thread_id, keep=1)

    async def prune_thread(self, thread_id: str, keep: int) -> int:
        """Keep the newest ``keep`` checkpoints of a thread; returns how many were deleted."""
        rows = await self._rows(
            "SELECT checkpoint_id, type, checkpoint, metadata FROM checkpoints WHERE thread_id = ? AND "
            "checkpoint_ns = '' ORDER BY checkpoint_id DESC", [thread_id])
        if len(rows) <= keep:
            return 0
        oldest_kept, dropped = rows[keep - 1], [r[0] for r in rows[keep:]]
        await self._snapshot_deltas(thread_id, oldest_kept)
        marks = ",".join("?" * len(dropped))
        await self._exec([
            (f"DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = '' AND checkpoint_id IN ({marks})",
             [thread_id, *dropped]),
            (f"DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' AND checkpoint_id IN ({marks})",
             [thread_id, *dropped]),
            ("UPDATE checkpoints SET parent_checkpoint_id = NULL WHERE thread_id = ? AND checkpoint_ns = '' "
             "AND checkpoint_id = ?", [thread_id, oldest_kept[0]]),
        ])
        return len(dropped)

    async def _snapshot_deltas(self, thread_id: str, row: Sequence[Any]) -> None:
        """Store the full value of every delta channel in this checkpoint, so no ancestor is needed."""
        checkpoint_id, kind, blob, meta = row
        metadata = json.loads(meta) if meta else {}
        config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": "",
                                                   "checkpoint_id": checkpoint_id}}
        values, deltas = await self.state_reader(self, config, metadata)
        if not deltas:
            return
        checkpoint = self.serde.loads_typed((kind, blob))
        for name in deltas:
            if name in values:
                checkpoint["channel_values"][name] = _DeltaSnapshot(values[name])
        counters = metadata.get("counters_since_delta_snapshot") or {}
        metadata["counters_since_delta_snapshot"] = {k: v for k, v in counters.items() if k not in deltas}
        new_kind, new_blob = self.serde.dumps_typed(checkpoint)
        await self._exec([("UPDATE checkpoints SET type = ?, checkpoint = ?, metadata = ? WHERE thread_id = ? AND "
                           "checkpoint_ns = '' AND checkpoint_id = ?",
                           (new_kind, new_blob, json.dumps(metadata).encode(), thread_id, checkpoint_id))])


def _retag(meta: bytes | None, thread_id: str) -> bytes | None:
    if not meta:
        return meta
    data = json.loads(meta)
    if isinstance(data, dict) and "thread_id" in data:
        data["thread_id"] = thread_id
    return json.dumps(data).encode()


@asynccontextmanager
async def open_saver(path: Path) -> AsyncIterator[DeepResearchSaver]:
    """Open (creating if needed) the checkpoint database: WAL journal, busy timeout, tables set up."""
    try:  # off the event loop: `langgraph dev` refuses blocking calls
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_S)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open {path}: {exc}") from exc
    try:
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            saver = DeepResearchSaver(conn)
            await saver.setup()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot use {path} as the checkpoint database: {exc}") from exc
        yield saver
    finally:
        await conn.close()


@asynccontextmanager
async def checkpointer() -> AsyncIterator[DeepResearchSaver]:
    """Entry point named in langgraph.json: the saver on $DEEPRESEARCH_HOME/checkpoints.db."""
    async with open_saver(load_settings().checkpoints_db) as saver:
        yield saver
