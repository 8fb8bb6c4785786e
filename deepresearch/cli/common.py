"""What the commands share: the Typer app, the stderr console, option types and output helpers."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperOption

from core.errors import (
    DamagedDatabase,
    EndpointError,
    ModelCallError,
    SearchUnavailable,
    StorageError,
    UserInputError,
)
from core.vocabulary import ModeName, ReportLength, SearchBackendName
from deepresearch import __version__

if TYPE_CHECKING:  # the commands import what they need when they run: `--help` stays instant
    from core.settings import Settings
    from deepresearch.results import RunResult

T = TypeVar("T")

app = typer.Typer(
    name="deepresearch",
    help="Deep research with Tongyi DeepResearch (or any OpenAI-compatible model) on LangGraph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err = Console(stderr=True, highlight=False, soft_wrap=True)



def _show_version(value: bool) -> None:
    if value:
        print(f"deepresearch {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Deep research with Tongyi DeepResearch (or any OpenAI-compatible model) on LangGraph."""


ThreadArg = Annotated[str, typer.Argument(help="Thread id, its name, or a unique start or end of the id.",
                                          show_default=False)]
ModeOpt = Annotated[ModeName, typer.Option("--mode", help="Research mode.")]
SearchOpt = Annotated[SearchBackendName | None, typer.Option(
    "--search", show_default=False, help="Search backend (default: $search, the ingested corpus).")]
MaxRounds = Annotated[int | None, typer.Option(
    "--max-rounds", min=1, show_default=False,
    help="Rounds before a forced answer (default $max_rounds, at most $most_max_rounds).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the report.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write the report to FILE.", dir_okay=False)]
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]
ReportOpt = Annotated[ReportLength | None, typer.Option(
    "--report", show_default=False, help="short (default): the final report is built from the research's own, "
    "with no further model call; long: one more call writes it at length.")]
ReviewFlag = Annotated[bool, typer.Option("--review", help="Stop after each plan to edit or approve its queries.")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE", show_default=False, help="A run setting, repeatable, e.g. --set "
    "pages_per_round=2. KEY is one of: $run_settings (defaults and meanings: docs/configuration.md, Run settings).")]


def context_help() -> dict[str, str]:
    """What an option's help may name of the run context.

    ``$run_settings``: the fields `--set` takes; for each field, ``$field``: its default, and ``$most_field``:
    its upper bound, if any.
    """
    from state.context import Context

    values = {"run_settings": ", ".join(Context.run_settings())}
    for name in Context.run_settings():
        info = Context.model_fields[name]
        values[name] = str(info.get_default(call_default_factory=True))
        values.update({f"most_{name}": str(m.le) for m in info.metadata if getattr(m, "le", None) is not None})
    return values


class TakesRunSettings(TyperCommand):
    """A command that sets the run context: its options' help says the context's fields, defaults and bounds.

    Filled in from the context (``context_help``) only when the help is shown: its module (pydantic) stays out
    of every other start, and no default is written twice.
    """

    def format_help(self, ctx: Any, formatter: Any) -> None:  # click's context and formatter, as typer vendors it
        """The help, with the run context's values filled in."""
        values = context_help()
        for param in self.params:
            if isinstance(param, TyperOption) and param.help:
                param.help = Template(param.help).safe_substitute(values)
        super().format_help(ctx, formatter)


def settings(create_home: bool = True) -> Settings:
    """Process settings, read from the environment (once per command), with the data home created.

    Commands that only read (`threads`, `show`, `doctor`) create nothing: ``create_home=False``.
    """
    from core.settings import load_settings

    loaded = load_settings()
    if create_home:
        loaded.ensure_home()
    return loaded


def say(text: str) -> None:
    """Print text that holds what pages and models wrote: escape sequences cannot reach the terminal."""
    from core.text import printable

    print(printable(text))


def listed_elsewhere(rows: Sequence[Any], as_json: bool, empty: str) -> bool:
    """Print dataclass ``rows`` as JSON when asked, or ``empty`` on stderr when there are none.

    False: the caller prints its table.
    """
    if as_json:
        print(json.dumps([dataclasses.asdict(row) for row in rows], ensure_ascii=False, indent=2))
        return True
    if not rows:
        err.print(empty)
        return True
    return False


def check_out(out: Path | None) -> None:
    """Refuse an --out whose folder does not exist before any work is done."""
    if out is not None and not out.expanduser().resolve().parent.is_dir():
        raise UserInputError(f"cannot write --out {out}: its folder does not exist")


def deliver(result: RunResult, out: Path | None, as_json: bool) -> None:
    """Report to stdout (or --out), JSON if asked, and a one-line summary on stderr."""
    if out is not None:
        try:
            out.expanduser().write_text(result.report, encoding="utf-8")
        except OSError as exc:
            raise UserInputError(f"cannot write --out {out}: {exc.strerror or exc}; the report is kept in thread "
                                 f"{result.thread_id} (`deepresearch show {result.thread_id}`)") from exc
        err.print(f"report written to {escape(str(out))}")
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    elif out is None:
        say(result.report)
    if result.status == "review":
        err.print(f"thread {escape(result.thread_id)} is waiting for plan review: "
                  f"`deepresearch resume {escape(result.thread_id)}` shows the plan again")
    if result.gave_up:
        err.print(escape(result.gave_up))
    removed = f" · {result.invented_citations} invented citations removed" if result.invented_citations else ""
    err.print(f"[dim]thread {escape(result.thread_id)} · {result.status} · rounds {result.rounds} · "
              f"llm calls {result.llm_calls} · tokens {result.tokens:,}{removed}{grounding_line(result)}[/]")


def grounding_line(result: RunResult) -> str:
    """" · citations checked N (R re-attributed, U sentences unverified)", or "" when none was checked."""
    counts = result.grounding
    if not counts.get("citations_checked"):
        return ""
    return (f" · citations checked {counts['citations_checked']} ({counts.get('citations_reattributed', 0)} "
            f"re-attributed, {counts.get('claims_unsupported', 0)} sentences unverified)")


def run_guarded(thread: str, loaded: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run async work (research: the cycle collector runs again); model failures keep the thread resumable."""
    gc.freeze()  # what start-up loaded stays: later collections need not walk through it
    gc.enable()
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except EndpointError as exc:
        raise EndpointError(f"{exc} (progress is saved: `deepresearch resume {thread}`)") from exc
    except ModelCallError as exc:
        raise ModelCallError(f"{exc} (progress is saved: `deepresearch resume {thread}`)") from exc
    except (StorageError, sqlite3.Error) as exc:  # a disk that filled up, a damaged database
        raise stored_failure(thread, loaded, exc) from exc
    except SearchUnavailable as exc:
        raise SearchUnavailable(exc.backend, f"{exc.detail} (progress is saved: `deepresearch resume {thread}`)"
                                ) from exc
    except KeyboardInterrupt:
        err.print(f"interrupted; continue with `deepresearch resume {escape(thread)}`")
        raise typer.Exit(130) from None


def stored_failure(thread: str, loaded: Settings, exc: StorageError | sqlite3.Error) -> StorageError:
    """A database failure during a run as one line: what failed, and `resume` only if a step of the thread was saved.

    A damaged file is named with what to do; when it is the checkpoint database itself, no thread in it is
    offered for resuming.
    """
    from core.sqlite import storage_error
    from deepresearch.catalog import saved

    if isinstance(exc, sqlite3.Error):  # raw from LangGraph's saver: the others name their file themselves
        exc = storage_error(loaded.checkpoints_db, exc, "database")
    damaged = exc if isinstance(exc, DamagedDatabase) else None
    found = None if damaged and damaged.path == loaded.checkpoints_db else asyncio.run(saved(loaded, thread))
    then = {True: f"Progress up to the last step is saved: `deepresearch resume {thread}`",
            False: f"No step of thread {thread} was saved", None: ""}[found]
    if damaged:
        return StorageError(f"{damaged}. {then}" if then else str(damaged))
    return StorageError(f"cannot store the research ({exc}); is the disk full? {then}".rstrip())


def terminal_reviewer(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Show a proposed plan on stderr and read the reviewer's answer from stdin (one line).

    An empty line approves; end of input leaves the plan waiting (None), so nothing is approved unseen.
    """
    err.print(f"[bold]plan for round {payload.get('round', '?')}[/] · goal: {escape(str(payload.get('goal', '')))}")
    for i, query in enumerate(payload.get("queries", []), 1):
        err.print(f"  {i}. {escape(str(query))}")
    err.print("Enter approves. Or type new queries separated by ';' (start with 'goal: ... |' to change the goal):")
    raw = sys.stdin.readline()
    if not raw:
        err.print("no answer (end of input): the plan stays waiting for review")
        return None
    line = raw.strip()
    if not line:
        return {"approve": True}
    answer: dict[str, Any] = {}
    if line.lower().startswith("goal:"):
        goal, _, line = line[5:].partition("|")
        answer["goal"] = goal.strip()
    queries = [q.strip() for q in line.split(";") if q.strip()]
    if queries:
        answer["queries"] = queries
    return answer or {"approve": True}
