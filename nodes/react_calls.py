"""ReAct's tools as the model sees them, how a reply is read, and what a tool call may hold.

Every argument is bounded as the call enters state: a URL or file path longer than a URL can be is not
visited, code too long is not run, a query or goal is cut to length, and at most ``MAX_ITEMS`` of a list
are taken; each refusal or cut becomes a note the tool response shows the model, instead of an echo.
The conversation keeps the call rewritten from what the model asked, every long argument cut with a mark
of its length, so neither the checkpoints nor the next prompt carry a 200,000-character argument.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage

from core.errors import ParseError
from core.text import clip
from nodes.native import call_json, cut_self_response, strings, tag, tool_call_text
from state.queries import QUERY_CHARS, searchable
from state.records import ERROR_CHARS, URL_CHARS
from tools.model.structured import strip_think

MAX_ITEMS = 5  # queries, URLs or files one call runs
GOAL_CHARS = 1_000
CODE_CHARS = 20_000
NAME_CHARS = 100
PROSE_CHARS = 4_000  # of what a reply writes before its call, or of a reply that could not be used
MALFORMED = ("Your reply could not be used: {error}. Call a tool as <tool_call>{{\"name\": ..., \"arguments\": "
             "{{...}}}}</tool_call>, or give the final <answer></answer>.")
# a tool call, or an attempt at one, where only an answer may be
_CALL_MARKUP = re.compile(r"</?tool_call\b|\"arguments\"\s*:", re.I)
_THINKING = re.compile(r"<think>.*?(?:</think>|\Z)|</?think>", re.S | re.I)


@dataclass(frozen=True)
class Arg:
    """What one argument may hold: its length, whether it is a list, and whether a longer one is cut or refused."""

    limit: int
    many: bool = False  # a list of strings, of which MAX_ITEMS are taken
    cut: bool = False  # a query or a goal still serves cut short; a cut URL or program is another one
    refused: str = "not used"  # what happens to one too long that is not cut


ARGS: dict[str, dict[str, Arg]] = {
    "search": {"query": Arg(QUERY_CHARS, many=True, cut=True)},
    "visit": {"url": Arg(URL_CHARS, many=True, refused="not visited"), "goal": Arg(GOAL_CHARS, cut=True)},
    "parse_file": {"files": Arg(URL_CHARS, many=True, refused="not parsed")},
    "PythonInterpreter": {"code": Arg(CODE_CHARS, refused="not run")},
}

PYTHON = {"type": "function", "function": {
    "name": "PythonInterpreter", "description": "Executes Python code in a sandboxed environment. To use this "
    "tool, the 'arguments' JSON object must be empty: {}, and the code must follow the JSON block, enclosed in "
    "<code> and </code> tags, inside the <tool_call>. Use print() to see values.",
    "parameters": {"type": "object", "properties": {}, "required": []}}}


def tool_schemas(python: bool = False) -> list[dict[str, Any]]:
    """The tools as the model was trained to see them (PythonInterpreter only with a sandbox to run it in)."""
    tools: list[dict[str, Any]] = [
        {"type": "function", "function": {
            "name": "search", "description": "Perform web searches then return the top results for each query. "
            "Accepts multiple queries.",
            "parameters": {"type": "object", "properties": {"query": {
                "type": "array", "items": {"type": "string"}, "minItems": 1,
                "description": "The queries to search, run in parallel."}}, "required": ["query"]}}},
        {"type": "function", "function": {
            "name": "visit", "description": "Visit webpages (or documents of the corpus) and return the "
            "evidence they hold for the goal, with each source's citation number.",
            "parameters": {"type": "object", "properties": {
                "url": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                        "description": "The URLs (or corpus paths) to visit."},
                "goal": {"type": "string", "description": "What to look for on the pages."}},
                "required": ["url", "goal"]}}},
        {"type": "function", "function": {
            "name": "parse_file", "description": "Parse documents (PDF, DOCX, HTML, TXT, MD, CSV) given by URL "
            "into text.",
            "parameters": {"type": "object", "properties": {"files": {
                "type": "array", "items": {"type": "string"}, "minItems": 1}}, "required": ["files"]}}},
    ]
    return [*tools, PYTHON] if python else tools


def holds_call(text: str) -> bool:
    """Whether text holds a tool call or an attempt at one (never part of an answer)."""
    return bool(_CALL_MARKUP.search(text))


def read_reply(reply: AIMessage) -> tuple[dict[str, Any] | None, str | None, str]:
    """(tool call, answer, text) of a reply; a call that cannot be read comes back with its error.

    Anything from a ``<tool_response>`` the model wrote itself on is cut off; only the first call counts.
    An ``<answer>`` that holds a tool call is not an answer.
    """
    text = cut_self_response(strip_think(str(reply.content))).strip()
    if reply.tool_calls:  # the server parsed the call (OpenAI tool_calls)
        first = reply.tool_calls[0]
        return {"name": first["name"], "arguments": first["args"]}, None, text
    answer = tag("answer", text)
    if answer is not None and not holds_call(answer):
        return None, _THINKING.sub("", answer).strip(), text
    body = tag("tool_call", text)
    if body is None:
        return {"error": "it has neither a <tool_call> nor an <answer>"}, None, text
    try:
        data = call_json(body)
    except ParseError as exc:
        return {"error": str(exc)}, None, text
    arguments = data.get("arguments", {})
    if not isinstance(data.get("name"), str) or not isinstance(arguments, dict):
        return {"error": 'the call needs "name" (a string) and "arguments" (an object)'}, None, text
    code = tag("code", body)  # PythonInterpreter's code follows the JSON, in <code>
    return {"name": data["name"], "arguments": {**arguments, **({"code": code} if code else {})}}, None, text


def forced_answer(call: dict[str, Any] | None, answer: str | None, text: str) -> str | None:
    """What a reply to the forced-answer prompt answers: its ``<answer>``, else its prose (None: a call, or nothing)."""
    if answer is not None:
        return answer or None
    if (call and "error" not in call) or holds_call(text):
        return None
    return _THINKING.sub("", text).strip() or None


def _argument(name: str, key: str, arg: Arg, value: Any) -> tuple[Any, Any, list[str]]:
    """(what runs, or None; what the conversation shows; notes for the model) of one argument."""
    values = list(dict.fromkeys(strings(value))) if arg.many else [str(value)]
    notes = []
    if len(values) > MAX_ITEMS:
        notes.append(f"only the first {MAX_ITEMS} of the {len(values):,} values of {key!r} were taken")
    run: list[str] = []
    for i, item in enumerate(values[:MAX_ITEMS], start=1):
        label = f"{key} {i}" if arg.many else key
        if len(item) <= arg.limit:
            run.append(item)
        elif arg.cut:
            run.append(searchable(item) if name == "search" else item[: arg.limit])
            notes.append(f"{label} is too long ({len(item):,} characters): only its first {arg.limit:,} were used")
        else:
            notes.append(f"{label} is too long ({len(item):,} characters, at most {arg.limit:,}): {arg.refused}")
    shown = [clip(item, arg.limit) for item in values[:MAX_ITEMS]]
    if arg.many:
        return run or None, shown, notes
    return (run[0] if run else None), shown[0], notes


def bound(call: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The call as state stores and the tools run it (bounded, with notes), and as the conversation shows it."""
    if "error" in call:
        return {"error": clip(str(call["error"]), ERROR_CHARS)}, call
    name = clip(str(call.get("name", "")), NAME_CHARS)
    given = call.get("arguments") or {}
    run: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    notes: list[str] = []
    for key, arg in ARGS.get(name, {}).items():
        if given.get(key) is None:
            continue
        run_value, shown[key], more = _argument(name, key, arg, given[key])
        notes += more
        if run_value is not None:
            run[key] = run_value
    return {"name": name, "arguments": run, "notes": notes}, {"name": name, "arguments": shown}


def call_text(call: dict[str, Any]) -> str:
    """A call as the model writes it (PythonInterpreter's code in ``<code>`` after the JSON, as it was trained)."""
    arguments = dict(call.get("arguments") or {})
    code = arguments.pop("code", None) if call.get("name") == "PythonInterpreter" else None
    text = tool_call_text({"name": call.get("name", ""), "arguments": arguments})
    return text if code is None else text.replace("\n</tool_call>", f"\n<code>\n{code}\n</code>\n</tool_call>")


def kept_text(text: str, shown: dict[str, Any] | None) -> str:
    """The reply as the conversation keeps it: its prose bounded, and its call as ``shown`` (bounded) writes it."""
    if shown is None or "error" in shown:
        return clip(text, PROSE_CHARS)
    prose = clip(re.split(r"<tool_call>", text, maxsplit=1, flags=re.I)[0].strip(), PROSE_CHARS)
    return (prose + "\n" if prose else "") + call_text(shown)


def malformed(error: str) -> str:
    """The tool response for a call that could not be read."""
    return MALFORMED.format(error=error)


def shown_arguments(shown: dict[str, Any]) -> str:
    """A call's arguments for a progress line."""
    return json.dumps(shown.get("arguments", shown.get("error", "")), ensure_ascii=False)[:200]
