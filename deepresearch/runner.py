"""Start or resume a research thread on the SQLite checkpointer and collect its result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph

from checkpoints.saver import open_saver
from checkpoints.threads import save_thread, status_of, thread_settings
from deepresearch.errors import UserInputError
from deepresearch.progress import Progress
from deepresearch.settings import Settings
from graphs.iterresearch import build_graph as build_iterresearch
from nodes.resources import close_resources
from state.citations import numbered
from state.context import Context

Graph = CompiledStateGraph[Any, Context, Any, Any]
MODES: dict[str, Callable[[], StateGraph[Any, Context, Any, Any]]] = {"iter": build_iterresearch}


@dataclass
class RunResult:
    """What a finished (or stopped) thread produced."""

    thread_id: str
    status: str
    question: str
    answer: str
    report: str
    sources: list[dict[str, Any]]
    rounds: int
    llm_calls: int
    tokens: int
    invented_citations: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The `--json` object."""
        return {"thread_id": self.thread_id, "answer": self.answer, "report": self.report,
                "sources": self.sources, "rounds": self.rounds, "llm_calls": self.llm_calls, "tokens": self.tokens}


def result_from_state(thread_id: str, values: dict[str, Any], status: str) -> RunResult:
    """Build the result from a thread's state values; sources are the cited ones, by number."""
    report = str(values.get("report", ""))
    sources = [{"n": n, "title": src["title"], "url": src["url"]}
               for n, src in sorted(numbered(values.get("sources", [])).items()) if f"[{n}]" in report]
    return RunResult(thread_id, status, str(values.get("question", "")), str(values.get("answer", "")), report,
                     sources, int(values.get("round", 0)), int(values.get("llm_calls", 0)),
                     int(values.get("tokens", 0)), int(values.get("invented_citations", 0)),
                     list(values.get("failures", [])))


def compile_mode(mode: str, saver: AsyncSqliteSaver) -> Graph:
    """The graph for a mode, compiled with the shared SQLite saver."""
    if mode not in MODES:
        raise UserInputError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
    return MODES[mode]().compile(checkpointer=saver)


def _config(thread_id: str, ctx: Context) -> RunnableConfig:
    # every round takes at most 7 steps; our own budgets end the run long before this limit
    return {"configurable": {"thread_id": thread_id}, "recursion_limit": 8 * (ctx.max_rounds + 2) + 20}


async def _drive(graph: Graph, inputs: Any, thread_id: str, ctx: Context,
                 progress: Progress) -> RunResult:
    config = _config(thread_id, ctx)
    try:
        async for chunk in graph.astream(inputs, config, context=ctx, stream_mode="custom", durability="sync"):
            if isinstance(chunk, dict):
                progress.event(chunk)
    finally:
        await close_resources()
    snapshot = await graph.aget_state(config)
    return result_from_state(thread_id, snapshot.values, status_of(snapshot.values, snapshot.next))


async def start(settings: Settings, thread_id: str, question: str, mode: str, ctx: Context,
                progress: Progress) -> RunResult:
    """Run a new thread from its question; refuses an id that already has checkpoints."""
    async with open_saver(settings.checkpoints_db) as saver:
        graph = compile_mode(mode, saver)
        existing = await graph.aget_state({"configurable": {"thread_id": thread_id}})
        if existing.created_at is not None:
            raise UserInputError(f"thread {thread_id} already exists; continue it with `deepresearch resume "
                                 f"{thread_id}` or choose another --thread")
        await save_thread(saver, thread_id, question, mode, ctx.to_dict())
        return await _drive(graph, {"question": question}, thread_id, ctx, progress)


async def resume(settings: Settings, thread_id: str, progress: Progress, **overrides: Any) -> RunResult:
    """Continue a thread from its last checkpoint with the settings it was started with (plus overrides)."""
    async with open_saver(settings.checkpoints_db) as saver:
        stored = await thread_settings(saver, thread_id)
        mode, saved = stored if stored else ("iter", {})
        graph = compile_mode(mode, saver)
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        snapshot = await graph.aget_state(config)
        if snapshot.created_at is None:
            raise UserInputError(f"unknown thread {thread_id!r} (see `deepresearch threads`)")
        status = status_of(snapshot.values, snapshot.next)
        if status != "unfinished":
            progress.line(f"thread {thread_id} is {status}; nothing to resume")
            return result_from_state(thread_id, snapshot.values, status)
        ctx = Context.from_dict(saved, **overrides)
        progress.line(f"resuming thread {thread_id} at round {snapshot.values.get('round', 0)} "
                      f"(next: {', '.join(snapshot.next)})")
        return await _drive(graph, None, thread_id, ctx, progress)


async def load(settings: Settings, thread_id: str) -> RunResult:
    """A thread's current result or progress, without running anything."""
    async with open_saver(settings.checkpoints_db) as saver:
        stored = await thread_settings(saver, thread_id)
        graph = compile_mode(stored[0] if stored else "iter", saver)
        snapshot = await graph.aget_state({"configurable": {"thread_id": thread_id}})
        if snapshot.created_at is None:
            raise UserInputError(f"unknown thread {thread_id!r} (see `deepresearch threads`)")
        return result_from_state(thread_id, snapshot.values, status_of(snapshot.values, snapshot.next))
