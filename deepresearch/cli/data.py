"""`parse`, `doctor` and `graph`: documents, the setup, and the graphs' shape."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from core.vocabulary import ModeName
from deepresearch.cli.common import app, err, settings

if TYPE_CHECKING:
    from tools.parse import Parsed


@app.command()
def parse(
    sources: Annotated[list[str], typer.Argument(help="Local files or http(s) URLs.", show_default=False)],
    max_chars: Annotated[int, typer.Option("--max-chars", min=100, help="Characters kept per document.")] = 60_000,
) -> None:
    """Print the text of documents (PDF, DOCX, HTML, TXT, MD, CSV), local or fetched safely from the web.

    Example: deepresearch parse report.pdf https://example.org/table.csv
    """
    from tools.net.http import make_clients
    from tools.parse import format_parsed, parse_many
    from tools.web.fetch import Fetcher

    loaded = settings(create_home=False)  # nothing is stored: works in a read-only home too
    web = loaded.web

    async def go() -> list[Parsed]:
        clients = make_clients(web)
        try:
            return await parse_many(sources, Fetcher(clients.pages, web), loaded.parsing, max_chars)
        finally:
            await clients.pages.aclose()
            await clients.api.aclose()

    results = asyncio.run(go())
    print(format_parsed(results))
    for failed in (r for r in results if r.error):
        err.print(f"[yellow]failed[/] {escape(failed.source)}: {escape(failed.error)}")
    if any(r.error for r in results):  # as `ingest`: any document that could not be read exits 1
        raise typer.Exit(1)


@app.command()
def doctor() -> None:
    """Check the endpoint, the served model and context length, search, and each database's stats and integrity.

    Exits 2 if the endpoint or model cannot be used, 1 if a database is damaged.

    Example: deepresearch doctor
    """
    from deepresearch.doctor import doctor_report

    code, lines = asyncio.run(doctor_report(settings(create_home=False)))
    for line in lines:
        print(line)
    if code:
        raise typer.Exit(code)


@app.command()
def graph(mode: Annotated[ModeName, typer.Option("--mode", help="Research mode.")] = "iterresearch") -> None:
    """Print a mode's graph as Mermaid (paste into any Mermaid viewer, or see it live in LangGraph Studio).

    Example: deepresearch graph --mode react
    """
    from graphs.registry import GRAPHS
    from state.context import Context

    print(GRAPHS[mode](Context).compile().get_graph().draw_mermaid(), end="")
