"""Context and checkpoint size per round over a long IterResearch run.

Runs 15 rounds of a 40-hop relay chain (the toy model never gets to the end, so every round runs)
against the local fake endpoint, then prints, per round: model calls, the largest prompt of any call,
the planner's and the report writer's prompt sizes, and the bytes the round added to checkpoints.db.
IterResearch rebuilds each round's prompt from the question, the report and the last round only, and
keeps page text out of checkpoints, so both columns should stay flat.

    python -m benchmarks.context [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import tempfile
from collections import defaultdict
from pathlib import Path

# 41 made-up towns: a chain longer than 15 rounds can walk, so every round runs
NAMES = [a + b for a in ("Arn", "Brev", "Cald", "Dun", "Esk", "Fal", "Gor", "Hal")
         for b in ("holt", "wick", "mere", "by", "sund")][:41]
BENCH_THREAD = "00000000-0000-4000-8000-00000000be4c"
WORDS = ("the harbour road winter market ferry timetable weather bridge lantern archive parish council "
         "fishing fleet tide warehouse railway station museum chapel").split()


def filler(seed: int, paragraphs: int = 12) -> str:
    rng = random.Random(seed)
    return "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(80)).capitalize() + "." for _ in range(paragraphs))


def write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True)
    for i, (here, there) in enumerate(zip(NAMES, NAMES[1:], strict=False)):
        text = (f"# Relay station {here}\n\n{filler(i)}\n\nThe courier from {here} hands the sealed parcel "
                f"to the relay at {there}. The handover takes place at dawn.\n\n{filler(100 + i)}\n")
        (folder / f"relay_{i:02d}_{here.lower()}.md").write_text(text)


def scenario():  # type: ignore[no-untyped-def]
    from tests.fakes.toy_model import Hop, Scenario

    hops = []
    for i in range(1, len(NAMES)):
        prev = NAMES[0] if i == 1 else f"{{s{i - 1}}}"
        fact = prev + rf" hands the sealed parcel to the relay at (?P<s{i}>[A-Z][a-z]+)"
        hops.append(Hop(f"relay {i}", fact, prev + " courier relay parcel"))
    return Scenario(hops=hops, answer=f"{{s{len(NAMES) - 1}}}", max_report_lines=1000)


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


async def run(rounds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-context-"))
    os.environ["DEEPRESEARCH_HOME"] = str(work / "home")
    from core.settings import load_settings
    from deepresearch import runner
    from deepresearch.progress import Progress
    from state.context import Context
    from tests.fakes.model_server import ModelServer
    from tests.fakes.toy_model import ToyModel
    from tools.corpus import Corpus

    write_corpus(work / "corpus")
    (work / "home").mkdir()
    Corpus(work / "home" / "corpus.db").ingest([work / "corpus"])
    with ModelServer(ToyModel(scenario())) as server:
        os.environ["DEEPRESEARCH_BASE_URL"] = server.base_url
        settings = load_settings()
        ctx = Context.bind(settings)(max_rounds=rounds, pages_per_round=2, max_llm_calls=1000, max_stalls=rounds)
        result = await runner.start(settings, BENCH_THREAD, "Where does the parcel that leaves Arnholt end up?",
                                    "iter", ctx, Progress(enabled=False))
        calls = server.calls()
    by_round: dict[int, list] = defaultdict(list)
    n = 0
    for call in calls:
        if call.role == "planner" and "already run" not in str(call.messages[-1]["content"]):
            n += 1
        by_round[n].append(call)
    sizes = checkpoint_bytes_by_round(work / "home" / "checkpoints.db", BENCH_THREAD)
    print(f"IterResearch context benchmark: {result.rounds} rounds, {result.llm_calls} calls, "
          f"answer {result.answer!r}\n")
    print(f"{'round':>5} {'calls':>5} {'max prompt':>11} {'planner':>8} {'writer':>8} {'report':>7} "
          f"{'ckpt bytes':>11}")
    for r in sorted(by_round):
        group = by_round[r]
        role = {c.role: c.prompt_chars for c in group}
        report = len(group[0].user.split("<report>\n")[1].split("\n</report>")[0]) if r else 0
        print(f"{r:>5} {len(group):>5} {max(c.prompt_chars for c in group):>11,} {role.get('planner', 0):>8,} "
              f"{role.get('writer', 0):>8,} {report:>7,} {sizes.get(r, 0):>11,}")
    mx = {r: max(c.prompt_chars for c in g) for r, g in by_round.items()}
    if 2 in mx and 12 in mx:
        print(f"\nmax prompt, round 12 / round 2: {mx[12] / mx[2]:.2f}x   "
              f"checkpoint bytes, round 12 / round 2: {sizes.get(12, 0) / max(1, sizes.get(2, 0)):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    asyncio.run(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
