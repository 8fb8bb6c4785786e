"""List threads straight from the checkpoint database, without loading LangGraph or the graphs.

`deepresearch threads` must answer at once, and importing LangGraph takes longer than the whole listing.
The newest checkpoint of each thread is read with sqlite3 and its plain channels (question, round, done,
answer) decoded with ormsgpack, the format LangGraph's serializer writes. A thread this cannot judge
(another serializer, an edited or forked checkpoint, a plan review being resumed) is left to the caller,
who asks LangGraph itself.

The status rule matches ``checkpoints.threads.status_of`` for the project's graphs, which only end after
their answer step has set ``done``: done; review (an interrupt is waiting); else unfinished.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.sqlite import read_only, tables

INTERRUPT = "__interrupt__"
RESUME = "__resume__"
_LATEST = """
    SELECT c.thread_id, c.checkpoint_id, c.type, c.checkpoint, c.metadata
    FROM checkpoints c JOIN (SELECT thread_id, max(checkpoint_id) AS latest FROM checkpoints
                             WHERE checkpoint_ns = '' GROUP BY thread_id) m
      ON c.thread_id = m.thread_id AND c.checkpoint_id = m.latest AND c.checkpoint_ns = ''
    ORDER BY c.checkpoint_id DESC
"""
_SIGNALS = f"""
    SELECT thread_id, checkpoint_id, channel FROM writes
    WHERE checkpoint_ns = '' AND channel IN ('{INTERRUPT}', '{RESUME}')
"""


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


def _channel_values(kind: str, blob: bytes) -> dict[str, Any] | None:
    """The checkpoint's channel values, with everything but plain values as None; None if not msgpack."""
    if kind != "msgpack":
        return None
    import ormsgpack

    try:
        checkpoint = ormsgpack.unpackb(blob, ext_hook=lambda _code, _data: None)
    except (ormsgpack.MsgpackDecodeError, ValueError):
        return None
    values = checkpoint.get("channel_values") if isinstance(checkpoint, dict) else None
    if not isinstance(values, dict) or not isinstance(checkpoint.get("ts"), str):
        return None
    return {**values, "__ts__": checkpoint["ts"]}


def quick_summaries(db: Path) -> list[ThreadSummary | str]:
    """Every thread, newest first: its summary, or just its id where this module cannot judge it."""
    if not db.exists():
        return []
    with read_only(db) as conn:
        if not {"checkpoints", "writes"} <= tables(conn):
            return []
        latest = conn.execute(_LATEST).fetchall()
        signals = conn.execute(_SIGNALS).fetchall()
    waiting: dict[tuple[str, str], set[str]] = {}
    for thread_id, checkpoint_id, channel in signals:
        waiting.setdefault((thread_id, checkpoint_id), set()).add(channel)
    out: list[ThreadSummary | str] = []
    for thread_id, checkpoint_id, kind, blob, meta in latest:
        metadata = parse_metadata(meta)
        values = _channel_values(kind, blob)
        marks = waiting.get((thread_id, checkpoint_id), set())
        if values is None or metadata.get("source") not in ("input", "loop") or RESUME in marks:
            out.append(thread_id)
            continue
        status = "done" if values.get("done") else "review" if INTERRUPT in marks else "unfinished"
        rounds = values.get("round")
        out.append(ThreadSummary(
            thread_id, str(metadata.get("thread_name", "")), str(values.get("question") or ""), status,
            rounds if isinstance(rounds, int) else 0, local_time(values["__ts__"]), str(values.get("answer") or "")))
    return out
