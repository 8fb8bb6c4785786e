"""A slow page costs one round at most once: its load goes on in the background, and no round waits on it again."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from core.errors import ReadError
from core.settings import WebSettings, load_settings
from deepresearch import runner
from tests.conftest import QUESTION, run_context
from tests.fakes.model_server import ModelServer
from tests.fakes.web_server import Route, WebServer, html
from tests.test_iterresearch import Recorder, kinds
from tools.net.http import make_clients
from tools.reader import WebReader
from tools.web.fetch import Fetcher
from tools.web.loads import PageLoads
from tools.web.pages import PageStore, StoredPage

# in the hits of every round of the Glass Harbor question (it holds each round's query words), stating no fact
DIGEST = html("Glass Harbor film premiere; Velmora library architect; Ilse Marrow architect born: a digest",
              "Questions readers sent in this week, with no answers yet.")


def held_digest(web: WebServer, status: int = 200) -> tuple[str, threading.Event]:
    """The digest page on the site, answering only once the returned event is set."""
    release = threading.Event()
    web.routes["/digest"] = Route(DIGEST.body, status=status, title=DIGEST.title, hold=release)
    return web.url("/digest"), release


async def research(thread: str) -> tuple[runner.RunResult, Recorder]:
    recorder = Recorder()
    ctx = run_context(search="searxng", pages_per_round=4, read_deadline_seconds=1)
    result = await asyncio.wait_for(runner.start(load_settings(), thread_id_for(thread), QUESTION, "iterresearch", ctx,
                                                 recorder), timeout=120)  # a hang bound, not a speed claim
    return result, recorder


def rounds_of(recorder: Recorder, kind: str, url: str) -> list[int]:
    return [e["round"] for e in kinds(recorder, kind) if e.get("url") == url]


async def test_a_page_still_loading_is_fetched_once_and_never_awaited_again(
        model_server: ModelServer, web: WebServer, home: Path, caplog: pytest.LogCaptureFixture) -> None:
    url, release = held_digest(web)
    try:
        result, recorder = await research("still-loading")
        # the run is over: the load it left behind ended with it (no task outlives the run)
        assert [t for t in asyncio.all_tasks() if t.get_name().startswith("page load")] == []
    finally:
        release.set()
    gc.collect()  # a pending task destroyed would be reported now, through the asyncio logger
    assert result.answer == "1921"
    assert web.hits("/digest") == 1  # late in round 1, then left to load: never fetched again
    assert rounds_of(recorder, "read_failed", url) == [1]
    chosen = [(e["round"], p["url"]) for e in kinds(recorder, "select") for p in e["pages"]]
    assert (1, url) in chosen and [r for r, u in chosen if u == url] == [1]  # not chosen while it loads
    assert [f["transient"] for f in result.failures if f["target"] == url] == [True]
    assert not [r for r in caplog.records if "destroyed but it is pending" in r.getMessage()
                or "never retrieved" in r.getMessage()]


def arrive_before_the_writer(model_server: ModelServer, release_page: threading.Event, store: PageStore,
                             url: str) -> threading.Event:
    """Hold round 1's report writer (its reads are over: the page was late) until the page is in the store."""
    writer = threading.Event()
    model_server.faults.gates["writer"] = (1, writer)

    def go() -> None:
        model_server.blocked.wait(60)
        release_page.set()
        deadline = time.monotonic() + 60
        while store.lookup(url) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        writer.set()

    threading.Thread(target=go, daemon=True).start()
    return writer


async def test_a_page_that_arrived_in_the_background_is_read_without_fetching_it_again(
        model_server: ModelServer, web: WebServer, home: Path) -> None:
    url, release = held_digest(web)
    arrived = arrive_before_the_writer(model_server, release, PageStore(home / "pages.db"), url)
    result, recorder = await research("arrived")
    assert arrived.is_set() and result.answer == "1921"
    assert web.hits("/digest") == 1
    assert rounds_of(recorder, "read_failed", url) == [1]
    assert rounds_of(recorder, "read", url) == [2]  # read in the next round, from what arrived
    assert len([c for c in model_server.calls("reader") if url in c.user]) == 1  # the extraction call only


async def test_a_background_load_that_fails_is_an_ordinary_read_failure(
        model_server: ModelServer, web: WebServer, home: Path) -> None:
    url, release = held_digest(web, status=404)
    arrive = threading.Event()
    model_server.faults.gates["writer"] = (1, arrive)

    def go() -> None:  # the 404 comes after the read was late; round 2 learns it without a second request
        model_server.blocked.wait(60)
        release.set()
        deadline = time.monotonic() + 60
        while web.in_flight and time.monotonic() < deadline:  # until the 404 is sent
            time.sleep(0.05)
        arrive.set()

    threading.Thread(target=go, daemon=True).start()
    result, recorder = await research("failed-later")
    assert result.answer == "1921"
    assert web.hits("/digest") == 1
    failures = [(f["round"], f["transient"]) for f in result.failures if f["target"] == url]
    assert failures == [(1, True), (2, False)]  # late, then the 404 it came back with: not tried again
    assert any("HTTP 404" in e["error"] for e in kinds(recorder, "read_failed") if e["url"] == url)


async def test_a_page_left_loading_holds_none_of_its_hosts_connections(web: WebServer, tmp_path: Path) -> None:
    """One connection per host: the late page's load goes on, and the next read of the host is not held by it."""
    settings = WebSettings(allow_private_network="127.0.0.1", per_host=1)
    clients = make_clients(settings)
    loads = PageLoads(per_host=1)
    reader = WebReader(Fetcher(clients.pages, settings), PageStore(tmp_path / "pages.db"), 3600, loads=loads)
    url, release = held_digest(web)
    try:
        late = asyncio.ensure_future(reader.read(url, "", 1000))
        for _ in range(400):  # until the request waits at the server (a hang bound of 20 s)
            if web.in_flight:
                break
            await asyncio.sleep(0.05)
        late.cancel()
        page = await asyncio.wait_for(reader.read(web.url("/wiki/Glass_Harbor"), "", 1000), timeout=20)
        assert "premiered in Velmora" in page.text and loads.left_behind() == {url}
        release.set()
        for _ in range(400):
            if not loads.left_behind():
                break
            await asyncio.sleep(0.05)
        assert (await reader.read(url, "", 1000)).title == DIGEST.title and web.hits("/digest") == 1
    finally:
        release.set()
        await loads.close()
        await clients.pages.aclose()
        await clients.api.aclose()


async def test_one_load_per_url_and_a_cancelled_read_leaves_it_loading() -> None:
    loads = PageLoads()
    started = 0
    gate = asyncio.Event()

    async def job() -> StoredPage:
        nonlocal started
        started += 1
        await gate.wait()
        return StoredPage("u", "Title", "hash", "text", 0.0)

    first = asyncio.ensure_future(loads.load("u", job))
    second = asyncio.ensure_future(loads.load("u", job))
    await asyncio.sleep(0.01)
    assert started == 1 and loads.left_behind() == set()
    first.cancel()
    second.cancel()
    await asyncio.gather(first, second, return_exceptions=True)
    assert loads.left_behind() == {"u"}  # nobody waits, and it goes on loading
    gate.set()
    await asyncio.sleep(0.01)
    assert loads.left_behind() == set()
    taken = loads.take("u")
    assert taken is not None and (taken.title, taken.page_hash, taken.error) == ("Title", "hash", None)
    assert loads.take("u") is None  # taken once


async def test_a_failure_nobody_awaits_is_kept_for_the_next_read_and_close_ends_the_rest() -> None:
    loads = PageLoads()

    async def fails() -> StoredPage:
        await asyncio.sleep(0.01)
        raise ReadError("u: HTTP 404")

    async def hangs() -> StoredPage:
        await asyncio.sleep(3600)
        raise AssertionError("never")

    for url, job in (("bad", fails), ("slow", hangs)):
        reader = asyncio.ensure_future(loads.load(url, job))
        await asyncio.sleep(0)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    await asyncio.sleep(0.05)
    taken = loads.take("bad")
    assert taken is not None and isinstance(taken.error, ReadError)
    assert loads.left_behind() == {"slow"}
    await asyncio.wait_for(loads.close(), timeout=10)
    assert loads.left_behind() == set()
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("page load")] == []


async def test_only_so_many_loads_are_left_behind_the_oldest_stop_first() -> None:
    loads = PageLoads(per_host=1, most=2)

    async def hangs() -> StoredPage:
        await asyncio.sleep(3600)
        raise AssertionError("never")

    async def leave(url: str) -> None:
        reader = asyncio.ensure_future(loads.load(url, hangs))
        await asyncio.sleep(0)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)

    await leave("http://a.example/1")
    await leave("http://a.example/2")  # one per host: the first stops
    assert loads.left_behind() == {"http://a.example/2"}
    await leave("http://b.example/1")
    await leave("http://c.example/1")  # two in all: the oldest stops
    assert loads.left_behind() == {"http://b.example/1", "http://c.example/1"}
    await asyncio.wait_for(loads.close(), timeout=10)
