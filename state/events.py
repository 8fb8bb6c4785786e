"""Progress events: one typed class per kind, sent on LangGraph's custom stream; and step keys.

Nodes build an event and ``emit`` it; the stream carries its JSON form (``to_json``: the kind under
``"event"``, then its fields), which is what a `langgraph dev` client receives, and the CLI reads it back
with ``event_from_json`` into the same class to render it. ``emit`` writes through the node's
``runtime.stream_writer``, the writer ``langgraph.config.get_stream_writer()`` returns inside a run: a
subgraph's nodes and its Send tasks (a Heavy agent's rounds) write to the parent run's stream, under the
agent task's namespace; a run streamed without the ``custom`` mode drops the events; outside a run (where
``get_stream_writer()`` raises) a ``Runtime``'s writer does nothing.

A step key tells the parallel tasks of one step apart from every other step's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

if TYPE_CHECKING:  # the CLI renders events in commands that never load LangGraph (`deepresearch threads`)
    from langgraph.runtime import Runtime

KIND = "event"  # the key of an event's kind in its JSON form
EVENTS: dict[str, type[Event]] = {}  # kind -> class, every event class there is


class PageRef(TypedDict):
    """A page chosen to be read, as an event names it."""

    title: str
    url: str


@dataclass(frozen=True, kw_only=True)
class Event:
    """What every event may carry: the agent (a Heavy run's), round, calls and tokens so far; None: not said."""

    kind: ClassVar[str]
    agent: int | None = None
    round: int | None = None
    llm_calls: int | None = None
    tokens: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind in EVENTS:
            raise TypeError(f"two event classes of kind {cls.kind!r}: {EVENTS[cls.kind].__name__}, {cls.__name__}")
        EVENTS[cls.kind] = cls

    def to_json(self) -> dict[str, Any]:
        """The event as the custom stream carries it: its kind, then every field said (None ones are left out)."""
        said = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        return {KIND: self.kind, **said}

    def so_far(self, state: Mapping[str, Any]) -> Event:
        """The event with the agent, round, calls and tokens of ``state`` where it says none of its own."""
        counts_steps = any(f.name == "step" for f in fields(self))  # ReAct's: a step, never a round
        tally = {"agent": int(state["agent"]) if state.get("agent") else None,
                 "round": None if counts_steps else int(state.get("round", 0)),
                 "llm_calls": int(state.get("llm_calls", 0)), "tokens": int(state.get("tokens", 0))}
        return replace(self, **{k: v for k, v in tally.items() if v is not None and getattr(self, k) is None})


def event_from_json(data: Mapping[str, Any]) -> Event:
    """The typed event of a JSON form; a kind no class has, a field its class lacks or needs, is a ValueError."""
    cls = EVENTS.get(str(data.get(KIND)))
    if cls is None:
        raise ValueError(f"not a progress event: {dict(data)!r:.200}")
    said = data.keys() - {KIND}
    known = {f.name for f in fields(cls)}
    needed = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    if not known >= said >= needed:
        raise ValueError(f"{cls.kind} event with unknown fields {sorted(said - known)}, "
                         f"without {sorted(needed - said)}")
    return cls(**{k: data[k] for k in said})


def emit(runtime: Runtime[Any], event: Event, state: Mapping[str, Any] | None = None) -> None:
    """Send one event on the run's custom stream; with ``state``, it carries the round, calls and tokens so far."""
    runtime.stream_writer((event.so_far(state) if state is not None else event).to_json())


@dataclass(frozen=True, kw_only=True)
class Planned(Event):
    """A round's plan: its goal and queries (``review``: held for the reviewer; ``failed``: no usable plan)."""

    kind = "plan"
    goal: str
    queries: list[str]
    call_tokens: int = 0
    review: bool = False
    proposed: bool = False  # planned with the last report's next queries, no model call
    failed: str = ""  # why the planner gave nothing usable: the goal is the last one, or the question
    model: bool = False  # the failure was the model's reply, not the call


@dataclass(frozen=True, kw_only=True)
class Reviewed(Event):
    """The plan as the reviewer approved or edited it: only now are its queries searched."""

    kind = "review"
    goal: str
    queries: list[str]
    edited: bool = False


@dataclass(frozen=True, kw_only=True)
class Searched(Event):
    """One query searched."""

    kind = "search"
    query: str
    hits: int


@dataclass(frozen=True, kw_only=True)
class SearchFailed(Event):
    """One query the search backend failed on."""

    kind = "search_failed"
    query: str
    error: str


@dataclass(frozen=True, kw_only=True)
class Selected(Event):
    """The pages a round reads, of the hits it has."""

    kind = "select"
    pages: list[PageRef]
    hits: int


@dataclass(frozen=True, kw_only=True)
class PageRead(Event):
    """One page read: whether it gave evidence."""

    kind = "read"
    url: str
    title: str
    relevant: bool
    call_tokens: int = 0


@dataclass(frozen=True, kw_only=True)
class ReadFailed(Event):
    """One page that could not be read (``model``: the reader model's reply was unusable)."""

    kind = "read_failed"
    url: str
    error: str
    model: bool = False


@dataclass(frozen=True, kw_only=True)
class Synthesized(Event):
    """The round's report rewritten with its evidence."""

    kind = "synthesize"
    answered: bool
    report_chars: int
    call_tokens: int = 0
    invented_citations: int = 0
    next_queries: list[str] = field(default_factory=list)
    backtrack: str = ""


@dataclass(frozen=True, kw_only=True)
class Decided(Event):
    """What the run does next (plan, backtrack or answer) and why."""

    kind = "decide"
    decision: str
    reason: str
    model_failed: str = ""  # the step the model could not do: the reason is said whole


@dataclass(frozen=True, kw_only=True)
class Backtracked(Event):
    """A round's branch dropped as a dead end."""

    kind = "backtrack"
    goal: str
    queries: list[str]


@dataclass(frozen=True, kw_only=True)
class ReactStep(Event):
    """One ReAct step: the tool called (or the answer, or a failed call), and what it was asked."""

    kind = "react"
    step: int  # ReAct counts steps (model calls), not rounds
    action: str
    detail: str = ""
    call_tokens: int = 0


@dataclass(frozen=True, kw_only=True)
class ToolAnswered(Event):
    """A ReAct tool's response."""

    kind = "tool"
    step: int
    tool: str
    chars: int


@dataclass(frozen=True, kw_only=True)
class AgentDone(Event):
    """One of a Heavy run's agents finished, with its answer."""

    kind = "agent_done"
    agent: int = field()  # required here (field(): not the base's None, which a bare annotation would inherit)
    answer: str


@dataclass(frozen=True, kw_only=True)
class Answered(Event):
    """The run's answer, as its report gives it (``error``: the last step failed and what stands instead)."""

    kind = "answer"
    answer: str
    cited: list[int] = field(default_factory=list)
    written: bool | None = None  # the answer step's model wrote the report's text (not Heavy's)
    invented_citations: int = 0
    foreign_links: int | None = None
    call_tokens: int = 0
    agents: int | None = None  # a Heavy run's: how many agents' reports were synthesized
    error: str = ""


def step_key(runtime: Runtime[Any], phase: str) -> str:
    """One key for the parallel tasks of a step (a round's reads, or its searches): same thread, same checkpoint."""
    info = runtime.execution_info
    if info is None:
        return phase
    parent = info.checkpoint_ns.rpartition("|")[0]  # the task's own namespace is its last segment
    return f"{phase}:{info.thread_id}:{parent}:{info.checkpoint_id}"
