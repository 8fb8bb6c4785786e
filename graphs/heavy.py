"""Heavy: N IterResearch agents launched with Send (each a checkpointed subgraph), then Research-Synthesis."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graphs.iterresearch import build_graph as build_iterresearch
from nodes.heavy import launch, make_agent, synthesize
from state.context import Context
from state.graph_state import InputState, OutputState
from state.heavy_state import HeavyState


def build_graph(context_schema: type[Context] = Context) -> StateGraph[HeavyState, Context, InputState, OutputState]:
    """The Heavy graph builder (uncompiled: callers choose the checkpointer and the bound context)."""
    agents = build_iterresearch(context_schema, agent=True).compile(name="iterresearch_agent")
    builder = StateGraph(HeavyState, context_schema=context_schema, input_schema=InputState,
                         output_schema=OutputState)
    builder.add_node("agent", make_agent(agents))
    builder.add_node("synthesize", synthesize)
    builder.add_conditional_edges(START, launch, ["agent"])
    builder.add_edge("agent", "synthesize")
    builder.add_edge("synthesize", END)
    return builder
