"""The final cited report: citations to sources not retrieved go, the rest are checked against their text.

Citations to anything not retrieved in this thread are removed and counted, and every cited sentence is
checked against its source's text (``grounded``, in every mode).

When the research answered the question, the report is built from the evolving report, with no further
model call (IterResearch's answer is the workspace's). A research stopped before it was settled gets one
more call that writes it; so does a long report (``report_length="long"``), whose sections follow, each
written from its own evidence (nodes/long_report.py) and checked with the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from core.text import clip
from nodes.grounding import ground, verify_calls
from nodes.long_report import write_long
from prompts.fences import EMPTY, NONE, SOURCE_LINE, fence, today
from prompts.iterresearch import FINAL_ANSWERED, FINAL_STOPPED, FINAL_SYSTEM, FINAL_USER
from state.answer_line import answer_and_body
from state.budget import calls_left, past_deadline, spent
from state.citations import check_citations, numbered, sources_section, strip_model_sources
from state.context import Context
from state.echo import echo_problem
from state.events import Answered, emit
from state.graph_state import State
from state.links import keep_source_links
from state.records import Failure, Source, failure
from tools.grounding.attribution import Grounded
from tools.model.llm import Usage, complete_text, guarded
from tools.toolbox import toolbox

UNSUPPORTED = ("The evidence gathered does not determine the answer ({why}). The final writer's reply, "
               "\"{answer}\", cites no source this run read, so it is not given as the answer. What the research "
               "found so far follows.")
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)


def split_answer(text: str, fallback: str) -> tuple[str, str]:
    """Separate the ``<answer>`` line from the report body."""
    match = _ANSWER_TAG.search(text)
    if not match:
        return fallback, text.strip()
    return " ".join(match.group(1).split()), (text[: match.start()] + text[match.end() :]).strip()


def supported(final: Composed, question: str, sources: list[Source], why: str, evidence: str = "") -> Composed:
    """``final``, unless its answer cites no source this run read: then "not determined", why, and the evidence.

    Every mode's final step asks this: a weak model's answer from no evidence ("James Leacock", "none", its
    own prompt's words) is quoted as unsupported, never given as the answer.
    """
    if not final.answer or final.cited:
        return final
    note = UNSUPPORTED.format(answer=clip(final.answer, 200), why=why)
    return compose(question, "", f"{note}\n\n{evidence}".strip(), sources)


@dataclass(frozen=True)
class Composed:
    """The final markdown, its parts as fields, what was cited, and what had to be removed.

    ``body`` is the report between its answer line and its sources, as checked: what a Heavy synthesis
    reads of an agent (it never cuts the markdown apart).
    """

    report: str
    body: str
    answer: str
    cited: tuple[int, ...]
    invented_citations: int
    foreign_links: int
    grounding: Grounded | None = None  # how its citations held against their sources' text (``grounded``)

    def finished(self, usage: Usage = Usage()) -> dict[str, Any]:  # noqa: B008 - frozen
        """The state update that ends a run with this report (every mode's last step), spending ``usage`` too."""
        checked = self.grounding or Grounded(self.body)
        return {"answer": self.answer or "not determined", "report": self.report, "body": self.body, "done": True,
                "invented_citations": self.invented_citations, "citations_checked": checked.checked,
                "citations_reattributed": checked.reattributed, "claims_unsupported": checked.unsupported,
                "shown": AIMessage(self.report), **spent(usage + Usage(checked.calls, checked.tokens))}

    def failures(self, round: int) -> list[Failure]:
        """The model's verification of the citations, as a failure record when it gave no verdicts."""
        if self.grounding is None or not self.grounding.failed:
            return []
        return [failure(round=round, action="verify", target="citation check", error=self.grounding.failed,
                        transient=True)]


def compose(question: str, answer: str, body: str, sources: list[Source]) -> Composed:
    """The final markdown: question, answer, body with valid citations and source links only, sources cited.

    The answer line is written once, whatever label the model gave its answer (every mode ends here).
    """
    answer, body = answer_and_body(answer, body)
    retrieved = [s for s in sources if s["n"] is not None]
    checked = check_citations(strip_model_sources(body), numbered(sources))  # [n](url) becomes [n] first
    answer_checked = check_citations(answer, numbered(sources))
    body, body_links = keep_source_links(checked.text, retrieved)
    short, answer_links = keep_source_links(answer_checked.text, retrieved)
    short = short.strip()
    cited = tuple(dict.fromkeys(answer_checked.cited + checked.cited))
    body = body.strip()
    parts = [f"# {question.strip()}", f"**Answer:** {short or 'not determined'}", body, sources_section(sources, cited)]
    return Composed("\n\n".join(p for p in parts if p) + "\n", body, short, cited,
                    checked.removed + answer_checked.removed, answer_links + body_links)


async def grounded(final: Composed, question: str, sources: list[Source], ctx: Context, calls: int = 0) -> Composed:
    """``final`` with every cited sentence checked against its source's text (every mode's final report).

    A citation its source does not bear out moves to the source that does, or goes and the sentence is
    marked; the report is written again only when something changed. ``calls``: what the model's
    verification of the sentences the cheap check leaves undecided may spend (nodes/grounding.verify_calls).
    """
    checked = await ground(ctx, final.body, sources, calls)
    if checked.body == final.body:
        return replace(final, grounding=checked)
    again = compose(question, final.answer, checked.body, sources)
    return replace(again, invented_citations=final.invented_citations, foreign_links=final.foreign_links,
                   grounding=checked)


def final_messages(state: State) -> list[BaseMessage]:
    """The final writer's prompt: the research's status, its report and the numbered sources, fenced."""
    status = (FINAL_ANSWERED.format(candidate=state.get("candidate", "")) if state.get("answered")
              else FINAL_STOPPED.format(reason=state.get("stop_reason") or "budget"))
    listing = "\n".join(SOURCE_LINE.format(n=n, title=src["title"], url=src["url"])
                        for n, src in sorted(numbered(state.get("sources", [])).items()))
    return [SystemMessage(FINAL_SYSTEM.format(date=today(), status=status)),
            HumanMessage(FINAL_USER.format(question=state["question"], report=fence(state.get("report", "") or EMPTY),
                                           sources=fence(listing or NONE)))]


async def answer(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Final report (always produced: without a model call left, the evolving report is the answer)."""
    ctx = runtime.context
    sources = state.get("sources", [])
    report = state.get("report", "")
    candidate = state.get("candidate", "")
    usage = Usage()
    failures: list[Failure] = []
    text = ""
    built = bool(state.get("answered")) and ctx.report_length == "short"
    left = calls_left(state, ctx)  # the call kept for the answer is this one
    if not built and left >= 0 and not past_deadline(ctx):
        messages = final_messages(state)
        endpoint = (await toolbox(ctx)).endpoint
        tries = 2 if left >= 1 else 1  # the last word is worth a second try when the budget has one
        outcome = await guarded(partial(complete_text, endpoint, messages, deadline=ctx.deadline_at), tries)
        text, usage = outcome.value or "", outcome.usage
        if outcome.error:
            failures.append(failure(round=int(state.get("round", 0)), action="answer", target="final writer",
                                    error=outcome.error, transient=True, model=outcome.model_failed))
    echoed = echo_problem(text)
    if echoed:  # a weak model's echo of its prompt is no report: the research's own report stands
        failures.append(failure(round=int(state.get("round", 0)), action="answer", target="final writer",
                                error=f"the final writer's reply was unusable: {echoed}", transient=False,
                                model=True))
        text = ""
    short, body = split_answer(text, candidate) if text.strip() else (candidate, report)
    if ctx.report_length == "long":  # then the sections, each from its own evidence (nodes/long_report.py)
        written = await write_long(state, ctx, state["question"], body, usage)
        body, usage, failures = written.body, usage + written.usage, failures + written.failures
    final = supported(compose(state["question"], short, body, sources), state["question"], sources,
                      state.get("stop_reason") or "no page gave usable evidence", report)
    final = await grounded(final, state["question"], sources, ctx, verify_calls(state, ctx, usage))
    emit(runtime, Answered(answer=final.answer, cited=list(final.cited), written=bool(text.strip()),
                           invented_citations=final.invented_citations, foreign_links=final.foreign_links,
                           call_tokens=usage.tokens), state)
    return {**final.finished(usage), "failures": [*failures, *final.failures(int(state.get("round", 0)))]}
