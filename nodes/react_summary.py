"""What the run's context policy decides before an agent call: drop (discard_all) or summarize (summarize).

The policies' prompts themselves are derived in nodes/react_context.py; this step makes the one decision
that needs the served context and, for summarize, a model call. The summary call counts against the
thread's budgets as any call does; when it fails (or writes nothing), the step drops every earlier tool
response instead, as discard_all does, and says so: a progress line and a failure record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from nodes.native import tag
from nodes.react_context import (
    CONTEXT_SHARE,
    SUMMARY_SHARE,
    Policy,
    is_response,
    next_prompt,
    next_prompt_tokens,
    prompt_turns,
)
from prompts.fences import fence
from prompts.react import SUMMARY_SYSTEM, SUMMARY_TURN, SUMMARY_USER
from state.context import Context
from state.events import ReactStep, emit
from state.react_state import ReactState, Summary, Turn
from state.records import failure
from tools.model.llm import Usage, complete_message, guarded
from tools.model.structured import strip_think
from tools.toolbox import Toolbox

SUMMARY_AFTER = 2  # tool responses since the last summary (or the start) before another is written


@dataclass
class Managed:
    """The policy's decision for this step: the turns the prompt shows, its size, and the state update."""

    shown: list[Turn]
    prompt: int  # estimated tokens of the prompt ``shown`` makes
    update: dict[str, Any] = field(default_factory=dict)  # context_cut, summary, failures
    usage: Usage = field(default_factory=Usage)  # the summary call's


async def manage(state: ReactState, turns: list[Turn], limit: int, box: Toolbox,
                 runtime: Runtime[Context]) -> Managed:
    """Apply the run's policy to ``turns`` before the agent's call (and make the summary call, if due)."""
    policy = Policy.of(runtime.context.react_context)
    if policy.name == "full":
        return Managed(list(turns), next_prompt(state))
    cut, summary = int(state.get("context_cut", 0)), state.get("summary")
    managed = Managed(prompt_turns(turns, policy, cut, summary), _estimate(state, turns, policy, cut, summary))
    if not turns or not is_response(turns[-1]) or state.get("forced_asks"):
        return managed
    step = int(state.get("step", 0)) + 1
    if policy.name == "summarize" and managed.prompt >= limit * SUMMARY_SHARE and _worth_summarizing(turns, summary):
        written, usage, error = await _summarize(runtime.context, box, turns[0]["text"], managed.shown)
        managed.usage = usage
        if written:
            summary = Summary(upto=len(turns), text=written)
            emit(runtime, ReactStep(step=step, action="context", detail=f"summarized {len(turns)} turns "
                                    f"({len(written):,} chars)", call_tokens=usage.tokens), state)
            return _decided(managed, state, turns, policy, cut, summary, {"summary": summary})
        record = failure(round=step, action="summarize", target="model", error=error, transient=True)
        managed.update["failures"] = [record]
        emit(runtime, ReactStep(step=step, action="context", detail=f"the summary failed ({error}): earlier "
                                "tool responses dropped instead (discard_all)", call_tokens=usage.tokens), state)
        return _decided(managed, state, turns, policy, len(turns) - 1, summary, {"context_cut": len(turns) - 1})
    if policy.name == "discard_all" and managed.prompt >= limit * CONTEXT_SHARE and len(turns) - 1 > cut:
        emit(runtime, ReactStep(step=step, action="context", detail="earlier tool responses dropped "
                                "(discard_all)"), state)
        return _decided(managed, state, turns, policy, len(turns) - 1, summary, {"context_cut": len(turns) - 1})
    return managed


def _worth_summarizing(turns: list[Turn], summary: Summary | None) -> bool:
    """Whether the turns a summary would replace hold two tool responses or more (one never follows another)."""
    return sum(1 for turn in turns[summary["upto"] if summary else 0:] if is_response(turn)) >= SUMMARY_AFTER


def _estimate(state: ReactState, turns: list[Turn], policy: Policy, cut: int, summary: Summary | None) -> int:
    """Tokens of the prompt ``turns`` make under ``policy`` with this cut and summary (the state's before)."""
    before = prompt_turns(turns[:-1], policy, int(state.get("context_cut", 0)), state.get("summary"))
    added = len(turns[-1]["text"]) if turns and turns[-1]["speaker"] == "user" else 0
    now = prompt_turns(turns, policy, cut, summary)
    return next_prompt_tokens(int(state.get("prompt_tokens", 0)), before, now, added)


def _decided(managed: Managed, state: ReactState, turns: list[Turn], policy: Policy, cut: int,
             summary: Summary | None, update: dict[str, Any]) -> Managed:
    """``managed`` with the new cut or summary applied: its prompt, its size, and the state update."""
    managed.shown = prompt_turns(turns, policy, cut, summary)
    managed.prompt = _estimate(state, turns, policy, cut, summary)
    managed.update.update(update)
    return managed


def summary_messages(question: str, shown: list[Turn]) -> list[BaseMessage]:
    """The summary call's prompt: the question and the trajectory the agent's prompt shows now, fenced."""
    trajectory = "\n\n".join(SUMMARY_TURN.format(speaker="agent" if t["speaker"] == "assistant" else "user",
                                                 text=fence(t["text"])) for t in shown)
    return [SystemMessage(SUMMARY_SYSTEM),
            HumanMessage(SUMMARY_USER.format(question=fence(question), trajectory=trajectory))]


async def _summarize(ctx: Context, box: Toolbox, question: str, shown: list[Turn]) -> tuple[str, Usage, str]:
    """(summary, usage, error) of one summary call over the trajectory the prompt shows now."""
    messages = summary_messages(question, shown)
    outcome = await guarded(lambda: complete_message(box.agent, messages, deadline=ctx.deadline_at), attempts=1)
    if outcome.value is None:
        return "", outcome.usage, outcome.error
    text = strip_think(str(outcome.value.content)).strip()
    written = tag("summary", text) or text
    return written, outcome.usage, "" if written else "the summary call wrote nothing"
