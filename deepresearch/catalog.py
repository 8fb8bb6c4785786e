"""The list of research threads, for `deepresearch threads` and the server's route.

Most threads are summarised straight from the database; LangGraph is loaded only for the few that need
it to be judged, so listing stays instant.
"""

from __future__ import annotations

from checkpoints.listing import ThreadSummary, quick_summaries
from core.settings import Settings


async def list_all(settings: Settings) -> list[ThreadSummary]:
    """Every thread, newest first, whichever side (CLI or API) started it."""
    if settings.checkpoint_url:  # Postgres: every thread through its graph
        from deepresearch import runner

        return await runner.summaries(settings, await runner.all_thread_ids(settings))
    rows = quick_summaries(settings.checkpoints_db)
    unjudged = [row for row in rows if isinstance(row, str)]
    if not unjudged:
        return [row for row in rows if isinstance(row, ThreadSummary)]
    from deepresearch import runner  # loads LangGraph and the graphs

    judged = {s.thread_id: s for s in await runner.summaries(settings, unjudged)}
    return [row if isinstance(row, ThreadSummary) else judged[row] for row in rows
            if isinstance(row, ThreadSummary) or row in judged]
