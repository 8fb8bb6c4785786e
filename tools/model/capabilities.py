"""What a model server really supports, asked with a few tiny requests rather than assumed.

For one endpoint and model: is ``response_format`` with a JSON schema accepted and enforced, is ``json_object``
accepted, does a forced tool call (named, and ``"required"``) come back as a call, does the reply carry a separate
reasoning field, and what context does the server serve. Plain HTTP (the LangChain client drops fields it does
not know, such as ``reasoning_content``). From what was found, the structured-output method is chosen.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import httpx

from core.vocabulary import OutputLimit, StructuredMethod
from tools.model.endpoint import list_models
from tools.model.probe_requests import PROBE_TOOL, PROBE_VALUE, PROBES, Prober, Reply
from tools.model.structured import strip_think
from tools.net.http import tls

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
        prober = Prober(client, base_url, model)
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
        return await Prober(client, base_url, model).output_limit()
