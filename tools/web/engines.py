"""Web search backends: DuckDuckGo (no key), SearXNG (self-hosted), Serper (the original's), Tavily.

Each returns normalised hits; failures become SearchError after transient ones were retried.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from core.errors import SearchError, SearchUnavailable, Transient
from core.text import clip
from state.records import TITLE_CHARS, URL_CHARS, Hit
from tools.net.http import request_json
from tools.net.retry import retrying

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


@dataclass(frozen=True)
class Locale:
    """Search locale per backend, chosen from the language of the question."""

    language: str  # en, zh, ja, ko
    gl: str
    hl: str
    region: str  # DuckDuckGo
    searxng: str

    @classmethod
    def for_text(cls, text: str) -> Locale:
        """Chinese, Japanese or Korean text searches that language's results (as the original does for CJK)."""
        if _KANA.search(text):
            return cls("ja", "jp", "ja", "jp-jp", "ja")
        if _HANGUL.search(text):
            return cls("ko", "kr", "ko", "kr-kr", "ko")
        if _HAN.search(text):
            return cls("zh", "cn", "zh-cn", "cn-zh", "zh-CN")
        return cls("en", "us", "en", "us-en", "en")


def _items(data: Any, key: str) -> list[dict[str, Any]]:
    """The result list of an API answer, whatever shape it came in (malformed parts are skipped)."""
    found = data.get(key) if isinstance(data, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def _hits(items: list[dict[str, Any]], query: str, backend: str, k: int, title: str, url: str,
          snippet: str) -> list[Hit]:
    hits: list[Hit] = []
    for item in items:
        link = str(item.get(url) or "")
        if not link.startswith(("http://", "https://")) or len(link) > URL_CHARS:  # no page lives at such a URL
            continue
        hits.append(Hit(title=clip(" ".join(str(item.get(title) or link).split()), TITLE_CHARS), url=link,
                        snippet=" ".join(str(item.get(snippet) or "").split())[:500], rank=len(hits) + 1,
                        backend=backend, query=query))
        if len(hits) == k:
            break
    return hits


async def _request_json(client: httpx.AsyncClient, backend: str, method: str, url: str, **kwargs: Any) -> Any:
    return await request_json(client, method, url, service=backend, fail=SearchError,
                           unreachable=lambda detail: SearchUnavailable(backend, detail), **kwargs)


class SearXNG:
    """A SearXNG instance's JSON API (`format=json` must be enabled in its settings.yml)."""

    name = "searxng"
    description = "the web, through a SearXNG metasearch instance"

    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    async def search(self, query: str, k: int, locale: Locale | None = None) -> list[Hit]:
        """GET /search?format=json."""
        params = {"q": query, "format": "json", "pageno": 1, "language": (locale or Locale.for_text(query)).searxng}
        try:
            data = await _request_json(self.client, self.name, "GET", f"{self.base_url}/search", params=params)
        except SearchError as exc:
            if "HTTP 403" in str(exc):
                raise SearchError("SearXNG refused JSON output: add `json` to search.formats in settings.yml",
                                  transient=False) from exc
            raise
        return _hits(_items(data, "results"), query, self.name, k, "title", "url", "content")


class _KeyedAPI:
    """A search API reached at a base URL with a key."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, api_key: str) -> None:
        self.client = client
        self.base_url = base_url
        self.api_key = api_key


class Serper(_KeyedAPI):
    """Google results through serper.dev (SERPER_API_KEY), as the original Tongyi DeepResearch uses."""

    name = "serper"
    description = "the web, through Google (Serper)"

    async def search(self, query: str, k: int, locale: Locale | None = None) -> list[Hit]:
        """POST /search with gl/hl from the question's language."""
        loc = locale or Locale.for_text(query)
        data = await _request_json(self.client, self.name, "POST", f"{self.base_url}/search",
                                headers={"X-API-KEY": self.api_key},
                                json={"q": query, "gl": loc.gl, "hl": loc.hl, "num": max(k, 10)})
        return _hits(_items(data, "organic"), query, self.name, k, "title", "link", "snippet")


class Tavily(_KeyedAPI):
    """Tavily's search API (TAVILY_API_KEY)."""

    name = "tavily"
    description = "the web, through Tavily"

    async def search(self, query: str, k: int, locale: Locale | None = None) -> list[Hit]:
        """POST /search."""
        data = await _request_json(self.client, self.name, "POST", f"{self.base_url}/search",
                                headers={"Authorization": f"Bearer {self.api_key}"},
                                json={"query": query, "max_results": k, "search_depth": "basic"})
        return _hits(_items(data, "results"), query, self.name, k, "title", "url", "content")


# how ddgs reports engines it could not reach (it wraps the HTTP client's error text)
_OFFLINE = ("dnserror", "connecterror", "error sending request", "connection refused", "network is unreachable")


def _first_line(exc: Exception) -> str:
    """An engine error as one short line (ddgs nests the client's message in its own)."""
    text = " ".join(str(exc).replace("\\'", "'").split())
    return text if len(text) <= 160 else text[:159] + "…"


class DuckDuckGo:
    """DuckDuckGo and friends through the ddgs package: no key needed."""

    name = "duckduckgo"
    description = "the web, through DuckDuckGo"

    def __init__(self, make_client: Callable[[], Any] | None = None, timeout: int = 10) -> None:
        self.make_client = make_client or self._ddgs(timeout)

    @staticmethod
    def _ddgs(timeout: int) -> Callable[[], Any]:
        def build() -> Any:
            from ddgs import DDGS

            return DDGS(timeout=timeout)

        return build

    async def search(self, query: str, k: int, locale: Locale | None = None) -> list[Hit]:
        """Ddgs is synchronous: run it in a worker thread, retrying rate limits and timeouts."""
        from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

        region = (locale or Locale.for_text(query)).region

        async def attempt() -> list[dict[str, Any]]:
            try:
                return await asyncio.to_thread(lambda: self.make_client().text(query, region=region, max_results=k))
            except (RatelimitException, TimeoutException) as exc:
                raise Transient(str(exc)) from exc
            except DDGSException as exc:
                message = str(exc).lower()
                if "no results" in message:
                    return []
                if "ratelimit" in message or "rate limit" in message or "429" in message:
                    raise Transient(str(exc)) from exc  # engines' rate limits arrive wrapped
                if any(sign in message for sign in _OFFLINE):  # every engine it asked was out of reach
                    raise Transient(_first_line(exc), unreachable=True) from exc
                raise SearchError(f"duckduckgo search failed: {exc}") from exc

        try:
            items = await retrying(attempt)
        except Transient as exc:
            if exc.unreachable:
                raise SearchUnavailable(self.name, str(exc)) from exc
            raise SearchError(f"duckduckgo search failed after retries: {exc}", transient=True) from exc
        return _hits([i for i in items if isinstance(i, dict)], query, self.name, k, "title", "href", "body")
