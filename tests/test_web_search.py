"""Search backends against local servers that speak their APIs (and an injected DDGS for DuckDuckGo)."""

import json
from dataclasses import replace
from typing import Any

import pytest

from core.errors import ConfigError, SearchError
from core.settings import WebSettings, load_settings
from tests.fakes.web_server import Route, WebServer
from tools.net.http import make_clients
from tools.search import make_backend, resolve_backend
from tools.web.engines import DuckDuckGo, Locale, SearXNG, Serper, Tavily

QUERY = "Glass Harbor film premiere"


def api(web: WebServer) -> Any:
    return make_clients(WebSettings()).api


async def test_searxng(web: WebServer) -> None:
    hits = await SearXNG(api(web), web.url("/searxng")).search(QUERY, 3)
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert hits[0]["url"].startswith(web.base) and hits[0]["backend"] == "searxng" and hits[0]["query"] == QUERY
    assert "format=json" in web.requests[-1][1]


async def test_searxng_without_json_output_says_how_to_fix(web: WebServer) -> None:
    backend = SearXNG(api(web), web.url("/searxng"))
    backend.base_url = web.url("/searxng-html")  # an instance answering 404 for the JSON API
    with pytest.raises(SearchError, match="HTTP 404"):
        await backend.search(QUERY, 3)


async def test_serper_locale_follows_the_question_language(web: WebServer) -> None:
    serper = Serper(api(web), web.url("/serper"), "serper-key")
    hits = await serper.search(QUERY, 2)
    assert len(hits) == 2 and hits[0]["title"]
    assert json.loads(web.requests[-1][3])["gl"] == "us"
    await serper.search("Glass Harbor", 2, Locale.for_text("电影《玻璃港》在哪里首映？"))
    sent = json.loads(web.requests[-1][3])
    assert (sent["gl"], sent["hl"]) == ("cn", "zh-cn")
    with pytest.raises(SearchError, match="refused the request") as refused:
        await Serper(api(web), web.url("/serper"), "wrong-key").search(QUERY, 2)
    assert not refused.value.transient  # a wrong key is not retried, now or in a later round


async def test_tavily(web: WebServer) -> None:
    hits = await Tavily(api(web), web.url("/tavily"), "tavily-key").search(QUERY, 2)
    assert len(hits) == 2 and all(h["backend"] == "tavily" for h in hits)
    assert web.requests[-1][2]["Authorization"] == "Bearer tavily-key"


async def test_rate_limits_are_retried_then_reported(web: WebServer) -> None:
    web.flaky["/searxng/search"] = 1
    assert await SearXNG(api(web), web.url("/searxng")).search(QUERY, 2)
    web.flaky["/searxng/search"] = 10
    with pytest.raises(SearchError, match="after retries") as busy:
        await SearXNG(api(web), web.url("/searxng")).search(QUERY, 2)
    assert busy.value.transient  # a later round may try it again


class FakeDDGS:
    calls: list[dict[str, Any]] = []
    script: list[Any] = []

    def text(self, query: str, **kw: Any) -> list[dict[str, str]]:
        FakeDDGS.calls.append({"query": query, **kw})
        step = FakeDDGS.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


async def test_duckduckgo_normalises_and_retries() -> None:
    from ddgs.exceptions import DDGSException, RatelimitException

    FakeDDGS.calls = []
    FakeDDGS.script = [RatelimitException("slow down"),
                       [{"title": "Glass Harbor", "href": "https://example.org/gh", "body": "premiered in Velmora"},
                        {"title": "bad", "href": "javascript:alert(1)", "body": ""}],
                       DDGSException("No results found.")]
    ddg = DuckDuckGo(make_client=FakeDDGS)
    hits = await ddg.search(QUERY, 5, Locale.for_text("日本語の質問です"))
    assert [h["url"] for h in hits] == ["https://example.org/gh"]
    assert FakeDDGS.calls[-1]["region"] == "jp-jp" and FakeDDGS.calls[-1]["max_results"] == 5
    assert await ddg.search("nothing at all", 5) == []


def test_auto_and_missing_keys() -> None:
    web = WebSettings()
    assert resolve_backend("auto", web) == "duckduckgo"
    assert resolve_backend("auto", replace(web, searxng_url="http://s")) == "searxng"
    assert resolve_backend("auto", replace(web, searxng_url="http://s", tavily_api_key="t")) == "tavily"
    assert resolve_backend("auto", replace(web, tavily_api_key="t", serper_api_key="s")) == "serper"
    for name, variable in (("serper", "SERPER_API_KEY"), ("tavily", "TAVILY_API_KEY"), ("searxng", "SEARXNG_URL")):
        with pytest.raises(ConfigError, match=variable):
            resolve_backend(name, web)


async def test_make_backend_uses_the_environment(web: WebServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERPER_API_KEY", "serper-key")
    settings = load_settings()
    backend = make_backend("auto", settings, make_clients(settings.web).api)
    assert backend.name == "serper" and await backend.search(QUERY, 1)


async def test_malformed_search_answers_are_contained(web: WebServer) -> None:
    import httpx

    from tools.web.engines import _items

    assert _items([1, 2], "results") == [] and _items({"results": [1, {"url": "x"}]}, "results") == [{"url": "x"}]
    web.routes["/loop/search"] = Route(b"", status=302, headers={"Location": "/loop/search"})
    with pytest.raises(SearchError, match="unusably"):
        await SearXNG(httpx.AsyncClient(follow_redirects=True), web.url("/loop")).search(QUERY, 2)


def test_queries_a_backend_refused_for_good_are_not_planned_again() -> None:
    from state.queries import already_searched, fresh_queries

    state = {"queries_run": ["ran fine"], "failures": [
        {"round": 1, "action": "search", "target": "bad key query", "error": "HTTP 401", "transient": False},
        {"round": 1, "action": "search", "target": "busy query", "error": "HTTP 503", "transient": True}]}
    assert fresh_queries(["Ran  fine!", "bad key query", "busy query", "new"], already_searched(state)) == [
        "busy query", "new"]


async def test_duckduckgo_offline_is_unreachable_not_empty() -> None:
    from ddgs.exceptions import DDGSException

    from core.errors import SearchUnavailable

    FakeDDGS.calls = []
    offline = DDGSException("DNSError: DNSError('error sending request for url (https://search.yahoo.com/search?p=x) "
                            "> error resolving DNS')")
    FakeDDGS.script = [offline, offline, offline]
    with pytest.raises(SearchUnavailable, match="cannot reach the search backend duckduckgo: .*DNSError"):
        await DuckDuckGo(make_client=FakeDDGS).search(QUERY, 5)
    assert len(FakeDDGS.calls) == 3  # retried before giving up


async def test_an_unreachable_api_is_unavailable_not_a_failed_query() -> None:
    import httpx

    from core.errors import SearchUnavailable

    async with httpx.AsyncClient() as client:
        with pytest.raises(SearchUnavailable, match="searxng: connection failed"):
            await SearXNG(client, "http://127.0.0.1:9").search(QUERY, 2)
