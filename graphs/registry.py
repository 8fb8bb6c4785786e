"""The graphs this project serves, by id (as in langgraph.json) and by CLI mode, and how many steps a run takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.graph import StateGraph

from core.vocabulary import MODES
from graphs.heavy import build_graph as build_heavy
from graphs.iterresearch import build_graph as build_iterresearch
from graphs.react import build_graph as build_react
from state.context import MAX_REACT_CALLS, MAX_ROUNDS, Context

GraphBuilder = Callable[[type[Context]], StateGraph[Any, Context, Any, Any]]
GRAPHS: dict[str, GraphBuilder] = {"iterresearch": build_iterresearch, "react": build_react, "heavy": build_heavy}
__all__ = ["GRAPHS", "MODES", "recursion_limit", "step_limit"]

# the longest round: plan, review, search, select, read, synthesize, decide, backtrack
STEPS_PER_ROUND = 8
FINAL_STEPS = 4  # answer, plus the input and a resumed step's replay


def recursion_limit(max_rounds: int) -> int:
    """LangGraph's step limit for a run of at most ``max_rounds`` rounds: the budgets end the run first."""
    return STEPS_PER_ROUND * max_rounds + FINAL_STEPS


def step_limit(graph_id: str, ctx: Context | None = None) -> int:
    """LangGraph's step limit for a graph: from the context's budget, or the largest any context allows."""
    if graph_id == "react":  # agent and tools, two steps a call, then finish
        return 2 * (ctx.react_max_calls if ctx else MAX_REACT_CALLS) + FINAL_STEPS
    # IterResearch by its rounds; Heavy's agents count their own steps the same way, and its own few
    # (agents, synthesis) are well within that
    return recursion_limit(ctx.max_rounds if ctx else MAX_ROUNDS)
