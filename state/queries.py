"""Questions and search queries: what a question may be, when two queries are the same, which are new."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.text import squash

normalize_query = squash  # queries that differ only in case, spacing or punctuation are the same query
QUERY_CHARS = 400  # the longest query a search backend takes (Tavily's limit, the strictest)


def searchable(query: str) -> str:
    """The query stripped, and cut at a word to what a backend takes (search engines read the first words)."""
    query = query.strip()
    if len(query) <= QUERY_CHARS:
        return query
    cut = query[: QUERY_CHARS + 1]
    return (cut.rsplit(None, 1)[0] if " " in cut.strip() else cut[:QUERY_CHARS]).strip()


def fresh_queries(queries: Iterable[str], already_run: Iterable[str], limit: int | None = None) -> list[str]:
    """The queries, stripped and cut to length, without any run before (by key) or repeated, at most ``limit``."""
    seen = {normalize_query(q) for q in already_run}
    out: list[str] = []
    for query in map(searchable, queries):
        key = normalize_query(query)
        if key and key not in seen:
            seen.add(key)
            out.append(query)
    return out[:limit]


def already_searched(state: Mapping[str, Any]) -> list[str]:
    """Queries not to run again: those run in the thread, and those a backend refused for good."""
    refused = [f["target"] for f in state.get("failures", []) if f["action"] == "search" and not f["transient"]]
    return [*state.get("queries_run", []), *refused]


_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\s]+")


def question_problem(question: str, limit: int) -> str | None:
    """Why a question cannot be researched (empty, invisible, not text, too long), or None."""
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8, smuggled in as surrogates
        return "the question is not valid UTF-8 text"
    if not _INVISIBLE.sub("", question):
        return "the question is empty"
    if len(question) > limit:
        return f"the question has {len(question):,} characters, over the {limit:,} allowed (max_question_chars)"
    return None
