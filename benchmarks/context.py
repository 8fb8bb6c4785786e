"""Context and checkpoint size per round over a long IterResearch run.

Runs 15 rounds of a 40-hop relay chain (benchmarks/relay.py: the toy model never gets to the end, so
every round runs) against the local fake endpoint, then prints, per round: model calls, the largest
prompt of any call, the planner's (when it was asked) and the report writer's prompt sizes, and the
bytes the round added to checkpoints.db.
IterResearch rebuilds each round's prompt from the question, the report and the last round only, and
keeps page text out of checkpoints, so both columns should stay flat.

    python -m benchmarks.context [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.relay import Call, Clock, TimedBrain, by_round, relay_home, scenario

BENCH_THREAD = "00000000-0000-4000-8000-00000000be4c"


def checkpoint_bytes_by_round(db: Path, thread: str) -> dict[int, int]:
    """Bytes of checkpoint rows and pending writes, attributed to the round each checkpoint was in."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    serde = JsonPlusSerializer()
    conn = sqlite3.connect(db)
    writes = dict(conn.execute("SELECT checkpoint_id, sum(length(value)) FROM writes WHERE thread_id = ? "
                               "GROUP BY checkpoint_id", (thread,)).fetchall())
    rounds: dict[int, int] = defaultdict(int)
    current = 0
    for cid, kind, blob, meta in conn.execute("SELECT checkpoint_id, type, checkpoint, metadata FROM checkpoints "
                                              "WHERE thread_id = ? ORDER BY checkpoint_id", (thread,)):
        values = serde.loads_typed((kind, blob)).get("channel_values", {})
        current = values.get("round", current) if isinstance(values.get("round", current), int) else current
        rounds[current] += len(blob) + len(meta) + int(writes.get(cid, 0) or 0)
    conn.close()
    return rounds


async def measure(rounds: int) -> tuple[Any, dict[int, list[Call]], dict[int, int]]:
    """Run the long relay for ``rounds`` rounds: the result, its calls by round, and checkpoint bytes by round."""
    work = relay_home("bench-context-")
    from core.settings import load_settings
    from deepresearch import runner
    from state.context import Context
    from tests.fakes.model_server import ModelServer
    from tests.fakes.toy_model import ToyModel

    brain = TimedBrain(ToyModel(scenario()), 0.0)
    clock = Clock()
    with ModelServer(brain) as server:
        os.environ["DEEPRESEARCH_BASE_URL"] = server.base_url
        settings = load_settings()
        ctx = Context.bind(settings)(max_rounds=rounds, pages_per_round=2, max_llm_calls=1000, max_stalls=rounds)
        result = await runner.start(settings, BENCH_THREAD, "Where does the parcel that leaves Arnholt end up?",
                                    "iterresearch", ctx, clock)
    return result, by_round(brain.calls, clock.round_ends()), checkpoint_bytes_by_round(
        work / "home" / "checkpoints.db", BENCH_THREAD)


async def run(rounds: int) -> None:
    result, rounds_of, sizes = await measure(rounds)
    print(f"IterResearch context benchmark: {result.rounds} rounds, {result.llm_calls} calls, "
          f"answer {result.answer!r}\n")
    print(f"{'round':>5} {'calls':>5} {'max prompt':>11} {'planner':>8} {'writer':>8} {'ckpt bytes':>11}")
    for r in sorted(rounds_of):
        group = rounds_of[r]
        role = {c.role: c.prompt_chars for c in group}
        print(f"{r:>5} {len(group):>5} {max(c.prompt_chars for c in group):>11,} {role.get('planner', 0):>8,} "
              f"{role.get('writer', 0):>8,} {sizes.get(r, 0):>11,}")
    mx = {r: max(c.prompt_chars for c in g) for r, g in rounds_of.items()}
    if 2 in mx and 12 in mx:
        print(f"\nmax prompt, round 12 / round 2: {mx[12] / mx[2]:.2f}x   "
              f"checkpoint bytes, round 12 / round 2: {sizes.get(12, 0) / max(1, sizes.get(2, 0)):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    asyncio.run(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
