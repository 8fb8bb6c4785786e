"""Document parsing, the role of the original's file-parsing service (the agent's parse_file tool runs it).

Local files or URLs in (PDF, DOCX, HTML, TXT, MD, CSV), text out; tables become markdown.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from core.errors import DocumentError, ReadError
from core.limits import ParseLimits
from prompts.fences import attribute, fence
from tools.documents.formats import ParsedDocument, read_document
from tools.documents.parse_pool import parse_async
from tools.web.fetch import Fetcher, url_name

PER_FILE_CHARS = 60_000


@dataclass(frozen=True)
class Parsed:
    """One source's text, or why it could not be had."""

    source: str
    title: str
    text: str
    error: str = ""


async def parse_document(source: str, fetcher: Fetcher, limits: ParseLimits,
                         roots: list[Path] | None = None) -> ParsedDocument:
    """Parse a local file path or an http(s) URL (fetched safely) into title and text, within ``limits``.

    With ``roots``, local files must lie under one of them (a model choosing paths cannot read the disk).
    Failures are DocumentError or ReadError with the reason only.
    """
    if source.lower().startswith(("http://", "https://")):
        fetched = await fetcher.fetch(source)
        return await parse_async(fetched.data, fetched.kind, url_name(fetched.final_url), limits, fetched.charset)
    path = Path(source).expanduser().resolve()
    if roots is not None and not any(path.is_relative_to(root.resolve()) for root in roots):
        raise DocumentError(f"only files under {', '.join(map(str, roots)) or 'no folder'} may be read")
    if not path.is_file():
        raise DocumentError("no such file")
    kind, data = await asyncio.to_thread(read_document, path, limits)
    return await parse_async(data, kind, path.name, limits)


async def parse_many(sources: list[str], fetcher: Fetcher, limits: ParseLimits, max_chars: int = PER_FILE_CHARS,
                     roots: list[Path] | None = None) -> list[Parsed]:
    """Parse several sources concurrently; each failure is reported in its own result."""

    async def one(source: str) -> Parsed:
        try:
            doc = await parse_document(source, fetcher, limits, roots)
        except DocumentError as exc:
            return Parsed(source, "", "", str(exc))
        except ReadError as exc:  # its message names the URL already
            return Parsed(source, "", "", str(exc).removeprefix(f"{source}: "))
        text = doc.text if len(doc.text) <= max_chars else doc.text[:max_chars] + "\n\n[truncated]"
        return Parsed(source, doc.title, text)

    return list(await asyncio.gather(*(one(s) for s in sources)))


def format_parsed(results: list[Parsed]) -> str:
    """Results as the model reads them: one fenced block per source."""
    blocks = []
    for r in results:
        body = f"could not be parsed: {r.error}" if r.error else r.text
        blocks.append(f'<file source="{attribute(r.source)}" title="{attribute(r.title)}">\n{fence(body)}\n</file>')
    return "\n\n".join(blocks)
