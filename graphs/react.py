"""ReAct in the model's native format: agent -> act (runs the called tool) -> agent ... -> finish.

agent -> agent: a forced answer the model did not give is asked for once more.

Each model call and each tool run is its own checkpointed step: a killed run resumes at the step it
stopped in and never makes a finished call again. A thread stopped between two steps goes on with the
agent's next call (``SPEC``); a finished one stays finished: no raised budget reopens it.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from graphs.spec import FINAL_STEPS, GraphSpec, Restart
from nodes.react_agent import after_agent, agent, finish
from nodes.react_tools import act
from state.context import MAX_REACT_CALLS, Context
from state.graph_state import InputState, OutputState
from state.react_state import ReactState


def build_graph(context_schema: type[Context] = Context) -> StateGraph[ReactState, Context, InputState, OutputState]:
    """The ReAct graph builder (uncompiled: callers choose the checkpointer and the bound context)."""
    builder = StateGraph(ReactState, context_schema=context_schema, input_schema=InputState,
                         output_schema=OutputState)
    builder.add_node("agent", agent)
    builder.add_node("act", act)
    builder.add_node("finish", finish)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", after_agent, ["act", "agent", "finish"])
    builder.add_edge("act", "agent")
    builder.add_edge("finish", END)
    return builder


def step_limit(ctx: Context | None) -> int:
    """Two steps a model call (agent, then act) under the context's call budget, or the largest allowed."""
    return 2 * (ctx.react_max_calls if ctx else MAX_REACT_CALLS) + FINAL_STEPS


SPEC = GraphSpec(build_graph, restart=Restart("act"), step_limit=step_limit)  # after act: the agent's call
