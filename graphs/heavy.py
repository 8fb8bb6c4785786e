"""Heavy: N IterResearch agents launched with Send (each a checkpointed subgraph), then Research-Synthesis.

A thread stopped between two steps goes on after the agents (``SPEC``): the synthesis reads the reports
they handed back. A finished one stays finished. The agents run IterResearch under the run's step limit.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graphs.iterresearch import build_graph as build_iterresearch
from graphs.iterresearch import step_limit
from graphs.spec import GraphSpec, Restart
from nodes.heavy import combine, launch, make_agent
from state.context import Context
from state.graph_state import InputState, OutputState
from state.heavy_state import HeavyState


def build_graph(context_schema: type[Context] = Context) -> StateGraph[HeavyState, Context, InputState, OutputState]:
    """The Heavy graph builder (uncompiled: callers choose the checkpointer and the bound context)."""
    agents = build_iterresearch(context_schema, agent=True).compile(name="iterresearch_agent")
    builder = StateGraph(HeavyState, context_schema=context_schema, input_schema=InputState,
                         output_schema=OutputState)
    builder.add_node("agent", make_agent(agents))
    builder.add_node("combine", combine)
    builder.add_conditional_edges(START, launch, ["agent"])
    builder.add_edge("agent", "combine")
    builder.add_edge("combine", END)
    return builder


# the agents' subgraphs get the run's config, so its limit is theirs; Heavy's own few steps are well within it
SPEC = GraphSpec(build_graph, restart=Restart("agent"), step_limit=step_limit)
