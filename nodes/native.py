"""The round's main call in the format IterResearch was trained on (``prompt_format="native"``).

One user message rebuilds the workspace: the date, the question, the tools, the evolving ``<report>``,
and only the last ``<tool_call>`` with its ``<tool_response>``. The reply thinks (``<think>``, dropped),
writes the new full report and ends with one action: a ``<tool_call>`` (the next searches) or the
``<answer>``. Replies are parsed tolerantly (tags left open, JSON with trailing commas, a query given as
a string, a response the model wrote itself cut off); a reply without what the round needs is sent back
with the problem, up to three tries. The same graph and state serve both formats.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import BaseMessage

from core.errors import ParseError
from prompts.fences import EMPTY, NONE
from prompts.native import (
    DEAD_ENDS,
    FORMAT_ERROR,
    LAST,
    NEED_PLAN,
    NEED_ROUND,
    PLAN,
    PROMPT,
    ROUND,
    SEARCH_TOOL,
)
from tools.model.llm import Endpoint, Usage
from tools.model.repair import Repair, parsed_reply, text_reply
from tools.model.structured import find_json

Task = Literal["plan", "round"]
ATTEMPTS = 3
# a tag's content; one left open ends where the next section starts
_TAG = r"<{0}>\s*(.*?)\s*(?:</{0}>|(?=<(?:report|tool_call|answer|backtrack)>)|\Z)"
_SELF_RESPONSE = re.compile(r"<tool_response>", re.I)


@dataclass(frozen=True)
class NativeReply:
    """What a native reply says: the new report (rounds), and the answer or the next search or a backtrack."""

    report: str = ""
    answer: str = ""
    queries: list[str] = field(default_factory=list)
    goal: str = ""
    backtrack: str = ""


def render(task: Task, *, date: str, question: str, report: str, backend: str, k: int, words: int = 500,
           last_call: dict[str, Any] | None = None, last_response: str = "", dead_ends: str = "") -> str:
    """The one user message of a round (every page-derived part already fenced by the caller)."""
    tool = json.dumps(SEARCH_TOOL).replace("{backend}", backend).replace("{k}", str(k))
    last = LAST.format(call=json.dumps(last_call, ensure_ascii=False), response=last_response) if last_call else ""
    if dead_ends and dead_ends != NONE:
        last += DEAD_ENDS.format(dead_ends=dead_ends)
    instructions = (PLAN if task == "plan" else ROUND).format(words=words)  # both: their braces are escaped
    return PROMPT.format(date=date, question=question, tools=tool, report=report or EMPTY, last=last,
                         task=instructions)


def call_text(queries: list[str], goal: str) -> str:
    """A search as the model writes it."""
    return tool_call_text({"name": "search", "arguments": {"query": queries, "goal": goal}})


def tool_call_text(call: dict[str, Any]) -> str:
    """A tool call as the model writes it."""
    return f"<tool_call>\n{json.dumps(call, ensure_ascii=False)}\n</tool_call>"


def cut_self_response(text: str) -> str:
    """A reply up to any ``<tool_response>`` the model wrote itself (that is not one)."""
    return _SELF_RESPONSE.split(text, maxsplit=1)[0]


def tool_call_json(body: str) -> dict[str, Any]:
    """The JSON object of a ``<tool_call>``'s content; ParseError says why there is none."""
    try:
        return find_json(body)
    except ParseError as exc:
        raise ParseError(f"the <tool_call> holds no JSON object ({exc})") from None


def tag(name: str, text: str) -> str | None:
    """The content of ``<name>`` in a reply (None if absent); a tag left open ends at the next section."""
    match = re.search(_TAG.format(name), text, re.S | re.I)
    return match.group(1).strip() if match else None


def strings(value: Any) -> list[str]:
    """A tool argument as a list of non-empty strings (one string counts as a list of one)."""
    if isinstance(value, str):
        value = [value]
    return [str(q).strip() for q in value if str(q).strip()] if isinstance(value, list) else []


def parse_native(text: str, task: Task) -> NativeReply:
    """Read a native reply (thinking already removed); ParseError says what the round still needs."""
    text = cut_self_response(text)
    report = tag("report", text) or ""
    answer = tag("answer", text) or ""
    backtrack = tag("backtrack", text) or ""
    queries: list[str] = []
    goal = ""
    call = tag("tool_call", text)
    if call is not None:
        data = tool_call_json(call)
        arguments = data.get("arguments", data)
        arguments = arguments if isinstance(arguments, dict) else {}
        queries = strings(arguments.get("query") or arguments.get("queries"))
        goal = str(arguments.get("goal") or "").strip()
        if not queries:
            raise ParseError('the <tool_call> has no "query" (a list of search queries)')
    if task == "plan":
        if not queries:
            raise ParseError("it has no <tool_call> with the search to run")
        return NativeReply(queries=queries, goal=goal)
    if not report:
        raise ParseError("it has no <report>")
    if not (answer or queries or backtrack):
        raise ParseError("it ends with neither <answer> nor a <tool_call>")
    return NativeReply(report, answer, [] if answer else queries, goal, "" if answer else backtrack)


async def complete_native(endpoint: Endpoint, messages: list[BaseMessage], task: Task, *,
                          deadline: float | None = None, attempts: int = ATTEMPTS,
                          max_tokens: int | None = None) -> tuple[NativeReply, Usage]:
    """Ask in the native format; a reply missing what the round needs is sent back with the problem.

    Raises StructuredOutputError (with the usage spent) when no reply of ``attempts`` can be used; a reply
    cut off at its output budget is never used (its tags, read tolerantly, would pass for a whole reply).
    """
    need = NEED_PLAN if task == "plan" else NEED_ROUND
    how = Repair("native", lambda raw: parse_native(raw, task), lambda exc: FORMAT_ERROR.format(error=exc, need=need),
                 attempts=attempts, noun="retry", use_cut=False)
    return await parsed_reply(text_reply(endpoint, deadline, max_tokens), messages, how)
