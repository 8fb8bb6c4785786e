"""List threads straight from the checkpoint database, without loading LangGraph or the graphs.

`deepresearch threads` must answer at once, and importing LangGraph takes longer than the whole listing.
The newest checkpoint of each thread is read with sqlite3 and its plain channels (question, round, done,
answer) decoded as LangGraph's serializer writes them (``checkpoints.langgraph_private``, the one place that
knows its tables and format). A thread this cannot judge (another serializer, an edited or forked checkpoint,
a plan review being resumed) is left to the caller, who asks LangGraph itself.

``thread_status`` is the one status rule, here and in ``checkpoints.threads.status_of``; it holds for the
project's graphs, which only end after their answer step has set ``done``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checkpoints.langgraph_private import (
    INTERRUPT,
    LATEST_CHECKPOINTS,
    PENDING_SIGNALS,
    RESUME,
    checkpoint_values,
)
from core.sqlite import read_only, tables
from state.progress_count import rounds_done


@dataclass(frozen=True)
class ThreadSummary:
    """One line of `deepresearch threads`."""

    thread_id: str
    name: str
    question: str
    status: str
    rounds: int
    updated: str
    answer: str


def local_time(iso: str) -> str:
    """A checkpoint timestamp as local minutes."""
    return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def parse_metadata(raw: bytes | str | dict[str, Any] | None) -> dict[str, Any]:
    """A checkpoint's metadata as the saver stores it (JSON; Postgres hands it over parsed), or {} if unreadable."""
    if isinstance(raw, dict):
        return raw
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def thread_status(done: bool, waiting: bool) -> str:
    """done; review (an interrupt waits for a person); else unfinished (resumable, whatever step it stopped at).

    The one rule, for the quick listing and for LangGraph's own view of a thread (``checkpoints.threads.status_of``).
    """
    if done:
        return "done"
    return "review" if waiting else "unfinished"


def quick_summaries(db: Path) -> list[ThreadSummary | str]:
    """Every thread, newest first: its summary, or just its id where this module cannot judge it."""
    if not db.exists():
        return []
    with read_only(db) as conn:
        if not {"checkpoints", "writes"} <= tables(conn):
            return []
        latest = conn.execute(LATEST_CHECKPOINTS).fetchall()
        signals = conn.execute(PENDING_SIGNALS).fetchall()
    waiting: dict[tuple[str, str], set[str]] = {}
    for thread_id, checkpoint_id, channel in signals:
        waiting.setdefault((thread_id, checkpoint_id), set()).add(channel)
    out: list[ThreadSummary | str] = []
    for thread_id, checkpoint_id, kind, blob, meta in latest:
        metadata = parse_metadata(meta)
        values = checkpoint_values(kind, blob)
        marks = waiting.get((thread_id, checkpoint_id), set())
        if values is None or metadata.get("source") not in ("input", "loop") or RESUME in marks:
            out.append(thread_id)
            continue
        status = thread_status(bool(values.get("done")), INTERRUPT in marks)
        out.append(ThreadSummary(
            thread_id, str(metadata.get("thread_name", "")), str(values.get("question") or ""), status,
            rounds_done(values), local_time(values["__ts__"]), str(values.get("answer") or "")))
    return out
