"""Progress events: what nodes send on LangGraph's custom stream (read by the CLI and API clients)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime


def emit(runtime: Runtime[Any], event: str, state: Mapping[str, Any] | None = None, **data: Any) -> None:
    """Send one event; with ``state``, it carries the round, calls and tokens so far unless given."""
    payload: dict[str, Any] = {"event": event, **data}
    if state is not None:
        payload.setdefault("round", int(state.get("round", 0)))
        payload.setdefault("llm_calls", int(state.get("llm_calls", 0)))
        payload.setdefault("tokens", int(state.get("tokens", 0)))
    runtime.stream_writer(payload)
