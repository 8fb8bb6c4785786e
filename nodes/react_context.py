"""ReAct's context policies (``react_context``): what the agent's prompt shows of the trajectory.

The thread keeps the whole trajectory (``turns``) whatever the policy, so that `show`, a resume and a
debugger see every step; each prompt is derived from it by these pure functions:

- ``full``: every turn, as the model wrote it and the tools answered (the prompt grows until the agent is
  told to answer near the model's context);
- ``keep_last:K``: the last K tool responses verbatim, each earlier one replaced by a one-line stub that
  says what was dropped;
- ``discard_all``: when the next prompt would pass the share of the context at which the agent is told to
  answer, every tool response before the newest is dropped (``context_cut``) and the run goes on;
- ``summarize``: when the next prompt would pass half of the context, one model call writes a state summary
  of the trajectory so far (nodes/react_summary.py), shown instead of it; the turns after it follow.

The model's own turns are kept under every policy: they are its notes of what it found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prompts.fences import fence
from prompts.react import DROPPED, SUMMARY_FRAME, TOOL_RESPONSE
from state.context import react_context_policy
from state.react_state import ReactState, Summary, Turn

CONTEXT_SHARE = 0.85  # past this share of the served context, the model is told to answer (discard_all: drops)
SUMMARY_SHARE = 0.5  # past this share, summarize writes its summary (the summary call's prompt must fit too)
CHARS_PER_TOKEN = 3  # what a tool response is counted at before the server says (low: tokens are not underrated)
DROPPED_CHARS_PER_TOKEN = 4  # what dropped text is counted at (high: what is left is not underrated)
_CALLED = re.compile(r'"name"\s*:\s*"([^"]{1,100})"')


@dataclass(frozen=True)
class Policy:
    """A ``react_context`` value, read: its name and, for keep_last, how many responses stay verbatim."""

    name: str
    keep: int = 0

    @classmethod
    def of(cls, value: str) -> Policy:
        """The policy a (validated) ``react_context`` value names."""
        return cls(*react_context_policy(value))

    def __str__(self) -> str:
        return f"{self.name}:{self.keep}" if self.name == "keep_last" else self.name


def is_response(turn: Turn) -> bool:
    """Whether a turn is a tool response (the only turns a policy drops)."""
    return turn["speaker"] == "user" and turn["text"].startswith("<tool_response>")


def stub(turns: list[Turn], i: int, why: str) -> Turn:
    """The one-line stand-in for tool response ``i``: its step, the tool that gave it, its size, and why."""
    replies = [t for t in turns[:i] if t["speaker"] == "assistant"]
    called = _CALLED.search(replies[-1]["text"]) if replies else None
    line = DROPPED.format(step=len(replies), tool=called.group(1) if called else "malformed call",
                          chars=len(turns[i]["text"]), policy=why)
    return Turn(speaker="user", text=TOOL_RESPONSE.format(response=line))


def dropped(turns: list[Turn], policy: Policy, cut: int = 0) -> dict[int, str]:
    """The tool responses a prompt leaves out, by index, each with the policy that drops it."""
    responses = [i for i, turn in enumerate(turns) if is_response(turn)]
    out = {i: "discard_all" if policy.name == "discard_all" else "discard_all, the summary failed"
           for i in responses if i < cut}
    if policy.name == "keep_last":
        out.update({i: str(policy) for i in responses[:-policy.keep]})
    return out


def prompt_turns(turns: list[Turn], policy: Policy, cut: int = 0, summary: Summary | None = None) -> list[Turn]:
    """The turns the agent's prompt shows after its system prompt, under ``policy``.

    ``cut``: responses before this turn are dropped; ``summary``: shown, with the question, instead of the
    turns before its ``upto``.
    """
    if policy.name == "full" or not turns:
        return list(turns)
    drop = dropped(turns, policy, cut)
    shown = [stub(turns, i, drop[i]) if i in drop else turn for i, turn in enumerate(turns)]
    if not summary or summary["upto"] < 1:
        return shown
    framed = SUMMARY_FRAME.format(question=turns[0]["text"], summary=fence(summary["text"]))
    return [Turn(speaker="user", text=framed), *shown[summary["upto"]:]]


def chars(turns: list[Turn]) -> int:
    """Characters of a list of turns."""
    return sum(len(t["text"]) for t in turns)


def next_prompt_tokens(prompt_tokens: int, before: list[Turn], now: list[Turn], added: int) -> int:
    """Tokens of the next prompt: the last call's, plus the newest tool response, less what was dropped since.

    ``before`` is what the last call showed, with its reply; ``added`` the newest response's characters.
    Added text is counted at 3 characters a token and dropped text at 4, erring high either way; the next
    call's usage says the real size.
    """
    if not prompt_tokens:
        return 0
    removed = max(0, chars(before) + added - chars(now))
    return max(0, prompt_tokens + added // CHARS_PER_TOKEN - removed // DROPPED_CHARS_PER_TOKEN)


def next_prompt(state: ReactState) -> int:
    """Tokens of the next full prompt: the last call's prompt and reply, and what the tools answered since.

    The tools' answer is counted at 3 characters a token, erring high: one page can be a large share of a
    small server's context (llama.cpp's default is 4,096 tokens a slot).
    """
    turns = state.get("turns", [])
    since = turns[-1]["text"] if turns and turns[-1]["speaker"] == "user" and state.get("prompt_tokens") else ""
    return int(state.get("prompt_tokens", 0)) + len(since) // CHARS_PER_TOKEN
