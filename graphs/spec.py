"""What the runner must know of a graph, declared by the graph's own module: the runner names no node or state key.

A thread's graph is looked up by id; its spec says how to build it, where a thread stopped between two steps
goes on, whether and how a finished thread researches on with a larger budget, and LangGraph's step limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from langgraph.graph import StateGraph

from state.context import Context

GraphBuilder = Callable[[type[Context]], StateGraph[Any, Context, Any, Any]]
FINAL_STEPS = 4  # the last step (answer, finish), plus the input and a resumed step's replay


@dataclass(frozen=True)
class Restart:
    """A state update written as if ``as_node`` had just run: the thread goes on with the step that follows it."""

    as_node: str
    update: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def values(self) -> dict[str, Any]:
        """The update, as a fresh dict for ``aupdate_state``."""
        return dict(self.update)


@dataclass(frozen=True)
class Reopen:
    """How a finished thread researches on when its budgets are raised.

    The thread forks from the last checkpoint whose next step is ``before`` (research picks up where it stood
    before its answer) and goes on as ``restart`` says. ``settled`` tells a thread that answered its question
    (nothing to research on) from one that stopped on a budget; ``still`` says which budget would stop it again
    under the new settings (None when they allow more).
    """

    before: str
    restart: Restart
    settled: Callable[[Mapping[str, Any]], bool]
    still: Callable[[Mapping[str, Any], Context], str | None]


@dataclass(frozen=True)
class GraphSpec:
    """One graph as the runner and the server see it.

    ``restart``: how a thread that stopped between two steps (or whose last step's routing failed) goes on.
    ``reopen``: how a finished thread researches on, or None when raised budgets cannot make it go on.
    ``step_limit``: LangGraph's recursion limit for a run under a context, or the largest any context allows
    (None): the run's own budgets always end it first.
    """

    build: GraphBuilder
    restart: Restart
    step_limit: Callable[[Context | None], int]
    reopen: Reopen | None = None
