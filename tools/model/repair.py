"""The one repair loop for replies that must be parsed: ask, parse, and on an unusable reply show the model why.

Both structured JSON replies (tools/model/llm_json.py) and the native tag format (nodes/native.py) go through
it: each says how it asks (the method, what part of the reply is read), how it parses, and what the model is
told when a reply cannot be used. A reply cut off at its output budget is not asked again (the model would
run on again); every failure raises StructuredOutputError carrying the usage spent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from core.errors import ModelCallError, ParseError, StructuredOutputError
from tools.model.llm import Endpoint, Usage, cut_off, invoke, ran_on, usage_of
from tools.model.structured import strip_think

T = TypeVar("T")
SHOWN_CHARS = 4_000  # of an unusable reply, sent back with its problem


@dataclass(frozen=True)
class Reply:
    """One call's reply as the loop reads it."""

    text: str  # the part that is parsed
    usage: Usage
    messages: list[BaseMessage]  # the prompt it answered (a structured method's fallback may have changed it)
    ran_on: str = ""  # how it ran on to its output budget, when it was cut off there


Ask = Callable[[list[BaseMessage]], Awaitable[Reply]]


@dataclass(frozen=True)
class Repair(Generic[T]):
    """How a reply is parsed and repaired: ``attempts`` calls at most, each unusable one shown ``instruction``."""

    what: str  # names the reply in errors ("Plan", "native")
    parse: Callable[[str], T]  # raises ParseError saying what is wrong
    instruction: Callable[[ParseError], str]
    attempts: int = 2
    noun: str = "repair"  # what a further call is called in errors
    use_cut: bool = True  # a cut-off reply that parses may be used (JSON that closed; tolerant tags cannot tell)


def _after(tries: int) -> str:
    return "" if tries == 1 else " after a repair retry" if tries == 2 else f" after {tries} tries"


async def parsed_reply(ask: Ask, messages: list[BaseMessage], repair: Repair[T]) -> tuple[T, Usage]:
    """The first reply of ``repair.attempts`` that parses, with the usage of every call made.

    A first call that fails raises its ModelCallError (nothing was spent); a later one, or no usable reply,
    raises StructuredOutputError with the usage spent.
    """
    usage = Usage()
    raw = ""
    for attempt in range(repair.attempts):
        try:
            reply = await ask(messages)
        except ModelCallError as exc:
            if not attempt:
                raise
            # a repair failed as a call: the calls before it were made and count, as does this one
            raise StructuredOutputError(f"{repair.what} reply unusable, and its {repair.noun} call failed: {exc}",
                                        raw, usage.calls + 1, usage.tokens) from exc
        usage += reply.usage
        raw = reply.text
        try:
            if reply.ran_on and not repair.use_cut:
                raise ParseError(f"it {reply.ran_on}")
            return repair.parse(raw), usage
        except ParseError as exc:
            if reply.ran_on or attempt == repair.attempts - 1:
                # a reply cut at its output budget is the model running on: repeating the call would too
                why = f"it {reply.ran_on}" if reply.ran_on else exc
                raise StructuredOutputError(f"{repair.what} reply unusable{_after(attempt + 1)}: {why}", raw,
                                            usage.calls, usage.tokens) from exc
            messages = [*reply.messages, AIMessage(raw[-SHOWN_CHARS:]), HumanMessage(repair.instruction(exc))]
    raise AssertionError("unreachable")


def text_reply(endpoint: Endpoint, deadline: float | None = None, max_tokens: int | None = None) -> Ask:
    """Asking for a free-text reply (thinking removed), as the loop asks."""

    async def ask(messages: list[BaseMessage]) -> Reply:
        reply = await invoke(endpoint, messages, deadline, max_tokens)
        cut = ran_on(endpoint, max_tokens) if cut_off(reply) else ""
        return Reply(strip_think(str(reply.content)), usage_of(reply, messages), messages, cut)

    return ask
