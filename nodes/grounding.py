"""Grounded citations for a final report: every cited sentence checked against the text its source holds.

What is checked is the stored text the run read (a web page from the page store, by its hash; a corpus
document through the corpus reader, which reads only its passages that matter to the report; a ReAct
search result never visited, its title and snippet as the search showed them), never a model's summary
of it. A web page no longer stored is not fetched again: its citations stay unchecked.
The check itself is pure (tools/grounding/check.py, tools/grounding/attribution.py); the sentences it
cannot decide go to the model in one batched call (nodes/verify.py) while the budget allows one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from core.errors import ReadError
from nodes.verify import verify
from state.budget import max_calls, max_tokens, past_deadline
from state.citations import numbered
from state.context import Context
from state.records import Source
from tools.grounding.attribution import Grounded, judge, rewrite
from tools.grounding.check import claims, plain, source_text
from tools.model.llm import Usage
from tools.toolbox import Toolbox, toolbox

GROUND_CHARS = 200_000  # of a corpus document read for the check (a longer one: its passages that match)


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


async def stored_text(box: Toolbox, source: Source, focus: str, until: float, limit: int = GROUND_CHARS
                      ) -> str | None:
    """The stored text of one source, or None when it is no longer there to read.

    A web page comes from the page store only (never fetched again); a corpus document through its reader.
    """
    if "snippet" in source:  # a search result seen only as its snippet
        return f"{source['title']}\n{source['snippet']}"
    text = await asyncio.to_thread(box.pages.get, source["page_hash"])
    if text is not None or _is_web(source["url"]):
        return text
    try:
        return (await box.reader.read(source["url"], focus, limit, until)).text
    except ReadError:
        return None


async def source_texts(box: Toolbox, sources: list[Source], focus: str, until: float) -> dict[int, str]:
    """Each numbered source's stored text, by citation number (those still stored)."""
    by_n = numbered(sources)
    texts = await asyncio.gather(*(stored_text(box, src, focus, until) for src in by_n.values()))
    return {n: text for n, text in zip(by_n, texts, strict=True) if text}


def verify_calls(state: Mapping[str, Any], ctx: Context, used: Usage = Usage()) -> int:  # noqa: B008 - frozen
    """The model calls the verification of undecided sentences may make (0 when a budget is spent; 2 at most).

    ``used``: what the calling node spent already, not yet in ``state``.
    """
    if past_deadline(ctx) or int(state.get("tokens", 0)) + used.tokens >= max_tokens(state, ctx):
        return 0
    return max(0, min(2, max_calls(state, ctx) - int(state.get("llm_calls", 0)) - used.calls))


async def ground(ctx: Context, body: str, sources: list[Source], calls: int = 0) -> Grounded:
    """The body with its citations checked: kept, re-attributed to the source that says it, or marked.

    ``calls``: what the model's verification of the sentences the cheap check leaves undecided may spend.
    """
    cited = claims(body)
    if not cited or not numbered(sources):
        return Grounded(body)
    focus = " ".join(plain(c.text) for c in cited)
    texts = await source_texts(await toolbox(ctx), sources, focus, ctx.deadline_at)
    prepared = {n: source_text(text) for n, text in texts.items()}
    checked = await verify(ctx, judge(body, prepared), texts, numbered(sources), calls)
    grounded = rewrite(body, checked.judged, prepared, ctx.unverified_marker)
    return replace(grounded, calls=checked.usage.calls, tokens=checked.usage.tokens, failed=checked.error)
