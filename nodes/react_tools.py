"""ReAct's tool step: run the call the agent made and give the result back as a ``<tool_response>``.

search runs its queries in parallel through the run's search backend; visit reads each page through the
same reader, page store and extraction model as IterResearch's readers, and numbers every page that
gave evidence thread-wide (the numbers the answer cites); parse_file parses documents by URL. A call
that cannot be run (malformed, unknown tool, bad arguments) gets an error response, never a crash.
Page text is fenced: a page that writes ``</tool_response>`` cannot end the response.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from core.errors import SearchError
from nodes.react_calls import malformed
from nodes.read import ReadTask, read_one
from state.context import Context
from state.events import ToolAnswered, emit
from state.react_state import ReactState, Turn
from state.records import Finding, Hit, Source
from state.reducers import merge_sources
from tools.parse import format_parsed, parse_many
from tools.prompts import fence
from tools.sandbox import run_python
from tools.search import Locale
from tools.toolbox import Toolbox, toolbox

RESPONSE_CHARS = 40_000  # one tool response, at most


async def _search(state: ReactState, ctx: Context, box: Toolbox, queries: list[str]) -> str:
    locale = Locale.for_text(state["question"] + " " + " ".join(queries))

    async def one(query: str) -> str:
        try:
            hits = await box.search.search(query, ctx.results_per_query, locale)
        except SearchError as exc:  # (a backend out of reach, SearchUnavailable, ends the run, resumable)
            return f"The search for '{query}' failed: {exc}"
        if not hits:
            return f"No results for '{query}'. Try a more general query."
        lines = [f"{h['rank']}. [{h['title']}]({h['url']})\n{h['snippet']}" for h in hits]
        return f"A search for '{query}' found {len(hits)} results:\n\n## Web Results\n" + "\n\n".join(lines)

    return "\n=======\n".join(await asyncio.gather(*(one(q) for q in queries)))


async def _visit(state: ReactState, runtime: Runtime[Context], box: Toolbox, urls: list[str],
                 goal: str) -> tuple[str, dict[str, Any]]:
    """Read each page for the goal; the response shows each page's citation number and its evidence."""
    step = int(state.get("round", 0))
    tasks = [ReadTask(hit=Hit(title=url, url=url, snippet="", rank=i + 1, backend="visit", query=""),
                      question=state["question"], goal=goal, round=step, calls=2) for i, url in enumerate(urls)]
    results = await asyncio.gather(*(read_one(task, runtime, box) for task in tasks))
    sources: list[Source] = [s for r in results for s in r.get("sources", [])]
    numbers = {s["url"]: s["n"] for s in merge_sources(state.get("sources", []), [sources])}
    blocks = []
    for url, result in zip(urls, results, strict=True):
        findings: list[Finding] = result.get("findings", [])
        failures = result.get("failures", [])
        if failures:
            blocks.append(f"The page {url} could not be read: {failures[0]['error']}")
        elif findings:
            f = findings[0]
            quote = f"\nQuote: \"{f['quote']}\"" if f["quote"] else ""
            blocks.append(f"[{numbers.get(url)}] {f['title']} — {url}\nEvidence: {f['evidence']}{quote}")
        else:
            blocks.append(f"{url}: nothing on this page for the goal.")
    update = {"sources": sources, "findings": [f for r in results for f in r.get("findings", [])],
              "failures": [f for r in results for f in r.get("failures", [])],
              "llm_calls": sum(int(r.get("llm_calls", 0)) for r in results),
              "tokens": sum(int(r.get("tokens", 0)) for r in results)}
    return "\n\n".join(blocks), update


async def tools(state: ReactState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the agent's tool call and append its response."""
    ctx = runtime.context
    call = state.get("call") or {}
    name, arguments = str(call.get("name", "")), call.get("arguments") or {}
    update: dict[str, Any] = {}
    box = await toolbox(ctx)
    notes = list(call.get("notes", []))  # what was cut or not used of the arguments, and why
    if "error" in call:
        response = malformed(str(call["error"]))
    elif name == "search" and (queries := arguments.get("query")):
        response = fence(await _search(state, ctx, box, queries))
    elif name == "visit" and (urls := arguments.get("url")):
        goal = str(arguments.get("goal") or state["question"])
        response, update = await _visit(state, runtime, box, urls, goal)
        response = fence(response)
    elif name == "parse_file" and (files := arguments.get("files")):  # fenced file by file
        response = format_parsed(await parse_many(files, box.fetcher, ctx.settings.parsing, roots=[]))
    elif name == "PythonInterpreter" and ctx.settings.sandbox_url and (code := str(arguments.get("code") or "")):
        response = fence(await run_python(box.clients.api, ctx.settings.sandbox_url, code))
    elif name in ("search", "visit", "parse_file", "PythonInterpreter") and (
            name != "PythonInterpreter" or ctx.settings.sandbox_url):
        response = "" if notes else malformed(
            f"the {name} call is missing its arguments (PythonInterpreter: the code in <code>)")
    else:
        offered = "search, visit, parse_file" + (" and PythonInterpreter" if ctx.settings.sandbox_url else "")
        response, notes = f"Tool {fence(name)!r} not found: the tools are {offered}.", []  # its arguments: moot
    if notes:
        response = "\n".join([f"Note: {note}." for note in notes] + ([response] if response else []))
    if len(response) > RESPONSE_CHARS:
        response = response[:RESPONSE_CHARS] + "\n[cut]"
    emit(runtime, ToolAnswered(tool=name or "malformed call", chars=len(response)), state)
    turn = Turn(speaker="user", text=f"<tool_response>\n{response}\n</tool_response>")
    return {**update, "turns": [turn], "call": {}}
