"""Run one search query (one Send per query, all of a round's queries in parallel)."""

from __future__ import annotations

from typing import Any, NotRequired

from langgraph.runtime import Runtime
from typing_extensions import TypedDict

from core.errors import SearchError
from state.context import Context
from state.events import emit
from state.records import Failure
from tools.toolbox import toolbox
from tools.web_search import Locale


class SearchTask(TypedDict):
    """What the planner sends to one search."""

    query: str
    round: int
    question: NotRequired[str]  # its language picks the backend's locale


async def search(task: SearchTask, runtime: Runtime[Context]) -> dict[str, Any]:
    """Search one query; a failing backend is recorded as a failed action, never ends the round."""
    ctx = runtime.context
    query = task["query"]
    try:
        locale = Locale.for_text(task.get("question", "") + " " + query)
        backend = (await toolbox(ctx)).search
        hits = await backend.search(query, ctx.results_per_query, locale)
    except SearchError as exc:
        emit(runtime, "search_failed", round=task["round"], query=query, error=str(exc))
        failure = Failure(round=task["round"], action="search", target=query, error=str(exc),
                          transient=exc.transient)
        return {"failures": [failure]}  # not counted as run: a later round may try it again, if it may pass
    emit(runtime, "search", round=task["round"], query=query, hits=len(hits))
    return {"hits": hits, "queries_run": [query]}
