"""Graph state for ReAct: the conversation in the model's own format, and what every mode shares.

The conversation grows with each step (ReAct keeps its whole history; IterResearch rebuilds a bounded
workspace instead); it is stored as deltas, so each checkpoint holds only the turns a step added. The
run's context policy (``react_context``) changes only what a prompt shows of it (nodes/react_context.py),
never the stored turns: ``context_cut`` and ``summary`` record what the policy decided, so that a resumed
thread sends the same prompts.
Sources are numbered thread-wide as in IterResearch.
"""

from __future__ import annotations

from typing import Annotated, Any

from langgraph.channels.delta import DeltaChannel
from typing_extensions import TypedDict

from state.graph_state import Spending
from state.records import Failure, Finding, Source
from state.reducers import extend_all, merge_sources


class Turn(TypedDict):
    """One message after the system prompt: the question, a model reply, or a tool response."""

    # not role/content: LangGraph's serializer would revive such dicts as message objects
    speaker: str  # "user" or "assistant"
    text: str


class Summary(TypedDict):
    """The summary call's state summary of the turns before ``upto`` (the summarize policy)."""

    upto: int
    text: str


class ReactState(Spending, total=False):
    """The full ReAct state (readable in Studio: page text only as the reader's evidence)."""

    question: str
    turns: Annotated[list[Turn], DeltaChannel(extend_all)]
    call: dict[str, Any]  # the tool call the last reply made: name, bounded arguments and notes, or its error
    unusable: int  # replies in a row that made no usable call (three, and the model is told to answer)
    forced_asks: int  # forced-answer prompts the model answered without an answer
    ask_again: bool  # the last one may be asked once more (the budgets allow one more call)
    step: int  # model calls the agent made
    context_limit: int  # tokens the served model takes, read from the endpoint once
    prompt_tokens: int  # the last call's prompt and reply, for the context budget
    context_cut: int  # tool responses before this turn are left out of the prompt (discard_all)
    summary: Summary  # the latest summary, shown instead of the turns it covers (summarize)
    sources: Annotated[list[Source], DeltaChannel(merge_sources)]
    findings: Annotated[list[Finding], DeltaChannel(extend_all)]  # what visited pages said (the answer's fallback)
    failures: Annotated[list[Failure], DeltaChannel(extend_all)]
    answered: bool
    stop_reason: str
    report: str
