"""Run an eval: every item k times through a mode, each rollout judged and stored as it finishes.

Rollouts run at most ``concurrency`` at a time, each as a research thread of its own, named after the
eval's output folder, the item and the rollout: run again, an eval skips what is stored and resumes a
rollout that was stopped mid-way from its checkpoints.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from checkpoints.threads import thread_id_for
from core.errors import ThreadExists
from core.settings import Settings
from deepresearch import runner
from deepresearch.evaluation.data import Item
from deepresearch.evaluation.judges import judge_answer
from deepresearch.evaluation.store import Result, ResultStore
from deepresearch.progress import Progress
from state.context import Context
from tools.llm import Endpoint

_CITATION = re.compile(r"\[(\d+)\]")


def rollout_thread(out: Path, item: Item, rollout: int) -> str:
    """The thread of one rollout: the same for the same output folder, item and rollout."""
    run = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:8]
    return thread_id_for(f"eval-{run}-{item.key}-{rollout}")


async def _in_process(settings: Settings, mode: str, ctx: Context, thread_id: str, item: Item) -> runner.RunResult:
    quiet = Progress(enabled=False)
    try:
        return await runner.start(settings, thread_id, item.question, mode, ctx, quiet)
    except ThreadExists:
        return await runner.resume(settings, thread_id, quiet)  # stopped mid-way last time: on from there


Research = Callable[[str, Item], Awaitable[runner.RunResult]]  # (thread id, item) -> the rollout's result


async def run_eval(settings: Settings, items: list[Item], *, mode: str, ctx: Context, k: int, concurrency: int,
                   judge: str, out: Path, on_result: Callable[[Result], None],
                   research: Research | None = None) -> list[Result]:
    """Run what is not stored yet; every result is stored before the next is counted. All results at the end.

    ``research`` runs one rollout; by default in this process (``--server``: through a LangGraph server).
    """
    research = research or partial(_in_process, settings, mode, ctx)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out / "results.db")
    done = store.done()
    todo = [(item, r) for item in items for r in range(1, k + 1) if (item.key, r) not in done]
    base_url, model, key = settings.judge()
    judge_endpoint = None if judge == "exact" else Endpoint(base_url, model, key, temperature=0.0,
                                                           max_output_tokens=2048)
    slots = asyncio.Semaphore(concurrency)

    async def one(item: Item, rollout: int) -> None:
        async with slots:
            thread_id = rollout_thread(out, item, rollout)
            started = time.perf_counter()
            result = await research(thread_id, item)
            wall = time.perf_counter() - started
            verdict = await judge_answer(judge, judge_endpoint, item.question, item.answer, result.answer)
            body = result.report.split("\n## Sources", 1)[0]
            stored = Result(item.key, rollout, item.question, item.answer, result.answer, verdict.correct,
                            verdict.detail, result.rounds, result.llm_calls, result.tokens, round(wall, 3),
                            len(_CITATION.findall(body)), result.invented_citations, thread_id)
            store.add(stored)
            on_result(stored)

    async with runner.shared_clients():
        await asyncio.gather(*(one(item, r) for item, r in todo))
    return store.all()
