"""The round's one main call: rewrite the evolving report, judge whether it answers, and plan what comes next.

As in IterResearch, one reply carries the new report, the verdict and, when the question is still open,
the next round's goal and queries (or a reason to abandon this line of inquiry): the planner only calls
the model when there is no usable plan to take over.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from nodes import native
from nodes.workspace import dead_ends, last_call, last_round
from prompts.fences import EMPTY, attribute, fence, today
from prompts.iterresearch import FINDING, FINDING_QUOTE, REPORT_SYSTEM, REPORT_USER
from state.budget import REPORT_TOKENS, calls_left, may_call, spent
from state.citations import check_citations, numbered
from state.context import Context
from state.echo import echo_problem
from state.events import Synthesized, emit
from state.graph_state import State
from state.records import Failure, Finding, failure
from tools.model.llm import Endpoint, Usage, guarded, with_method
from tools.model.llm_json import complete_json
from tools.model.structured import Queries
from tools.toolbox import toolbox


class Synthesis(BaseModel):
    """The rewritten report and the verdict on it (reasons first, then the flag, then what is next)."""

    report: str = Field(description="The full rewritten report with [n] citations.")
    reasoning: str = Field(default="", description="Why the report does or does not answer the question.")
    answered: bool = Field(default=False, description="Whether the question is fully answered.")
    answer: str = Field(default="", description="The short answer, when answered.")
    missing: str = Field(default="", description="What to look for next, when not answered.")
    next_goal: str = Field(default="", description="When not answered: what the next round must find out.")
    next_queries: Queries = Field(default_factory=list, description="When not answered: the next round's "
                                    "short keyword search queries.")
    backtrack: str = Field(default="", description="Why this line of inquiry failed, if it did (then no queries).")


def format_findings(findings: list[Finding], numbers: dict[str, int | None]) -> str:
    """Findings as the writer sees them: citation number, title, evidence, verified quote."""
    blocks = []
    for f in findings:
        block = FINDING.format(n=numbers.get(f["url"]), title=f["title"], evidence=f["evidence"])
        if f["quote"]:
            block += FINDING_QUOTE.format(quote=f["quote"])
        blocks.append(fence(block))
    return "\n\n".join(blocks)


def fallback_report(report: str, findings: list[Finding], numbers: dict[str, int | None]) -> str:
    """Without a usable model reply: keep the old report and append the new evidence, cited."""
    added = [f"- {f['evidence']} [{numbers.get(f['url'])}]" for f in findings]
    return "\n".join([report.strip(), *added]).strip()


def _failure(state: State, error: str, transient: bool = True, model: bool = False) -> Failure:
    return failure(round=int(state.get("round", 0)), action="synthesize", target="report writer", error=error,
                   transient=transient, model=model)


def json_messages(ctx: Context, state: State, backend: str, findings: str) -> list[BaseMessage]:
    """The report writer's prompt (JSON reply): the report, the round's findings, the workspace."""
    return [
        SystemMessage(REPORT_SYSTEM.format(date=today(), words=ctx.report_max_words, k=ctx.queries_per_round,
                                           backend=backend)),
        HumanMessage(REPORT_USER.format(question=state["question"], report=fence(state.get("report") or EMPTY),
                                        round=state.get("round", 0), goal=attribute(state.get("goal", "")),
                                        findings=findings, last_round=fence(last_round(state, findings=False)),
                                        dead_ends=fence(dead_ends(state)))),
    ]


def native_prompt(ctx: Context, state: State, backend: str, findings: str) -> str:
    """The round's one user message in the native format: the findings are the last search's response."""
    return native.render("round", date=today(), question=state["question"], report=fence(state.get("report") or ""),
                         backend=backend, k=ctx.queries_per_round, words=ctx.report_max_words,
                         last_call=last_call(state), last_response=findings, dead_ends=fence(dead_ends(state)))


async def _ask_json(endpoint: Endpoint, ctx: Context, state: State, backend: str, findings: str,
                    tries: int) -> tuple[Synthesis, Usage]:
    return await complete_json(endpoint, json_messages(ctx, state, backend, findings), Synthesis,
                               repair=tries >= 2, deadline=ctx.deadline_at, max_tokens=REPORT_TOKENS)


async def _ask_native(endpoint: Endpoint, ctx: Context, state: State, backend: str, findings: str,
                      tries: int) -> tuple[Synthesis, Usage]:
    """The round in the native format: the findings are the last search's response."""
    prompt = native_prompt(ctx, state, backend, findings)
    reply, usage = await native.complete_native(endpoint, [HumanMessage(prompt)], "round", deadline=ctx.deadline_at,
                                                attempts=tries, max_tokens=REPORT_TOKENS)
    return Synthesis(report=reply.report, answered=bool(reply.answer), answer=reply.answer, next_goal=reply.goal,
                     next_queries=reply.queries, backtrack=reply.backtrack), usage


def next_round(result: Synthesis, answered: bool) -> dict[str, Any]:
    """The plan the reply proposes for the next round (nothing once answered; no queries when backtracking)."""
    if answered:
        return {}
    why = result.backtrack.strip()
    queries = [] if why else [q.strip() for q in result.next_queries if q.strip()]
    return {"next_goal": result.next_goal.strip(), "next_queries": queries, "backtrack": why}


def cap_words(text: str, words: int) -> str:
    """Hard cap on the report's length (the prompt asks for it; this guarantees it)."""
    tokens = text.split(" ")
    if len(text.split()) <= words * 1.25:
        return text
    return " ".join(tokens[: int(words * 1.25)]).rstrip() + " …"


async def synthesize(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Merge this round's findings into the report; citations the model invents are removed and counted."""
    findings = state.get("findings", [])
    if not findings:
        return {}  # nothing new: keep the report, spend no call
    ctx = runtime.context
    numbers = {src["url"]: src["n"] for src in state.get("sources", [])}
    old = state.get("report", "")
    update: dict[str, Any] = {}
    usage = Usage()
    report = fallback_report(old, findings, numbers)
    if not may_call(state, ctx):
        update["failures"] = [_failure(state, "budget spent: new evidence appended to the report unedited")]
    else:
        box = await toolbox(ctx)
        left = calls_left(state, ctx)
        ask = _ask_native if ctx.prompt_format == "native" else _ask_json
        # a call that fails outright counts one, and a second try then has its own tries: both within what is left
        tries = min(3, left)
        endpoint = with_method(box.endpoint, state.get("structured_output"))
        outcome = await guarded(partial(ask, endpoint, ctx, state, box.search.description,
                                        format_findings(findings, numbers), tries=tries),
                                attempts=2 if left >= tries + 1 else 1)
        usage, result = outcome.usage, outcome.value
        echoed = echo_problem(result.report) if result is not None else None
        if result is None:
            update["failures"] = [_failure(state, outcome.error, model=outcome.model_failed)]
        elif echoed:  # the model's failure, not a passing one: the evidence is appended unedited
            update["failures"] = [_failure(state, f"the report writer's reply was unusable: {echoed}", False, True)]
        elif not check_citations(result.report, numbered(state.get("sources", []))).cited:
            # a report that cites nothing drops the round's evidence (a weak model's "New report"): appended unedited
            update["failures"] = [_failure(state, "the report writer's reply cites none of the evidence", False,
                                           True)]
        else:
            report = result.report
            answered = result.answered and bool(result.answer.strip())
            update = {"answered": answered, "candidate": result.answer.strip(), "missing": result.missing.strip(),
                      **next_round(result, answered)}
    checked = check_citations(report, numbered(state.get("sources", [])))
    report = cap_words(checked.text.strip(), ctx.report_max_words) or old
    emit(runtime, Synthesized(answered=update.get("answered", False), report_chars=len(report),
                              call_tokens=usage.tokens, invented_citations=checked.removed,
                              next_queries=update.get("next_queries", []),
                              backtrack=update.get("backtrack", "")), state)
    return {"report": report, "invented_citations": checked.removed, **update, **spent(usage)}
