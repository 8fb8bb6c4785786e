"""Record a dead line of inquiry so the next plan steers away from it."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from state.context import Context
from state.events import Backtracked, emit
from state.graph_state import State
from state.records import DeadEnd


def backtrack(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Drop the round's branch: remember its goal and queries as a dead end (the newest few are kept)."""
    dead = DeadEnd(round=int(state.get("round", 0)), goal=state.get("goal", ""), queries=list(state.get("queries", [])))
    emit(runtime, Backtracked(goal=dead["goal"], queries=dead["queries"]), state)
    return {"dead_ends": [dead], "next_goal": "", "next_queries": []}  # the next plan is the planner's own
