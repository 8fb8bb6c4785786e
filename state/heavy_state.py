"""Graph state for Heavy mode: the agents' final reports, then the synthesis."""

from __future__ import annotations

import operator
from typing import Annotated

from typing_extensions import TypedDict

from state.graph_state import Spending
from state.records import Source


class AgentReport(TypedDict):
    """One agent's compressed result: its answer, final report and cited sources (never its trajectory).

    ``body`` is the report without its title, answer line and sources: what the synthesis reads.
    """

    agent: int
    angle: str
    answer: str
    report: str
    body: str
    sources: list[Source]
    llm_calls: int
    tokens: int
    rounds: int


class HeavyState(Spending, total=False):
    """The Heavy run: the question, each agent's report as it finishes, and the synthesized result."""

    question: str
    agent_reports: Annotated[list[AgentReport], operator.add]
    sources: list[Source]  # the union of the agents' cited sources, numbered once
    round: int  # the most rounds any agent ran
    report: str
