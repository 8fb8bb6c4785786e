"""Budget rules over the state and the run context: what a node may still spend, and when research must stop."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from state.context import Context

# calls a round needs beyond the final answer: plan, at least one read, synthesize
ROUND_CALLS = 3


class Spent(Protocol):
    """Anything that counts model calls and tokens (the model client's Usage)."""

    @property
    def calls(self) -> int:
        """Model calls made."""
        ...

    @property
    def tokens(self) -> int:
        """Prompt + completion tokens."""
        ...


def spent(usage: Spent) -> dict[str, int]:
    """State update for the calls and tokens a node spent."""
    return {"llm_calls": usage.calls, "tokens": usage.tokens}


def _share(state: Mapping[str, Any]) -> int:
    """How many agents split the budgets (Heavy mode's agents each get their share; 1 otherwise)."""
    return max(1, int(state.get("share", 1) or 1))


# completion tokens one call of each step may spend, within the run's max_output_tokens (the final answer and
# ReAct's turns have all of it). A model that runs on is cut off there, as its own failure, instead of
# generating for minutes: a page's evidence or a plan takes hundreds of tokens (a thinking model's thinking
# counts too), a round's report a few thousand.
PLAN_TOKENS = 2048
READ_TOKENS = 2048
REPORT_TOKENS = 4096

# Heavy's Research-Synthesis: a try and its repair, and a second try if the first failed as a call; kept out
# of the agents' shares, so that the run as a whole stays within max_llm_calls
SYNTHESIS_CALLS = 3


def max_calls(state: Mapping[str, Any], ctx: Context) -> int:
    """The model calls this thread (or this agent of a Heavy run, after the synthesis's calls) may make."""
    reserve = SYNTHESIS_CALLS if state.get("share") else 0  # only a Heavy run's agents have a share
    return max(1, (ctx.max_llm_calls - reserve) // _share(state))


def max_tokens(state: Mapping[str, Any], ctx: Context) -> int:
    """The tokens this thread (or this agent of a Heavy run) may spend."""
    return ctx.max_tokens // _share(state)


def calls_left(state: Mapping[str, Any], ctx: Context) -> int:
    """Model calls still available before the one kept for the final answer."""
    return max_calls(state, ctx) - int(state.get("llm_calls", 0)) - 1


def past_deadline(ctx: Context) -> bool:
    """Whether this run's wall-clock budget is spent."""
    return time.time() >= ctx.deadline_at


def may_call(state: Mapping[str, Any], ctx: Context, calls: int = 1) -> bool:
    """Whether a node may spend ``calls`` more model calls (the final answer's call stays reserved)."""
    return (calls_left(state, ctx) >= calls and int(state.get("tokens", 0)) < max_tokens(state, ctx)
            and not past_deadline(ctx))


def budget_reason(state: Mapping[str, Any], ctx: Context) -> str | None:
    """Why the research must stop now, or None while every budget allows another round."""
    if int(state.get("round", 0)) >= ctx.max_rounds:
        return f"max_rounds ({ctx.max_rounds}) reached"
    if calls_left(state, ctx) < ROUND_CALLS:
        return f"max_llm_calls ({max_calls(state, ctx)}) nearly spent"
    if int(state.get("tokens", 0)) >= max_tokens(state, ctx):
        return f"max_tokens ({max_tokens(state, ctx)}) spent"
    if past_deadline(ctx):
        return f"deadline ({ctx.deadline_seconds:g}s) passed"
    return None
