"""Heavy mode: N IterResearch agents in parallel, each from its own angle, then one Research-Synthesis call.

Each agent is the IterResearch graph run as a subgraph (its own checkpoints: a killed run resumes each
unfinished agent where it stopped, and finished agents are not run again), with its share of the budgets.
The synthesis reads only the agents' compressed final reports, never their trajectories: citations are
renumbered over the union of the agents' sources first, so every [n] it may write is a page some agent
retrieved, and the final report is checked like any other.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel
from langgraph.runtime import Runtime
from langgraph.types import Send
from pydantic import BaseModel, Field

from nodes.answer import compose, grounded, supported
from nodes.grounding import verify_calls
from prompts.fences import NONE, SOURCE_LINE, attribute, fence, today
from prompts.heavy import AGENT_REPORT, ANGLES, SYSTEM, USER
from state.budget import SYNTHESIS_CALLS, past_deadline
from state.citations import renumber
from state.context import Context
from state.echo import echo_problem
from state.events import AgentDone, Answered, emit
from state.heavy_state import AgentReport, HeavyState
from state.queries import require_question
from state.records import Source
from state.reducers import merge_sources
from tools.model.llm import Outcome, Usage, guarded
from tools.model.llm_json import complete_json
from tools.toolbox import toolbox

_CITATION = re.compile(r"\[(\d+)\]")
UNDETERMINED = frozenset({"", "unknown", "not determined"})  # an agent's answer that is none


class Combined(BaseModel):
    """The Research-Synthesis call's reply (the agents' reports combined)."""

    reasoning: str = Field(default="", description="How the reports were weighed.")
    answer: str = Field(description="The short final answer.")
    report: str = Field(description="The final report with [n] citations.")


def launch(state: HeavyState, runtime: Runtime[Context]) -> list[Send]:
    """One Send per agent, each with its angle and its share of the budgets (agents already done are skipped).

    The question is checked first, as the CLI does: API runs are refused the same way, before any agent starts.
    """
    question = require_question(state, runtime.context.max_question_chars)
    n = runtime.context.heavy_agents
    done = {r["agent"] for r in state.get("agent_reports", [])}
    return [Send("agent", {"question": question, "agent": i, "angle": ANGLES[(i - 1) % len(ANGLES)],
                           "share": n}) for i in range(1, n + 1) if i not in done]


# at most ``heavy_concurrency`` agents of one run at once: a semaphore per thread (and its concurrency), kept
# while some agent of that run holds or waits for it; a server's other Heavy runs have their own
_SLOTS: dict[tuple[str, int], tuple[asyncio.Semaphore, int]] = {}


@asynccontextmanager
async def agent_slot(thread_id: str, n: int) -> AsyncIterator[None]:
    """One of the ``n`` agent slots of this thread's run."""
    key = (thread_id, n)
    semaphore, users = _SLOTS.get(key, (asyncio.Semaphore(n), 0))
    _SLOTS[key] = (semaphore, users + 1)
    try:
        async with semaphore:
            yield
    finally:
        semaphore, users = _SLOTS[key]
        if users > 1:
            _SLOTS[key] = (semaphore, users - 1)
        else:
            del _SLOTS[key]


def make_agent(subgraph: Pregel[Any, Any, Any, Any]) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The agent node: runs ``subgraph`` (IterResearch) for one Send, at most ``heavy_concurrency`` at a time.

    Invoked from the node, the subgraph is checkpointed under the node's task (resumable on its own), and
    LangGraph finds it for Studio through this closure.
    """

    async def agent(task: dict[str, Any], config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        async with agent_slot(str(config["configurable"]["thread_id"]), runtime.context.heavy_concurrency):
            out = await subgraph.ainvoke(task, config, context=runtime.context)
        report = AgentReport(agent=int(task["agent"]), angle=str(task.get("angle", "")),
                             answer=str(out.get("answer", "")), report=str(out.get("report", "")),
                             body=str(out.get("body", "")),
                             sources=list(out.get("sources", [])),
                             llm_calls=int(out.get("llm_calls", 0)), tokens=int(out.get("tokens", 0)),
                             rounds=int(out.get("round", 0)))
        emit(runtime, AgentDone(agent=report["agent"], answer=report["answer"], llm_calls=report["llm_calls"]))
        return {"agent_reports": [report], "llm_calls": report["llm_calls"], "tokens": report["tokens"]}

    return agent


def union_sources(reports: list[AgentReport]) -> tuple[list[Source], list[tuple[AgentReport, str]]]:
    """Every agent's cited sources numbered once over the union, and each report's body renumbered to it.

    The body is the field the agent handed back (its report's markdown is never cut apart).
    """
    ordered = sorted(reports, key=lambda r: r["agent"])
    union = merge_sources([], [[Source(**{**s, "n": 0}) for r in ordered for s in sorted(
        (s for s in r["sources"] if s["n"] is not None), key=lambda s: s["n"] or 0)]])
    global_n = {s["url"]: s["n"] for s in union}
    bodies = []
    for r in ordered:
        local = {s["n"]: global_n[s["url"]] for s in r["sources"] if s["n"] is not None}
        bodies.append((r, renumber(r["body"], local)))
    return union, bodies


def synthesis_messages(question: str, union: list[Source],
                       bodies: list[tuple[AgentReport, str]]) -> list[BaseMessage]:
    """The Research-Synthesis prompt: each agent's report (renumbered to the union) and the union's sources."""
    texts = [AGENT_REPORT.format(agent=r["agent"], answer=attribute(r["answer"]), body=fence(body))
             for r, body in bodies]
    listing = "\n".join(SOURCE_LINE.format(n=s["n"], title=s["title"], url=s["url"]) for s in union)
    return [SystemMessage(SYSTEM.format(date=today())),
            HumanMessage(USER.format(question=question, reports="\n\n".join(texts), sources=fence(listing or NONE)))]


async def combine(state: HeavyState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Research-Synthesis: one call over the agents' reports; the final report cites the union of their sources."""
    ctx = runtime.context
    reports = state.get("agent_reports", [])
    union, bodies = union_sources(reports)
    messages = synthesis_messages(state["question"], union, bodies)
    # the synthesis's calls are kept out of the agents' shares; what is left of max_llm_calls bounds them too
    left = min(SYNTHESIS_CALLS, ctx.max_llm_calls - int(state.get("llm_calls", 0)))
    outcome: Outcome[Combined] = Outcome(None, Usage(), "no model call left in max_llm_calls for the synthesis")
    if left > 0 and not past_deadline(ctx):
        outcome = await guarded(partial(complete_json, (await toolbox(ctx)).endpoint, messages, Combined,
                                        repair=left >= 2, deadline=ctx.deadline_at), attempts=2 if left >= 3 else 1)
    echoed = echo_problem(outcome.value.report) if outcome.value is not None else None
    if echoed:  # a weak model's echo of its prompt: no synthesis
        outcome = Outcome(None, outcome.usage, f"the synthesis was unusable: {echoed}")
    if outcome.value is not None:
        short, body = outcome.value.answer, outcome.value.report
    else:  # no usable reply: the best-supported report as it is (a definite answer, the most agreed, then the
        # most cited: agents that agree on not knowing outvote none that found it)
        short, body = max(((r["answer"], body) for r, body in bodies), default=("", ""), key=lambda pair: (
            pair[0].strip().lower() not in UNDETERMINED, sum(r["answer"] == pair[0] for r, _ in bodies),
            len(cited_numbers(pair[1]))))
    final = supported(compose(state["question"], short, body, union), state["question"], union,
                      "no agent's report cites a source for it")
    final = await grounded(final, state["question"], union, ctx, verify_calls(state, ctx, outcome.usage))
    failed = {"error": f"the synthesis gave nothing usable ({outcome.error}): the best agent report stands"
              } if outcome.value is None else {"error": final.grounding.failed if final.grounding else ""}
    emit(runtime, Answered(answer=final.answer, cited=list(final.cited), agents=len(reports),
                           invented_citations=final.invented_citations, call_tokens=outcome.usage.tokens,
                           error=failed.get("error", "")), state)
    return {**final.finished(outcome.usage), "sources": union,
            "round": max((r["rounds"] for r in reports), default=0)}


def cited_numbers(text: str) -> set[int]:
    """The citation numbers a text uses."""
    return {int(n) for n in _CITATION.findall(text)}


