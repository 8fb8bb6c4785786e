"""Choose the pages to read this round: best-ranked first, round-robin across queries, never one read before.

A page still loading in the background after its read was late is not chosen again until its load ends:
no round waits on the same late page twice.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Send

from state.budget import calls_left, may_call
from state.context import Context
from state.events import PageRef, Selected, emit
from state.graph_state import State
from state.records import Hit
from tools.toolbox import toolbox


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


MAX_READ_ATTEMPTS = 3
RETRY = "(read again)"  # the query a retried page is filed under


def done_with(state: State) -> set[str]:
    """Pages not to read again: read already, unreadable, or failed three times for passing reasons."""
    skip = {src["url"] for src in state.get("sources", [])}
    tries: dict[str, int] = {}
    for failure in state.get("failures", []):
        if failure["action"] == "read":
            tries[failure["target"]] = tries.get(failure["target"], 0) + 1
            if not failure.get("transient", True) or tries[failure["target"]] >= MAX_READ_ATTEMPTS:
                skip.add(failure["target"])
    return skip


def to_retry(state: State, skip: set[str]) -> list[Hit]:
    """Pages whose reading failed for passing reasons and may be tried again, as hits of their own queue."""
    urls = dict.fromkeys(f["target"] for f in state.get("failures", []) if f["action"] == "read")
    return [Hit(title=url, url=url, snippet="", rank=0, backend="retry", query=RETRY) for url in urls
            if url not in skip]


async def select(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Pick up to ``pages_per_round`` pages, as many as the call budget can still read.

    This round's new hits are taken in turn with pages whose reading failed earlier for passing reasons,
    but not pages still loading after a late read (they stay eligible for the rounds after their load).
    Each reader may spend two calls (a repair retry) when the budget allows, else one; one call is
    always left for the report writer.
    """
    ctx = runtime.context
    left = calls_left(state, ctx) if may_call(state, ctx, 2) else 0
    skip = done_with(state) | (await toolbox(ctx)).loads.left_behind()
    chosen = pick([*to_retry(state, skip), *state.get("hits", [])], skip, min(ctx.pages_per_round, max(0, left - 1)))
    allowance = 2 if left >= 2 * len(chosen) + 1 else 1
    emit(runtime, Selected(pages=[PageRef(title=h["title"], url=h["url"]) for h in chosen],
                           hits=len(state.get("hits", []))), state)
    return {"selected": chosen, "read_allowance": allowance}


def dispatch_reads(state: State) -> list[Send] | str:
    """One parallel reader per selected page; with none, nothing new was found this round."""
    selected = state.get("selected", [])
    if not selected:
        return "decide"
    return [Send("read", {"hit": hit, "question": state["question"], "goal": state.get("goal", ""),
                          "round": state["round"], "calls": state.get("read_allowance", 1), "of": len(selected),
                          **({"method": state["structured_output"]} if state.get("structured_output") else {})})
            for hit in selected]
