"""The critical path of a research run: model calls, sequential waves and wall time per question.

For relay questions of 2, 3 and 4 hops (benchmarks/relay.py: one round per hop), against the local fake
endpoint (in a process of its own, as a real endpoint is) with every model call taking ``--latency``
seconds (300 ms by default), and again with an instant model. What is not model time is orchestration
(graph steps, checkpoints, search, page store, the model client), shown per round, as a share of the
run's wall time, and as the median share of a round after the first (``--latency 1`` gives the shares at
1 s per call; issue 13's target, < 2%, is the last).

    python -m benchmarks.critical_path [--hops 2 3 4] [--latency 0.3] [--format json|native]

A wave is a group of calls that overlapped in time (a round's parallel reads are one wave); calls in
different waves could not overlap. IterResearch as the paper runs it needs 2h + 1 waves for h hops:
round 1's plan, then per round the reads and one report-and-plan call, and no call for the final report.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import time
from pathlib import Path

from benchmarks.relay import NAMES, Call, Clock, RemoteModel, by_round, question, relay_home, waves


async def one(hops: int, latency: float, home: Path, prompt_format: str = "json") -> dict[str, float]:
    """Answer one h-hop question; its calls, waves, rounds and wall time."""
    from core.settings import load_settings
    from deepresearch import runner
    from state.context import Context

    clock = Clock()
    with RemoteModel(hops, latency) as server:
        os.environ["DEEPRESEARCH_BASE_URL"] = server.base_url
        settings = load_settings()
        ctx = Context.bind(settings)(max_rounds=hops + 4, pages_per_round=3, queries_per_round=1,
                                     results_per_query=2, max_llm_calls=1000, prompt_format=prompt_format)
        started = time.perf_counter()
        result = await runner.start(settings, f"bench-{hops}-{latency}-{time.time_ns()}", question(hops),
                                    "iterresearch", ctx, clock)
        wall = time.perf_counter() - started
    calls = server.calls
    return {"calls": len(calls), "waves": waves(calls), "rounds": result.rounds, "wall": wall,
            "right": float(result.answer == NAMES[hops]), "round_share": round_share(calls, clock, latency)}


def round_share(calls: list[Call], clock: Clock, latency: float) -> float:
    """The median share of orchestration in a round after the first (from one round's decision to the next's).

    A round's model time is its waves times the latency; the rest is orchestration. Round 1 also holds the
    run's start (opening the stores, the first plan), which the whole-run share counts.
    """
    ends = clock.round_ends()
    rounds = by_round(calls, ends)
    shares = []
    for r, (before, end) in enumerate(itertools.pairwise(ends), start=2):
        own = rounds.get(r, [])
        shares.append((end - before - waves(own) * latency) / (end - before))
    return statistics.median(shares) if shares else float("nan")  # no round to measure: never a pass


async def run(hop_counts: list[int], latency: float, prompt_format: str) -> None:
    work = relay_home("bench-critical-", paragraphs=4, guides=True)
    await one(1, 0.0, work)  # warm-up: what the first run of a process loads is not a round's cost
    print(f"critical path, {prompt_format} prompts, every model call taking {latency * 1000:.0f} ms "
          "(and 0 ms: orchestration alone)\n")
    print(f"{'hops':>4} {'right':>5} {'rounds':>6} {'calls':>5} {'waves':>5} {'2h+1':>5} {'wall s':>7} "
          f"{'waves x lat s':>13} {'overhead/round ms':>17} {'share':>6} {'of a round':>10} "
          f"{'0 ms: wall/round ms':>19}")
    for hops in hop_counts:
        slow = await one(hops, latency, work, prompt_format)
        fast = await one(hops, 0.0, work, prompt_format)
        ideal = slow["waves"] * latency
        per_round = (slow["wall"] - ideal) / max(1, slow["rounds"])
        share = (slow["wall"] - ideal) / slow["wall"]
        print(f"{hops:>4} {'yes' if slow['right'] else 'NO':>5} {slow['rounds']:>6.0f} {slow['calls']:>5.0f} "
              f"{slow['waves']:>5.0f} {2 * hops + 1:>5} {slow['wall']:>7.2f} {ideal:>13.2f} {per_round * 1000:>17.0f} "
              f"{share:>6.1%} {slow['round_share']:>10.1%} {fast['wall'] / max(1, fast['rounds']) * 1000:>19.0f}")
    print("\nwaves x lat: the wall time if only the model took time; overhead: the rest (graph steps, checkpoints, "
          "search, page store,\nthe model client), per round and as a share of the wall time; of a round: the "
          "median share in a round after the first\n(round 1 also holds the run's start); 0 ms: the whole run with "
          "an instant model, per round.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hops", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--format", choices=["json", "native"], default="json", help="prompt_format of the runs")
    args = parser.parse_args()
    asyncio.run(run(args.hops, args.latency, args.format))


if __name__ == "__main__":
    main()
