"""Live progress on stderr, drawn from the graph's custom stream events."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape


def _tok(ev: dict[str, Any]) -> str:
    return f" [dim]({ev['call_tokens']:,} tok)[/]" if ev.get("call_tokens") else ""


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


class Progress:
    """Prints one line per research step: round, queries, pages read, decisions, tokens."""

    def __init__(self, console: Console | None = None, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.enabled = enabled

    def line(self, text: str) -> None:
        """Print a progress line (markup allowed)."""
        if self.enabled:
            self.console.print(text)

    def event(self, ev: dict[str, Any]) -> None:
        """Render one event from a node."""
        kind = ev.get("event")
        if kind == "plan":
            self.line(f"[bold]round {ev['round']}[/] · goal: {_short(ev.get('goal', ''))}{_tok(ev)}")
            for query in ev.get("queries", []) or ["(no new queries)"]:
                self.line(f"  [cyan]search[/]  {_short(query)}")
        elif kind == "review":
            if ev.get("edited"):
                self.line(f"  [green]edited[/]  goal: {_short(ev.get('goal', ''))}")
                for query in ev.get("queries", []) or ["(no queries)"]:
                    self.line(f"  [cyan]search[/]  {_short(query)}")
        elif kind == "search":
            self.line(f"  [dim]hits[/]    {ev['hits']} for {_short(ev['query'], 60)}")
        elif kind in ("search_failed", "read_failed"):
            target = ev.get("query") or ev.get("url", "")
            self.line(f"  [yellow]failed[/]  {_short(target, 60)}: {_short(ev.get('error', ''))}")
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
            self.line(f"  [magenta]decide[/]  → {ev['decision']} ({_short(ev.get('reason', ''), 70)}) · "
                      f"calls {ev.get('llm_calls', 0)} · tokens {ev.get('tokens', 0):,}")
        elif kind == "backtrack":
            self.line(f"  [yellow]backtrack[/] dead end: {_short(ev.get('goal', ''), 70)}")
        elif kind == "answer":
            self.line(f"[bold green]answer[/] {_short(ev.get('answer', ''), 100)}{_tok(ev)}")
