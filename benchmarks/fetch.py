"""Parallel page fetching: 32 pages from a local server that takes 200 ms per page.

Fetches the pages through the agent's own fetcher (safe transport, per-host limit, robots.txt) at
concurrency 1, 4 and 8, and prints wall time, pages per second and parallel efficiency
(ideal time / measured time, where ideal = pages x latency / concurrency).

    python -m benchmarks.fetch [--pages 32] [--latency 0.2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import replace

from core.settings import WebSettings
from tests.fakes.web_server import Route, WebServer
from tools.net.http import make_clients
from tools.web.fetch import Fetcher


async def fetch_all(web: WebServer, pages: int, concurrency: int) -> float:
    settings = replace(WebSettings(), allow_private_network="127.0.0.1", per_host=concurrency,
                       max_connections=concurrency)
    clients = make_clients(settings)
    fetcher = Fetcher(clients.pages, settings)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await fetcher.fetch(web.url(f"/page/{i}"))

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(pages)))
    elapsed = time.perf_counter() - started
    await clients.pages.aclose()
    await clients.api.aclose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per concurrency; the best is reported")
    args = parser.parse_args()
    body = ("<html><head><title>Page</title></head><body><article>" + "<p>Some text of a page.</p>" * 50
            + "</article></body></html>").encode()
    routes = {f"/page/{i}": Route(body, delay=args.latency) for i in range(args.pages)}
    print(f"{args.pages} pages, {args.latency * 1000:.0f} ms each, best of {args.repeat}\n")
    print(f"{'concurrency':>11} {'wall s':>8} {'pages/s':>8} {'ideal s':>8} {'efficiency':>10}")
    with WebServer(routes) as web:
        for concurrency in (1, 4, 8):
            wall = min(asyncio.run(fetch_all(web, args.pages, concurrency)) for _ in range(args.repeat))
            ideal = args.pages * args.latency / concurrency
            print(f"{concurrency:>11} {wall:>8.2f} {args.pages / wall:>8.1f} {ideal:>8.2f} {ideal / wall:>10.2f}")


if __name__ == "__main__":
    main()
