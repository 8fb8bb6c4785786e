"""A ToolKit for running the agent's tools outside a graph: a real corpus search, fetcher and parse limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import ParseLimits, WebSettings
from tools.agent.kit import ToolKit
from tools.corpus.store import Corpus
from tools.net.http import make_clients
from tools.search import LocalSearch
from tools.web.fetch import Fetcher


async def no_reading(urls: list[str], goal: str) -> list[dict[str, Any]]:
    """Stands for the readers where no page is to be visited."""
    raise AssertionError(f"no page is read here ({urls}, {goal})")


def kit_for(home: Path, web: WebSettings, roots: list[Path] | None = None, sandbox_url: str = "") -> ToolKit:
    """A kit searching the corpus under ``home``, fetching under ``web``'s rules, parsing files under ``roots``."""
    clients = make_clients(web)
    home.mkdir(parents=True, exist_ok=True)
    return ToolKit(question="When was Ilse Marrow born?", search=LocalSearch(Corpus(home / "corpus.db")),
                   results_per_query=5, read=no_reading, fetcher=Fetcher(clients.pages, web), parsing=ParseLimits(),
                   http=clients.api, sandbox_url=sandbox_url, roots=roots or [])
