"""Threads in the checkpoint database: their saved run settings, and a summary of each for listing."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph.state import CompiledStateGraph


@dataclass(frozen=True)
class ThreadSummary:
    """One line of `deepresearch threads`."""

    thread_id: str
    question: str
    status: str
    rounds: int
    updated: str
    answer: str


async def save_thread(saver: AsyncSqliteSaver, thread_id: str, question: str, mode: str,
                      context: dict[str, Any]) -> None:
    """Remember how a thread was started, so resume continues with the same research settings."""
    async with saver.lock:
        await saver.conn.execute(
            "INSERT OR REPLACE INTO deepresearch_threads(thread_id, question, mode, context, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (thread_id, question, mode, json.dumps(context), time.time()),
        )
        await saver.conn.commit()


async def thread_settings(saver: AsyncSqliteSaver, thread_id: str) -> tuple[str, dict[str, Any]] | None:
    """(mode, context) a thread was started with by the CLI, or None (e.g. started through the API)."""
    async with saver.lock:
        cursor = await saver.conn.execute(
            "SELECT mode, context FROM deepresearch_threads WHERE thread_id = ?", (thread_id,)
        )
        row = await cursor.fetchone()
    return (row[0], json.loads(row[1])) if row else None


async def thread_ids(saver: AsyncSqliteSaver) -> list[str]:
    """Every thread with checkpoints, most recently updated first."""
    async with saver.lock:
        cursor = await saver.conn.execute(
            "SELECT thread_id, max(checkpoint_id) AS latest FROM checkpoints WHERE checkpoint_ns = '' "
            "GROUP BY thread_id ORDER BY latest DESC"
        )
        rows = await cursor.fetchall()
    return [row[0] for row in rows]


def status_of(values: dict[str, Any], next_nodes: tuple[str, ...]) -> str:
    """done, unfinished (resumable) or stopped (no next step and no answer)."""
    if values.get("done"):
        return "done"
    return "unfinished" if next_nodes else "stopped"


async def summarize(graph: CompiledStateGraph, thread_id: str) -> ThreadSummary | None:
    """A thread's question, status, rounds and last update, or None if it has no checkpoint."""
    snapshot = await graph.aget_state({"configurable": {"thread_id": thread_id}})
    if not snapshot.values and snapshot.created_at is None:
        return None
    values = snapshot.values
    updated = ""
    if snapshot.created_at:
        stamp = dt.datetime.fromisoformat(snapshot.created_at).astimezone()
        updated = stamp.strftime("%Y-%m-%d %H:%M")
    return ThreadSummary(thread_id, str(values.get("question", "")), status_of(values, snapshot.next),
                         int(values.get("round", 0)), updated, str(values.get("answer", "")))


async def list_threads(saver: AsyncSqliteSaver, graph: CompiledStateGraph) -> list[ThreadSummary]:
    """Summaries of every thread, newest first."""
    out = []
    for thread_id in await thread_ids(saver):
        summary = await summarize(graph, thread_id)
        if summary is not None:
            out.append(summary)
    return out
