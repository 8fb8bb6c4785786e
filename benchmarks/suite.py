"""Every performance target in one table: `python -m benchmarks.suite [--quick]`.

Orchestration overhead per round (instant model; and as a share of a round, and of the whole run, at 1 s a call), 8-way
fan-out efficiency at 200 ms, checkpoint bytes per round (round 12 / round 2), corpus ingest rate and
FTS query p50/p95 at 100,000 passages (text of 20,000 made-up words with Zipf's frequencies; queries of
three content words and a document tag), eval throughput at concurrency 1, 4 and 16 against the fake
endpoint at 300 ms a call, in-process and through `langgraph dev`, and the time a 60 s page among every round's
hits adds to a 3-hop web run (benchmarks/slow_page.py). ``--quick`` shrinks the corpus to 20,000 passages.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.relay import RemoteModel, question, relay_home

ROWS: list[tuple[str, str, str, bool]] = []  # measure, value, target, met


def row(measure: str, value: str, target: str, met: bool) -> None:
    ROWS.append((measure, value, target, met))
    print(f"  {measure}: {value} (target {target}) {'ok' if met else 'MISSED'}", flush=True)


async def overhead(work: Path) -> None:
    from benchmarks.critical_path import one

    await one(1, 0.0, work)  # warm-up
    fast = await one(4, 0.0, work)
    row("orchestration per round, instant model", f"{fast['wall'] / fast['rounds'] * 1000:.0f} ms", "-", True)
    slow = await one(3, 1.0, work)
    share = slow["round_share"]
    row("orchestration share of a round at 1 s a call (3 hops)", f"{share:.1%}", "< 2%", share < 0.02)
    whole = (slow["wall"] - slow["waves"]) / slow["wall"]
    row("  the same over the whole run (start and end included)", f"{whole:.1%}", "-", True)


async def fan_out() -> None:
    from benchmarks.fetch import fetch_all
    from tests.fakes.web_server import Route, WebServer

    body = b"<html><title>Page</title><p>" + b"Some text of a page. " * 50 + b"</p></html>"
    with WebServer({f"/page/{i}": Route(body, delay=0.2) for i in range(32)}) as web:
        # a loop of its own, as `benchmarks/fetch.py` runs it: nothing else's threads or tasks in the way
        wall = min([await asyncio.to_thread(asyncio.run, fetch_all(web, 32, 8)) for _ in range(3)])
    efficiency = 32 * 0.2 / 8 / wall
    row("8-way fan-out efficiency at 200 ms", f"{efficiency:.2f}", ">= 0.8", efficiency >= 0.8)


async def checkpoints() -> None:
    from benchmarks.context import measure

    _, _, sizes = await measure(13)
    ratio = sizes.get(12, 0) / max(1, sizes.get(2, 0))
    row("checkpoint bytes per round, round 12 / round 2", f"{ratio:.2f}x", "<= 1.2x", ratio <= 1.2)


def corpus(work: Path, passages: int) -> None:
    from tools.corpus.store import Corpus

    rng = random.Random(7)
    # a vocabulary of 20,000 made-up words used with Zipf's frequencies, as words are in real text
    vocabulary = ["".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
                  for _ in range(20_000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    folder = work / "big"
    folder.mkdir()
    per_doc = 50
    for d in range(passages // per_doc):
        words = rng.choices(vocabulary, weights, k=110 * per_doc)
        paragraphs = [" ".join(words[p * 110:(p + 1) * 110]) + f" doc{d} part{p}." for p in range(per_doc)]
        (folder / f"doc{d:05d}.md").write_text(f"# Document {d}\n\n" + "\n\n".join(paragraphs))
    store = Corpus(work / "big.db")
    started = time.perf_counter()
    store.ingest([folder])
    elapsed = time.perf_counter() - started
    count = store.stats()["passages"]
    row(f"corpus ingest rate ({count:,} passages)", f"{count / elapsed:,.0f} passages/s", "-", True)
    timings = []
    for _ in range(200):
        # keyword queries: content words (not this language's hundred most frequent, its "the" and "of")
        query = " ".join(rng.choices(vocabulary[100:], k=3)) + f" doc{rng.randrange(passages // per_doc)}"
        started = time.perf_counter()
        store.search(query, 10)
        timings.append((time.perf_counter() - started) * 1000)
    p50, p95 = statistics.median(timings), sorted(timings)[int(0.95 * len(timings))]
    row(f"FTS query p50 / p95 at {count:,} passages", f"{p50:.1f} / {p95:.1f} ms", "p95 < 50 ms", p95 < 50)


async def eval_throughput(work: Path) -> None:
    from core.settings import load_settings
    from deepresearch.evaluation.data import Item
    from deepresearch.evaluation.remote import RemoteResearch
    from deepresearch.evaluation.run import run_eval
    from state.context import Context
    from tests.cli_helpers import langgraph_dev

    items = [Item(f"{i:04x}", f"{question(1)} (case {i})", "Arnwick") for i in range(16)]
    with RemoteModel(1, 0.3) as model:
        os.environ["DEEPRESEARCH_BASE_URL"] = model.base_url
        loaded = load_settings()
        ctx = Context.bind(loaded)(pages_per_round=3, queries_per_round=1, results_per_query=2)
        for where in ("in-process", "through langgraph dev"):
            rates = []
            with (langgraph_dev(work, dict(os.environ), "--n-jobs-per-worker", "32") if where != "in-process"
                  else _nothing()) as url:
                research = RemoteResearch(url, "iterresearch", ctx) if url else None
                for concurrency in (1, 4, 16):
                    started = time.perf_counter()
                    await run_eval(loaded, items, mode="iterresearch", ctx=ctx, k=1, concurrency=concurrency,
                                   judge="exact",
                                   out=work / f"eval-{where[:2]}-{concurrency}", on_result=lambda _: None,
                                   research=research)
                    rates.append(len(items) / (time.perf_counter() - started) * 60)
            row(f"eval throughput {where}, concurrency 1 / 4 / 16 (items/min)",
                " / ".join(f"{r:.0f}" for r in rates), "grows with concurrency", rates[0] < rates[1] < rates[2])


async def slow_page() -> None:
    from benchmarks.slow_page import TARGET, compare

    fast, late = await compare(3, 60.0, 0.3)
    extra = late.wall - fast.wall
    row("a 60 s page among every round's hits, 3-hop web run at 300 ms a call: time added",
        f"{extra:.1f} s ({fast.wall:.1f} s -> {late.wall:.1f} s)", f"<= {TARGET:g} s",
        extra <= TARGET and fast.right and late.right)


@contextmanager
def _nothing() -> Iterator[str]:
    yield ""


async def run(passages: int) -> None:
    work = relay_home("bench-suite-", paragraphs=4, guides=True)
    print("measuring...")
    await fan_out()  # first: later runs leave the process busier (docs/benchmarks.md)
    await overhead(work)
    await checkpoints()
    corpus(work, passages)
    await eval_throughput(work)
    await slow_page()
    print("\n| measure | value | target | |\n|---|---:|---|---|")
    for measure, value, target, met in ROWS:
        print(f"| {measure} | {value} | {target} | {'met' if met else '**missed**'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 corpus passages instead of 100,000")
    args = parser.parse_args()
    asyncio.run(run(20_000 if args.quick else 100_000))


if __name__ == "__main__":
    main()
