"""Structured replies: a model call whose reply is parsed into a pydantic model.

Asked by the method the endpoint's server supports (json_schema, tool_calling or text; a method the server
refuses falls to the next, tools/model/capability_store.py), with one repair retry that shows the model its error
(tools/model/repair.py).
"""

from __future__ import annotations

import json
import logging
from functools import partial
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from pydantic import BaseModel

from core.errors import ResponseFormatUnsupported, ToolsUnsupported
from core.vocabulary import StructuredMethod
from prompts.model import REPAIR, TEXT_INSTRUCTION
from tools.model import session
from tools.model.capability_store import refused, usable
from tools.model.llm import Endpoint, Usage, cut_off, invoke, ran_on, usage_of
from tools.model.repair import Repair, Reply, parsed_reply
from tools.model.structured import json_schema, parse_reply, schema_hint

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)


def ignored_named_choice() -> set[str]:
    """Base URLs whose server answered a forced named tool call without one, as this owner found (a run, an eval)."""
    return session.current().named_choice_ignored


def _request(method: StructuredMethod, schema: type[BaseModel], base_url: str = "") -> dict[str, Any]:
    name = schema.__name__
    if method == "json_schema":
        # sent as it is (the SDK's typed response_format path costs a millisecond a call to build the same JSON)
        schema_format = {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema(schema)}}
        return {"extra_body": {"response_format": schema_format}}
    if method == "tool_calling":
        tool = {"type": "function", "function": {"name": name, "description": schema.__doc__ or name,
                                                 "parameters": json_schema(schema)}}
        # a server that ignores a named choice (llama.cpp: "Wrong type supplied for parameter 'tool_choice'", and
        # then auto) is asked for "required": with one tool offered, that forces the same call
        named = {"type": "function", "function": {"name": name}}
        return {"tools": [tool], "tool_choice": "required" if base_url in ignored_named_choice() else named}
    return {}


def _reply_text(reply: AIMessage) -> str:
    """The part of a reply that holds the structured answer (tool call arguments or content)."""
    if reply.tool_calls:
        return json.dumps(reply.tool_calls[0]["args"])
    return str(reply.content)


def _with_text_instruction(messages: list[BaseMessage], schema: type[BaseModel]) -> list[BaseMessage]:
    first, rest = messages[0], messages[1:]
    if isinstance(first, SystemMessage):
        return [SystemMessage(str(first.content) + TEXT_INSTRUCTION.format(schema=schema_hint(schema))), *rest]
    return messages


async def _ask(endpoint: Endpoint, method: StructuredMethod, messages: list[BaseMessage], schema: type[BaseModel],
               deadline: float | None, max_tokens: int | None) -> tuple[AIMessage, StructuredMethod, list[BaseMessage]]:
    """One structured call, and the method and messages that got it: a refused method's next (capability_store)."""
    while True:
        try:
            request = _request(method, schema, endpoint.base_url)
            reply = await invoke(endpoint, messages, deadline, max_tokens, **request)
        except (ResponseFormatUnsupported, ToolsUnsupported) as exc:
            method = await refused(method, endpoint.base_url, endpoint.model, str(exc), endpoint.capabilities_file)
            if method == "text":
                messages = _with_text_instruction(messages, schema)
            continue
        return reply, method, messages


async def complete_json(endpoint: Endpoint, messages: list[BaseMessage], schema: type[M], *,
                        repair: bool = True, deadline: float | None = None,
                        max_tokens: int | None = None) -> tuple[M, Usage]:
    """A reply parsed into ``schema``; with ``repair``, one retry shows the model its error (two calls at most).

    Raises StructuredOutputError (carrying the usage spent) when the reply cannot be used.
    """
    method = usable(endpoint.structured_output, endpoint.base_url)
    if method == "text":
        messages = _with_text_instruction(messages, schema)

    async def ask(prompt: list[BaseMessage]) -> Reply:
        nonlocal method
        reply, method, prompt = await _ask(endpoint, method, prompt, schema, deadline, max_tokens)
        if method == "tool_calling" and not reply.tool_calls and endpoint.base_url not in ignored_named_choice():
            log.warning("%s answered a forced call of %s without calling it; asking with tool_choice=required",
                        endpoint.base_url, schema.__name__)
            ignored_named_choice().add(endpoint.base_url)
        return Reply(_reply_text(reply), usage_of(reply, prompt), prompt,
                     ran_on(endpoint, max_tokens) if cut_off(reply) else "")

    how = Repair(schema.__name__, partial(parse_reply, schema=schema),
                 lambda exc: REPAIR.format(error=exc, schema=schema_hint(schema)), attempts=2 if repair else 1)
    return await parsed_reply(ask, messages, how)
