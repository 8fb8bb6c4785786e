"""The graphs this project serves, by id (as in langgraph.json) and by CLI mode, each with its spec."""

from __future__ import annotations

from core.vocabulary import MODES
from graphs import heavy, iterresearch, react
from graphs.spec import GraphBuilder, GraphSpec
from state.context import Context

SPECS: dict[str, GraphSpec] = {"iterresearch": iterresearch.SPEC, "react": react.SPEC, "heavy": heavy.SPEC}
GRAPHS: dict[str, GraphBuilder] = {graph_id: spec.build for graph_id, spec in SPECS.items()}
__all__ = ["GRAPHS", "MODES", "SPECS", "step_limit"]


def step_limit(graph_id: str, ctx: Context | None = None) -> int:
    """LangGraph's step limit for a graph: from the context's budget, or the largest any context allows."""
    return SPECS[graph_id].step_limit(ctx)
