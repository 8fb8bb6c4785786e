"""IterResearch: plan -> (review) -> parallel search -> select -> parallel read -> synthesize -> decide.

decide loops back to plan, backtracks, or answers; review is a step only when plans are reviewed.
The module declares what the runner must know of the graph (``SPEC``): a thread goes on as if decide had
chosen another round, and a thread that stopped on a budget researches on from the step before its answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.graph import END, START, StateGraph

from graphs.spec import FINAL_STEPS, GraphSpec, Reopen, Restart
from nodes.answer import answer
from nodes.backtrack import backtrack
from nodes.decide import decide, route_decision
from nodes.plan import after_plan, dispatch_searches, plan
from nodes.read import ReadTask, read
from nodes.review import review
from nodes.search import SearchTask, search
from nodes.select import dispatch_reads, select
from nodes.synthesize import synthesize
from state.budget import budget_reason
from state.context import MAX_ROUNDS, Context
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


# the longest round runs every node but the answer once: plan, review, search, select, read, synthesize,
# decide, backtrack (a step's parallel searches or reads are one step)
STEPS_PER_ROUND = 8
ANOTHER_ROUND = Restart("decide", {"decision": "plan"})  # decide chose another round: plan is next


def recursion_limit(max_rounds: int) -> int:
    """LangGraph's step limit for a run of at most ``max_rounds`` rounds: the budgets end the run first."""
    return STEPS_PER_ROUND * max_rounds + FINAL_STEPS


def step_limit(ctx: Context | None) -> int:
    """The step limit under a context's round budget, or the largest any context allows."""
    return recursion_limit(ctx.max_rounds if ctx else MAX_ROUNDS)


def answered(values: Mapping[str, Any]) -> bool:
    """Whether the research answered its question (a budget raised later has nothing to add)."""
    return bool(values.get("answered"))


SPEC = GraphSpec(build_graph, restart=ANOTHER_ROUND, step_limit=step_limit,
                 # a new round with its stall count and stop reason cleared
                 reopen=Reopen(before="answer", restart=Restart("decide", {"decision": "plan", "stalls": 0,
                                                                           "stop_reason": ""}),
                               settled=answered, still=budget_reason))
