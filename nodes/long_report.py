"""The long report (``report_length="long"``): an outline from the evidence, then each section from its own.

As the WebWeaver line of work writes long reports: one structured call plans the sections, each with the
numbered sources that support it; then one call per section (in parallel, at most ``section_concurrency`` at
once) writes it from only those sources (what the research took from each, and an excerpt of the stored
text), numbered [1]..[k] for that section alone. Each section's citations are renumbered into the thread's
numbering (a number it was not shown goes), so the report has one numbering and one source list, and the
final report's grounding check (nodes/answer.py) then checks every section's citations like any other.

The calls count against max_llm_calls and max_tokens: when the budget cannot pay for the outline and at
least two sections, or the outline is unusable, the single final writer's report stands, and the run's
failures say why. A section whose call fails is left out, with a note; the report still ends.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from nodes.grounding import stored_text
from prompts.fences import EMPTY, NONE, attribute, fence, today
from prompts.long_report import (
    EVIDENCE_LINE,
    OUTLINE_SYSTEM,
    OUTLINE_USER,
    SECTION_DOCUMENT,
    SECTION_SYSTEM,
    SECTION_USER,
    STATEMENT,
)
from state.budget import REPORT_TOKENS, max_calls, max_tokens, past_deadline
from state.citations import check_citations, numbered, renumber, strip_model_sources
from state.context import Context
from state.echo import echo_problem
from state.records import Failure, Source, failure
from tools.documents.passages import focus_text
from tools.model.llm import Outcome, Usage, complete_text, guarded
from tools.model.llm_json import complete_json
from tools.toolbox import toolbox

MAX_SECTIONS = 8  # the most sections an outline may plan
MIN_SECTIONS = 2  # fewer is no long report: the single final writer's report stands
EXCERPT_CHARS = 3_000  # of one source's stored text in a section's prompt (its passages that match the section)
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+(?!\[)")  # a citation after the full stop stays with its sentence


class Section(BaseModel):
    """One planned section: its heading, what it covers, and the evidence numbers that support it."""

    title: str = Field(description="A short heading.")
    covers: str = Field(default="", description="What the section explains.")
    sources: list[int] = Field(default_factory=list, description="Numbers of the evidence that supports it.")


class Outline(BaseModel):
    """The outline call's reply."""

    sections: list[Section] = Field(description="The report's sections, in order.")


@dataclass(frozen=True)
class Evidence:
    """One numbered source as the long report's writers see it: what the research took from it."""

    source: Source
    statements: tuple[str, ...]


@dataclass
class Written:
    """The long report's body (or the body it was given, when it could not be written), what it spent, notes."""

    body: str
    usage: Usage = field(default_factory=Usage)
    failures: list[Failure] = field(default_factory=list)


def evidence_bank(report: str, sources: list[Source]) -> dict[int, Evidence]:
    """Every numbered source, with the report's sentences that cite it (the research's evidence, by number)."""
    by_n = numbered(sources)
    said: dict[int, list[str]] = {n: [] for n in by_n}
    for line in report.splitlines():
        for sentence in _SENTENCE.split(line.strip(" -*\t")):
            for n in check_citations(sentence, by_n).cited:
                said[n].append(" ".join(check_citations(sentence, ()).text.split()))  # its own numbering
    return {n: Evidence(src, tuple(dict.fromkeys(said[n]))) for n, src in sorted(by_n.items())}


def outline_messages(question: str, report: str, bank: Mapping[int, Evidence], sections: int) -> list[BaseMessage]:
    """The outline's prompt: the question, the research report and each source's statements, fenced."""
    listing = "\n".join("\n".join([EVIDENCE_LINE.format(n=n, title=e.source["title"], url=e.source["url"]),
                                   *(STATEMENT.format(statement=s) for s in e.statements)])
                        for n, e in bank.items())
    return [SystemMessage(OUTLINE_SYSTEM.format(date=today(), sections=sections)),
            HumanMessage(OUTLINE_USER.format(question=question, report=fence(report or EMPTY),
                                             sources=fence(listing or NONE)))]


def section_messages(question: str, section: Section, documents: list[tuple[Evidence, str]]) -> list[BaseMessage]:
    """One section's prompt: its documents only, numbered 1..k in the order given, each fenced."""
    shown = [SECTION_DOCUMENT.format(n=k, title=attribute(e.source["title"]), url=attribute(e.source["url"]),
                                     statements=fence("\n".join(e.statements) or NONE), excerpt=fence(excerpt))
             for k, (e, excerpt) in enumerate(documents, 1)]
    return [SystemMessage(SECTION_SYSTEM.format(date=today(), title=attribute(section.title),
                                                covers=" ".join(section.covers.split()))),
            HumanMessage(SECTION_USER.format(question=question, documents="\n\n".join(shown)))]


def calls_affordable(state: Mapping[str, Any], ctx: Context, usage: Usage) -> int:
    """Model calls this thread may still make after ``usage`` (0 when its tokens or its deadline are spent)."""
    if int(state.get("tokens", 0)) + usage.tokens >= max_tokens(state, ctx) or past_deadline(ctx):
        return 0
    return max_calls(state, ctx) - int(state.get("llm_calls", 0)) - usage.calls


def planned(outline: Outline, bank: Mapping[int, Evidence], room: int) -> list[Section]:
    """The outline's sections that cite some listed evidence (only those numbers kept), at most ``room``."""
    kept = []
    for section in outline.sections:
        numbers = list(dict.fromkeys(n for n in section.sources if n in bank))
        if section.title.strip() and numbers:
            kept.append(section.model_copy(update={"sources": numbers}))
    return kept[:room]


async def _excerpt(ctx: Context, evidence: Evidence, focus: str) -> str:
    """The passages of the source's stored text that best match ``focus`` (empty when it is no longer there)."""
    text = await stored_text(await toolbox(ctx), evidence.source, focus, ctx.deadline_at, EXCERPT_CHARS)
    return focus_text(text, focus, EXCERPT_CHARS) if text else ""


async def _section(ctx: Context, question: str, section: Section, bank: Mapping[int, Evidence],
                   slots: asyncio.Semaphore) -> Outcome[str]:
    """One section written from its own evidence, its citations renumbered into the thread's numbering."""
    focus = f"{section.title} {section.covers}"
    documents = [(bank[n], await _excerpt(ctx, bank[n], focus)) for n in section.sources]
    messages = section_messages(question, section, documents)
    async with slots:
        outcome = await guarded(partial(complete_text, (await toolbox(ctx)).endpoint, messages,
                                        deadline=ctx.deadline_at, max_tokens=REPORT_TOKENS))
    text = (outcome.value or "").strip()
    echoed = echo_problem(text) if text else None
    if outcome.error or echoed or not text:
        why = outcome.error or (f"its reply was unusable: {echoed}" if echoed else "its reply was empty")
        return Outcome(None, outcome.usage, why, outcome.model_failed or bool(echoed) or not text)
    text = strip_model_sources(re.sub(r"\A#{1,6}[^\n]*\n", "", text)).strip()
    local = {k: n for k, n in enumerate(section.sources, 1)}
    return Outcome(f"## {' '.join(section.title.split())}\n\n{renumber(text, dict(local))}", outcome.usage)


def _note(state: Mapping[str, Any], target: str, error: str, *, transient: bool, model: bool = False) -> Failure:
    """What the run's failures say of the long report (the answer step's, in its round)."""
    return failure(round=int(state.get("round", 0)), action="answer", target=target, error=error,
                   transient=transient, model=model)


async def write_long(state: Mapping[str, Any], ctx: Context, question: str, lead: str, usage: Usage) -> Written:
    """The long report's body: ``lead`` (the final writer's report), then the sections written from the evidence.

    ``usage`` is what the answer step spent before: the outline and the sections get what the budget leaves.
    """
    bank = evidence_bank(str(state.get("report", "")), list(state.get("sources", [])))
    room = calls_affordable(state, ctx, usage)
    if room < 1 + MIN_SECTIONS or len(bank) == 0:
        why = (f"the budget (max_llm_calls {max_calls(state, ctx)}, max_tokens {max_tokens(state, ctx)}) leaves "
               f"{max(room, 0)} model calls, and an outline and {MIN_SECTIONS} sections need {1 + MIN_SECTIONS}"
               if bank else "no source was cited")
        return Written(lead, failures=[_note(state, "long report", f"no long report: {why}; the final writer's "
                                             "report stands", transient=False)])
    endpoint = (await toolbox(ctx)).endpoint
    messages = outline_messages(question, str(state.get("report", "")), bank, min(MAX_SECTIONS, room - 1))
    outline = await guarded(partial(complete_json, endpoint, messages, Outline, repair=room >= 2 + MIN_SECTIONS,
                                    deadline=ctx.deadline_at, max_tokens=REPORT_TOKENS))
    spent = outline.usage
    sections = planned(outline.value, bank, calls_affordable(state, ctx, usage + spent)) if outline.value else []
    if len(sections) < MIN_SECTIONS:
        why = outline.error or f"the outline planned {len(sections)} sections that cite the evidence"
        return Written(lead, spent, [_note(state, "long report", f"no long report: {why}; the final writer's report "
                                           "stands", transient=not outline.model_failed, model=outline.model_failed)])
    slots = asyncio.Semaphore(ctx.section_concurrency)
    written = await asyncio.gather(*(_section(ctx, question, s, bank, slots) for s in sections))
    failures = [_note(state, f"long report section {s.title!r}", f"the section was left out: {o.error}",
                      transient=not o.model_failed, model=o.model_failed)
                for s, o in zip(sections, written, strict=True) if o.value is None]
    for o in written:
        spent += o.usage
    body = "\n\n".join([strip_model_sources(lead).strip(), *(o.value for o in written if o.value)])
    return Written(body.strip(), spent, failures)
