"""Start, resume, inspect and maintain research threads on the shared SQLite checkpointer."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import cache
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.channels.delta import DeltaChannel
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StateSnapshot

from checkpoints.saver import graph_id_of, open_saver
from checkpoints.threads import (
    latest_metadata,
    resolve_thread,
    run_settings,
    thread_exists,
)
from core.errors import ConfigError, ThreadExists, UserInputError
from core.redact import MASK
from core.settings import Settings
from deepresearch.progress import Progress
from deepresearch.results import RunResult, result_from_state
from graphs.registry import GRAPHS, MODES, SPECS, step_limit
from graphs.spec import Reopen
from state.context import Context
from state.queries import question_problem
from tools.toolbox import Toolboxes, owned

Graph = CompiledStateGraph[Any, Context, Any, Any]
# answers a plan-review interrupt: gets the interrupt's payload, returns the resume value (None: leave it waiting)
Reviewer = Callable[[dict[str, Any]], Any]


def graph_id_for_mode(mode: str) -> str:
    """The graph that implements a CLI mode."""
    if mode not in MODES:
        raise UserInputError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
    return mode


def compile_graph(graph_id: str, saver: Any) -> Graph:
    """A registered graph compiled with the shared SQLite saver."""
    if graph_id not in GRAPHS:
        raise UserInputError(f"this thread was run by graph {graph_id!r}, which this version does not have")
    compiled = _compiled(graph_id)  # copy() rebuilds through __init__: the serde allowlist is carried over
    return compiled.copy(update={"checkpointer": saver, "_serde_allowlist": compiled._serde_allowlist})


@cache
def _compiled(graph_id: str) -> Graph:
    """A graph compiled once per process (13 ms for IterResearch); each run gets a copy with its saver."""
    return GRAPHS[graph_id](Context).compile()


def thread_delta_channels(metadata: dict[str, Any]) -> dict[str, DeltaChannel[Any]]:
    """The delta channels of the graph that wrote a thread, for the saver's pruning."""
    return _delta_channels(graph_id_of(metadata))


@cache
def _delta_channels(graph_id: str) -> dict[str, DeltaChannel[Any]]:
    builder = GRAPHS.get(graph_id)  # built once per graph, not once per thread pruned
    if builder is None:
        return {}
    return {name: ch for name, ch in builder(Context).channels.items() if isinstance(ch, DeltaChannel)}


def saver_for(settings: Settings, read_only: bool = False) -> AbstractAsyncContextManager[Any]:
    """The shared saver: Postgres when DEEPRESEARCH_CHECKPOINT_URL names one, else the SQLite file of the home.

    The SQLite saver is told which channels of each thread are delta channels; ``read_only`` for what only
    reads: it creates and changes nothing (see ``open_saver``).
    """
    if settings.checkpoint_url:
        from checkpoints.postgres import open_postgres  # psycopg and its saver: only when asked for

        return open_postgres(settings.checkpoint_url)
    return open_saver(settings.checkpoints_db, thread_delta_channels, read_only=read_only)


def _config(thread_id: str, graph_id: str, ctx: Context, name: str = "") -> RunnableConfig:
    # scalar metadata is copied into every checkpoint: the thread's settings travel with it
    metadata: dict[str, Any] = {"graph_id": graph_id, **ctx.to_dict()}
    if name:
        metadata["thread_name"] = name
    return {"configurable": {"thread_id": thread_id}, "metadata": metadata,
            "recursion_limit": step_limit(graph_id, ctx)}


async def _drive(graph: Graph, inputs: Any, config: RunnableConfig, ctx: Context, progress: Progress,
                 reviewer: Reviewer | None) -> RunResult:
    """Run the graph with clients of its own, closed as it ends, or inside an eval's (``shared_clients``)."""
    async with owned(share=True):
        return await _steps(graph, inputs, config, ctx, progress, reviewer)


async def _steps(graph: Graph, inputs: Any, config: RunnableConfig, ctx: Context, progress: Progress,
                 reviewer: Reviewer | None) -> RunResult:
    """Stream the run (progress events), answer plan reviews, and collect the result."""
    thread_id = str(config["configurable"]["thread_id"])
    ask = progress.paused(reviewer) if reviewer else None
    progress.start("planning" if inputs is not None and not isinstance(inputs, Command) else "resuming")
    nested = any(True for _ in graph.get_subgraphs())  # Heavy's agents: their events come from subgraphs
    try:
        while True:
            agents: dict[Any, int] = {}  # a Heavy run's subgraph namespaces -> agent numbers
            async for part in graph.astream(inputs, config, context=ctx, stream_mode="custom", durability="sync",
                                            subgraphs=nested):
                namespace, chunk = part if isinstance(part, tuple) else ((), part)
                if isinstance(chunk, dict):
                    if namespace and "agent" in chunk:
                        agents.setdefault(namespace[0], int(chunk["agent"]))
                    elif namespace and namespace[0] in agents:
                        chunk = {**chunk, "agent": agents[namespace[0]]}
                    progress.event(chunk)
            snapshot = await graph.aget_state(config)
            answer = ask(dict(snapshot.interrupts[0].value)) if snapshot.interrupts and ask else None
            if answer is None:
                return result_from_state(thread_id, snapshot)
            inputs = Command(resume=answer)
    finally:
        progress.stop()


def shared_clients() -> AbstractAsyncContextManager[Toolboxes]:
    """Runs inside share one owner's clients (several at once, as an eval runs them), closed at the end."""
    return owned()


async def start(settings: Settings, thread_id: str, question: str, mode: str, ctx: Context, progress: Progress,
                name: str = "", reviewer: Reviewer | None = None) -> RunResult:
    """Run a new thread from its question; refuses an id that already has checkpoints."""
    graph_id = graph_id_for_mode(mode)
    async with saver_for(settings) as saver:
        if await thread_exists(saver, thread_id):
            raise ThreadExists(f"thread {name or thread_id} already exists; continue it with `deepresearch resume "
                                 f"{name or thread_id}` or choose another --thread")
        graph = compile_graph(graph_id, saver)
        return await _drive(graph, {"question": question}, _config(thread_id, graph_id, ctx, name), ctx, progress,
                            reviewer)


async def resume(settings: Settings, ref: str, progress: Progress, reviewer: Reviewer | None = None,
                 **overrides: Any) -> RunResult:
    """Continue a thread from its last checkpoint with the settings it was started with (plus overrides).

    Works the same for threads started by the CLI and through `langgraph dev`.
    """
    async with saver_for(settings) as saver:
        thread_id = await resolve_thread(saver, ref)
        metadata = await latest_metadata(saver, thread_id)
        graph_id = graph_id_of(metadata)
        graph = compile_graph(graph_id, saver)
        here: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        snapshot = await graph.aget_state(here)
        saved = run_settings(metadata)
        if MASK in str(saved.get("base_url", "")) and not overrides.get("base_url"):
            raise ConfigError(f"thread {thread_id} ran on base_url {saved['base_url']}, whose password or key is "
                              "not stored; resume it with --set base_url=URL")
        ctx = Context.bind(settings).build(saved, **overrides)
        check_question(thread_id, snapshot.values, ctx.max_question_chars, "resumed",
                       "start a new thread with `deepresearch run QUESTION`")
        config = _config(thread_id, graph_id, ctx, str(metadata.get("thread_name", "")))
        spec = SPECS[graph_id]  # what this graph says of restarting and reopening its threads
        if snapshot.values.get("done"):
            if spec.reopen is None:  # its graph takes no finished thread further, whatever the budgets
                progress.line(f"thread {thread_id} is done; nothing to resume")
                return result_from_state(thread_id, snapshot)
            if not await _reopen(graph, spec.reopen, thread_id, snapshot, ctx, progress):
                return result_from_state(thread_id, snapshot)
        elif not snapshot.next and not snapshot.interrupts and not all_done(snapshot):
            # the graph ended without an answer (stopped between steps), or its last step failed after its
            # results were saved (its routing raised): on with the next step. Not when that step's results
            # were saved but the checkpoint after it was not (a kill, a full disk): its tasks are listed, all
            # done, and LangGraph carries on from their saved writes
            await graph.aupdate_state(here, spec.restart.values(), as_node=spec.restart.as_node)
        snapshot = await graph.aget_state(here)
        steps = ", ".join(snapshot.next) or "after " + ", ".join(task.name for task in snapshot.tasks)
        progress.line(f"resuming thread {thread_id} at round {snapshot.values.get('round', 0)} (next: {steps})")
        inputs: Any = None
        if snapshot.interrupts:
            answer = reviewer(dict(snapshot.interrupts[0].value)) if reviewer else None
            if answer is None:
                return result_from_state(thread_id, snapshot)
            inputs = Command(resume=answer)
        return await _drive(graph, inputs, config, ctx, progress, reviewer)


def all_done(snapshot: StateSnapshot) -> bool:
    """Whether the snapshot lists tasks and every one of them finished without an error."""
    return bool(snapshot.tasks) and not any(task.error for task in snapshot.tasks)


async def _reopen(graph: Graph, reopen: Reopen, thread_id: str, snapshot: StateSnapshot, ctx: Context,
                  progress: Progress) -> bool:
    """Let a thread that ended on a budget or without progress research on, if the new settings allow it.

    The thread forks from the step before its answer, as its graph's ``reopen`` names it (LangGraph keeps
    every step), so research picks up the evolving report, not the final one. A thread that answered its
    question has nothing to resume.
    """
    stop = str(snapshot.values.get("stop_reason", ""))
    if reopen.settled(snapshot.values):
        progress.line(f"thread {thread_id} is done ({stop or 'answered'}); nothing to resume")
        return False
    before = None
    async for past in graph.aget_state_history({"configurable": {"thread_id": thread_id}}):
        if past.next == (reopen.before,):
            before = past
            break
    if before is None:
        progress.line(f"thread {thread_id} is done; nothing to resume")
        return False
    still = reopen.still(before.values, ctx)
    if still:
        raise UserInputError(f"thread {thread_id} ended on {stop}; with these settings {still} again: raise the "
                             f"budget to continue it, e.g. `deepresearch resume {thread_id} --max-rounds N`")
    await graph.aupdate_state(before.config, reopen.restart.values(), as_node=reopen.restart.as_node)
    progress.line(f"thread {thread_id} ended on {stop}; researching on")
    return True


async def load(settings: Settings, ref: str) -> RunResult:
    """A thread's current result or progress, without running anything (or writing: a read-only home will do)."""
    async with saver_for(settings, read_only=True) as saver:
        thread_id = await resolve_thread(saver, ref)
        metadata = await latest_metadata(saver, thread_id)
        snapshot = await compile_graph(graph_id_of(metadata), saver).aget_state(
            {"configurable": {"thread_id": thread_id}})
        try:
            limit = Context.build(run_settings(metadata)).max_question_chars
        except ConfigError:  # settings this version refuses: the question is judged by the default limit
            limit = int(Context.model_fields["max_question_chars"].default)
        check_question(thread_id, snapshot.values, limit, "shown", f"delete it with `deepresearch threads delete "
                                                                   f"{thread_id}`")
        return result_from_state(thread_id, snapshot)


def check_question(thread_id: str, values: dict[str, Any], limit: int, doing: str, hint: str) -> None:
    """One line for a thread whose question cannot be researched: not text, missing, empty or too long.

    Older versions stored such questions (through the API, before the server checked them).
    """
    problem = question_problem(values.get("question"), limit)
    if problem:
        raise UserInputError(f"thread {thread_id} cannot be {doing}: {problem}; {hint}")
