"""Tolerant parsing of model replies into pydantic models.

Small and local models wrap JSON in thinking, code fences, prose or trailing commas. This finds the
JSON object in such a reply and validates it; the caller shows the error to the model once to repair.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from core.errors import ParseError
from state.context import MAX_QUERIES_PER_ROUND

M = TypeVar("M", bound=BaseModel)

_LEADING_THINK = re.compile(r"\A\s*(?:<think>.*?</think>\s*)+", re.S | re.I)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def strip_think(text: str) -> str:
    """Drop the thinking that opens a reply.

    Handles closed blocks, a closing tag whose opening the server's chat template already sent (vLLM
    without a reasoning parser), and thinking cut off before it closed (nothing usable follows).
    Later text is left alone, so a JSON string that mentions the tags survives.
    """
    stripped = _LEADING_THINK.sub("", text)
    if stripped != text:
        return stripped.strip()
    if text.lstrip().lower().startswith("<think>"):
        return ""
    head, sep, tail = text.partition("</think>")
    if sep and "<think>" not in head.lower():
        text = tail
    return text.strip()


def _balanced_objects(text: str) -> list[str]:
    """Every top-level ``{...}`` span, honouring strings and escapes."""
    spans: list[str] = []
    depth = 0
    start = -1
    in_string = False
    escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"' and depth > 0:
            in_string = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


def json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects in a reply, most likely answer first.

    Fenced blocks, then bare objects, each last first: models reason or echo a template before they answer.
    """
    body = strip_think(text)
    candidates = [m.group(1) for m in _FENCE.finditer(body)][::-1] + _balanced_objects(body)[::-1]
    found: list[dict[str, Any]] = []
    for candidate in candidates:
        for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            try:
                value = json.loads(attempt, strict=False)
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(value, dict):
                found.append(value)
                break
    return found


def find_json(text: str) -> dict[str, Any]:
    """The JSON object in the reply that most likely holds the answer."""
    objects = json_objects(text)
    if not objects:
        raise ParseError("the reply contains no valid JSON object")
    return objects[0]


def _is_placeholder(value: Any) -> bool:
    """Template text a model echoed instead of filling in ("...", ["..."])."""
    if isinstance(value, str):
        return value.strip() in ("...", "…")
    if isinstance(value, list):
        return bool(value) and all(_is_placeholder(v) for v in value)
    if isinstance(value, dict):
        return any(_is_placeholder(v) for v in value.values())
    return False


def _placeholders_unused(schema: type[BaseModel], data: dict[str, Any]) -> bool:
    """Whether the reply type says these placeholders stand where nothing is needed (a "not relevant" reading)."""
    unused = getattr(schema, "placeholders_unused", None)
    return bool(unused(data)) if callable(unused) else False


def _first(limit: int) -> Any:
    return lambda value: value[:limit] if isinstance(value, list) else value


# queries in a reply: at most as many as a round may run (an enforced schema stops a runaway list there,
# "1", "2", ... "155" otherwise), and a longer list from a server that does not enforce it read as its start
Queries = Annotated[list[str], BeforeValidator(_first(MAX_QUERIES_PER_ROUND)), Field(max_length=MAX_QUERIES_PER_ROUND)]


def parse_reply(text: str, schema: type[M]) -> M:
    """Validate the reply's JSON against ``schema``; ParseError explains what is wrong."""
    objects = json_objects(text)
    if not objects:
        raise ParseError("the reply contains no valid JSON object")
    error = ""
    for data in objects:
        if _is_placeholder(data):
            if not (isinstance(data, dict) and _placeholders_unused(schema, data)):
                error = error or "the JSON repeats the template's placeholders instead of real values"
                continue
            data = {k: [] if isinstance(v, list) and _is_placeholder(v) else "" if _is_placeholder(v) else v
                    for k, v in data.items()}
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'object'}: {e['msg']}" for e in exc.errors())
            error = error or f"the JSON does not match the schema ({problems})"
    raise ParseError(error)


@cache
def json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """A reply type's JSON schema, built once per type (pydantic takes up to 5 ms a call to build it).

    Shared: read it, never change it.
    """
    return schema.model_json_schema()


def schema_hint(schema: type[BaseModel]) -> str:
    """A compact JSON schema to show the model when the server cannot enforce one."""
    return json.dumps(json_schema(schema), separators=(",", ":"))
