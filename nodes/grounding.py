"""Grounded citations for a final report: every cited sentence checked against the text its source holds.

What is checked is the stored text the run read (a web page from the page store, by its hash; a corpus
document through the corpus reader, which reads only its passages that matter to the report), never a
model's summary of it. A web page no longer stored is not fetched again: its citations stay unchecked.
The check itself is pure (tools/grounding/check.py, tools/grounding/attribution.py).
"""

from __future__ import annotations

import asyncio

from core.errors import ReadError
from state.citations import numbered
from state.context import Context
from state.records import Source
from tools.grounding.attribution import Grounded, judge, rewrite
from tools.grounding.check import SourceText, claims, plain, source_text
from tools.toolbox import Toolbox, toolbox

GROUND_CHARS = 200_000  # of a corpus document read for the check (a longer one: its passages that match)


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


async def _text(box: Toolbox, source: Source, focus: str, until: float) -> str | None:
    """The stored text of one source, or None when it is no longer there to read."""
    text = await asyncio.to_thread(box.pages.get, source["page_hash"])
    if text is not None or _is_web(source["url"]):
        return text
    try:
        return (await box.reader.read(source["url"], focus, GROUND_CHARS, until)).text
    except ReadError:
        return None


async def source_texts(box: Toolbox, sources: list[Source], focus: str, until: float) -> dict[int, SourceText]:
    """Each numbered source's text, prepared for the check, by citation number (those still stored)."""
    by_n = numbered(sources)
    texts = await asyncio.gather(*(_text(box, src, focus, until) for src in by_n.values()))
    return {n: source_text(text) for n, text in zip(by_n, texts, strict=True) if text}


async def ground(ctx: Context, body: str, sources: list[Source]) -> Grounded:
    """The body with its citations checked: kept, re-attributed to the source that says it, or marked."""
    cited = claims(body)
    if not cited or not numbered(sources):
        return Grounded(body)
    focus = " ".join(plain(c.text) for c in cited)
    prepared = await source_texts(await toolbox(ctx), sources, focus, ctx.deadline_at)
    return rewrite(body, judge(body, prepared), prepared, ctx.unverified_marker)
