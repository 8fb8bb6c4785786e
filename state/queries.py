"""Search queries across a thread: one key for "the same query", and picking the ones not run yet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.text import squash

normalize_query = squash  # queries that differ only in case, spacing or punctuation are the same query


def fresh_queries(queries: Iterable[str], already_run: Iterable[str], limit: int | None = None) -> list[str]:
    """The queries, stripped, without any run before (by key) or repeated among themselves, at most ``limit``."""
    seen = {normalize_query(q) for q in already_run}
    out: list[str] = []
    for query in (q.strip() for q in queries):
        key = normalize_query(query)
        if key and key not in seen:
            seen.add(key)
            out.append(query)
    return out[:limit]


def already_searched(state: Mapping[str, Any]) -> list[str]:
    """Queries not to run again: those run in the thread, and those a backend refused for good."""
    refused = [f["target"] for f in state.get("failures", []) if f["action"] == "search" and not f["transient"]]
    return [*state.get("queries_run", []), *refused]
