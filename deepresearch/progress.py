"""Live progress on stderr, drawn from the graph's custom stream events.

One line per research step, and, on a terminal, a spinner under them that says what the run is doing
now and for how long ("reading 2/4 · 6s"), so a slow model call is never a frozen screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from rich.console import Console, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner

from core.redact import redact_text
from core.text import printable
from state.events import (
    AgentDone,
    Answered,
    Backtracked,
    Decided,
    Event,
    PageRead,
    Planned,
    ReactStep,
    ReadFailed,
    Reviewed,
    Searched,
    SearchFailed,
    Selected,
    Synthesized,
    ToolAnswered,
    event_from_json,
)

T = TypeVar("T")


def _tok(ev: Planned | PageRead | Synthesized | ReactStep | Answered) -> str:
    return f" [dim]({ev.call_tokens:,} tok)[/]" if ev.call_tokens else ""


UNDETERMINED = "not determined"  # an empty answer, as the report's answer line says it


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(printable(str(text)).split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


class Activity:
    """What the run is doing now, and since when; rendered as a spinner with the elapsed seconds."""

    def __init__(self) -> None:
        self.label = "starting"
        self.since = time.monotonic()
        self.reads = (0, 0)  # done, of
        self.spinner = Spinner("dots", style="cyan")

    def now(self, label: str) -> None:
        """A new activity starts."""
        self.label = label
        self.since = time.monotonic()

    def follow(self, ev: Event) -> None:
        """Move on with an event: the step it ends tells what comes next (an event that ends none changes nothing)."""
        step = _NEXT.get(type(ev))
        if step is not None:
            step(self, ev)

    def read_one(self) -> None:
        """One more of the selected pages is read (or failed): the count goes on, or the report is next."""
        self.reads = (self.reads[0] + 1, self.reads[1])
        self.label = f"reading {self.reads[0]}/{self.reads[1]}" if self.reads[0] < self.reads[1] else \
            "writing the report"

    def __rich__(self) -> RenderableType:
        self.spinner.update(text=f"[dim]{self.label} · {time.monotonic() - self.since:.0f}s[/]")
        return self.spinner


def _selected(activity: Activity, ev: Selected) -> None:
    activity.reads = (0, len(ev.pages))
    activity.now(f"reading 0/{activity.reads[1]}")


def _next_round(ev: Decided | Backtracked) -> str:
    return f"planning round {(ev.round or 0) + 1}"


# what the run does after each event that ends a step
_NEXT: dict[type[Event], Callable[[Activity, Any], None]] = {
    Planned: lambda a, ev: a.now("waiting for review" if ev.review else "searching"),
    Reviewed: lambda a, ev: a.now("searching"),
    Selected: _selected,
    PageRead: lambda a, ev: a.read_one(),
    ReadFailed: lambda a, ev: a.read_one(),
    Decided: lambda a, ev: a.now("writing the answer" if ev.decision == "answer" else _next_round(ev)),
    Backtracked: lambda a, ev: a.now(_next_round(ev)),
    ReactStep: lambda a, ev: a.now("writing the answer" if ev.action == "answer" else f"running {ev.action}"),
    ToolAnswered: lambda a, ev: a.now(f"thinking (step {ev.step + 1})"),
    AgentDone: lambda a, ev: a.now("researching"),
}


class Progress:
    """Prints one line per research step: round, queries, pages read, decisions, tokens."""

    def __init__(self, console: Console | None = None, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.enabled = enabled
        self.prefix = ""
        self.activity = Activity()
        self._live: Live | None = None

    def line(self, text: str) -> None:
        """Print a progress line (markup allowed); a Heavy run's agent's lines say which agent."""
        if self.enabled:
            self.console.print(self.prefix + text)

    def start(self, label: str) -> None:
        """Show the spinner (on a terminal) from now on, doing ``label``."""
        self.activity.now(label)
        if self.enabled and self.console.is_terminal and self._live is None:
            self._live = Live(self.activity, console=self.console, refresh_per_second=8, transient=True)
            self._live.start()

    def stop(self) -> None:
        """Take the spinner away (before the report is printed, or input is asked for)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def paused(self, ask: Callable[[dict[str, Any]], T]) -> Callable[[dict[str, Any]], T]:
        """``ask`` (a reviewer reading the terminal), with the spinner out of the way while it asks."""
        def wrapped(payload: dict[str, Any]) -> T:
            running = self._live is not None
            self.stop()
            try:
                return ask(payload)
            finally:
                if running:
                    self.start("searching")
        return wrapped

    def event(self, ev: Event | Mapping[str, Any]) -> None:
        """Render one event from a node: typed, or in the JSON form the custom stream carries it in."""
        ev = ev if isinstance(ev, Event) else event_from_json(ev)
        self.activity.follow(ev)
        self.prefix = f"[blue]agent {ev.agent}[/] " if ev.agent and not isinstance(ev, AgentDone) else ""
        RENDERERS[type(ev)](self, ev)


def _agent_done(p: Progress, ev: AgentDone) -> None:
    p.line(f"[bold]agent {ev.agent} done[/] · answer: {_short(ev.answer or UNDETERMINED, 60)} · "
           f"calls {ev.llm_calls or 0}")


def _plan(p: Progress, ev: Planned) -> None:
    waiting = " [dim](for review)[/]" if ev.review else ""
    source = " [dim](planned with the last report)[/]" if ev.proposed else _tok(ev)
    p.line(f"[bold]round {ev.round}[/] · goal: {_short(ev.goal)}{source}{waiting}")
    if ev.failed:  # no usable plan: the goal above is the last one, or the question itself
        what = "[red]model[/]   the planner's reply" if ev.model else "[yellow]failed[/]  the planner"
        p.line(f"  {what}: {_short(redact_text(ev.failed), 160)}")
    for query in [] if ev.review else ev.queries or ["(no new queries)"]:
        p.line(f"  [cyan]search[/]  {_short(query)}")


def _review(p: Progress, ev: Reviewed) -> None:
    """The plan as approved: only now are its queries searched."""
    if ev.edited:
        p.line(f"  [green]edited[/]  goal: {_short(ev.goal)}")
    for query in ev.queries or ["(no queries)"]:
        p.line(f"  [cyan]search[/]  {_short(query)}")


def _search(p: Progress, ev: Searched) -> None:
    p.line(f"  [dim]hits[/]    {ev.hits} for {_short(ev.query, 60)}")


def _failed(p: Progress, target: str, error: str, model: bool = False) -> None:
    what = "[red]model[/]   the reader's reply for" if model else "[yellow]failed[/] "
    p.line(f"  {what} {_short(target, 60)}: {_short(redact_text(error))}")


def _select(p: Progress, ev: Selected) -> None:
    p.line(f"  [cyan]read[/]    {len(ev.pages)} new pages of {ev.hits} hits")


def _read(p: Progress, ev: PageRead) -> None:
    mark = "[green]✓ evidence[/]" if ev.relevant else "[dim]· nothing relevant[/]"
    p.line(f"    {mark}  {_short(ev.title or ev.url, 70)}{_tok(ev)}")


def _synthesize(p: Progress, ev: Synthesized) -> None:
    extra = f", {ev.invented_citations} invented citations removed" if ev.invented_citations else ""
    p.line(f"  [cyan]report[/]  {ev.report_chars} chars, answered: {'yes' if ev.answered else 'no'}{extra}{_tok(ev)}")


def _decide(p: Progress, ev: Decided) -> None:
    width = 400 if ev.model_failed else 70  # the model's failure and what is tried: said whole
    p.line(f"  [magenta]decide[/]  → {ev.decision} ({_short(ev.reason, width)}) · "
           f"calls {ev.llm_calls or 0} · tokens {ev.tokens or 0:,}")


def _backtrack(p: Progress, ev: Backtracked) -> None:
    p.line(f"  [yellow]backtrack[/] dead end: {_short(ev.goal, 70)}")


def _react(p: Progress, ev: ReactStep) -> None:
    detail = f": {_short(ev.detail, 80)}" if ev.detail else ""
    p.line(f"[bold]step {ev.step}[/] · [cyan]{_short(ev.action, 30)}[/]{detail}{_tok(ev)}")


def _tool(p: Progress, ev: ToolAnswered) -> None:
    p.line(f"  [dim]{_short(ev.tool, 30)} answered with {ev.chars:,} chars[/]")


def _answer(p: Progress, ev: Answered) -> None:
    p.stop()
    if ev.error:  # the last step's model call gave nothing usable: what stands instead is said
        p.line(f"  [red]failed[/]  {_short(ev.error, 160)}")
    p.line(f"[bold green]answer[/] {_short(ev.answer or UNDETERMINED, 100)}{_tok(ev)}")


# the lines of each kind of event (tests/test_progress.py checks that every event class has its own)
RENDERERS: dict[type[Event], Callable[[Progress, Any], None]] = {
    Planned: _plan, Reviewed: _review, Searched: _search, Selected: _select, PageRead: _read,
    Synthesized: _synthesize, Decided: _decide, Backtracked: _backtrack, ReactStep: _react, ToolAnswered: _tool,
    AgentDone: _agent_done, Answered: _answer,
    SearchFailed: lambda p, ev: _failed(p, ev.query, ev.error),
    ReadFailed: lambda p, ev: _failed(p, ev.url, ev.error, ev.model),
}
