"""Choose the pages to read this round: best-ranked first, round-robin across queries, never one read before."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from nodes.common import calls_left, emit
from state.context import Context
from state.graph_state import State
from state.records import Hit


def pick(hits: list[Hit], already_read: set[str], limit: int) -> list[Hit]:
    """Interleave each query's hits by rank, skipping pages read earlier in the thread and duplicates."""
    queues: dict[str, list[Hit]] = {}
    for hit in sorted(hits, key=lambda h: h["rank"]):
        queues.setdefault(hit["query"], []).append(hit)
    chosen: list[Hit] = []
    taken = set(already_read)
    while len(chosen) < limit and any(queues.values()):
        for queue in queues.values():
            while queue and queue[0]["url"] in taken:
                queue.pop(0)
            if queue and len(chosen) < limit:
                hit = queue.pop(0)
                taken.add(hit["url"])
                chosen.append(hit)
    return chosen


def select(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Pick up to ``pages_per_round`` unread pages, as many as the call budget can still read."""
    ctx = runtime.context
    affordable = max(0, calls_left(state, ctx) - 1)  # keep one call for synthesis
    already_read = {src["url"] for src in state.get("sources", [])}
    chosen = pick(state.get("hits", []), already_read, min(ctx.pages_per_round, affordable))
    emit(runtime, "select", state, pages=[{"title": h["title"], "url": h["url"]} for h in chosen],
         hits=len(state.get("hits", [])))
    return {"selected": chosen}


def dispatch_reads(state: State) -> list[Send] | str:
    """One parallel reader per selected page; with none, nothing new was found this round."""
    selected = state.get("selected", [])
    if not selected:
        return "decide"
    return [Send("read", {"hit": hit, "question": state["question"], "goal": state.get("goal", ""),
                          "round": state["round"]}) for hit in selected]
