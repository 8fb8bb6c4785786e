"""Page reading: turn a hit's URL into text for the reader model, focused on the round's goal."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from deepresearch.errors import ReadError, StorageError
from tools.corpus import Corpus


@dataclass(frozen=True)
class Page:
    """Text of one page or document, as shown to the reader model."""

    url: str
    title: str
    text: str


class Reader(Protocol):
    """Anything that fetches a URL or path into a Page."""

    async def read(self, url: str, focus: str, max_chars: int) -> Page:
        """The page at ``url``; long pages are cut to ``max_chars`` keeping what matches ``focus``."""
        ...


class CorpusReader:
    """Reads documents of the local corpus by the path they were ingested under."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    async def read(self, url: str, focus: str, max_chars: int) -> Page:
        """The document's text, or ReadError if it is not in the corpus."""
        try:
            doc = await asyncio.to_thread(self.corpus.document, url, focus, max_chars)
        except StorageError as exc:
            raise ReadError(f"cannot read {url} from the corpus: {exc}") from exc
        if doc is None or not doc.text.strip():
            raise ReadError(f"{url} is not in the local corpus")
        return Page(doc.path, doc.title, doc.text)


def make_reader(search: str, corpus_db: Path) -> Reader:
    """The reader that goes with a search backend."""
    return CorpusReader(Corpus(corpus_db))
