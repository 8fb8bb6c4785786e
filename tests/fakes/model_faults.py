"""What the toy model server records of each request, and the misbehaviour a test can inject into it."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Logged:
    """One chat request as the server saw it."""

    role: str
    messages: list[dict[str, Any]]
    prompt_chars: int
    method: str
    stream: bool
    at: float
    tool_choice: Any = None  # as the request sent it
    max_tokens: int | None = None  # the completion tokens the request allowed, as the server read it
    limit_names: tuple[str, ...] = ()  # which of max_completion_tokens and max_tokens the request sent

    @property
    def user(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == "user")


@dataclass
class Faults:
    """Injected misbehaviour; every field is off by default."""

    statuses: list[int] = field(default_factory=list)  # next requests answer these HTTP codes, in order
    reject_json_schema: bool = False
    # how a server refuses response_format (llama.cpp's Python server: HTTP 500, pydantic's message)
    json_schema_refusal: tuple[int, str] = (400, "response_format json_schema is not supported by this server")
    ignore_json_schema: bool = False  # response_format accepted, the reply not held to the schema
    reject_tools: bool = False  # a request with tools is refused, as a server without tool calling does
    tools_refusal: tuple[int, str] = (400, "tools and tool_choice are not supported by this server")
    # max_completion_tokens is not read, only max_tokens (llama-cpp-python's server: it generates to the context's end)
    ignore_max_completion_tokens: bool = False
    reasoning_field: bool = False  # replies carry reasoning_content, as with vLLM's reasoning parser
    # a flaky endpoint: each request fails at random with these odds, from a seeded generator
    chaos: dict[int | str, float] = field(default_factory=dict)  # 500 / 429 -> odds; "garbage" -> broken JSON
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    malformed_until_repair: set[str] = field(default_factory=set)  # roles whose first reply is broken JSON
    cut_off: set[str] = field(default_factory=set)  # roles whose replies run on to the output budget (cut JSON)
    think: bool = True  # wrap text-mode replies in <think>...</think>
    delay: dict[str, float] = field(default_factory=dict)  # role -> seconds
    gates: dict[str, tuple[int, threading.Event]] = field(default_factory=dict)  # role -> (nth call, release)
    drop: set[str] = field(default_factory=set)  # roles whose requests get the connection closed, no reply
    junk: list[str] = field(default_factory=list)  # next replies: these bodies with HTTP 200, in order
    fail_when: dict[str, list[int]] = field(default_factory=dict)  # prompt substring -> statuses to answer
    hold_when: dict[str, threading.Event] = field(default_factory=dict)  # prompt substring -> held until set
    redirect_to: str = ""  # every request answers 307 to this base URL plus its own path
    # a kept-alive connection is closed when the next request arrives on it, unanswered (llama.cpp's server did
    # this after a streamed reply: the client's second request got RemoteProtocolError)
    close_reused: bool = False

    def roll(self, text: str) -> tuple[int, str, bool]:
        """The next request's injected fault: (status to answer or 0, its error text, whether to break the JSON).

        Not thread-safe: the server calls it under its lock.
        """
        if self.statuses:
            return self.statuses.pop(0), "injected failure", False
        roll, odds = self.rng.random(), 0.0
        for fault, chance in self.chaos.items():
            odds += chance
            if roll < odds:
                return (0, "", True) if fault == "garbage" else (int(fault), "injected chaos", False)
        for needle, statuses in self.fail_when.items():
            if needle in text and statuses:
                return statuses.pop(0), "injected failure", False
        return 0, "", False
