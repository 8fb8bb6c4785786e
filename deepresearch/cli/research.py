"""`run`, `resume` and `show`: research threads from the terminal."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from core.errors import UserInputError
from deepresearch.cli.common import (
    JsonFlag,
    MaxRounds,
    ModeOpt,
    OutOpt,
    QuietFlag,
    ReportOpt,
    ReviewFlag,
    SearchOpt,
    SetOpt,
    TakesRunSettings,
    ThreadArg,
    app,
    check_out,
    deliver,
    err,
    grounding_line,
    run_guarded,
    say,
    settings,
    terminal_reviewer,
)
from deepresearch.progress import Progress

if TYPE_CHECKING:  # loaded by the commands that use them
    from core.settings import Settings
    from state.context import Context

THREAD_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def flags(**given: object) -> dict[str, object]:
    """Command-line flags that were actually given (they win over --set); a False switch is not given."""
    return {k: v for k, v in given.items() if v is not None and v is not False}


def check_search(ctx: Context, loaded: Settings) -> None:
    """Fail before the run starts if the search backend cannot work (missing key, empty corpus)."""
    from tools.corpus.store import Corpus
    from tools.search import resolve_backend

    backend = resolve_backend(ctx.search, loaded.web)
    if backend == "local" and Corpus(loaded.corpus_db).is_empty():
        raise UserInputError("the local corpus is empty: add documents with `deepresearch ingest PATH`")


def check_stores(loaded: Settings) -> None:
    """Fail before a thread is made or run on if a database the run writes is damaged (not SQLite, cut short, empty).

    A cheap look (the file opens and its schema reads), not a full check: damage deeper in a file is
    found when it is used, and named then too.
    """
    from core.sqlite import open_read_only

    for path in (loaded.pages_db, *(() if loaded.checkpoint_url else (loaded.checkpoints_db,))):
        if path.exists():
            open_read_only(path).close()


async def preflight(ctx: Context, loaded: Settings) -> None:
    """Before a thread exists: the endpoint answers, and serves the models the run asks for (if it lists any)."""
    from core.errors import EndpointError
    from tools.model.endpoint import list_models

    names = [m.id for m in await list_models(ctx.base_url, loaded.api_key_for(ctx.base_url))]
    for model in dict.fromkeys((ctx.model, ctx.extraction_model)):
        if names and model not in names:
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            raise EndpointError(f"model {model!r} is not served at {ctx.base_url} (it serves {shown}); set "
                                "DEEPRESEARCH_MODEL or --set model=...")


@app.command(cls=TakesRunSettings)
def run(
    question: Annotated[str, typer.Argument(help="The research question.", show_default=False)],
    mode: ModeOpt = "iterresearch",
    search: SearchOpt = None,
    max_rounds: MaxRounds = None,
    thread: Annotated[str | None, typer.Option(
        "--thread", help="Name or UUID for the new thread (a new UUID if omitted).")] = None,
    out: OutOpt = None,
    as_json: JsonFlag = False,
    quiet: QuietFlag = False,
    review: ReviewFlag = False,
    report: ReportOpt = None,
    agents: Annotated[int | None, typer.Option(
        "--agents", min=1, max=16, show_default=False,
        help="Heavy mode: agents in parallel (default $heavy_agents).")] = None,
    settings_: SetOpt = None,
) -> None:
    """Research QUESTION and print a cited markdown report.

    Example: deepresearch run "Who designed the library of the town where Glass Harbor premiered?"
    """
    question = question.strip()
    if thread is not None and not THREAD_NAME.fullmatch(thread):
        raise UserInputError("--thread takes 1 to 100 letters, digits, '.', '_' or '-'")
    check_out(out)
    from state.context import Context
    from state.queries import question_problem

    loaded = settings()
    bound = Context.bind(loaded)
    ctx = bound.build(bound.parse_assignments(settings_ or []), **flags(
        search=search, max_rounds=max_rounds, review_plan=review, report_length=report, heavy_agents=agents))
    problem = question_problem(question, ctx.max_question_chars)
    if problem:
        raise UserInputError(problem)
    check_stores(loaded)
    check_search(ctx, loaded)
    asyncio.run(preflight(ctx, loaded))
    from checkpoints.threads import thread_id_for
    from deepresearch import runner

    thread_id = thread_id_for(thread) if thread else str(uuid.uuid4())
    name = thread if thread and thread_id != thread.lower() else ""
    err.print(f"thread {thread_id}" + (f" ({escape(name)})" if name else ""))
    progress = Progress(err, enabled=not quiet)
    result = run_guarded(name or thread_id, loaded, lambda: runner.start(
        loaded, thread_id, question, mode, ctx, progress, name=name, reviewer=terminal_reviewer))
    deliver(result, out, as_json)


@app.command(cls=TakesRunSettings)
def resume(
    thread: ThreadArg,
    max_rounds: MaxRounds = None,
    out: OutOpt = None,
    as_json: JsonFlag = False,
    quiet: QuietFlag = False,
    review: ReviewFlag = False,
    report: ReportOpt = None,
    settings_: SetOpt = None,
) -> None:
    """Continue a thread from its last checkpoint (finished rounds are not redone).

    Threads started through `langgraph dev` resume the same way. A thread waiting for plan review
    shows the plan and asks.

    Example: deepresearch resume 3f2a9c1b
    """
    check_out(out)
    from deepresearch import runner
    from state.context import Context

    loaded = settings()
    progress = Progress(err, enabled=not quiet)
    overrides = {**Context.parse_assignments(settings_ or []), **flags(max_rounds=max_rounds, review_plan=review,
                                                                     report_length=report)}
    check_stores(loaded)
    result = run_guarded(thread, loaded, lambda: runner.resume(loaded, thread, progress, terminal_reviewer,
                                                               **overrides))
    deliver(result, out, as_json)


@app.command()
def show(thread: ThreadArg, as_json: JsonFlag = False) -> None:
    """Print a thread's report, or its progress so far if it is unfinished.

    Example: deepresearch show 3f2a9c1b
    """
    from deepresearch import runner

    result = asyncio.run(runner.load(settings(create_home=False), thread))
    if as_json:
        print(json.dumps({**result.to_json(), "status": result.status, "failures": result.failures},
                         ensure_ascii=False, indent=2))
        return
    if result.status == "done":
        say(result.report)
        if checked := grounding_line(result):
            err.print(f"[dim]{checked.removeprefix(' · ')}[/]")
    else:
        say(f"# {result.question}\n\n_status: {result.status}, round {result.rounds}, "
              f"{result.llm_calls} llm calls, {result.tokens:,} tokens_\n")
        say("## Report so far\n\n" + (result.report or "(nothing yet)"))
        if result.sources:
            print("\n## Sources so far\n")
            say("\n".join(f"- [{s['n']}] {s['title']} — {s['url']}" for s in result.sources))
    if result.failures:
        print("\n## Failed actions\n")
        for f in result.failures:
            say(f"- round {f['round']} {f['action']} {f['target']}: {f['error']}")
