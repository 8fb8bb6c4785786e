"""A slow page among a web run's hits: what pages that take 60 s to answer cost a 3-hop run.

The relay question (benchmarks/relay.py, one round per hop) over a local web (tests/fakes/web_server.py)
searched through its SearXNG API: each round's search finds the town's relay station (the page that moves
the chain on), its visitor guide and its news page, and with ``--slow`` every news page takes that many
seconds to answer (60 by default: one such page among the hits of every round). The same run with and
without the slow pages, side by side in one process, each on a fresh home and server, every model call
taking ``--latency`` seconds; the target is a difference of at most 10 s.

    python -m benchmarks.slow_page [--hops 3] [--slow 60] [--latency 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.relay import NAMES, RemoteModel, filler, guide, question, station
from tests.fakes.web_server import Route, WebServer, html

TARGET = 10.0  # seconds the slow pages may add to the run


@dataclass
class Run:
    """One run's wall time, whether it found the answer, and what the slow pages cost it."""

    wall: float
    right: bool
    rounds: int
    slow_requests: int  # GETs of the slow pages the server saw
    late_reads: int  # reads recorded as failed for being late


def site(hops: int, slow: float) -> dict[str, Route]:
    """Each town's relay station, visitor guide and news page (the last ``slow`` seconds late)."""
    routes: dict[str, Route] = {}
    for i, town in enumerate(NAMES[:hops + 1]):
        routes[f"/relay/{town.lower()}"] = _page(f"Relay station {town}", station(i, 4))
        routes[f"/guide/{town.lower()}"] = _page(f"{town} visitor guide", guide(i, 4))
        news = _page(f"{town} relay news", f"# {town} relay news\n\nCouriers and relay riders of {town} met this "
                     f"week to talk about parcel fees and the winter timetable.\n\n{filler(300 + i, 4)}")
        news.delay = slow
        routes[f"/news/{town.lower()}"] = news
    return routes


def _page(title: str, markdown: str) -> Route:
    """The Markdown as an HTML page (its heading is the title)."""
    return html(title, *markdown.split("\n\n")[1:])


async def one(hops: int, slow: float, latency: float, work: Path) -> Run:
    """Answer the h-hop question over the web, the news pages ``slow`` seconds late (0: as fast as the rest)."""
    from core.settings import load_settings
    from deepresearch import runner
    from deepresearch.progress import Progress
    from state.context import Context

    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    with RemoteModel(hops, latency) as model, WebServer(site(hops, slow)) as web:
        with environ(DEEPRESEARCH_HOME=str(home), DEEPRESEARCH_BASE_URL=model.base_url,
                     SEARXNG_URL=web.url("/searxng"), DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1"):
            settings = load_settings()
        ctx = Context.bind(settings)(search="searxng", max_rounds=hops + 4, pages_per_round=4, queries_per_round=1,
                                     results_per_query=4, max_llm_calls=1000)
        started = time.perf_counter()
        result = await runner.start(settings, f"slow-{slow:g}-{time.time_ns()}", question(hops), "iterresearch", ctx,
                                    Progress(enabled=False))
        wall = time.perf_counter() - started
        slow_requests = sum(web.hits(f"/news/{town.lower()}") for town in NAMES[:hops + 1])
    late = sum(1 for f in result.failures if f["action"] == "read" and "/news/" in f["target"])
    return Run(wall, result.answer == NAMES[hops], result.rounds, slow_requests, late)


@contextmanager
def environ(**values: str) -> Iterator[None]:
    """These variables set while the settings are read, as they were afterwards (the suite runs on)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def compare(hops: int, slow: float, latency: float) -> tuple[Run, Run]:
    """The run without slow pages, then with them: (without, with)."""
    work = Path(tempfile.mkdtemp(prefix="bench-slow-page-"))
    await one(1, 0.0, 0.0, work)  # warm-up: what the first run of a process loads is not the slow page's cost
    return await one(hops, 0.0, latency, work), await one(hops, slow, latency, work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hops", type=int, default=3)
    parser.add_argument("--slow", type=float, default=60.0, help="seconds each news page takes to answer")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds each model call takes")
    args = parser.parse_args()
    fast, late = asyncio.run(compare(args.hops, args.slow, args.latency))
    print(f"{args.hops}-hop web run, every model call {args.latency * 1000:.0f} ms, a news page among every "
          f"round's hits\n")
    print(f"{'news pages':>16} {'wall s':>7} {'right':>5} {'rounds':>6} {'news GETs':>9} {'late reads':>10}")
    for label, run in (("instant", fast), (f"{args.slow:g} s late", late)):
        print(f"{label:>16} {run.wall:>7.2f} {'yes' if run.right else 'NO':>5} {run.rounds:>6} "
              f"{run.slow_requests:>9} {run.late_reads:>10}")
    extra = late.wall - fast.wall
    print(f"\nthe slow pages cost {extra:.2f} s (target <= {TARGET:g} s): {'met' if extra <= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
