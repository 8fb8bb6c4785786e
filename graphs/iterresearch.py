"""IterResearch: plan -> (review) -> parallel search -> select -> parallel read -> synthesize -> decide.

decide loops back to plan, backtracks, or answers; review is a step only when plans are reviewed.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from nodes.answer import answer
from nodes.backtrack import backtrack
from nodes.decide import decide, route_decision
from nodes.plan import after_plan, dispatch_searches, plan
from nodes.read import ReadTask, read
from nodes.review import review
from nodes.search import SearchTask, search
from nodes.select import dispatch_reads, select
from nodes.synthesize import synthesize
from state.context import Context
from state.graph_state import AgentInput, AgentOutput, InputState, OutputState, State


def build_graph(context_schema: type[Context] = Context, *, agent: bool = False) -> StateGraph[Any, Context, Any, Any]:
    """The IterResearch graph builder (uncompiled: callers choose the checkpointer and the bound context).

    ``agent``: as one agent of a Heavy run (it takes its number, angle and budget share, and reports what it spent).
    """
    builder = StateGraph(State, context_schema=context_schema, input_schema=AgentInput if agent else InputState,
                         output_schema=AgentOutput if agent else OutputState)
    builder.add_node("plan", plan)
    builder.add_node("review", review)
    # Send payloads, not graph state: mypy cannot match these TypedDicts to the add_node overloads
    builder.add_node("search", search, input_schema=SearchTask)  # type: ignore[call-overload]
    builder.add_node("select", select)
    builder.add_node("read", read, input_schema=ReadTask)  # type: ignore[call-overload]
    builder.add_node("synthesize", synthesize)
    builder.add_node("decide", decide)
    builder.add_node("backtrack", backtrack)
    builder.add_node("answer", answer)

    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", after_plan, ["review", "search", "select"])
    builder.add_conditional_edges("review", dispatch_searches, ["search", "select"])
    builder.add_edge("search", "select")
    builder.add_conditional_edges("select", dispatch_reads, ["read", "decide"])
    builder.add_edge("read", "synthesize")
    builder.add_edge("synthesize", "decide")
    builder.add_conditional_edges("decide", route_decision, {"plan": "plan", "backtrack": "backtrack",
                                                             "answer": "answer"})
    builder.add_edge("backtrack", "plan")
    builder.add_edge("answer", END)
    return builder
