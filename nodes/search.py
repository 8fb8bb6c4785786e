"""Run one search query (one Send per query, all of a round's queries in parallel)."""

from __future__ import annotations

from typing import Any, NotRequired

from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from core.errors import SearchError
from state.context import Context
from state.events import Searched, SearchFailed, emit, step_key
from state.records import failure
from tools.quorum import Late
from tools.toolbox import toolbox
from tools.web.engines import Locale


class SearchTask(TypedDict):
    """What the planner sends to one search."""

    query: str
    round: int
    question: NotRequired[str]  # its language picks the backend's locale
    of: NotRequired[int]  # how many queries the round runs (for the straggler rule)


async def search(task: SearchTask, runtime: Runtime[Context]) -> dict[str, Any]:
    """Search one query; a failing query (or one far behind the rest of its round) never ends the round.

    It is recorded as a failed action. A backend out of reach ends the run, resumable.
    """
    ctx = runtime.context
    query = task["query"]
    try:
        locale = Locale.for_text(task.get("question", "") + " " + query)
        box = await toolbox(ctx)
        hits = await box.stragglers.run(step_key(runtime, "search"), task.get("of", 1), ctx.read_deadline_seconds,
                                        box.search.search(query, ctx.results_per_query, locale))
    except Late as exc:
        return _search_failed(runtime, task, str(exc), transient=True)
    except SearchError as exc:  # (a backend out of reach, SearchUnavailable, is not caught: it ends the run)
        return _search_failed(runtime, task, str(exc), transient=exc.transient)
    emit(runtime, Searched(round=task["round"], query=query, hits=len(hits)))
    return {"hits": hits, "queries_run": [query]}


def _search_failed(runtime: Runtime[Context], task: SearchTask, error: str, *, transient: bool) -> dict[str, Any]:
    """Not counted as run: a later round may try the query again, if it may pass."""
    emit(runtime, SearchFailed(round=task["round"], query=task["query"], error=error))
    return {"failures": [failure(round=task["round"], action="search", target=task["query"], error=error,
                                 transient=transient)]}
