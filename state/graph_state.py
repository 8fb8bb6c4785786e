"""Graph state for IterResearch: input, full state and output schemas.

Per-round fields (``hits``, ``findings``) are reset by the planner at the start of each round with
``Overwrite``; thread-wide history (``sources``, ``queries_run``, ``failures``) is append-only and
stored as deltas; counters add up. Page text never enters the state: sources carry a page hash.
"""

from __future__ import annotations

import operator
from typing import Annotated

from langchain_core.messages import AIMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.channels.untracked_value import UntrackedValue
from typing_extensions import TypedDict

from state.records import DeadEnd, Failure, Finding, Hit, Source
from state.reducers import extend_all, keep_last, merge_sources

DEAD_ENDS_KEPT = 5


class InputState(TypedDict):
    """What a run starts from."""

    question: str


class AgentInput(InputState, total=False):
    """What one agent of a Heavy run starts from: its number, its angle, and how many split the budgets."""

    agent: int
    angle: str
    share: int


class OutputState(TypedDict):
    """What a finished run gives back: the short answer, the cited report and the sources read."""

    answer: str
    report: str
    sources: list[Source]


class AgentOutput(OutputState):
    """What one agent of a Heavy run hands back: its result (the report's body apart), and what it spent."""

    body: str
    llm_calls: int
    tokens: int
    round: int


class Spending(TypedDict, total=False):
    """What every mode's state counts and ends with: calls, tokens, removed citations, the shown report."""

    llm_calls: Annotated[int, operator.add]
    tokens: Annotated[int, operator.add]
    invented_citations: Annotated[int, operator.add]
    # the final report's cited sentences checked against their sources' text (nodes/grounding.py)
    citations_checked: Annotated[int, operator.add]
    citations_reattributed: Annotated[int, operator.add]
    claims_unsupported: Annotated[int, operator.add]
    answer: str
    body: str  # the final report's body: without its title, answer line and sources
    done: bool
    # the final report as shown, for LangGraph's `messages` stream (never stored in checkpoints)
    shown: Annotated[AIMessage, UntrackedValue(AIMessage)]


class State(Spending, total=False):
    """The full IterResearch state (readable in Studio: no page text, only short quotes)."""

    question: str
    # as one agent of a Heavy run: which, its angle, how many agents split the budgets
    agent: int
    angle: str
    share: int
    # this round (rebuilt every round)
    round: int
    goal: str
    queries: list[str]
    reviewing: bool  # the round's plan waits for a person's review (review_plan)
    hits: Annotated[list[Hit], operator.add]
    selected: list[Hit]
    read_allowance: int
    findings: Annotated[list[Finding], operator.add]
    # the workspace carried between rounds
    report: str
    answered: bool
    candidate: str
    missing: str
    # the next round as the report writer proposed it (taken over by the planner when usable)
    next_goal: str
    next_queries: list[str]
    backtrack: str
    dead_ends: Annotated[list[DeadEnd], keep_last(DEAD_ENDS_KEPT)]
    stalls: int
    decision: str
    stop_reason: str
    # the structured-output method this thread switched to when the model's replies under the configured one
    # were unusable (empty: as configured), and the line that ended the run early when the switch did not help
    structured_output: str
    gave_up: str
    # thread-wide history, stored as deltas
    queries_run: Annotated[list[str], DeltaChannel(extend_all)]
    sources: Annotated[list[Source], DeltaChannel(merge_sources)]
    failures: Annotated[list[Failure], DeltaChannel(extend_all)]
