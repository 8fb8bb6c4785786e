"""Plan a round: take over the report writer's proposal, or ask the model for a goal and queries.

The model is called only when there is no usable proposal: the first round, after a backtrack, or when
every proposed query was already run (IterResearch: one main call per round).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Overwrite, Send
from pydantic import BaseModel, Field

from nodes import native
from nodes.workspace import dead_ends, last_call, last_round, round_result
from prompts.fences import EMPTY, fence, today
from prompts.iterresearch import PLANNER_DEFAULT_GOAL, PLANNER_REPEATED, PLANNER_SYSTEM, PLANNER_USER
from state.budget import PLAN_TOKENS, calls_left, may_call, spent
from state.context import Context
from state.events import Planned, emit
from state.graph_state import State
from state.queries import already_searched, fresh_queries, require_question
from state.records import Failure, failure
from tools.model.llm import Endpoint, Usage, guarded, with_method
from tools.model.llm_json import complete_json
from tools.model.structured import Queries
from tools.toolbox import toolbox


class Plan(BaseModel):
    """The planner's decision for one round."""

    reasoning: str = Field(default="", description="What is known, what is missing, why these queries.")
    goal: str = Field(description="What this round must find out, in one sentence.")
    queries: Queries = Field(min_length=1, description="Short keyword search queries.")


def _messages(state: State, ctx: Context, backend: str) -> list[BaseMessage]:
    """The planner's prompt, in the run's prompt format."""
    report, ends = fence(state.get("report") or EMPTY), fence(dead_ends(state))
    if ctx.prompt_format == "native":
        return [HumanMessage(native.render(
            "plan", date=today(), question=state["question"], report=report, backend=backend,
            k=ctx.queries_per_round, last_call=last_call(state), last_response=fence(round_result(state)),
            dead_ends=ends))]
    return [SystemMessage(PLANNER_SYSTEM.format(date=today(), k=ctx.queries_per_round, backend=backend)),
            HumanMessage(PLANNER_USER.format(question=state["question"], report=report,
                                             last_round=fence(last_round(state)), dead_ends=ends))]


async def _ask(endpoint: Endpoint, ctx: Context, messages: list[BaseMessage], tries: int) -> tuple[Plan, Usage]:
    """One plan from the model in at most ``tries`` calls (a JSON reply, or a native one read into its shape)."""
    if ctx.prompt_format == "native":
        reply, usage = await native.complete_native(endpoint, messages, "plan", deadline=ctx.deadline_at,
                                                    attempts=tries, max_tokens=PLAN_TOKENS)
        return Plan(goal=reply.goal, queries=reply.queries), usage
    return await complete_json(endpoint, messages, Plan, repair=tries >= 2, deadline=ctx.deadline_at,
                               max_tokens=PLAN_TOKENS)


async def plan(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Start a round: goal and new queries (never one already run in this thread).

    The first round checks the question, as the CLI does: API runs are refused the same way.
    """
    ctx = runtime.context
    round_no = int(state.get("round", 0)) + 1
    if round_no == 1:
        require_question(state, ctx.max_question_chars)
    box = await toolbox(ctx)
    seen = already_searched(state)
    usage = Usage()
    failures: list[Failure] = []
    # without a usable plan: the last round's goal stands (its failed reads are retried)
    goal, queries = state.get("goal") or PLANNER_DEFAULT_GOAL.format(question=state["question"]), []
    proposed = fresh_queries(state.get("next_queries") or [], seen, ctx.queries_per_round)
    if proposed:  # the round's plan came with the last report: no call
        goal, queries = state.get("next_goal") or goal, proposed
    elif may_call(state, ctx):
        messages = _messages(state, ctx, box.search.description)
        for _ in range(2):  # ask again only when every query repeats one already run
            left = calls_left(state, ctx) - usage.calls
            if left < 1:
                break
            endpoint = with_method(box.endpoint, state.get("structured_output"))
            outcome = await guarded(partial(_ask, endpoint, ctx, list(messages), tries=min(3, left)))
            usage += outcome.usage
            if outcome.value is None:
                failures.append(failure(round=round_no, action="plan", target="planner", error=outcome.error,
                                        transient=True, model=outcome.model_failed))
                break
            goal = outcome.value.goal.strip() or goal
            queries = fresh_queries(outcome.value.queries, seen, ctx.queries_per_round)
            if queries:
                break
            echo = (native.call_text(outcome.value.queries, outcome.value.goal) if ctx.prompt_format == "native"
                    else outcome.value.model_dump_json())
            again = PLANNER_REPEATED.format(queries="; ".join(outcome.value.queries))
            messages += [AIMessage(echo), HumanMessage(again)]
    if not queries and not seen:
        # nothing searched yet and no usable plan: the question itself is the first query
        queries = [state["question"]]
    emit(runtime, Planned(round=round_no, goal=goal, queries=queries, call_tokens=usage.tokens,
                          llm_calls=int(state.get("llm_calls", 0)) + usage.calls,
                          review=ctx.review_plan and bool(queries), proposed=bool(proposed),
                          failed=failures[0]["error"] if failures else "",
                          model=any(f.get("model") for f in failures)), state)
    return {"round": round_no, "goal": goal, "queries": queries, "hits": Overwrite([]),
            "findings": Overwrite([]), "selected": [], "failures": failures, "next_goal": "", "next_queries": [],
            "backtrack": "", "reviewing": ctx.review_plan, **spent(usage)}


def after_plan(state: State) -> list[Send] | str:
    """To review when a person approves plans, else straight to the searches (no step in between)."""
    if state.get("reviewing") and state.get("queries"):
        return "review"
    return dispatch_searches(state)


def dispatch_searches(state: State) -> list[Send] | str:
    """One parallel search per planned query; with none, straight to choosing pages (failed ones may be retried)."""
    queries = state.get("queries", [])
    if not queries:
        return "select"
    return [Send("search", {"query": q, "round": state["round"], "question": state["question"], "of": len(queries)})
            for q in queries]
