"""Page reading: turn a hit's URL or path into text for the reader model, focused on the round's goal.

Full page text goes to the content-addressed page store (cached there by URL with a TTL, so a resumed
or repeated run does not fetch again); the reader model sees the part that fits, chosen for the goal.
A page still loading when its read is cancelled goes on loading (tools/web/loads.py) for a later read.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import httpcore
import httpx

from core.errors import DamagedDatabase, DocumentError, ReadError, RefusedURL, StorageError
from core.limits import ParseLimits
from tools.corpus.store import Corpus
from tools.documents.formats import clip, cut_note
from tools.documents.parse_pool import parse_async
from tools.documents.parse_process import ParserUnavailable, TimeLimit
from tools.documents.passages import focus_text
from tools.net.http import request_json
from tools.net.netsafety import AddressPolicy, check_url, resolve
from tools.web.fetch import Fetcher, url_name
from tools.web.loads import PageLoads
from tools.web.pages import PageStore, StoredPage


@dataclass(frozen=True)
class Page:
    """What the reader model is shown of one page, and the hash of the full text in the page store."""

    url: str
    title: str
    text: str
    page_hash: str


class Reader(Protocol):
    """Anything that turns a URL or path into a Page."""

    async def read(self, url: str, focus: str, max_chars: int, until: float | None = None) -> Page:
        """The page at ``url``; long pages are cut to ``max_chars`` keeping what matches ``focus``.

        ``until`` (Unix time) is when the run's own deadline ends: no parse goes on past it.
        """
        ...


class CorpusReader:
    """Reads documents of the local corpus by the path they were ingested under.

    Only the passages the reader is shown are loaded (a large document is never read whole), and the
    document is not copied into the page store: the corpus keeps it, under its content hash.
    """

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    async def read(self, url: str, focus: str, max_chars: int, until: float | None = None) -> Page:
        """The document's passages that match ``focus``, or ReadError if it is not in the corpus."""
        try:
            doc = await asyncio.to_thread(self.corpus.excerpt, url, focus, max_chars)
        except DamagedDatabase:  # every read would fail alike: the run stops and names the file
            raise
        except StorageError as exc:
            raise ReadError(f"cannot read {url} from the corpus: {exc}", transient=True) from exc
        if doc is None or not doc.text.strip():
            raise ReadError(f"{url} is not in the local corpus")
        return Page(doc.path, doc.title, doc.text, doc.hash)


def with_cut_note(shown: str, whole: str) -> str:
    """The passages shown of a page, and the note saying that the page itself was cut, if it was."""
    note = cut_note(whole)
    return f"{shown}\n…\n{note}" if note and not shown.endswith(note) else shown


class _CachedWebReader(ABC):
    """Shared by the web readers: the page store is consulted first and filled by a load of the page.

    Loads go through the run's ``PageLoads``: one per URL at a time, and a load whose read is cancelled
    (late for its round) goes on; a later read takes what it brought without fetching again.
    """

    def __init__(self, pages: PageStore, ttl: float, limits: ParseLimits | None, loads: PageLoads | None) -> None:
        self.pages = pages
        self.ttl = ttl
        self.limits = limits or ParseLimits()
        self.loads = loads or PageLoads()

    async def read(self, url: str, focus: str, max_chars: int, until: float | None = None) -> Page:
        """The page that arrived since a late read of it, else from the store if fresh, else loaded."""
        page = await self._arrived(url) or await asyncio.to_thread(self.pages.lookup, url, self.ttl)
        if page is None:
            page = await self.loads.load(url, partial(self._fetch, url, until))
        return Page(url, page.title, with_cut_note(focus_text(page.text, focus, max_chars), page.text),
                    page.page_hash)

    async def _arrived(self, url: str) -> StoredPage | None:
        """The page a load left behind by a late read brought (its error raised, if it failed), if any."""
        arrived = self.loads.take(url)
        if arrived is None:
            return None
        if arrived.error is not None:
            raise arrived.error
        text = await asyncio.to_thread(self.pages.get, arrived.page_hash)
        return None if text is None else StoredPage(url, arrived.title, arrived.page_hash, text, time.time())

    async def _fetch(self, url: str, until: float | None) -> StoredPage:
        """Fetch, parse and store the page (at most ``limits.max_chars``)."""
        title, text = await self._load(url, until)
        text = clip(text, self.limits)  # what a parser cut keeps its note; what a remote reader sent gets one
        if not text.strip():
            raise ReadError(f"{url}: no text could be extracted")
        key = await asyncio.to_thread(self.pages.put, url, title, text)
        return StoredPage(url, title, key, text, time.time())

    @abstractmethod
    async def _load(self, url: str, until: float | None) -> tuple[str, str]:
        """(title, text) of the page, fetched."""


class WebReader(_CachedWebReader):
    """Fetches pages itself (httpx, safe) and turns HTML, PDF, DOCX, CSV and text into plain text."""

    def __init__(self, fetcher: Fetcher, pages: PageStore, ttl: float, limits: ParseLimits | None = None,
                 loads: PageLoads | None = None) -> None:
        super().__init__(pages, ttl, limits, loads)
        self.fetcher = fetcher

    async def _load(self, url: str, until: float | None) -> tuple[str, str]:
        fetched = await self.fetcher.fetch(url)
        # the run's time left; the document's own limit the parser pool counts from when a worker takes it
        seconds = None if until is None else until - time.time()
        if seconds is not None and seconds <= 0:
            raise ReadError(f"{url}: no time left to parse it", transient=True)
        try:  # in a worker process that is killed when the time is up or the read is cancelled
            doc = await parse_async(fetched.data, fetched.kind, url_name(fetched.final_url), self.limits,
                                    fetched.charset, seconds)
        except TimeLimit as exc:  # the document's own limit is final; the run's deadline is not the page's fault
            raise ReadError(f"{url}: {exc}", transient=not exc.permanent) from exc
        except ParserUnavailable as exc:
            raise ReadError(f"{url}: {exc}", transient=True) from exc
        except DocumentError as exc:
            raise ReadError(f"{url}: {exc}") from exc
        return doc.title, doc.text


class JinaReader(_CachedWebReader):
    """Jina's reader service (JINA_API_KEY) fetches and cleans the page; private URLs are never sent to it."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, api_key: str, policy: AddressPolicy,
                 pages: PageStore, ttl: float, limits: ParseLimits | None = None,
                 loads: PageLoads | None = None) -> None:
        super().__init__(pages, ttl, limits, loads)
        self.client = client
        self.base_url = base_url
        self.api_key = api_key
        self.policy = policy

    async def _load(self, url: str, until: float | None) -> tuple[str, str]:
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

        return await request_json(self.client, "POST", f"{self.base_url}/", service="the Jina reader", fail=fail,
                               json={"url": url}, headers={"Authorization": f"Bearer {self.api_key}",
                                                           "Accept": "application/json"})


class RoutingReader:
    """Web URLs go to the web reader, everything else to the corpus."""

    def __init__(self, corpus: Reader, web: Reader) -> None:
        self.corpus = corpus
        self.web = web

    async def read(self, url: str, focus: str, max_chars: int, until: float | None = None) -> Page:
        """Read with whichever reader owns the URL."""
        is_web = url.lower().startswith(("http://", "https://"))
        return await (self.web if is_web else self.corpus).read(url, focus, max_chars, until)
