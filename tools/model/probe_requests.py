"""The capability probe's requests: what each asks, over one client, and how a streamed reply is counted.

Plain HTTP (the LangChain client drops fields it does not know, such as ``reasoning_content``); a request that
went out on a kept-alive connection the server had closed is asked once more.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from core.errors import EndpointError, EndpointUnreachable, ModelCallError
from core.vocabulary import OutputLimit
from prompts.model import COUNT, HELLO, HELLO_JSON, PROBE_SYSTEM, PROBE_TOOL_DESCRIPTION
from tools.model.endpoint import KEY_SOURCE, completion_problem, redirected

T = TypeVar("T")

PROBE_TOKENS = 64  # each probe's completion budget: a greeting, a short JSON object or one tool call
LIMIT_TOKENS = 5  # the output-limit probe's budget, for a reply that would run to a few dozen tokens
PROBE_VALUE = "capabilities-ok"  # what the schema requires and the prompt never asks for
PROBE_TOOL = "record_probe"
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object", "properties": {"probe": {"type": "string", "enum": [PROBE_VALUE]}},
    "required": ["probe"], "additionalProperties": False}
# a refused parameter is "not supported"; a busy or failing server says nothing yet about what it supports
_BUSY = (429, 502, 503, 504)


def _messages(user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": PROBE_SYSTEM}, {"role": "user", "content": user}]


def _tool_request(choice: Any) -> dict[str, Any]:
    tool = {"type": "function", "function": {"name": PROBE_TOOL, "description": PROBE_TOOL_DESCRIPTION,
                                             "parameters": PROBE_SCHEMA}}
    return {"messages": _messages(HELLO), "tools": [tool], "tool_choice": choice}


PROBES: dict[str, dict[str, Any]] = {
    "json_schema": {"messages": _messages(HELLO), "response_format": {
        "type": "json_schema", "json_schema": {"name": "probe", "strict": True, "schema": PROBE_SCHEMA}}},
    "json_object": {"messages": _messages(HELLO_JSON),
                    "response_format": {"type": "json_object"}},
    "named_tool": _tool_request({"type": "function", "function": {"name": PROBE_TOOL}}),
    "required_tool": _tool_request("required"),
}


def is_probe(messages: list[dict[str, Any]]) -> bool:
    """Whether a chat request's messages are one of the probe's (a server log can tell them apart)."""
    return bool(messages) and messages[0].get("content") == PROBE_SYSTEM


class Prober:
    """One endpoint's probe requests, over one client."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, model: str) -> None:
        self.client, self.base_url, self.model = client, base_url, model
        self.reasoning = ""
        self.limit: OutputLimit = "max_completion_tokens"

    async def output_limit(self) -> OutputLimit:
        """Which name bounds a reply: max_completion_tokens, unless the server refuses it or ignores it.

        Asked to count to 30 within LIMIT_TOKENS under max_completion_tokens, a server that sends more needs
        max_tokens (llama-cpp-python's server). The reply is streamed and left as soon as it runs past the limit:
        a server that ignores it would otherwise generate to its context's end (and a single-slot server would
        serve nothing else meanwhile); leaving the stream stops it.
        """
        return await self._retried(self._count)

    async def _count(self) -> OutputLimit:
        body = {"model": self.model, "messages": _messages(COUNT), "max_completion_tokens": LIMIT_TOKENS,
                "temperature": 0, "stream": True}
        async with self.client.stream("POST", f"{self.base_url}/chat/completions", json=body) as response:
            if self._refused(response):
                return "max_tokens"
            sent = 0
            async for line in response.aiter_lines():
                sent += _streamed_tokens(line)
                if sent > LIMIT_TOKENS + 3:
                    return "max_tokens"
        return "max_completion_tokens"

    async def ask(self, name: str, request: dict[str, Any] | None = None
                  ) -> tuple[dict[str, Any], str, int | None] | None:
        """The reply message, its finish reason and completion tokens, or None when the server refused it."""
        body = {"model": self.model, self.limit: PROBE_TOKENS, "temperature": 0, **(request or PROBES[name])}
        response = await self._send("POST", f"{self.base_url}/chat/completions", json=body)
        if self._refused(response):
            return None
        try:
            data = response.json()
        except ValueError:
            return None
        if completion_problem(data):
            return None
        choice = data["choices"][0]
        message = choice["message"]
        for field in ("reasoning_content", "reasoning"):
            if isinstance(message.get(field), str) and message[field].strip():
                self.reasoning = self.reasoning or field
        spent = (data.get("usage") or {}).get("completion_tokens")
        return message, str(choice.get("finish_reason") or ""), spent if isinstance(spent, int) else None

    async def props_context(self) -> int | None:
        """llama.cpp's ``/props`` at the server root: the context each request may use (its slot's n_ctx)."""
        root = self.base_url.removesuffix("/v1")
        try:
            response = await self._send("GET", f"{root}/props")
            data = response.json() if response.status_code == 200 else None
        except (ValueError, EndpointError, ModelCallError):
            return None
        if not isinstance(data, dict):
            return None
        settings = data.get("default_generation_settings")
        for value in (settings.get("n_ctx") if isinstance(settings, dict) else None, data.get("n_ctx")):
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return None

    def _refused(self, response: httpx.Response) -> bool:
        """Whether the server refused the probe's parameter (400, 422, 500).

        A wrong key, model or address, or a busy server, raises.
        """
        status = response.status_code
        if 300 <= status < 400:  # never followed: the key would go along
            raise EndpointError(redirected(self.base_url, status, str(response.url),
                                           response.headers.get("location", "")))
        if status in (401, 403):
            raise EndpointError(f"{self.base_url} rejected the API key {KEY_SOURCE}")
        if status == 404:
            raise EndpointError(f"model {self.model!r} is not served at {self.base_url} (DEEPRESEARCH_MODEL)")
        if status in _BUSY:
            raise ModelCallError(f"the endpoint was busy (HTTP {status}) during the capability probe")
        return status >= 400

    def _failed(self, exc: httpx.HTTPError) -> Exception:
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return EndpointUnreachable(self.base_url, type(exc).__name__)
        if isinstance(exc, httpx.TimeoutException):
            return ModelCallError(f"the capability probe got no answer within {self.client.timeout.read}s")
        return ModelCallError(f"the capability probe failed ({type(exc).__name__})")

    async def _retried(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``attempt()``, asked once more on a kept-alive connection the server had closed.

        llama.cpp's server closes one after a streamed reply (RemoteProtocolError); a probe is safe to repeat.
        """
        for again in (True, False):
            try:
                return await attempt()
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if not again:
                    raise self._failed(exc) from exc
            except httpx.HTTPError as exc:
                raise self._failed(exc) from exc
        raise AssertionError("unreachable: the second failure is raised")

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await self._retried(lambda: self.client.request(method, url, **kwargs))
        if 300 <= response.status_code < 400:
            self._refused(response)
        return response


Reply = tuple[dict[str, Any], str, int | None] | None


def _streamed_tokens(line: str) -> int:
    """About how many tokens one line of a streamed reply carries (a chunk a token, or its words if more).

    A server that answers a stream request with one JSON body is read the same way, by its usage.
    """
    if not line.startswith("data:"):
        try:
            data = json.loads(line)
        except ValueError:
            return 0
        usage = data.get("usage") if isinstance(data, dict) else None
        return int(usage.get("completion_tokens") or 0) if isinstance(usage, dict) else 0
    try:
        chunk = json.loads(line.removeprefix("data:").strip())
    except ValueError:  # [DONE]
        return 0
    tokens = 0
    for choice in chunk.get("choices") or [] if isinstance(chunk, dict) else []:
        delta = choice.get("delta") or {} if isinstance(choice, dict) else {}
        text = "".join(str(delta.get(k) or "") for k in ("content", "reasoning_content", "reasoning"))
        tokens += max(len(text.split()), 1) if text else 0
    return tokens
