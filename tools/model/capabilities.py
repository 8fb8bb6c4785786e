"""What a model server really supports, asked with a few tiny requests rather than assumed.

For one endpoint and model: is ``response_format`` with a JSON schema accepted and enforced, is ``json_object``
accepted, does a forced tool call (named, and ``"required"``) come back as a call, does the reply carry a separate
reasoning field, and what context does the server serve. Plain HTTP (the LangChain client drops fields it does
not know, such as ``reasoning_content``). From what was found, the structured-output method is chosen.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, TypeVar

import httpx

from core.errors import EndpointError, EndpointUnreachable, ModelCallError
from core.vocabulary import OutputLimit, StructuredMethod
from prompts.model import COUNT, HELLO, HELLO_JSON, PROBE_SYSTEM, PROBE_TOOL_DESCRIPTION
from tools.model.endpoint import KEY_SOURCE, completion_problem, list_models, redirected
from tools.model.structured import strip_think
from tools.net.http import tls

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

Verdict = Literal["yes", "ignored", "refused"]


@dataclass(frozen=True)
class Capabilities:
    """What one server did with each probe.

    ``json_schema``: enforced (the reply matched a schema the prompt did not ask for), accepted (not enforced),
    unseen (accepted, but the reply was cut before any JSON: a model thinking first) or refused.
    """

    json_schema: Literal["enforced", "accepted", "unseen", "refused"] = "refused"
    json_object: Verdict = "refused"
    named_tool: Verdict = "refused"  # tool_choice {"type": "function", "function": {"name": ...}}
    required_tool: Verdict = "refused"  # tool_choice "required"
    reasoning_field: str = ""  # the reply message's field that carries the thinking, if any
    context: int | None = None
    context_from: str = ""  # /props or /v1/models
    output_limit: OutputLimit = "max_completion_tokens"  # the name the server honours for a reply's token limit

    def choose(self) -> StructuredMethod:
        """json_schema when accepted and enforced; else tool_calling when a forced call comes back; else text."""
        if self.json_schema in ("enforced", "unseen"):
            return "json_schema"
        if "yes" in (self.named_tool, self.required_tool):
            return "tool_calling"
        return "text"

    def describe(self) -> str:
        """One line, as doctor prints it."""
        schema = {"enforced": "enforced", "accepted": "accepted, NOT enforced", "refused": "refused",
                  "unseen": "accepted (enforcement not seen: the reply was cut while the model thought)"}
        yes = {"yes": "yes", "ignored": "ignored", "refused": "refused"}
        if "yes" in (self.named_tool, self.required_tool):
            tools = f"tools forced (named: {yes[self.named_tool]}, required: {yes[self.required_tool]})"
        elif self.named_tool == self.required_tool == "refused":
            tools = "tools refused"
        else:
            tools = f"tools not forced (named: {yes[self.named_tool]}, required: {yes[self.required_tool]})"
        reasoning = f"yes ({self.reasoning_field})" if self.reasoning_field else "no"
        context = f"{self.context:,} ({self.context_from})" if self.context else "not said"
        limit = ("; output limit sent as max_tokens (max_completion_tokens is ignored)"
                 if self.output_limit == "max_tokens" else "")
        return (f"json_schema {schema[self.json_schema]}; json_object {yes[self.json_object]}; {tools}; "
                f"reasoning field {reasoning}; context {context}{limit}")

    def to_dict(self) -> dict[str, Any]:
        """As remembered in the home."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Capabilities | None:
        """Read back what ``to_dict`` wrote; None if it is not that (another version's or a damaged record)."""
        if not isinstance(data, dict):
            return None
        names = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except TypeError:
            return None


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


class _Prober:
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


def _json_schema(reply: Reply) -> Literal["enforced", "accepted", "unseen", "refused"]:
    if reply is None:
        return "refused"
    message, finish, _ = reply
    text = strip_think(str(message.get("content") or "")).strip()
    try:
        enforced = json.loads(text) == {"probe": PROBE_VALUE}
    except ValueError:
        enforced = False
    if enforced:
        return "enforced"
    return "unseen" if finish == "length" and not text else "accepted"


def _called(reply: Reply) -> Verdict:
    if reply is None:
        return "refused"
    calls = reply[0].get("tool_calls") or []
    named = [c for c in calls if isinstance(c, dict) and (c.get("function") or {}).get("name") == PROBE_TOOL]
    return "yes" if named else "ignored"


async def probe(base_url: str, model: str, api_key: str, timeout: float = 60.0) -> Capabilities:
    """Ask the server at ``base_url`` what it supports for ``model`` (seven small requests, one after another).

    Unreachable: EndpointUnreachable; a rejected key, a missing model or a redirect: EndpointError; busy or
    too slow: ModelCallError. A refused parameter is a finding, never an error.
    """
    listed = await list_models(base_url, api_key, timeout=min(timeout, 10.0))
    async with httpx.AsyncClient(timeout=timeout, verify=tls(), follow_redirects=False,
                                 headers={"Authorization": f"Bearer {api_key}"}) as client:
        prober = _Prober(client, base_url, model)
        prober.limit = await prober.output_limit()  # first: every later probe is bounded under the name that works
        replies = {name: await prober.ask(name) for name in PROBES}
        props = await prober.props_context()
    served = next((m.max_model_len for m in listed if m.id == model), None)
    context, source = (props, "/props") if props else (served, "/v1/models") if served else (None, "")
    return Capabilities(
        json_schema=_json_schema(replies["json_schema"]),
        json_object="refused" if replies["json_object"] is None else "yes",
        named_tool=_called(replies["named_tool"]), required_tool=_called(replies["required_tool"]),
        reasoning_field=prober.reasoning, context=context, context_from=source, output_limit=prober.limit)


async def probe_output_limit(base_url: str, model: str, api_key: str, timeout: float = 60.0) -> OutputLimit:
    """Only which name bounds a reply (for a run whose structured-output method is forced): one small request."""
    async with httpx.AsyncClient(timeout=timeout, verify=tls(), follow_redirects=False,
                                 headers={"Authorization": f"Bearer {api_key}"}) as client:
        return await _Prober(client, base_url, model).output_limit()
