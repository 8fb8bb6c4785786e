"""The model client: ChatOpenAI against any OpenAI-compatible endpoint.

It counts usage, maps failures to the project's errors, and gives each call its output budget; structured
replies are asked for in tools/model/llm_json.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import openai
from langchain_core.messages import AIMessage, BaseMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from core.errors import (
    EndpointUnreachable,
    ModelCallError,
    StructuredOutputError,
)
from core.settings import NO_KEY, Settings
from core.vocabulary import OutputLimit, StructuredMethod
from state.context import Context
from tools.model import session
from tools.model.endpoint import UnusableResponse, check_completion, status_error
from tools.model.structured import strip_think
from tools.net.http import tls

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
log = logging.getLogger(__name__)

# model replies are the agent's own working (JSON, thinking, tags): LangGraph's `messages` stream leaves
# calls tagged so out; what a user is shown is the report, which the answer step streams as it is written
INTERNAL = "nostream"
FIRST_METHOD: StructuredMethod = "json_schema"  # how JSON is asked for until the server is known (auto)


def _default(declared: type[BaseModel], name: str) -> Any:
    """The default a field of the run context or the process settings declares: an endpoint repeats none."""
    return declared.model_fields[name].get_default(call_default_factory=True)


@dataclass(frozen=True)
class Endpoint:
    """Where and how to call the model; unless given, as the run context's and the process settings' defaults."""

    base_url: str
    model: str
    api_key: str = NO_KEY
    structured_output: StructuredMethod = FIRST_METHOD
    temperature: float = _default(Context, "temperature")
    max_output_tokens: int = _default(Context, "max_output_tokens")
    timeout: float = _default(Settings, "request_timeout")
    max_retries: int = _default(Settings, "max_retries")
    presence_penalty: float = 0.0  # sent only when set (ReAct, as the model card advises)
    capabilities_file: Path | None = None  # where a switch of method is remembered for the next run
    output_limit: OutputLimit = "max_completion_tokens"  # the name the server honours for a reply's token limit


def with_method(endpoint: Endpoint, method: str | None) -> Endpoint:
    """The endpoint asked with another structured-output method (a thread's switch); unchanged when none."""
    if method in ("json_schema", "tool_calling", "text") and method != endpoint.structured_output:
        return replace(endpoint, structured_output=method)  # type: ignore[arg-type]
    return endpoint


@dataclass(frozen=True)
class Usage:
    """Calls made and tokens spent (prompt + completion)."""

    calls: int = 0
    tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.calls + other.calls, self.tokens + other.tokens)


def chat_model(endpoint: Endpoint) -> ChatOpenAI:
    """The current owner's client for this endpoint (tools/model/session.py); the SDK retries 429, 5xx and timeouts."""
    return session.current().client(endpoint, _new_chat_model)


async def close_models() -> None:
    """Close the HTTP clients of the models this event loop used under no owner (an owner closes its own)."""
    await session.close_loop_session()


def _new_chat_model(endpoint: Endpoint) -> ChatOpenAI:
    # follow_redirects=False: the key goes to the endpoint's own address only (the SDK passes a per-request
    # follow_redirects only for the Vertex and Bedrock providers, so the client's setting holds; a 3xx becomes
    # an APIStatusError, turned into an EndpointError below)
    return ChatOpenAI(
        model=endpoint.model,
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,  # type: ignore[arg-type]
        temperature=endpoint.temperature,
        top_p=0.95,
        max_completion_tokens=None,  # sent with every call, under the name the server honours (invoke)
        timeout=endpoint.timeout,
        max_retries=endpoint.max_retries,
        stream_usage=True,
        presence_penalty=endpoint.presence_penalty or None,
        http_async_client=httpx.AsyncClient(event_hooks={"response": [check_completion]}, verify=tls(),
                                            follow_redirects=False),
        # never used (calls are async); spares building a default one
        http_client=httpx.Client(verify=tls(), follow_redirects=False),
    )




def usage_of(message: AIMessage, messages: list[BaseMessage]) -> Usage:
    """One call's usage: the server's token count, else an estimate from the characters (4 a token)."""
    meta = message.usage_metadata
    if meta and meta.get("total_tokens"):
        return Usage(1, int(meta["total_tokens"]))
    chars = sum(len(str(m.content)) for m in messages) + len(str(message.content))
    return Usage(1, chars // 4)


def output_budget(endpoint: Endpoint, max_tokens: int | None) -> int:
    """The completion tokens one call may spend: its step's budget, within the endpoint's ``max_output_tokens``."""
    return min(endpoint.max_output_tokens, max_tokens or endpoint.max_output_tokens)


async def invoke(endpoint: Endpoint, messages: list[BaseMessage], deadline: float | None = None,
                  max_tokens: int | None = None, **kwargs: Any) -> AIMessage:
    """One model call with the SDK's retries, cut off at ``deadline`` (Unix time) if given.

    ``max_tokens`` is the step's output budget, sent under the name the server honours (``output_limit``: never
    both, which OpenAI refuses). Failures become the project's errors.
    """
    budget = output_budget(endpoint, max_tokens)
    if endpoint.output_limit == "max_tokens":  # the SDK renames a max_tokens argument: the body carries it as is
        kwargs["extra_body"] = {**kwargs.get("extra_body", {}), "max_tokens": budget}
    else:
        kwargs["max_completion_tokens"] = budget
    model: Any = chat_model(endpoint)
    refusable = "response_format" in kwargs.get("extra_body", {})
    tools_refusable = bool(kwargs.get("tools")) and kwargs.get("tool_choice") != "auto"  # a forced call
    if kwargs.get("tools"):
        model = model.bind_tools(kwargs.pop("tools"), tool_choice=kwargs.pop("tool_choice"))
    remaining = None if deadline is None else deadline - time.time()
    if remaining is not None and remaining <= 0:
        raise ModelCallError("the run's deadline passed before the model call")
    try:
        async with asyncio.timeout(remaining):
            reply = await model.ainvoke(messages, config={"tags": [INTERNAL]}, **kwargs)
    except TimeoutError as exc:
        raise ModelCallError("the run's deadline passed during a model call (deadline_seconds)") from exc
    except openai.APITimeoutError as exc:
        raise ModelCallError(
            f"model call timed out after {endpoint.timeout:g}s and {endpoint.max_retries} retries "
            "(DEEPRESEARCH_TIMEOUT)"
        ) from exc
    except openai.APIConnectionError as exc:
        raise EndpointUnreachable(endpoint.base_url) from exc
    except openai.APIStatusError as exc:
        raise status_error(exc, endpoint.base_url, endpoint.model, refusable, tools_refusable) from exc
    except UnusableResponse as exc:
        raise ModelCallError(str(exc)) from exc
    except openai.APIError as exc:
        raise ModelCallError(f"the endpoint sent an unusable response: {' '.join(str(exc).split())[:200]}") from exc
    if not isinstance(reply, AIMessage):
        raise ModelCallError(f"unexpected reply type {type(reply).__name__}")
    return reply


async def complete_text(endpoint: Endpoint, messages: list[BaseMessage], deadline: float | None = None,
                        max_tokens: int | None = None) -> tuple[str, Usage]:
    """Free-text reply with thinking removed.

    A reply cut off at its output budget is the model running on, not an answer: StructuredOutputError
    (the model's failure, carrying the usage), never a text to show.
    """
    reply = await invoke(endpoint, messages, deadline, max_tokens)
    usage = usage_of(reply, messages)
    if cut_off(reply):
        raise StructuredOutputError(f"the reply {ran_on(endpoint, max_tokens)}", str(reply.content), usage.calls,
                                    usage.tokens)
    return strip_think(str(reply.content)), usage


def cut_off(reply: AIMessage) -> bool:
    """Whether the reply ended because it reached its output budget (``finish_reason: "length"``)."""
    return reply.response_metadata.get("finish_reason") == "length"


def ran_on(endpoint: Endpoint, max_tokens: int | None) -> str:
    """What a cut-off reply did, in words."""
    return f"ran on to its output budget ({output_budget(endpoint, max_tokens):,} tokens) and was cut off"


async def complete_message(endpoint: Endpoint, messages: list[BaseMessage], *,
                           tools: list[dict[str, Any]] | None = None, deadline: float | None = None,
                           max_tokens: int | None = None) -> tuple[AIMessage, Usage]:
    """The reply as it came (content and any OpenAI tool_calls), with the tokens it and its prompt took."""
    kwargs: dict[str, Any] = {"tools": tools, "tool_choice": "auto"} if tools else {}
    reply = await invoke(endpoint, messages, deadline, max_tokens, **kwargs)
    return reply, usage_of(reply, messages)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A model call's result, or the error that ended only this step, with the usage spent either way.

    ``model_failed``: the error is the model's own (its reply was unusable, or ran on past its budget), not a
    passing fault of the call (a timeout, a server error), so trying the same call again would not help.
    """

    value: T | None
    usage: Usage
    error: str = ""
    model_failed: bool = False


async def guarded(call: Callable[[], Awaitable[tuple[T, Usage]]], attempts: int = 1) -> Outcome[T]:
    """Make a model call; a failed call or an unusable reply becomes ``error`` (the run goes on without it).

    A call that failed (after the client's own retries) is tried again while ``attempts`` last, and
    counts as a call spent either way. An endpoint that cannot be used at all (EndpointError) is not
    caught: it ends the run.
    """
    usage = Usage()
    error = ""
    for _ in range(max(1, attempts)):
        try:
            value, spent = await call()
        except StructuredOutputError as exc:  # already repaired once: the model cannot give this shape
            return Outcome(None, usage + Usage(exc.calls, exc.tokens), str(exc), model_failed=True)
        except ModelCallError as exc:
            usage += Usage(1, 0)
            error = str(exc)
            continue
        return Outcome(value, usage + spent)
    return Outcome(None, usage, error)
