"""Reducers for accumulating state fields.

Thread-wide lists (sources, queries run, failures) live in LangGraph ``DeltaChannel``s: each checkpoint
stores only what a step added, so checkpoint size stays flat however many rounds run. Their reducers
take the current value and a batch of writes and must give the same result however writes are batched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from state.records import Source

T = TypeVar("T")


def extend_all(current: list[T] | None, batches: Sequence[list[T]]) -> list[T]:
    """Append every batch, in order (append-only thread history)."""
    out = list(current or [])
    for batch in batches:
        out.extend(batch)
    return out


def merge_sources(current: list[Source] | None, batches: Sequence[list[Source]]) -> list[Source]:
    """Register sources by URL and number them by first use.

    A source gets the next citation number the first time it arrives with ``n`` set (any value marks
    it as "used": it produced evidence). Numbers are never reassigned, so [n] means the same page for
    the whole thread. A page read where only its search result's snippet was seen takes the snippet's
    place (its text, its title), under the snippet's number; a snippet never replaces a page.
    """
    out = list(current or [])
    index = {src["url"]: i for i, src in enumerate(out)}
    next_n = 1 + max((src["n"] or 0 for src in out), default=0)
    for batch in batches:
        for src in batch:
            used = src["n"] is not None
            pos = index.get(src["url"])
            if pos is None:
                index[src["url"]] = len(out)
                out.append(Source(**{**src, "n": next_n if used else None}))
                next_n += used
                continue
            n = out[pos]["n"]
            if n is None and used:
                n, next_n = next_n, next_n + 1
            if "snippet" in out[pos] and "snippet" not in src:  # the page, where its snippet was
                out[pos] = Source(**{**src, "n": n})
            elif n != out[pos]["n"]:
                out[pos] = Source(**{**out[pos], "n": n})
    return out


def keep_last(limit: int):
    """Reducer that appends and keeps only the newest ``limit`` items (bounded memory of dead ends)."""

    def reducer(current: list[T] | None, update: list[T]) -> list[T]:
        return (list(current or []) + list(update))[-limit:]

    reducer.__name__ = f"keep_last_{limit}"
    return reducer
