"""Threads in the checkpoint database: ids and names, the settings a run used, and a summary for listing.

One store for the CLI and `langgraph dev`: a thread's settings travel in its checkpoints' metadata (the
server records a run's context there too), so either side can resume the other's threads.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Protocol

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot

from checkpoints.langgraph_private import LATEST_METADATA, THREAD_EXISTS, THREAD_IDS
from checkpoints.listing import ThreadSummary, local_time, parse_metadata, thread_status
from core.errors import UserInputError
from state.context import Context
from state.progress_count import rounds_done

# names given with --thread map to stable UUIDs (the langgraph API accepts only UUID thread ids)
NAMESPACE = uuid.UUID("6d1f6c3e-2f4b-4f5e-9a57-2b1f0c4d8e11")
ID_FRAGMENT = re.compile(r"[0-9a-f-]{6,36}")


class ThreadStore(Protocol):
    """A checkpoint store the thread commands can query (the SQLite saver, or the Postgres one)."""

    async def rows(self, sql: str, args: Any) -> list[Any]:
        """Rows of a query written with ``?`` placeholders."""
        ...


def thread_id_for(name: str) -> str:
    """A UUID stays itself; any other name maps to the same UUID every time."""
    try:
        return str(uuid.UUID(name))
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, name))


async def thread_ids(saver: ThreadStore) -> list[str]:
    """Every thread with checkpoints, most recently updated first."""
    rows = await saver.rows(THREAD_IDS, [])
    return [row[0] for row in rows]


async def thread_exists(saver: ThreadStore, thread_id: str) -> bool:
    """Whether a thread has checkpoints (one index lookup, however many threads the store holds)."""
    return bool(await saver.rows(THREAD_EXISTS, [thread_id]))


async def resolve_thread(saver: ThreadStore, ref: str, fragments: bool = True) -> str:
    """The thread a user means: its UUID, the name it was started under, or a unique start or end of its id.

    (The server's UUIDv7 ids share their start when created close together; their end is random.)
    Fragments are only tried for id-like text, and not at all when ``fragments`` is off (deletion).
    """
    candidate = thread_id_for(ref)
    if await thread_exists(saver, candidate):  # a full id or a name: no listing of every thread
        return candidate
    known = await thread_ids(saver)
    part = ref.lower()
    matches = [t for t in known if t.startswith(part) or t.endswith(part)] if ID_FRAGMENT.fullmatch(part) else []
    if not fragments and matches:
        raise UserInputError(f"{ref!r} is part of thread id {matches[0]}" + (" and others" if len(matches) > 1 else "")
                             + ": give the full id or the name here")
    if not fragments or not ID_FRAGMENT.fullmatch(part):
        raise UserInputError(f"unknown thread {ref!r} (see `deepresearch threads`; give a full id or a name)")
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UserInputError(f"thread {ref!r} is ambiguous: {', '.join(m[:13] for m in matches[:5])}…")
    raise UserInputError(f"unknown thread {ref!r} (see `deepresearch threads`)")


async def latest_metadata(saver: ThreadStore, thread_id: str) -> dict[str, Any]:
    """Metadata of a thread's newest checkpoint (run settings, graph id, thread name)."""
    rows = await saver.rows(LATEST_METADATA, [thread_id])
    return parse_metadata(rows[0][0] if rows else None)


def run_settings(metadata: dict[str, Any]) -> dict[str, Any]:
    """The run-context fields recorded in checkpoint metadata (by the CLI or the server)."""
    names = set(Context.model_fields) - {"started_at"}
    return {k: v for k, v in metadata.items() if k in names}


def status_of(snapshot: StateSnapshot) -> str:
    """A thread's status as LangGraph sees it, by the listing's rule (``checkpoints.listing.thread_status``)."""
    return thread_status(bool(snapshot.values.get("done")), bool(snapshot.interrupts))


async def summarize(graph: CompiledStateGraph[Any, Any, Any, Any], thread_id: str,
                    name: str) -> ThreadSummary | None:
    """A thread's question, status, rounds and last update, or None if it has no checkpoint."""
    snapshot = await graph.aget_state({"configurable": {"thread_id": thread_id}})
    if snapshot.created_at is None:
        return None
    values = snapshot.values
    return ThreadSummary(thread_id, name, str(values.get("question", "")), status_of(snapshot),
                         rounds_done(values), local_time(snapshot.created_at), str(values.get("answer", "")))
