"""The three modes side by side: how each call's prompt grows, and what Heavy's agents cost in wall time.

1. Prompt size per call, by step, for IterResearch and ReAct on the same long relay task (benchmarks/relay.py,
   a 40-hop chain that neither finishes): IterResearch's round call rebuilds a bounded workspace, ReAct's
   carries its whole history.
2. ReAct's context policies (react_context) on the same 10-hop relay, the served context 5,000 tokens: the
   prompt size by step, the model calls and the answer of each (the toy model notes what it found before
   each call, so that a policy that drops tool responses leaves it its notes).
3. Heavy's wall time with 3 agents against 1 agent on a 3-hop question, every model call taking 200 ms.

    python -m benchmarks.modes [--steps 12] [--latency 0.2] [--only policies]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

from benchmarks.relay import RemoteModel, question, relay_home


async def run_mode(mode: str, hops: int, latency: float, notes: bool = False, context: int = 131072,
                   **settings: Any) -> tuple[list[Any], float, str]:
    """One run: the model calls (role, prompt size, times), the wall time and the answer.

    ``notes``: the toy model writes what it found before each ReAct call; ``context``: the tokens it serves.
    """
    from core.settings import load_settings
    from deepresearch import runner
    from deepresearch.progress import Progress
    from state.context import Context

    with RemoteModel(hops, latency, notes, context) as model:
        os.environ["DEEPRESEARCH_BASE_URL"] = model.base_url
        loaded = load_settings()
        ctx = Context.bind(loaded)(**{"pages_per_round": 3, "queries_per_round": 1, "results_per_query": 2,
                                      "max_llm_calls": 1000, **settings})
        started = time.perf_counter()
        result = await runner.start(loaded, f"{mode}-{time.time_ns()}", question(hops), mode, ctx,
                                    Progress(enabled=False))
        wall = time.perf_counter() - started
    return model.calls, wall, result.answer


POLICIES = ("full", "keep_last:2", "discard_all", "summarize")
POLICY_HOPS, POLICY_CONTEXT = 10, 5000


async def policies() -> None:
    """Part 2: each context policy on the same relay, in a context the full trajectory outgrows."""
    runs = {p: await run_mode("react", POLICY_HOPS, 0.0, notes=True, context=POLICY_CONTEXT, react_context=p,
                              react_max_calls=4 * POLICY_HOPS) for p in POLICIES}
    sizes = {p: [c.prompt_chars for c in calls if c.role == "react"] for p, (calls, _, _) in runs.items()}
    print(f"\nReAct context policies: prompt chars of each agent call, a {POLICY_HOPS}-hop relay, "
          f"{POLICY_CONTEXT:,}-token context\n")
    print(f"{'step':>4} " + " ".join(f"{p:>12}" for p in POLICIES))
    for i in range(max(len(v) for v in sizes.values())):
        print(f"{i + 1:>4} " + " ".join(f"{v[i]:>12,}" if i < len(v) else f"{'':>12}" for v in sizes.values()))
    print(f"\n{'policy':>12} {'answer':>10} {'agent':>6} {'summary':>8} {'calls':>6} {'max prompt':>11}")
    for p, (calls, _, answer) in runs.items():
        summary = sum(1 for c in calls if c.role == "summary")
        print(f"{p:>12} {answer:>10} {len(sizes[p]):>6} {summary:>8} {len(calls):>6} {max(sizes[p]):>11,}")


async def run(steps: int, latency: float, only: str = "") -> None:
    relay_home("bench-modes-", paragraphs=4, guides=True)
    if only == "policies":
        await policies()
        return

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
    await policies()

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
    parser.add_argument("--only", choices=["policies"], default="", help="run only the context policies' part")
    args = parser.parse_args()
    asyncio.run(run(args.steps, args.latency, args.only))


if __name__ == "__main__":
    main()
