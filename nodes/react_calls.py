"""How a ReAct reply is read, and what a tool call may hold (each tool's bounds are in its definition).

Every argument is bounded as the call enters state: a URL or file path longer than a URL can be is not
visited, code too long is not run, a query or goal is cut to length, and at most ``MAX_ITEMS`` of a list
are taken; each refusal or cut becomes a note the tool response shows the model, instead of an echo.
The conversation keeps the call rewritten from what the model asked, every long argument cut with a mark
of its length, so neither the checkpoints nor the next prompt carry a 200,000-character argument.
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.messages import AIMessage

from core.errors import ParseError
from core.text import clip
from nodes.native import cut_self_response, strings, tag, tool_call_json, tool_call_text
from prompts.react import MALFORMED, ONLY_FIRST, REFUSED, SHORTENED, TOO_LONG
from state.records import ERROR_CHARS
from tools.agent.kit import ARGUMENT_CHARS
from tools.agent.registry import CODE, Registry, Spec, specs
from tools.model.structured import strip_think

MAX_ITEMS = 5  # queries, URLs or files one call runs
NAME_CHARS = 100
PROSE_CHARS = 4_000  # of what a reply writes before its call, or of a reply that could not be used
# a tool call, or an attempt at one, where only an answer may be
_CALL_MARKUP = re.compile(r"</?tool_call\b|\"arguments\"\s*:", re.I)
_THINKING = re.compile(r"<think>.*?(?:</think>|\Z)|</?think>", re.S | re.I)


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
        data = tool_call_json(body)
    except ParseError as exc:
        return {"error": str(exc)}, None, text
    arguments = data.get("arguments", {})
    if not isinstance(data.get("name"), str) or not isinstance(arguments, dict):
        return {"error": 'the call needs "name" (a string) and "arguments" (an object)'}, None, text
    code = tag("code", body)  # PythonInterpreter's code follows the JSON, in <code>
    return {"name": data["name"], "arguments": {**arguments, **({CODE: code} if code else {})}}, None, text


def forced_answer(call: dict[str, Any] | None, answer: str | None, text: str) -> str | None:
    """What a reply to the forced-answer prompt answers: its ``<answer>``, else its prose (None: a call, or nothing)."""
    if answer is not None:
        return answer or None
    if (call and "error" not in call) or holds_call(text):
        return None
    return _THINKING.sub("", text).strip() or None


def _argument(key: str, spec: Spec, value: Any) -> tuple[Any, Any, list[str]]:
    """(what runs, or None; what the conversation shows; notes for the model) of one argument."""
    if spec.arg is None:  # an argument the tool does not bound: kept whole, within ARGUMENT_CHARS of JSON
        size = len(json.dumps(value, ensure_ascii=False, default=str))
        if size <= ARGUMENT_CHARS:
            return value, value, []
        return None, clip(json.dumps(value, ensure_ascii=False, default=str), ARGUMENT_CHARS), [
            TOO_LONG.format(key=key, size=size, limit=ARGUMENT_CHARS)]
    arg = spec.arg
    values = list(dict.fromkeys(strings(value))) if spec.many else [str(value)]
    notes = []
    if len(values) > MAX_ITEMS:
        notes.append(ONLY_FIRST.format(kept=MAX_ITEMS, given=len(values), key=key))
    run: list[str] = []
    for i, item in enumerate(values[:MAX_ITEMS], start=1):
        label = f"{key} {i}" if spec.many else key
        if len(item) <= arg.limit:
            run.append(item)
        elif arg.shorten is not None:
            run.append(arg.shorten(item))
            notes.append(SHORTENED.format(label=label, size=len(item), limit=arg.limit))
        else:
            notes.append(REFUSED.format(label=label, size=len(item), limit=arg.limit, refused=arg.refused))
    shown = [clip(item, arg.limit) for item in values[:MAX_ITEMS]]
    if spec.many:
        return run or None, shown, notes
    return (run[0] if run else None), shown[0], notes


def bound(call: dict[str, Any], tools: Registry) -> tuple[dict[str, Any], dict[str, Any]]:
    """The call as state stores and the tools run it (bounded, with notes), and as the conversation shows it.

    Only the arguments the tool declares are taken (an unknown tool's: none), each within its bound.
    """
    if "error" in call:
        return {"error": clip(str(call["error"]), ERROR_CHARS)}, call
    name = clip(str(call.get("name", "")), NAME_CHARS)
    given = call.get("arguments") or {}
    run: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    notes: list[str] = []
    tool = tools.named(name)
    for key, spec in (specs(tool) if tool else {}).items():
        if given.get(key) is None:
            continue
        run_value, shown[key], more = _argument(key, spec, given[key])
        notes += more
        if run_value is not None:
            run[key] = run_value
    return {"name": name, "arguments": run, "notes": notes}, {"name": name, "arguments": shown}


def call_text(call: dict[str, Any], tools: Registry) -> str:
    """A call as the model writes it (a program in ``<code>`` after the JSON, as PythonInterpreter was trained)."""
    arguments = dict(call.get("arguments") or {})
    tool = tools.named(str(call.get("name", "")))
    in_code = tool is not None and any(s.in_code for s in specs(tool).values())
    code = arguments.pop(CODE, None) if in_code else None
    text = tool_call_text({"name": call.get("name", ""), "arguments": arguments})
    return text if code is None else text.replace("\n</tool_call>", f"\n<code>\n{code}\n</code>\n</tool_call>")


def kept_text(text: str, shown: dict[str, Any] | None, tools: Registry) -> str:
    """The reply as the conversation keeps it: its prose bounded, and its call as ``shown`` (bounded) writes it."""
    if shown is None or "error" in shown:
        return clip(text, PROSE_CHARS)
    prose = clip(re.split(r"<tool_call>", text, maxsplit=1, flags=re.I)[0].strip(), PROSE_CHARS)
    return (prose + "\n" if prose else "") + call_text(shown, tools)


def malformed(error: str) -> str:
    """The tool response for a call that could not be read."""
    return MALFORMED.format(error=error)


def shown_arguments(shown: dict[str, Any]) -> str:
    """A call's arguments for a progress line."""
    return json.dumps(shown.get("arguments", shown.get("error", "")), ensure_ascii=False)[:200]
