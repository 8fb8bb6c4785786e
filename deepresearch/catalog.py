"""Research threads as a list, and what is done to them without running them (delete, prune, saved or not).

The list serves `deepresearch threads` and the server's route.

Most threads are summarised straight from the database; LangGraph is loaded only for the few that need
it to be judged, so listing stays instant.
"""

from __future__ import annotations

import asyncio
import sqlite3

from checkpoints.listing import ThreadSummary, quick_summaries
from core.errors import DeepResearchError, UserInputError
from core.settings import Settings


async def list_all(settings: Settings) -> list[ThreadSummary]:
    """Every thread, newest first, whichever side (CLI or API) started it."""
    if settings.checkpoint_url:  # Postgres: every thread through its graph
        return await summaries(settings)
    # sqlite3 on a worker thread: on the server's event loop it would stall every request (and
    # `langgraph dev` refuses it)
    rows = await asyncio.to_thread(quick_summaries, settings.checkpoints_db)
    unjudged = [row for row in rows if isinstance(row, str)]
    if not unjudged:
        return [row for row in rows if isinstance(row, ThreadSummary)]
    judged = {s.thread_id: s for s in await summaries(settings, unjudged)}
    return [row if isinstance(row, ThreadSummary) else judged[row] for row in rows
            if isinstance(row, ThreadSummary) or row in judged]


async def summaries(settings: Settings, wanted: list[str] | None = None) -> list[ThreadSummary]:
    """Summaries of these threads (all, newest first, if None), read through their graphs.

    Threads of graphs this version lacks are left out.
    """
    from checkpoints.saver import graph_id_of  # these load LangGraph and the graphs
    from checkpoints.threads import latest_metadata, summarize, thread_ids
    from deepresearch.runner import GRAPHS, Graph, compile_graph, saver_for

    async with saver_for(settings, read_only=True) as saver:
        graphs: dict[str, Graph] = {}
        out = []
        for thread_id in await thread_ids(saver) if wanted is None else wanted:
            metadata = await latest_metadata(saver, thread_id)
            graph_id = graph_id_of(metadata)
            if graph_id not in GRAPHS:
                continue
            if graph_id not in graphs:
                graphs[graph_id] = compile_graph(graph_id, saver)
            summary = await summarize(graphs[graph_id], thread_id, str(metadata.get("thread_name", "")))
            if summary is not None:
                out.append(summary)
        return out


async def saved(settings: Settings, ref: str) -> bool | None:
    """Whether thread ``ref`` has a saved step to resume from; None when the store cannot tell (unreadable)."""
    from checkpoints.threads import resolve_thread
    from deepresearch.runner import saver_for

    try:
        async with saver_for(settings, read_only=True) as saver:
            await resolve_thread(saver, ref)
            return True
    except UserInputError:  # no such thread
        return False
    except (DeepResearchError, sqlite3.Error):
        return None


async def delete(settings: Settings, ref: str) -> str:
    """Delete a thread's checkpoints and writes; returns its id."""
    from checkpoints.threads import resolve_thread
    from deepresearch.runner import saver_for

    async with saver_for(settings) as saver:
        thread_id = await resolve_thread(saver, ref, fragments=False)
        await saver.adelete_thread(thread_id)
        return thread_id


async def prune(settings: Settings, keep: int, refs: list[str] | None = None) -> dict[str, int]:
    """Keep the newest ``keep`` checkpoints of each thread (or of the threads named); deleted counts by thread."""
    from checkpoints.threads import resolve_thread, thread_ids
    from deepresearch.runner import saver_for

    async with saver_for(settings) as saver:
        targets = [await resolve_thread(saver, ref) for ref in refs] if refs else await thread_ids(saver)
        return {thread_id: await saver.prune_thread(thread_id, keep) for thread_id in targets}
