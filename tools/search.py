"""Search backends behind one interface: ``await backend.search(query, k, locale) -> list[Hit]``."""

from __future__ import annotations

import asyncio
from typing import Protocol

import httpx

from core.errors import ConfigError, DamagedDatabase, SearchError, StorageError
from core.settings import Settings, WebSettings
from core.vocabulary import SEARCH_BACKENDS
from state.records import Hit
from tools.corpus.store import Corpus
from tools.web.engines import DuckDuckGo, Locale, SearXNG, Serper, Tavily


class SearchBackend(Protocol):
    """Anything that turns a query into ranked, normalised hits."""

    name: str
    description: str

    async def search(self, query: str, k: int, locale: Locale | None = None) -> list[Hit]:
        """Up to ``k`` hits for ``query``, best first."""
        ...


class LocalSearch:
    """BM25 search over the local corpus (no keys, no internet)."""

    name = "local"
    description = "a local collection of documents (keyword search, BM25)"

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    async def search(self, query: str, k: int, locale: Locale | None = None) -> list[Hit]:
        """Search the corpus in a worker thread (SQLite is blocking)."""
        try:
            return await asyncio.to_thread(self.corpus.search, query, k)
        except DamagedDatabase:  # every query would fail alike: the run stops and names the file
            raise
        except StorageError as exc:
            raise SearchError(f"local search failed for {query!r}: {exc}", transient=True) from exc


def resolve_backend(name: str, web: WebSettings) -> str:
    """The concrete backend for ``name`` (``auto``: serper, tavily, searxng if configured, else duckduckgo).

    A backend whose key or URL is missing is a ConfigError naming the variable.
    """
    if name == "auto":
        if web.serper_api_key:
            return "serper"
        if web.tavily_api_key:
            return "tavily"
        return "searxng" if web.searxng_url else "duckduckgo"
    needs = {"serper": ("SERPER_API_KEY", web.serper_api_key), "tavily": ("TAVILY_API_KEY", web.tavily_api_key),
             "searxng": ("SEARXNG_URL", web.searxng_url)}
    if name in needs and not needs[name][1]:
        raise ConfigError(f"--search {name} needs {needs[name][0]} to be set (or choose --search duckduckgo, "
                          "which needs no key)")
    if name not in SEARCH_BACKENDS:
        raise ConfigError(f"unknown search backend {name!r} (choose from {', '.join(SEARCH_BACKENDS)})")
    return name


def make_backend(name: str, settings: Settings, api: httpx.AsyncClient) -> SearchBackend:
    """The backend called ``name``, talking through ``api`` (a plain client: search endpoints are trusted)."""
    web = settings.web
    resolved = resolve_backend(name, web)
    if resolved == "local":
        return LocalSearch(Corpus(settings.corpus_db))
    if resolved == "searxng":
        return SearXNG(api, web.searxng_url)
    if resolved == "serper":
        return Serper(api, web.serper_base_url, web.serper_api_key)
    if resolved == "tavily":
        return Tavily(api, web.tavily_base_url, web.tavily_api_key)
    return DuckDuckGo(timeout=int(web.read_timeout))
