"""What nodes share: budgets, progress events, dates and query normalisation."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime

from state.context import Context
from tools.llm import Usage

# calls a round needs beyond the final answer: plan, at least one read, synthesize
ROUND_CALLS = 3


def counts(usage: Usage) -> dict[str, int]:
    """State update for the calls and tokens a node spent."""
    return {"llm_calls": usage.calls, "tokens": usage.tokens}


def calls_left(state: Mapping[str, Any], ctx: Context) -> int:
    """Model calls still available before the one kept for the final answer."""
    return ctx.max_llm_calls - int(state.get("llm_calls", 0)) - 1


def past_deadline(ctx: Context) -> bool:
    """Whether this run's wall-clock budget is spent."""
    return time.time() >= ctx.deadline_at


def may_call(state: Mapping[str, Any], ctx: Context, calls: int = 1) -> bool:
    """Whether a node may spend ``calls`` more model calls (the final answer's call stays reserved)."""
    return (calls_left(state, ctx) >= calls and int(state.get("tokens", 0)) < ctx.max_tokens
            and not past_deadline(ctx))


def budget_reason(state: Mapping[str, Any], ctx: Context) -> str | None:
    """Why the research must stop now, or None while every budget allows another round."""
    if int(state.get("round", 0)) >= ctx.max_rounds:
        return f"max_rounds ({ctx.max_rounds}) reached"
    if calls_left(state, ctx) < ROUND_CALLS:
        return f"max_llm_calls ({ctx.max_llm_calls}) nearly spent"
    if int(state.get("tokens", 0)) >= ctx.max_tokens:
        return f"max_tokens ({ctx.max_tokens}) spent"
    if past_deadline(ctx):
        return f"deadline ({ctx.deadline_seconds:g}s) passed"
    return None


def emit(runtime: Runtime[Context], event: str, state: Mapping[str, Any] | None = None, **data: Any) -> None:
    """Send a progress event on LangGraph's custom stream (read by the CLI and API clients)."""
    payload: dict[str, Any] = {"event": event, **data}
    if state is not None:
        payload.setdefault("round", int(state.get("round", 0)))
        payload.setdefault("llm_calls", int(state.get("llm_calls", 0)))
        payload.setdefault("tokens", int(state.get("tokens", 0)))
    runtime.stream_writer(payload)


def today() -> str:
    """The current date, as the model's system prompts carry it."""
    return dt.date.today().isoformat()


def normalize_query(query: str) -> str:
    """Queries that differ only in case, spacing or punctuation are the same query."""
    return " ".join(re.findall(r"\w+", query.lower()))
