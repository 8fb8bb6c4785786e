"""Search backends behind one interface: ``await backend.search(query, k) -> list[Hit]``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from deepresearch.errors import ConfigError, SearchError, StorageError
from state.records import Hit
from tools.corpus import Corpus


class SearchBackend(Protocol):
    """Anything that turns a query into ranked, normalised hits."""

    name: str
    description: str

    async def search(self, query: str, k: int) -> list[Hit]:
        """Up to ``k`` hits for ``query``, best first."""
        ...


class LocalSearch:
    """BM25 search over the local corpus (no keys, no internet)."""

    name = "local"
    description = "a local collection of documents (keyword search, BM25)"

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    async def search(self, query: str, k: int) -> list[Hit]:
        """Search the corpus in a worker thread (SQLite is blocking)."""
        try:
            return await asyncio.to_thread(self.corpus.search, query, k)
        except StorageError as exc:
            raise SearchError(f"local search failed for {query!r}: {exc}") from exc


def make_backend(name: str, corpus_db: Path) -> SearchBackend:
    """The backend called ``name``."""
    if name == "local":
        return LocalSearch(Corpus(corpus_db))
    raise ConfigError(f"unknown search backend {name!r}")
