"""Fetch web pages safely.

The address policy and robots.txt apply on every hop; redirects, decoded bytes, time and content types
are limited; each host gets a few connections at a time; transient failures are retried with backoff.
A fetch moved to the background (its reader gave up on it: tools/web/loads.py) leaves the host's connections
to the fetches still awaited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from email.message import Message
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import httpx

from core.errors import ReadError, RefusedURL, TooLarge, Transient
from core.settings import WebSettings
from tools.documents.formats import KINDS as SUFFIX_KINDS
from tools.net.netsafety import check_url, refused_by_policy
from tools.net.retry import retry_after, retrying
from tools.web.decoding import ACCEPT_ENCODING, BoundedDecoder
from tools.web.robots import ROBOTS_MAX_BYTES, Robots

# content types we can turn into text, by the parser kind that handles them
KINDS = {
    "text/html": "html", "application/xhtml+xml": "html", "text/plain": "text", "text/markdown": "markdown",
    "text/x-markdown": "markdown", "application/pdf": "pdf", "text/csv": "csv", "application/json": "text",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}


@dataclass(frozen=True)
class Fetched:
    """A fetched document: where it ended up, what it is, and its bytes."""

    url: str
    final_url: str
    kind: str
    charset: str | None
    data: bytes


@dataclass(frozen=True)
class _Raw:
    final_url: str
    status: int
    headers: httpx.Headers
    data: bytes


class Background:
    """Lets a fetch go on in the background: after ``begin()`` it holds none of its host's connection slots.

    Set in ``BACKGROUND`` by the task that runs the fetch; whoever calls ``begin`` bounds how many there are.
    """

    def __init__(self) -> None:
        self.begun = False
        self.slot: asyncio.Semaphore | None = None  # the host's slot the fetch holds now, if any

    def begin(self) -> None:
        """Nobody waits for this fetch any more: its slot goes to the fetches that are awaited."""
        self.begun = True
        self.give_back()

    def give_back(self) -> None:
        """Release the slot held, once."""
        if self.slot is not None:
            self.slot.release()
            self.slot = None


BACKGROUND: ContextVar[Background | None] = ContextVar("background", default=None)


def url_name(url: str) -> str:
    """A short name for a URL's document: the last path segment, else the host."""
    parts = urlsplit(url)
    return PurePosixPath(parts.path).name or parts.hostname or url


def content_kind(content_type: str, url: str) -> tuple[str | None, str | None]:
    """(parser kind, charset) from a Content-Type header, falling back on the URL's suffix."""
    message = Message()
    message["content-type"] = content_type or "application/octet-stream"
    mime = message.get_content_type().lower()
    charset = message.get_param("charset")
    kind = KINDS.get(mime)
    if kind is None and mime in ("application/octet-stream", "binary/octet-stream", "text/x-unknown"):
        kind = SUFFIX_KINDS.get(PurePosixPath(urlsplit(url).path).suffix.lower())  # what a file of that name is
    return kind, charset if isinstance(charset, str) else None


class Fetcher:
    """GETs pages with the safe client; one instance per client."""

    def __init__(self, client: httpx.AsyncClient, web: WebSettings) -> None:
        self.client = client
        self.web = web
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self.robots = Robots(lambda url: self._get(url, ROBOTS_MAX_BYTES, robots=False, truncate=True))

    async def fetch(self, url: str) -> Fetched:
        """The page at ``url``; ReadError (transient or not) says why it could not be had.

        One time budget covers robots.txt, redirects, retries and the body.
        """
        try:
            async with asyncio.timeout(self.web.fetch_timeout):
                return await self._fetch(url)
        except TimeoutError as exc:
            raise ReadError(f"{url}: no complete answer within {self.web.fetch_timeout:g}s", transient=True) from exc
        except (ValueError, UnicodeError, httpx.InvalidURL) as exc:  # malformed URLs, hosts or redirects
            raise RefusedURL(f"refused {url!r}: malformed URL ({exc})") from exc

    async def _fetch(self, url: str) -> Fetched:
        raw = await self._get(url, self.web.max_page_bytes, robots=self.web.respect_robots)
        if raw.status in (408, 425, 429) or raw.status >= 500:
            raise ReadError(f"{url}: HTTP {raw.status} (after retries)", transient=True, status=raw.status)
        if raw.status >= 400:
            raise ReadError(f"{url}: HTTP {raw.status}", status=raw.status)
        kind, charset = content_kind(raw.headers.get("content-type", ""), raw.final_url)
        if kind is None:
            raise ReadError(f"{url}: unsupported content type {raw.headers.get('content-type', 'unknown')!r}")
        return Fetched(url, raw.final_url, kind, charset, raw.data)

    async def _get(self, url: str, max_bytes: int, robots: bool, truncate: bool = False) -> _Raw:
        """Follow redirects (each hop checked, robots.txt included) and retry transient failures."""
        try:
            return await retrying(lambda: self._follow(url, max_bytes, robots, truncate), attempts=3)
        except Transient as exc:
            raise ReadError(f"{url}: {exc}", transient=True, status=exc.status) from exc

    async def _follow(self, url: str, max_bytes: int, robots: bool, truncate: bool) -> _Raw:
        current = url
        for _ in range(self.web.max_redirects + 1):
            check_url(current)
            if robots:
                await self.robots.check(current)
            raw = await self._once(current, max_bytes, truncate)
            if raw.status in (301, 302, 303, 307, 308) and raw.headers.get("location"):
                current = urljoin(current, raw.headers["location"])
                continue
            if raw.status in (408, 429) or raw.status >= 500:
                raise Transient(f"HTTP {raw.status}", retry_after(raw.headers.get("retry-after")), raw.status)
            return raw
        raise ReadError(f"{url}: more than {self.web.max_redirects} redirects")

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        """One of the host's ``per_host`` connection slots for a request, unless the fetch is in the background."""
        slot = self._hosts.setdefault(host, asyncio.Semaphore(self.web.per_host))
        background = BACKGROUND.get()
        if background is None:
            async with slot:
                yield
        elif background.begun:
            yield
        else:
            await slot.acquire()
            background.slot = slot  # given back early if the fetch is moved to the background meanwhile
            if background.begun:  # it was, while it waited for the slot
                background.give_back()
            try:
                yield
            finally:
                background.give_back()

    async def _once(self, url: str, max_bytes: int, truncate: bool) -> _Raw:
        host = urlsplit(url).hostname or ""
        headers = {"Accept": "*/*", "Accept-Encoding": ACCEPT_ENCODING}
        async with self._slot(host):
            try:
                async with self.client.stream("GET", url, headers=headers) as response:
                    if response.is_redirect or response.status_code >= 400:
                        return _Raw(str(response.url), response.status_code, response.headers, b"")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes and not truncate:
                        raise ReadError(f"{url}: {int(declared):,} bytes is over the {max_bytes:,}-byte limit")
                    data = await self._body(response, url, max_bytes, truncate)
                    return _Raw(str(response.url), response.status_code, response.headers, data)
            except httpx.TimeoutException as exc:
                raise Transient(f"timed out ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                refusal = refused_by_policy(exc)
                if refusal:
                    raise RefusedURL(refusal) from exc
                if isinstance(exc, httpx.RemoteProtocolError) and "location" in str(exc).lower():
                    raise ReadError(f"{url}: malformed redirect ({exc})") from exc
                raise Transient(f"connection failed: {exc}") from exc
            except httpx.HTTPError as exc:  # anything else httpx can raise about a response is not worth retrying
                raise ReadError(f"{url}: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    async def _body(response: httpx.Response, url: str, max_bytes: int, truncate: bool) -> bytes:
        """The decoded body, never expanded past ``max_bytes`` (cut there when ``truncate``)."""
        decoder = BoundedDecoder(response.headers.get("content-encoding", ""), max_bytes, url)
        data = bytearray()
        try:
            async for chunk in response.aiter_raw():
                data += decoder.feed(chunk)
        except TooLarge:
            if not truncate:
                raise ReadError(f"{url}: larger than the {max_bytes:,}-byte limit") from None
        return bytes(data[:max_bytes])
