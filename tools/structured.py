"""Tolerant parsing of model replies into pydantic models.

Small and local models wrap JSON in thinking, code fences, prose or trailing commas. This finds the
JSON object in such a reply and validates it; the caller shows the error to the model once to repair.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


class ParseError(ValueError):
    """The reply holds no JSON object matching the schema; the message says why (shown to the model)."""


def strip_think(text: str) -> str:
    """Drop ``<think>`` blocks, including an unclosed opening left by a server's chat template."""
    text = _THINK.sub("", text)
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    elif "<think>" in text:
        text = text.split("<think>", 1)[0]
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


def find_json(text: str) -> dict[str, Any]:
    """The first JSON object in the reply (after thinking, inside fences or prose)."""
    body = strip_think(text)
    candidates = [m.group(1) for m in _FENCE.finditer(body)] + _balanced_objects(body)
    for candidate in candidates:
        for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            try:
                value = json.loads(attempt, strict=False)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    raise ParseError("the reply contains no valid JSON object")


def parse_reply(text: str, schema: type[M]) -> M:
    """Validate the reply's JSON against ``schema``; ParseError explains what is wrong."""
    data = find_json(text)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'object'}: {e['msg']}" for e in exc.errors())
        raise ParseError(f"the JSON does not match the schema ({problems})") from exc


def schema_hint(schema: type[BaseModel]) -> str:
    """A compact JSON schema to show the model when the server cannot enforce one."""
    return json.dumps(schema.model_json_schema(), separators=(",", ":"))
