"""Plan review: with ``review_plan`` on, the run stops after planning so a person can edit or approve.

The interrupt carries the proposed goal and queries. Resume with ``{"approve": true}`` (or any value
without queries) to approve, ``{"queries": [...], "goal": "..."}`` to replace them, or a list of
queries. The planner's model call happened in the node before this one, so resuming never repeats it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from state.context import Context
from state.events import Reviewed, emit
from state.graph_state import State
from state.queries import already_searched, fresh_queries


def edited_plan(answer: Any, goal: str, queries: list[str], already_run: Iterable[str]) -> tuple[str, list[str]]:
    """Apply a reviewer's answer; anything unusable keeps the proposed plan (never a crash)."""
    if isinstance(answer, list):
        answer = {"queries": answer}
    if not isinstance(answer, dict):
        return goal, queries
    given = answer.get("goal")
    new_goal = given if isinstance(given, str) and given.strip() else goal
    proposed = answer.get("queries")
    if not isinstance(proposed, list):
        return new_goal.strip(), queries
    fresh = fresh_queries((str(q) for q in proposed if isinstance(q, str | int | float)), already_run)
    # every edited query had run already: an empty round would only count as a stall, so keep the proposal
    return new_goal.strip(), fresh or queries


def review(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Interrupt with the plan when review is on; apply the edits the run is resumed with."""
    queries = list(state.get("queries", []))
    if not runtime.context.review_plan or not queries:
        return {}
    goal = state.get("goal", "")
    answer = interrupt({"round": state.get("round", 0), "goal": goal, "queries": queries,
                        "how": "resume with {'approve': true}, or {'queries': [...], 'goal': '...'} to edit"})
    new_goal, new_queries = edited_plan(answer, goal, queries, already_searched(state))
    edited = new_queries != queries or new_goal != goal
    emit(runtime, Reviewed(goal=new_goal, queries=new_queries, edited=edited), state)
    return {"goal": new_goal, "queries": new_queries}
