"""ReAct's tools, as Tongyi DeepResearch was trained to call them: search, visit, parse_file, PythonInterpreter.

Each is one LangChain tool: its name, description, argument model (with each argument's bound) and the
coroutine that runs it, which returns the text the model reads (page text fenced: a page that writes
``</tool_response>`` cannot end the response) and what the thread records (``content_and_artifact``:
visit's sources, findings, failures and the calls its readers spent; search's results, as sources).

Search results and visited pages share one citation space: each result is shown with its citation number,
and a result seen only as a snippet is a source whose text is that snippet, until a visit reads the page.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field, model_validator

from core.errors import SearchError
from prompts.fences import fence
from state.queries import QUERY_CHARS, searchable
from state.records import URL_CHARS, Finding, Hit, Source
from state.reducers import merge_sources
from tools.agent.kit import Arg, InCodeTag, KitArgs, ToolKit
from tools.parse import format_parsed, parse_many
from tools.sandbox import run_python
from tools.search import Locale

GOAL_CHARS = 1_000
CODE_CHARS = 20_000
SNIPPET_CHARS = 2_000  # of a search result's snippet kept as its source's text
FENCED = {"fenced": True}  # the tool fences its page text itself (the dispatch fences any other tool's whole reply)
Response = tuple[str, dict[str, Any]]  # what the model reads, and what the thread records


class SearchArgs(KitArgs):
    """search's arguments: the queries."""

    query: Annotated[list[str], Arg(QUERY_CHARS, shorten=searchable)] = Field(
        min_length=1, description="The queries to search, run in parallel.")


class VisitArgs(KitArgs):
    """visit's arguments: the pages, and what to find on them."""

    url: Annotated[list[str], Arg(URL_CHARS, refused="not visited")] = Field(
        min_length=1, description="The URLs (or corpus paths) to visit.")
    goal: Annotated[str, Arg(GOAL_CHARS, shorten=lambda goal: goal[:GOAL_CHARS])] = Field(
        description="What to look for on the pages.")

    @model_validator(mode="before")
    @classmethod
    def _question_when_no_goal(cls, data: Any) -> Any:
        """A visit without a goal reads the pages for the question (the schema still asks for one)."""
        return {"goal": "", **data} if isinstance(data, dict) else data


class ParseFileArgs(KitArgs):
    """parse_file's arguments: the documents."""

    files: Annotated[list[str], Arg(URL_CHARS, refused="not parsed")] = Field(min_length=1)


class PythonArgs(KitArgs):
    """PythonInterpreter's argument: the program, from the reply's <code>."""

    code: Annotated[str, InCodeTag, Arg(CODE_CHARS, refused="not run"), Field(min_length=1)]


def _result(hit: Hit, kit: ToolKit) -> Source:
    """A search result as a source of the thread: cited by its number, its text the snippet (no page read)."""
    return Source(url=hit["url"], title=hit["title"], page_hash="", n=0, round=kit.step,
                  snippet=hit["snippet"][:SNIPPET_CHARS])


async def search(query: list[str], kit: ToolKit) -> Response:
    """Each query through the run's search backend, in parallel: its results with their citation numbers."""
    locale = Locale.for_text(kit.question + " " + " ".join(query))

    async def one(text: str) -> list[Hit] | str:
        try:
            hits = await kit.search.search(text, kit.results_per_query, locale)
        except SearchError as exc:  # (a backend out of reach, SearchUnavailable, ends the run, resumable)
            return f"The search for '{text}' failed: {exc}"
        return hits or f"No results for '{text}'. Try a more general query."

    found = list(zip(query, await asyncio.gather(*(one(q) for q in query)), strict=True))
    sources = [_result(h, kit) for _, hits in found if not isinstance(hits, str) for h in hits]
    numbers = {s["url"]: s["n"] for s in merge_sources(list(kit.sources), [sources])}

    def shown(text: str, hits: list[Hit] | str) -> str:
        if isinstance(hits, str):
            return hits
        lines = [f"[{numbers[h['url']]}] [{h['title']}]({h['url']})\n{h['snippet']}" for h in hits]
        return f"A search for '{text}' found {len(hits)} results:\n\n## Web Results\n" + "\n\n".join(lines)

    return fence("\n=======\n".join(shown(q, hits) for q, hits in found)), {"sources": sources}


async def visit(url: list[str], goal: str, kit: ToolKit) -> Response:
    """Read each page for the goal; the response shows each page's citation number and its evidence."""
    results = await kit.read(url, goal or kit.question)
    sources: list[Source] = [s for r in results for s in r.get("sources", [])]
    numbers = {s["url"]: s["n"] for s in merge_sources(list(kit.sources), [sources])}
    blocks = []
    for page, result in zip(url, results, strict=True):
        findings: list[Finding] = result.get("findings", [])
        failures = result.get("failures", [])
        if failures:
            blocks.append(f"The page {page} could not be read: {failures[0]['error']}")
        elif findings:
            f = findings[0]
            quote = f"\nQuote: \"{f['quote']}\"" if f["quote"] else ""
            blocks.append(f"[{numbers.get(page)}] {f['title']} — {page}\nEvidence: {f['evidence']}{quote}")
        else:
            blocks.append(f"{page}: nothing on this page for the goal.")
    recorded = {"sources": sources, "findings": [f for r in results for f in r.get("findings", [])],
                "failures": [f for r in results for f in r.get("failures", [])],
                "llm_calls": sum(int(r.get("llm_calls", 0)) for r in results),
                "tokens": sum(int(r.get("tokens", 0)) for r in results)}
    return fence("\n\n".join(blocks)), recorded


async def parse_file(files: list[str], kit: ToolKit) -> Response:
    """Each document's text, fenced file by file (local files only under the kit's roots)."""
    return format_parsed(await parse_many(files, kit.fetcher, kit.parsing, roots=list(kit.roots))), {}


async def python(code: str, kit: ToolKit) -> Response:
    """What the code printed in the sandbox, or why it could not run."""
    return fence(await run_python(kit.http, kit.sandbox_url, code)), {}


def _tool(run: Any, name: str, description: str, args: type[BaseModel], **metadata: Any) -> BaseTool:
    return StructuredTool.from_function(coroutine=run, name=name, description=description, args_schema=args,
                                        response_format="content_and_artifact", metadata={**FENCED, **metadata})


BUILTIN: tuple[BaseTool, ...] = (
    _tool(search, "search", "Perform web searches then return the top results for each query. "
          "Accepts multiple queries.", SearchArgs),
    _tool(visit, "visit", "Visit webpages (or documents of the corpus) and return the evidence they hold for the "
          "goal, with each source's citation number.", VisitArgs),
    _tool(parse_file, "parse_file", "Parse documents (PDF, DOCX, HTML, TXT, MD, CSV) given by URL into text.",
          ParseFileArgs),
    _tool(python, "PythonInterpreter", "Executes Python code in a sandboxed environment. To use this tool, the "
          "'arguments' JSON object must be empty: {}, and the code must follow the JSON block, enclosed in <code> "
          "and </code> tags, inside the <tool_call>. Use print() to see values.", PythonArgs, requires="sandbox_url"),
)
