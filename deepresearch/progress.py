"""Live progress on stderr, drawn from the graph's custom stream events.

One line per research step, and, on a terminal, a spinner under them that says what the run is doing
now and for how long ("reading 2/4 · 6s"), so a slow model call is never a frozen screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner

from core.redact import redact_text
from core.text import printable

T = TypeVar("T")


def _tok(ev: dict[str, Any]) -> str:
    return f" [dim]({ev['call_tokens']:,} tok)[/]" if ev.get("call_tokens") else ""


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

    def follow(self, ev: dict[str, Any]) -> None:
        """Move on with an event: the step it ends tells what comes next."""
        kind = ev.get("event")
        if kind == "plan":
            self.now("waiting for review" if ev.get("review") else "searching")
        elif kind == "review":
            self.now("searching")
        elif kind == "select":
            self.reads = (0, len(ev.get("pages", [])))
            self.now(f"reading 0/{self.reads[1]}")
        elif kind in ("read", "read_failed"):
            self.reads = (self.reads[0] + 1, self.reads[1])
            self.label = f"reading {self.reads[0]}/{self.reads[1]}" if self.reads[0] < self.reads[1] else \
                "writing the report"
        elif kind == "decide":
            self.now("writing the answer" if ev.get("decision") == "answer" else f"planning round {ev['round'] + 1}")
        elif kind == "backtrack":
            self.now(f"planning round {ev['round'] + 1}")
        elif kind == "react":
            self.now("writing the answer" if ev.get("action") == "answer" else f"running {ev.get('action')}")
        elif kind == "tool":
            self.now(f"thinking (step {ev['round'] + 1})")
        elif kind == "agent_done":
            self.now("synthesizing the agents' reports" if ev.get("last") else "researching")

    def __rich__(self) -> RenderableType:
        self.spinner.update(text=f"[dim]{self.label} · {time.monotonic() - self.since:.0f}s[/]")
        return self.spinner


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

    def event(self, ev: dict[str, Any]) -> None:
        """Render one event from a node."""
        self.activity.follow(ev)
        kind = ev.get("event")
        self.prefix = f"[blue]agent {ev['agent']}[/] " if ev.get("agent") and kind != "agent_done" else ""
        if kind == "agent_done":
            self.line(f"[bold]agent {ev['agent']} done[/] · answer: {_short(ev.get('answer') or UNDETERMINED, 60)} · "
                      f"calls {ev.get('llm_calls', 0)}")
        elif kind == "plan":
            waiting = " [dim](for review)[/]" if ev.get("review") else ""
            source = " [dim](planned with the last report)[/]" if ev.get("proposed") else _tok(ev)
            self.line(f"[bold]round {ev['round']}[/] · goal: {_short(ev.get('goal', ''))}{source}{waiting}")
            if ev.get("failed"):  # no usable plan: the goal above is the last one, or the question itself
                what = "[red]model[/]   the planner's reply" if ev.get("model") else "[yellow]failed[/]  the planner"
                self.line(f"  {what}: {_short(redact_text(ev['failed']), 160)}")
            for query in [] if ev.get("review") else ev.get("queries", []) or ["(no new queries)"]:
                self.line(f"  [cyan]search[/]  {_short(query)}")
        elif kind == "review":  # the plan as approved: only now are its queries searched
            if ev.get("edited"):
                self.line(f"  [green]edited[/]  goal: {_short(ev.get('goal', ''))}")
            for query in ev.get("queries", []) or ["(no queries)"]:
                self.line(f"  [cyan]search[/]  {_short(query)}")
        elif kind == "search":
            self.line(f"  [dim]hits[/]    {ev['hits']} for {_short(ev['query'], 60)}")
        elif kind in ("search_failed", "read_failed"):
            target = ev.get("query") or ev.get("url", "")
            what = "[red]model[/]   the reader's reply for" if ev.get("model") else "[yellow]failed[/] "
            self.line(f"  {what} {_short(target, 60)}: {_short(redact_text(ev.get('error', '')))}")
        elif kind == "select":
            self.line(f"  [cyan]read[/]    {len(ev.get('pages', []))} new pages of {ev.get('hits', 0)} hits")
        elif kind == "read":
            mark = "[green]✓ evidence[/]" if ev.get("relevant") else "[dim]· nothing relevant[/]"
            self.line(f"    {mark}  {_short(ev.get('title') or ev.get('url', ''), 70)}{_tok(ev)}")
        elif kind == "synthesize":
            extra = f", {ev['invented_citations']} invented citations removed" if ev.get("invented_citations") else ""
            self.line(f"  [cyan]report[/]  {ev.get('report_chars', 0)} chars, answered: "
                      f"{'yes' if ev.get('answered') else 'no'}{extra}{_tok(ev)}")
        elif kind == "decide":
            width = 400 if ev.get("model_failed") else 70  # the model's failure and what is tried: said whole
            self.line(f"  [magenta]decide[/]  → {ev['decision']} ({_short(ev.get('reason', ''), width)}) · "
                      f"calls {ev.get('llm_calls', 0)} · tokens {ev.get('tokens', 0):,}")
        elif kind == "backtrack":
            self.line(f"  [yellow]backtrack[/] dead end: {_short(ev.get('goal', ''), 70)}")
        elif kind == "react":
            detail = f": {_short(ev['detail'], 80)}" if ev.get("detail") else ""
            self.line(f"[bold]step {ev['round']}[/] · [cyan]{_short(ev.get('action', ''), 30)}[/]{detail}{_tok(ev)}")
        elif kind == "tool":
            self.line(f"  [dim]{_short(ev.get('tool', ''), 30)} answered with {ev.get('chars', 0):,} chars[/]")
        elif kind == "answer":
            self.stop()
            if ev.get("error"):  # the last step's model call gave nothing usable: what stands instead is said
                self.line(f"  [red]failed[/]  {_short(ev['error'], 160)}")
            self.line(f"[bold green]answer[/] {_short(ev.get('answer') or UNDETERMINED, 100)}{_tok(ev)}")
