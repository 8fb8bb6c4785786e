"""Questions and search queries: what a question may be, when two queries are the same, which are new."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import UserInputError
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


_JSON_KINDS = ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"), (list, "an array"),
               (dict, "an object"))
NO_QUESTION = 'the input has no question (it takes {"question": "..."})'


def kind_of(value: object) -> str:
    """What a JSON value is, as an API client would name it ("a number", "an array", "null")."""
    if value is None:
        return "null"
    return next((name for cls, name in _JSON_KINDS if isinstance(value, cls)), type(value).__name__)


def question_problem(question: object, limit: int) -> str | None:
    """Why a question cannot be researched (missing, not text, empty, invisible, too long), or None."""
    if question is None:
        return NO_QUESTION
    if not isinstance(question, str):
        return f"the question must be a string, not {kind_of(question)}"
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8, smuggled in as surrogates
        return "the question is not valid UTF-8 text"
    if not _INVISIBLE.sub("", question):
        return "the question is empty"
    if len(question) > limit:
        return f"the question has {len(question):,} characters, over the {limit:,} allowed (max_question_chars)"
    return None


def input_problem(value: object, limit: int) -> str | None:
    """Why a run's input cannot start one (it must be exactly ``{"question": text}``), or None.

    Every key of the input is stored with the thread's first checkpoint, so unknown ones are refused too.
    """
    if not isinstance(value, dict):
        return f'the input must be an object such as {{"question": "..."}}, not {kind_of(value)}'
    if "question" not in value:
        return NO_QUESTION
    others = sorted(json.dumps(str(key)[:40], ensure_ascii=False) for key in value if key != "question")
    if others:
        return f"the input takes only a question (it also has {', '.join(others[:5])}{' ...' if others[5:] else ''})"
    return question_problem(value["question"], limit)


def require_question(state: Mapping[str, Any], limit: int) -> str:
    """The run's question, or a UserInputError saying why it cannot be researched (the first step of every graph)."""
    question = state.get("question")
    problem = question_problem(question, limit)
    if problem or not isinstance(question, str):
        raise UserInputError(problem or NO_QUESTION)
    return question
