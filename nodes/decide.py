"""Decide after each round: answer, continue, or backtrack from a line of inquiry that found nothing."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime

from core.vocabulary import StructuredMethod
from state.budget import budget_reason
from state.context import Context
from state.events import Decided, emit
from state.graph_state import State
from state.model_failures import Struggle, give_up, other_method, struggling
from state.records import Failure
from tools.toolbox import toolbox

Decision = Literal["plan", "backtrack", "answer"]


def failed_for_now(state: State) -> list[Failure]:
    """The work of the current round that failed for passing reasons (a call that failed, a timeout).

    Not the model's own failures (unusable replies): the same call would fail the same way.
    """
    round_no = int(state.get("round", 0))
    return [f for f in state.get("failures", []) if f["round"] == round_no and f["transient"] and not f.get("model")]


async def decide(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Stop as soon as the evidence answers the question or a budget is spent; count rounds without progress.

    A round that found nothing because its work failed for passing reasons is neither a stall nor a dead
    end: the next round tries again (its failed reads first), until a budget says stop. A round whose every
    reading the model failed is tried once more with the other structured-output method; then the run ends.
    """
    ctx = runtime.context
    progress = bool(state.get("findings"))
    struggle = None if progress else struggling(state)
    if struggle is not None:
        # the method the readers were asked with: the thread's switch, else the one the toolbox resolved
        method = state.get("structured_output") or (await toolbox(runtime.context)).extraction.structured_output
        return _model_failing(state, runtime, struggle, method)  # type: ignore[arg-type]
    failed = [] if progress else failed_for_now(state)
    retry = bool(failed)
    stalls = 0 if progress else int(state.get("stalls", 0)) + (0 if retry else 1)
    reason = budget_reason(state, ctx)
    decision: Decision
    if state.get("answered") and progress:
        decision, reason = "answer", "the evidence answers the question"
    elif reason:
        decision = "answer"
    elif retry:
        decision, reason = "plan", f"{len(failed)} failed for passing reasons: trying again"
    elif stalls >= ctx.max_stalls:
        decision, reason = "answer", f"no new evidence in {stalls} rounds"
    elif not progress:
        decision, reason = "backtrack", "the round found nothing new"
    elif state.get("backtrack"):
        decision, reason = "backtrack", state["backtrack"]
    else:
        decision, reason = "plan", state.get("missing") or "more to find"
    emit(runtime, Decided(decision=decision, reason=reason), state)
    return {"decision": decision, "stop_reason": reason, "stalls": stalls}


def _model_failing(state: State, runtime: Runtime[Context], struggle: Struggle,
                   method: StructuredMethod) -> dict[str, Any]:
    """The model could not do a step of this round: switch the structured-output method once, then give up."""
    ctx = runtime.context
    budget = budget_reason(state, ctx)
    update: dict[str, Any]
    if not state.get("structured_output") and not budget:
        switched = other_method(method)
        reason = f"{struggle.said()}; trying again with structured_output={switched}"
        update = {"decision": "plan", "stop_reason": reason, "structured_output": switched}
    else:
        reason = budget or give_up(struggle, method)
        update = {"decision": "answer", "stop_reason": reason, "gave_up": "" if budget else reason}
    emit(runtime, Decided(decision=update["decision"], reason=reason, model_failed=struggle.step), state)
    return update


def route_decision(state: State) -> Decision:
    """Follow the decision; anything else is a wiring bug and raises."""
    decision = state.get("decision")
    if decision in ("plan", "backtrack", "answer"):
        return decision  # type: ignore[return-value]
    raise ValueError(f"decide produced an unknown decision: {decision!r}")
