"""What an OpenAI-compatible endpoint answers.

Is it up, which models does it serve with what context length, and is a chat completion it sent one
that clients can read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import openai

from core.errors import EndpointError, EndpointUnreachable, ModelCallError, ResponseFormatUnsupported, ToolsUnsupported
from tools.net.http import redirect_target, tls

# which key an endpoint was sent (Settings.api_key_for): said when one rejects it
KEY_SOURCE = ("(DEEPRESEARCH_API_KEY, sent only to DEEPRESEARCH_BASE_URL's origin and those in "
              "DEEPRESEARCH_API_KEY_ORIGINS; any other base URL gets EMPTY)")


@dataclass(frozen=True)
class ServedModel:
    """A model the endpoint lists, and the context it is served with when the server says (vLLM, llama.cpp)."""

    id: str
    max_model_len: int | None


async def list_models(base_url: str, api_key: str, timeout: float = 5.0) -> list[ServedModel]:
    """GET {base_url}/models once, quickly; unreachable endpoints raise EndpointUnreachable.

    A redirect is not followed (the key would go along): it is an EndpointError naming where it points.
    """
    try:
        async with httpx.AsyncClient(timeout=timeout, verify=tls(), follow_redirects=False) as client:
            response = await client.get(f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"})
    except httpx.TimeoutException as exc:
        raise EndpointUnreachable(base_url, f"no answer within {timeout:g}s") from exc
    except httpx.HTTPError as exc:
        raise EndpointUnreachable(base_url, type(exc).__name__) from exc
    if 300 <= response.status_code < 400:
        raise EndpointError(redirected(base_url, response.status_code, str(response.url),
                                       response.headers.get("location", "")))
    if response.status_code in (401, 403):
        raise EndpointError(f"{base_url} rejected the API key {KEY_SOURCE}")
    if response.status_code >= 400:
        raise EndpointError(f"{base_url}/models answered HTTP {response.status_code}; is this an OpenAI-compatible "
                            "base URL (usually ending in /v1)?")
    try:
        body = response.json()
    except ValueError as exc:
        raise EndpointError(f"{base_url}/models did not return JSON; is this an OpenAI-compatible base URL?") from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise EndpointError(f"{base_url}/models did not return a model list; is this an OpenAI-compatible base URL?")
    return [ServedModel(str(m.get("id", "")), served_context(m)) for m in data if isinstance(m, dict)]


def served_context(model: dict[str, Any]) -> int | None:
    """The context a server serves a listed model with: vLLM's ``max_model_len``, llama.cpp's ``meta.n_ctx``.

    Not llama.cpp's ``meta.n_ctx_train``: that is what the model was trained for, not what the server allows.
    """
    meta = model.get("meta")
    for value in (model.get("max_model_len"), meta.get("n_ctx") if isinstance(meta, dict) else None):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def redirected(base_url: str, status: int, url: str, location: str) -> str:
    """The message for an endpoint that answered with a redirect, which is never followed."""
    return (f"{base_url} answered with a redirect (HTTP {status}) to {redirect_target(url, location)}; set "
            "DEEPRESEARCH_BASE_URL (or base_url) to the final address")


class UnusableResponse(openai.APIError):
    """A 200 answer that is not a chat completion (an error object, an HTML page, no choices)."""


def completion_problem(data: Any) -> str | None:
    """What keeps a decoded chat-completion body from being one, or None if it has the shape clients read."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    if data.get("error"):
        return f"an error object: {' '.join(str(data['error']).split())[:160]}"
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        return "no choices"
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            return "a choice without a message"
        if not isinstance(message.get("content"), str | list | None):
            return "a message whose content is not text"
        if not isinstance(message.get("tool_calls"), list | None):
            return "a message whose tool calls are not a list"
    return None


async def check_completion(response: httpx.Response) -> None:
    """Response hook: refuse a 200 chat completion that clients cannot read, before the SDK parses it.

    Our own bugs then surface as themselves instead of passing for a bad endpoint. Streams (server-sent
    events) are read by the SDK as they arrive and are not checked here.
    """
    if (response.status_code != 200 or not response.request.url.path.endswith("/chat/completions")
            or "event-stream" in response.headers.get("content-type", "")):
        return
    await response.aread()
    try:
        problem = completion_problem(json.loads(response.content))
    except ValueError:
        problem = f"not JSON ({' '.join(response.text.split())[:80]!r})"
    if problem:
        raise UnusableResponse(f"the endpoint sent an unusable response: {problem}",
                               response.request, body=None)  # type: ignore[arg-type]  # httpx, not httpx2


# how servers word a refused response_format: vLLM and SGLang ("guided"/"json_schema"), OpenAI-style
# ("response_format"), llama.cpp's Python server (pydantic: "Input should be 'text' or 'json_object'")
_FORMAT_REFUSAL = ("response_format", "json_schema", "json_object", "guided", "structured output", "grammar")
# and a refused forced tool call: vLLM without a tool parser ("tool choice requires --enable-auto-tool-choice"),
# llama.cpp without --jinja ("tools param requires --jinja flag"), OpenAI-style ("tool_choice", "function calling")
_TOOLS_REFUSAL = ("tool", "function call", "function_call")


def status_error(exc: openai.APIStatusError, base_url: str, model: str, refusable: bool,
                 tools_refusable: bool = False) -> Exception:
    """The project's error for an HTTP error answer.

    A refused response format (``refusable``: the request sent one) or forced tool call (``tools_refusable``)
    is known by its message, whatever the status (400, 422, or 500 from a server whose request validation failed).
    """
    text = _brief(exc)
    if isinstance(exc, openai.AuthenticationError):
        return EndpointError(f"{base_url} rejected the API key {KEY_SOURCE}")
    if 300 <= exc.status_code < 400:  # not followed: the key would go along
        return EndpointError(redirected(base_url, exc.status_code, str(exc.response.url),
                                        exc.response.headers.get("location", "")))
    if isinstance(exc, openai.NotFoundError):
        return EndpointError(f"model {model!r} is not served at {base_url} (DEEPRESEARCH_MODEL)")
    if refusable and exc.status_code not in (429, 503) and _mentions(text, *_FORMAT_REFUSAL):
        return ResponseFormatUnsupported(text)
    if tools_refusable and exc.status_code not in (429, 503) and _mentions(text, *_TOOLS_REFUSAL):
        return ToolsUnsupported(text)
    if isinstance(exc, openai.BadRequestError):
        # vLLM ("maximum context length"), OpenAI ("context_length_exceeded"), llama.cpp ("exceeds the available
        # context size", type exceed_context_size_error)
        if _mentions(text, "context length", "context_length", "maximum context", "too long", "max_model_len",
                     "context size", "exceed_context_size"):
            return ModelCallError(f"prompt too long for the context the server allows: {text}")
        return ModelCallError(f"the endpoint rejected the request: {text}")
    return ModelCallError(f"model call failed with HTTP {exc.status_code}: {text}")


def _brief(exc: openai.APIStatusError) -> str:
    return " ".join(str(exc.message).split())[:200]


def _mentions(text: str, *needles: str) -> bool:
    lowered = text.lower()
    return any(n in lowered for n in needles)
