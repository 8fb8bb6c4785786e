"""Fetch web pages safely.

The address policy applies on every hop; redirects, bytes, time and content types are limited; each
host gets a few connections at a time; transient failures are retried with backoff; robots.txt is
respected unless switched off.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import Message
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from deepresearch.errors import ReadError, RefusedURL
from deepresearch.settings import WebSettings
from tools.netsafety import check_url, refused_by_policy
from tools.retry import Transient, retry_after, retrying

# content types we can turn into text, by the parser kind that handles them
KINDS = {
    "text/html": "html", "application/xhtml+xml": "html", "text/plain": "text", "text/markdown": "markdown",
    "text/x-markdown": "markdown", "application/pdf": "pdf", "text/csv": "csv", "application/json": "text",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
SUFFIX_KINDS = {".pdf": "pdf", ".docx": "docx", ".csv": "csv", ".md": "markdown", ".txt": "text", ".html": "html",
                ".htm": "html"}
ROBOTS_MAX_BYTES = 500_000
ROBOTS_AGENT = "deepresearch"


@dataclass(frozen=True)
class Fetched:
    """A fetched document: where it ended up, what it is, and its bytes."""

    url: str
    final_url: str
    kind: str
    charset: str | None
    data: bytes


@dataclass(frozen=True)
class _Robots:
    """A site's robots.txt verdict: everything allowed, nothing allowed, or its rules."""

    allow: bool
    rules: RobotFileParser | None = None

    def allows(self, url: str) -> bool:
        return self.rules.can_fetch(ROBOTS_AGENT, url) if self.rules is not None else self.allow


@dataclass(frozen=True)
class _Raw:
    final_url: str
    status: int
    headers: httpx.Headers
    data: bytes


def content_kind(content_type: str, url: str) -> tuple[str | None, str | None]:
    """(parser kind, charset) from a Content-Type header, falling back on the URL's suffix."""
    message = Message()
    message["content-type"] = content_type or "application/octet-stream"
    mime = message.get_content_type().lower()
    charset = message.get_param("charset")
    kind = KINDS.get(mime)
    if kind is None and mime in ("application/octet-stream", "binary/octet-stream", "text/x-unknown"):
        kind = SUFFIX_KINDS.get(PurePosixPath(urlsplit(url).path).suffix.lower())
    return kind, charset if isinstance(charset, str) else None


class Fetcher:
    """GETs pages with the safe client; one instance per client."""

    def __init__(self, client: httpx.AsyncClient, web: WebSettings) -> None:
        self.client = client
        self.web = web
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def fetch(self, url: str) -> Fetched:
        """The page at ``url``; ReadError (transient or not) says why it could not be had."""
        check_url(url)
        if self.web.respect_robots and not await self._robots_allow(url):
            raise ReadError(f"robots.txt of {urlsplit(url).netloc} disallows {url}")
        raw = await self._get(url, self.web.max_page_bytes)
        if raw.status in (408, 425, 429) or raw.status >= 500:
            raise ReadError(f"{url}: HTTP {raw.status} (after retries)", transient=True)
        if raw.status >= 400:
            raise ReadError(f"{url}: HTTP {raw.status}")
        kind, charset = content_kind(raw.headers.get("content-type", ""), raw.final_url)
        if kind is None:
            raise ReadError(f"{url}: unsupported content type {raw.headers.get('content-type', 'unknown')!r}")
        return Fetched(url, raw.final_url, kind, charset, raw.data)

    async def _get(self, url: str, max_bytes: int) -> _Raw:
        """Follow redirects (each hop checked) within the total time limit; retry transient failures."""
        try:
            async with asyncio.timeout(self.web.fetch_timeout):
                return await retrying(lambda: self._follow(url, max_bytes), attempts=3)
        except TimeoutError as exc:
            raise ReadError(f"{url}: no complete answer within {self.web.fetch_timeout:g}s", transient=True) from exc
        except Transient as exc:
            raise ReadError(f"{url}: {exc}", transient=True) from exc

    async def _follow(self, url: str, max_bytes: int) -> _Raw:
        current = url
        for _ in range(self.web.max_redirects + 1):
            raw = await self._once(current, max_bytes)
            if raw.status in (301, 302, 303, 307, 308) and raw.headers.get("location"):
                current = urljoin(current, raw.headers["location"])
                check_url(current)
                continue
            if raw.status in (429, 503) or raw.status >= 500 or raw.status == 408:
                raise Transient(f"HTTP {raw.status}", retry_after(raw.headers.get("retry-after")))
            return raw
        raise ReadError(f"{url}: more than {self.web.max_redirects} redirects")

    async def _once(self, url: str, max_bytes: int) -> _Raw:
        host = urlsplit(url).hostname or ""
        slot = self._hosts.setdefault(host, asyncio.Semaphore(self.web.per_host))
        async with slot:
            try:
                async with self.client.stream("GET", url, headers={"Accept": "*/*"}) as response:
                    if response.is_redirect or response.status_code >= 400:
                        return _Raw(str(response.url), response.status_code, response.headers, b"")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise ReadError(f"{url}: {int(declared):,} bytes is over the {max_bytes:,}-byte limit")
                    data = bytearray()
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) > max_bytes:
                            raise ReadError(f"{url}: larger than the {max_bytes:,}-byte limit")
                    return _Raw(str(response.url), response.status_code, response.headers, bytes(data))
            except httpx.TimeoutException as exc:
                raise Transient(f"timed out ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                refusal = refused_by_policy(exc)
                if refusal:
                    raise RefusedURL(refusal) from exc
                raise Transient(f"connection failed: {exc}") from exc

    async def _robots_allow(self, url: str) -> bool:
        """RFC 9309: missing (4xx) robots.txt allows everything; an unreachable one (5xx) allows nothing."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            async with self._robots_locks.setdefault(origin, asyncio.Lock()):
                if origin not in self._robots:
                    self._robots[origin] = await self._load_robots(origin)
        return self._robots[origin].allows(url)

    async def _load_robots(self, origin: str) -> _Robots:
        try:
            raw = await self._get(f"{origin}/robots.txt", ROBOTS_MAX_BYTES)
        except RefusedURL:
            return _Robots(allow=True)  # the site itself is refused: the page fetch will say so
        except ReadError as exc:
            # unreachable (timeouts, 5xx): complete disallow; oversized or looping: treated as missing
            return _Robots(allow=not exc.transient)
        if raw.status >= 400:
            return _Robots(allow=True)
        parser = RobotFileParser()
        parser.parse(raw.data.decode("utf-8", errors="replace").splitlines())
        return _Robots(allow=True, rules=parser)
