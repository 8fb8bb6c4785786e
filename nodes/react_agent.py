"""ReAct's agent step: one model call in the format Tongyi DeepResearch was trained on.

The system prompt declares the tools (one JSON schema per line inside ``<tools>``); the model thinks in
``<think>``, then calls one tool as ``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` or ends
with ``<answer>``. Tool results come back as a user message in ``<tool_response>``. Where the endpoint
turns calls into OpenAI ``tool_calls`` (``react_tool_format``), those are read the same way. Near a
limit (calls, tokens, the served context, the deadline) the model is told to answer now; a reply that
still gives no answer is asked once more, strictly, if the budgets allow one more call, and after that
the report is what the visited pages established, never the reply's raw text.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from core.errors import EndpointError
from core.text import clip
from nodes.answer import compose, grounded, supported
from nodes.grounding import verify_calls
from nodes.react_calls import bound, forced_answer, kept_text, read_reply, shown_arguments
from nodes.react_context import CHARS_PER_TOKEN, CONTEXT_SHARE, next_prompt
from nodes.react_summary import manage
from nodes.react_tools import tool_kit
from prompts.fences import today
from prompts.react import CONTEXT_CUT, FORCED, STRICT, SYSTEM
from state.answer_line import strip_answer_label
from state.budget import spent
from state.context import Context
from state.echo import echo_problem
from state.events import Answered, ReactStep, emit
from state.queries import require_question
from state.react_state import ReactState, Turn
from state.records import Finding, Source, failure
from tools.agent import registry
from tools.model.endpoint import list_models
from tools.model.llm import complete_message, guarded
from tools.toolbox import toolbox

EVIDENCE = ("The research stopped before the model gave a final answer ({why}). What the pages visited "
            "established, each with its source:")
NO_EVIDENCE = ("The research stopped before the model gave a final answer ({why}), and none of the pages visited "
               "held evidence for the question.")
FORCED_TOKENS = 100  # the forced-answer instruction and the reply's opening, in tokens
MAX_UNUSABLE = 3  # replies in a row without a usable call or answer before the model is told to answer


async def _context_limit(state: ReactState, ctx: Context, api_key: str) -> int:
    """The served context, from the endpoint (once per thread); the setting when the endpoint does not say."""
    if state.get("context_limit"):
        return int(state["context_limit"])
    try:
        served = await list_models(ctx.base_url, api_key)
    except EndpointError:
        return ctx.react_context_tokens
    match = next((m for m in served if m.id == ctx.model and m.max_model_len), None)
    return int(match.max_model_len) if match and match.max_model_len else ctx.react_context_tokens


def _limit_reached(state: ReactState, ctx: Context, context_limit: int, prompt: int) -> str:
    """Why the agent must answer now, or '' if it may go on (``prompt``: the next prompt's tokens)."""
    steps = int(state.get("step", 0))
    if int(state.get("unusable", 0)) >= MAX_UNUSABLE:
        return f"{MAX_UNUSABLE} replies in a row without a usable tool call"
    if steps + 1 >= ctx.react_max_calls:
        return f"{ctx.react_max_calls} model calls"
    if int(state.get("tokens", 0)) >= ctx.max_tokens * CONTEXT_SHARE:
        return "the token budget"
    if prompt >= context_limit * CONTEXT_SHARE:
        return "the model's context length"
    if time.time() >= ctx.started_at + ctx.deadline_seconds * CONTEXT_SHARE:
        return "the time allowed"
    return ""


def system_message(tools: str) -> SystemMessage:
    """The agent's system prompt, declaring ``tools`` (one JSON schema a line)."""
    return SystemMessage(SYSTEM.format(tools=tools, date=today()))


async def agent(state: ReactState, runtime: Runtime[Context]) -> dict[str, Any]:
    """One model step: a tool call, or the answer (forced near a limit, and asked for once more if ignored)."""
    ctx = runtime.context
    # the first step checks the question, as the CLI does: API runs are refused the same way
    turns = list(state.get("turns", [])) or [Turn(speaker="user", text=require_question(state, ctx.max_question_chars))]
    box = await toolbox(ctx)
    limit = await _context_limit(state, ctx, box.agent.api_key)
    asked = int(state.get("forced_asks", 0))  # forced-answer prompts the model did not answer
    managed = await manage(state, turns, limit, box, runtime)  # the run's react_context: what the prompt shows
    forced = _limit_reached(state, ctx, limit, managed.prompt) or (state.get("stop_reason", "") if asked else "")
    tools = registry.REGISTRY
    kit = tool_kit(state, runtime, box)
    messages: list[BaseMessage] = [system_message(tools.native_list(kit))]
    messages += [HumanMessage(t["text"]) if t["speaker"] == "user" else AIMessage(t["text"]) for t in managed.shown]
    new: list[Turn] = [] if state.get("turns") else [turns[0]]
    if forced:
        new.append(Turn(speaker="user", text=(STRICT if asked else FORCED).format(why=forced)))
        messages = fit_to_context([*messages, HumanMessage(new[-1]["text"])], state, limit, managed.prompt)
    offered = tools.openai_tools(kit) if ctx.react_tool_format == "openai" else None
    outcome = await guarded(lambda: complete_message(box.agent, messages, tools=offered, deadline=ctx.deadline_at),
                            attempts=2)
    step = int(state.get("step", 0)) + 1
    update: dict[str, Any] = {"step": step, "context_limit": limit, "ask_again": False, **managed.update,
                              **spent(outcome.usage + managed.usage)}
    if outcome.value is None:
        record = failure(round=step, action="agent", target="model", error=outcome.error, transient=True)
        emit(runtime, ReactStep(step=step, action="failed", detail=outcome.error), state)
        return {**update, "turns": new, "call": {"error": outcome.error, "fatal": True},
                "failures": [*update.get("failures", []), record],
                "stop_reason": f"the model call failed: {clip(outcome.error, 200)}"}
    call, answer, text = read_reply(outcome.value)
    update["prompt_tokens"] = outcome.usage.tokens  # the one call that answered (failed tries count none)
    stored, shown = bound(call, tools) if call else ({}, None)
    new.append(Turn(speaker="assistant", text=text if answer is not None else kept_text(text, shown, tools)))
    said = forced_answer(call, answer, text) if forced else answer
    if said is not None:
        emit(runtime, ReactStep(step=step, action="answer", call_tokens=outcome.usage.tokens), state)
        return {**update, "turns": new, "call": {}, "answer": said, "answered": answer is not None,
                "stop_reason": forced or "answered"}
    if forced:  # a tool call (or nothing) where the answer was asked for
        again = not asked and _room_for_one_more(state, ctx, limit, step, outcome.usage.tokens)
        detail = "no answer given: " + ("asking once more" if again else "answering from the evidence")
        emit(runtime, ReactStep(step=step, action="answer", call_tokens=outcome.usage.tokens, detail=detail), state)
        return {**update, "turns": new, "call": {}, "forced_asks": asked + 1, "ask_again": again,
                "stop_reason": forced, **({} if again else {"answer": "", "answered": False})}
    emit(runtime, ReactStep(step=step, action=str(stored.get("name") or "malformed call"),
                            detail=shown_arguments(shown or stored), call_tokens=outcome.usage.tokens), state)
    unusable = int(state.get("unusable", 0)) + 1 if "error" in stored else 0
    return {**update, "turns": new, "call": stored, "unusable": unusable}


def fit_to_context(messages: list[BaseMessage], state: ReactState, context_limit: int,
                   prompt: int | None = None) -> list[BaseMessage]:
    """The forced-answer prompt, with the last tool response cut so that the prompt fits the served context.

    The response has run, and the model has to answer from it; sent whole, a response over the context is
    refused by the server (a failed call, no answer). ``prompt``: the next prompt's tokens (by default, the
    full trajectory's).
    """
    over = (next_prompt(state) if prompt is None else prompt) + FORCED_TOKENS - int(context_limit * CONTEXT_SHARE)
    turns = state.get("turns", [])
    if (over <= 0 or not turns or turns[-1]["speaker"] != "user" or len(messages) < 2
            or messages[-2].content != turns[-1]["text"]):  # a summary in its place is not cut
        return messages
    text = turns[-1]["text"]
    keep = max(0, len(text) - over * CHARS_PER_TOKEN)
    cut = HumanMessage(CONTEXT_CUT.format(kept=text[:keep]))
    return [*messages[:-2], cut, messages[-1]]


def _room_for_one_more(state: ReactState, ctx: Context, context_limit: int, step: int, tokens: int) -> bool:
    """Whether every budget allows one more agent call (the last prompt and reply are about the next prompt)."""
    return (step < ctx.react_max_calls and int(state.get("tokens", 0)) + tokens < ctx.max_tokens
            and tokens < context_limit and time.time() < ctx.deadline_at)


def after_agent(state: ReactState) -> Literal["act", "agent", "finish"]:
    """To the tools when the reply made a call (a malformed one gets an error back), else to finish.

    Back to the agent when a forced answer was not given and may be asked for once more.
    """
    call = state.get("call") or {}
    if call and not call.get("fatal"):
        return "act"
    return "agent" if state.get("ask_again") else "finish"


async def finish(state: ReactState, runtime: Runtime[Context]) -> dict[str, Any]:
    """The final report from the agent's answer: its first line is the short answer, the rest the body.

    Without an answer (the model ignored the forced-answer prompts, or could not be reached), the report
    is what the visited pages said, with their citations. Citations must name pages visited in this
    thread, and links must point to them, as in IterResearch.
    """
    answer = strip_answer_label((state.get("answer") or "").strip())
    why = state.get("stop_reason") or "no reason given"
    echoed = echo_problem(answer)
    if echoed:  # an echo of the prompt is no answer: what the visited pages said is the report
        answer, why = "", f"the model's answer was unusable: {echoed}"
    first, _, rest = answer.partition("\n")
    if not answer:
        first, rest = "", from_evidence(state.get("findings", []), state.get("sources", []), why)
    final = supported(compose(state["question"], first[:300], rest, state.get("sources", [])), state["question"],
                      state.get("sources", []), why,
                      from_evidence(state.get("findings", []), state.get("sources", []), why))
    final = await grounded(final, state["question"], state.get("sources", []), runtime.context,
                           verify_calls(state, runtime.context))
    emit(runtime, Answered(answer=final.answer, cited=list(final.cited), written=bool(answer),
                           invented_citations=final.invented_citations, foreign_links=final.foreign_links), state)
    return {**final.finished(), "failures": final.failures(int(state.get("step", 0)))}


def from_evidence(findings: list[Finding], sources: list[Source], why: str) -> str:
    """The report when the model gave no answer: each piece of evidence the visited pages gave, with its [n]."""
    numbers = {s["url"]: s["n"] for s in sources if s["n"] is not None}
    lines = dict.fromkeys(f"- {' '.join(f['evidence'].split())} [{numbers[f['url']]}]" for f in findings
                          if f["url"] in numbers)
    if not lines:
        return NO_EVIDENCE.format(why=why)
    return EVIDENCE.format(why=why) + "\n\n" + "\n".join(lines)
