"""Page reading: turn a hit's URL or path into text for the reader model, focused on the round's goal.

Full page text goes to the content-addressed page store (cached there by URL with a TTL, so a resumed
or repeated run does not fetch again); the reader model sees the part that fits, chosen for the goal.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol

import httpcore
import httpx

from core.errors import DocumentError, ReadError, RefusedURL, StorageError
from tools.corpus import Corpus
from tools.documents import parse_bytes
from tools.fetch import Fetcher, url_name
from tools.http import call_json
from tools.netsafety import AddressPolicy, check_url, resolve
from tools.pages import PageStore
from tools.passages import focus_text


@dataclass(frozen=True)
class Page:
    """What the reader model is shown of one page, and the hash of the full text in the page store."""

    url: str
    title: str
    text: str
    page_hash: str


class Reader(Protocol):
    """Anything that turns a URL or path into a Page."""

    async def read(self, url: str, focus: str, max_chars: int) -> Page:
        """The page at ``url``; long pages are cut to ``max_chars`` keeping what matches ``focus``."""
        ...


class CorpusReader:
    """Reads documents of the local corpus by the path they were ingested under."""

    def __init__(self, corpus: Corpus, pages: PageStore) -> None:
        self.corpus = corpus
        self.pages = pages

    async def read(self, url: str, focus: str, max_chars: int) -> Page:
        """The document's text, or ReadError if it is not in the corpus."""
        try:
            doc = await asyncio.to_thread(self.corpus.document, url)
        except StorageError as exc:
            raise ReadError(f"cannot read {url} from the corpus: {exc}", transient=True) from exc
        if doc is None or not doc.text.strip():
            raise ReadError(f"{url} is not in the local corpus")
        key = await asyncio.to_thread(self.pages.put, url, doc.title, doc.text)
        return Page(doc.path, doc.title, focus_text(doc.text, focus, max_chars), key)


class _CachedWebReader(ABC):
    """Shared by the web readers: the page store is consulted first and filled after a fetch."""

    def __init__(self, pages: PageStore, ttl: float) -> None:
        self.pages = pages
        self.ttl = ttl

    async def read(self, url: str, focus: str, max_chars: int) -> Page:
        """The page from the store if fresh, else fetched, parsed and stored."""
        cached = await asyncio.to_thread(self.pages.lookup, url, self.ttl)
        if cached is not None:
            return Page(url, cached.title, focus_text(cached.text, focus, max_chars), cached.page_hash)
        title, text = await self._load(url)
        if not text.strip():
            raise ReadError(f"{url}: no text could be extracted")
        key = await asyncio.to_thread(self.pages.put, url, title, text)
        return Page(url, title, focus_text(text, focus, max_chars), key)

    @abstractmethod
    async def _load(self, url: str) -> tuple[str, str]:
        """(title, text) of the page, fetched."""


class WebReader(_CachedWebReader):
    """Fetches pages itself (httpx, safe) and turns HTML, PDF, DOCX, CSV and text into plain text."""

    def __init__(self, fetcher: Fetcher, pages: PageStore, ttl: float) -> None:
        super().__init__(pages, ttl)
        self.fetcher = fetcher

    async def _load(self, url: str) -> tuple[str, str]:
        fetched = await self.fetcher.fetch(url)
        try:  # PDF parsing is CPU-bound: keep the event loop free
            doc = await asyncio.to_thread(parse_bytes, fetched.data, fetched.kind, url_name(fetched.final_url),
                                          fetched.charset)
        except DocumentError as exc:
            raise ReadError(str(exc)) from exc
        return doc.title, doc.text


class JinaReader(_CachedWebReader):
    """Jina's reader service (JINA_API_KEY) fetches and cleans the page; private URLs are never sent to it."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, api_key: str, policy: AddressPolicy,
                 pages: PageStore, ttl: float) -> None:
        super().__init__(pages, ttl)
        self.client = client
        self.base_url = base_url
        self.api_key = api_key
        self.policy = policy

    async def _load(self, url: str) -> tuple[str, str]:
        check_url(url)
        try:  # the URL sent is the one checked: parsed once, by httpx, and re-serialised
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise RefusedURL(f"refused {url!r}: malformed URL ({exc})") from exc
        url = str(parsed)
        try:
            addresses = await resolve(parsed.host, parsed.port or 443)
        except httpcore.ConnectError as exc:  # the name does not resolve
            raise ReadError(f"{url}: {exc}", transient=True) from exc
        refusals = [r for r in (self.policy.refusal(ip) for ip in addresses) if r]
        if refusals:
            raise RefusedURL(f"refused {url}: {refusals[0]}")
        data = await self._request(url)
        content = data.get("data") if isinstance(data, dict) else None
        if not isinstance(content, dict):
            raise ReadError(f"{url}: the Jina reader returned no content")
        return str(content.get("title") or url_name(url)), str(content.get("content") or "")

    async def _request(self, url: str) -> Any:
        def fail(message: str, transient: bool) -> ReadError:
            return ReadError(f"{url}: {message}", transient=transient)

        return await call_json(self.client, "POST", f"{self.base_url}/", service="the Jina reader", fail=fail,
                               json={"url": url}, headers={"Authorization": f"Bearer {self.api_key}",
                                                           "Accept": "application/json"})


class RoutingReader:
    """Web URLs go to the web reader, everything else to the corpus."""

    def __init__(self, corpus: Reader, web: Reader) -> None:
        self.corpus = corpus
        self.web = web

    async def read(self, url: str, focus: str, max_chars: int) -> Page:
        """Read with whichever reader owns the URL."""
        is_web = url.lower().startswith(("http://", "https://"))
        return await (self.web if is_web else self.corpus).read(url, focus, max_chars)
