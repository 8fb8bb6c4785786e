"""Progress events on LangGraph's custom stream (read by the CLI and API clients), and step keys.

A step key tells the parallel tasks of one step apart from every other step's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime


def emit(runtime: Runtime[Any], event: str, state: Mapping[str, Any] | None = None, **data: Any) -> None:
    """Send one event; with ``state``, it carries the round, calls and tokens so far unless given."""
    payload: dict[str, Any] = {"event": event, **data}
    if state is not None:
        if state.get("agent"):  # one agent of a Heavy run
            payload.setdefault("agent", int(state["agent"]))
        payload.setdefault("round", int(state.get("round", 0)))
        payload.setdefault("llm_calls", int(state.get("llm_calls", 0)))
        payload.setdefault("tokens", int(state.get("tokens", 0)))
    runtime.stream_writer(payload)


def step_key(runtime: Runtime[Any], phase: str) -> str:
    """One key for the parallel tasks of a step (a round's reads, or its searches): same thread, same checkpoint."""
    info = runtime.execution_info
    if info is None:
        return phase
    parent = info.checkpoint_ns.rpartition("|")[0]  # the task's own namespace is its last segment
    return f"{phase}:{info.thread_id}:{parent}:{info.checkpoint_id}"
