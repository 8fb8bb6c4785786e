"""Read one page (one Send per page, in parallel) and extract only the evidence relevant to the goal."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, NotRequired

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from core.errors import ReadError
from core.text import squash
from prompts.fences import attribute, fence, today
from prompts.iterresearch import READER_SYSTEM, READER_USER
from state.budget import READ_TOKENS, spent
from state.context import Context
from state.events import PageRead, ReadFailed, emit, step_key
from state.records import Finding, Hit, Source, failure
from tools.model.llm import Usage, guarded, with_method
from tools.model.llm_json import complete_json
from tools.quorum import Late
from tools.toolbox import Toolbox, toolbox
from tools.web.pages import reading_key

QUOTE_LIMIT = 300


class ReadTask(TypedDict):
    """What the selector sends to one reader."""

    hit: Hit
    question: str
    goal: str
    round: int
    calls: NotRequired[int]  # model calls this reader may spend (2 allows a repair retry)
    method: NotRequired[str]  # the structured-output method the thread switched to, if it did
    of: NotRequired[int]  # how many pages the round reads (for the straggler rule)


class Extraction(BaseModel):
    """Goal-directed evidence from one document."""

    relevant: bool = Field(description="Whether the document holds anything for the goal or question.")
    evidence: str = Field(default="", description="The relevant facts in one to four sentences.")
    quote: str = Field(default="", description="A short verbatim supporting passage.")

    @staticmethod
    def placeholders_unused(data: dict[str, Any]) -> bool:
        """``{"relevant": false, "evidence": "..."}`` says "nothing relevant": its placeholders stand for nothing."""
        return data.get("relevant") is False


def verified_quote(quote: str, page_text: str) -> str:
    """The quote if the page really contains it (ignoring case, spacing and punctuation), else ''."""
    quote = quote.strip().strip('"“”').strip()[:QUOTE_LIMIT]
    return quote if quote and squash(quote) in squash(page_text) else ""


def reader_messages(task: ReadTask, title: str, text: str) -> list[BaseMessage]:
    """The reader's prompt for one page of the task: the question, the goal and the page, fenced."""
    return [SystemMessage(READER_SYSTEM.format(date=today())),
            HumanMessage(READER_USER.format(question=task["question"], goal=fence(task["goal"]),
                                            title=attribute(title), url=attribute(task["hit"]["url"]),
                                            text=fence(text)))]


def _failed(runtime: Runtime[Context], task: ReadTask, error: str, *, transient: bool,
            usage: Usage | None = None, model: bool = False) -> dict[str, Any]:
    """A read that produced nothing: recorded as a failure, not as a source (a passing failure may be retried).

    ``model``: the reader model's reply was unusable (the model's failure, not the page's or the call's).
    """
    url = task["hit"]["url"]
    emit(runtime, ReadFailed(round=task["round"], url=url, error=error, model=model))
    record = failure(round=task["round"], action="read", target=url, error=error, transient=transient, model=model)
    return {"failures": [record], **spent(usage or Usage())}


async def read(task: ReadTask, runtime: Runtime[Context]) -> dict[str, Any]:
    """Fetch the page (into the page store), ask the reader model for evidence, verify the quote.

    A read that falls far behind the rest of its round is cancelled and recorded for a later round.
    """
    ctx = runtime.context
    box = await toolbox(ctx)
    try:
        return await box.stragglers.run(step_key(runtime, "read"), task.get("of", 1), ctx.read_deadline_seconds,
                                        read_one(task, runtime, box))
    except Late as exc:
        return _failed(runtime, task, str(exc), transient=True)


async def read_one(task: ReadTask, runtime: Runtime[Context], box: Toolbox) -> dict[str, Any]:
    """Read one page for the task's goal: the state updates (source, finding or failure, calls spent)."""
    ctx = runtime.context
    hit = task["hit"]
    try:
        page = await box.reader.read(hit["url"], f"{task['goal']} {task['question']}", ctx.max_page_chars,
                                     ctx.deadline_at)
    except ReadError as exc:
        return _failed(runtime, task, str(exc), transient=exc.transient)
    source = Source(url=hit["url"], title=page.title or hit["title"], page_hash=page.page_hash, n=None,
                    round=task["round"])
    messages = reader_messages(task, source["title"], page.text)
    thread = runtime.execution_info.thread_id if runtime.execution_info else None
    key = reading_key(page.page_hash, box.extraction.model, str(thread), task["question"], task["goal"])
    remembered = await asyncio.to_thread(box.pages.reading, key) if thread else None
    if remembered is not None:  # this thread read it already, for this goal (a round resumed after a kill)
        result, usage = Extraction.model_validate_json(remembered), Usage()
    else:
        outcome = await guarded(partial(complete_json, with_method(box.extraction, task.get("method")), messages,
                                        Extraction,
                                        repair=task.get("calls", 1) >= 2, deadline=ctx.deadline_at,
                                        max_tokens=READ_TOKENS))
        if outcome.value is None:
            return _failed(runtime, task, outcome.error, transient=True, usage=outcome.usage,
                           model=outcome.model_failed)
        result, usage = outcome.value, outcome.usage
        await asyncio.to_thread(box.pages.remember_reading, key, result.model_dump_json())
    evidence = result.evidence.strip()
    relevant = result.relevant and bool(evidence)
    emit(runtime, PageRead(round=task["round"], url=hit["url"], title=source["title"], relevant=relevant,
                           call_tokens=usage.tokens))
    if not relevant:
        return {"sources": [source], **spent(usage)}
    finding = Finding(url=hit["url"], title=source["title"], evidence=evidence,
                      quote=verified_quote(result.quote, page.text), round=task["round"])
    return {"sources": [Source(**{**source, "n": 0})], "findings": [finding], **spent(usage)}
