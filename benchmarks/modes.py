"""The three modes side by side: how each call's prompt grows, and what Heavy's agents cost in wall time.

1. Prompt size per call, by step, for IterResearch and ReAct on the same long relay task (benchmarks/relay.py,
   a 40-hop chain that neither finishes): IterResearch's round call rebuilds a bounded workspace, ReAct's
   carries its whole history.
2. Heavy's wall time with 3 agents against 1 agent on a 3-hop question, every model call taking 200 ms.

    python -m benchmarks.modes [--steps 12] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

from benchmarks.relay import RemoteModel, question, relay_home


async def run_mode(mode: str, hops: int, latency: float, **settings: Any) -> tuple[list[Any], float, str]:
    """One run: the model calls (role, prompt size, times), the wall time and the answer."""
    from core.settings import load_settings
    from deepresearch import runner
    from deepresearch.progress import Progress
    from state.context import Context

    with RemoteModel(hops, latency) as model:
        os.environ["DEEPRESEARCH_BASE_URL"] = model.base_url
        loaded = load_settings()
        ctx = Context.bind(loaded)(**{"pages_per_round": 3, "queries_per_round": 1, "results_per_query": 2,
                                      "max_llm_calls": 1000, **settings})
        started = time.perf_counter()
        result = await runner.start(loaded, f"{mode}-{time.time_ns()}", question(hops), mode, ctx,
                                    Progress(enabled=False))
        wall = time.perf_counter() - started
    return model.calls, wall, result.answer


async def run(steps: int, latency: float) -> None:
    relay_home("bench-modes-", paragraphs=4, guides=True)

    iter_calls, _, _ = await run_mode("iterresearch", 40, 0.0, max_rounds=steps, max_stalls=steps)
    react_calls, _, _ = await run_mode("react", 40, 0.0, react_max_calls=2 * steps)
    iter_main = [c.prompt_chars for c in iter_calls if c.role in ("planner", "writer")]
    react_main = [c.prompt_chars for c in react_calls if c.role == "react"]
    print(f"prompt chars of each main call, {steps} IterResearch rounds and {2 * steps} ReAct steps "
          "(a round is a search and its reads; in ReAct, a search then a visit)\n")
    print(f"{'call':>4} {'iter':>8} {'react':>8}")
    for i in range(max(len(iter_main), len(react_main))):
        cells = [f"{v[i]:>8,}" if i < len(v) else f"{'':>8}" for v in (iter_main, react_main)]
        print(f"{i + 1:>4} {cells[0]} {cells[1]}")
    print(f"\nlast / second call: iter {iter_main[-1] / iter_main[1]:.2f}x, "
          f"react {react_main[-1] / react_main[1]:.2f}x")

    one, one_wall, one_answer = await run_mode("heavy", 3, latency, heavy_agents=1)
    three, three_wall, three_answer = await run_mode("heavy", 3, latency, heavy_agents=3, heavy_concurrency=3)
    print(f"\nHeavy on a 3-hop question, every model call {latency * 1000:.0f} ms\n")
    print(f"{'agents':>6} {'answer':>8} {'calls':>6} {'wall s':>7}")
    print(f"{1:>6} {one_answer:>8} {len(one):>6} {one_wall:>7.2f}")
    print(f"{3:>6} {three_answer:>8} {len(three):>6} {three_wall:>7.2f}")
    print(f"\n3 agents / 1 agent, wall time: {three_wall / one_wall:.2f}x (target at most 1.3x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    asyncio.run(run(args.steps, args.latency))


if __name__ == "__main__":
    main()
