"""Run an eval: every item k times through a mode, each rollout judged and stored as it finishes.

Rollouts run at most ``concurrency`` at a time, each as a research thread of its own, named after the
eval's output folder, the item, its question and the rollout: run again, an eval skips what is stored and
resumes a rollout that was stopped mid-way from its checkpoints. A rollout that fails is stored as failed,
with its reason, and run again next time; the others go on.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from checkpoints.threads import thread_id_for
from core.errors import EndpointUnreachable, SearchUnavailable, ServerUnavailable, StorageError, ThreadExists
from core.redact import redact_text
from core.settings import Settings
from deepresearch import runner
from deepresearch.evaluation.data import Item
from deepresearch.evaluation.judges import judge_answer
from deepresearch.evaluation.store import Result, ResultStore
from deepresearch.progress import Progress
from state.context import Context
from tools.model.llm import Endpoint

_CITATION = re.compile(r"\[(\d+)\]")
# faults every remaining rollout would meet alike (nothing answers, nothing can be stored): the eval stops there,
# resumable, instead of recording each rollout as failed
STOPS = (EndpointUnreachable, SearchUnavailable, ServerUnavailable, StorageError, sqlite3.Error)
MAX_REASON = 300


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def rollout_thread(out: Path, item: Item, rollout: int) -> str:
    """The thread of one rollout: the same for the same output folder, item, question and rollout.

    The question is part of it: an item whose line now holds another question starts afresh.
    """
    return thread_id_for(f"eval-{_digest(str(out.resolve()))}-{item.key}-{_digest(item.question)}-{rollout}")


def item_label(key: str) -> str:
    """How messages name an item: ``line 4``, ``index 3``, ``id q12``."""
    return key.replace(":", " ", 1)


def failure_reason(exc: BaseException) -> str:
    """Why a rollout failed, as one bounded line: the exception's type and message."""
    reason = f"{type(exc).__name__}: {' '.join(redact_text(str(exc)).split()) or 'no message'}"
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


async def _in_process(settings: Settings, mode: str, ctx: Context, thread_id: str, item: Item) -> runner.RunResult:
    quiet = Progress(enabled=False)
    try:
        return await runner.start(settings, thread_id, item.question, mode, ctx, quiet)
    except ThreadExists:
        return await runner.resume(settings, thread_id, quiet)  # stopped mid-way last time: on from there


Research = Callable[[str, Item], Awaitable[runner.RunResult]]  # (thread id, item) -> the rollout's result


def _pending(items: list[Item], k: int, done: dict[tuple[str, int], tuple[str, str]]
             ) -> tuple[list[tuple[Item, int]], list[str]]:
    """The rollouts to run, and the items whose question or gold differs from what their stored results had."""
    todo, changed = [], []
    for item in items:
        kept = [done.get((item.key, r)) for r in range(1, k + 1)]
        todo += [(item, r) for r, was in enumerate(kept, 1) if was != (item.question, item.answer)]
        if any(was not in (None, (item.question, item.answer)) for was in kept):
            changed.append(item.key)
    return todo, changed


async def run_eval(settings: Settings, items: list[Item], *, mode: str, ctx: Context, k: int, concurrency: int,
                   judge: str, out: Path, on_result: Callable[[Result], None],
                   research: Research | None = None, notice: Callable[[str], None] | None = None) -> list[Result]:
    """Run what is not stored yet; every result is stored before the next is counted. All results at the end.

    ``research`` runs one rollout; by default in this process (``--server``: through a LangGraph server).
    ``notice`` gets one line for each item run again because its record changed since its results were stored.
    """
    research = research or partial(_in_process, settings, mode, ctx)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out / "results.db")
    store.check_writable()
    todo, changed = _pending(items, k, store.done())
    for key in changed:
        if notice is not None:
            notice(f"{item_label(key)} holds another question or answer than when its results were stored: "
                   "its rollouts run again")
    base_url, model, key = settings.judge()
    judge_endpoint = None if judge == "exact" else Endpoint(base_url, model, key, temperature=0.0,
                                                           max_output_tokens=2048)
    slots = asyncio.Semaphore(concurrency)

    async def one(item: Item, rollout: int) -> None:
        async with slots:
            thread_id = rollout_thread(out, item, rollout)
            started = time.perf_counter()
            try:
                result = await research(thread_id, item)
            except STOPS:
                raise
            except Exception as exc:  # whatever else one rollout meets is that rollout's: recorded with its
                # reason, and the eval goes on (else the same item would stop it again on every resume)
                stored = Result(item.key, rollout, item.question, item.answer, "", None, {}, 0, 0, 0,
                                round(time.perf_counter() - started, 3), 0, 0, thread_id, failure_reason(exc))
            else:
                wall = time.perf_counter() - started
                verdict = await judge_answer(judge, judge_endpoint, item.question, item.answer, result.answer)
                body = result.report.split("\n## Sources", 1)[0]
                stored = Result(item.key, rollout, item.question, item.answer, result.answer, verdict.correct,
                                verdict.detail, result.rounds, result.llm_calls, result.tokens, round(wall, 3),
                                len(_CITATION.findall(body)), result.invented_citations, thread_id,
                                checked=result.grounding.get("citations_checked", 0),
                                reattributed=result.grounding.get("citations_reattributed", 0),
                                unsupported=result.grounding.get("claims_unsupported", 0))
            store.add(stored)
            on_result(stored)

    async with runner.shared_clients():
        tasks = [asyncio.ensure_future(one(item, r)) for item, r in todo]
        try:
            await asyncio.gather(*tasks)
        finally:  # a stop or Ctrl-C: the rollouts still running end here, each resumable from its checkpoints
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return store.all()
