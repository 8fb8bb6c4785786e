"""The `deepresearch` command: a thin layer over the runner, corpus and checkpoint functions."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import sys
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from checkpoints.saver import open_saver
from checkpoints.threads import list_threads
from deepresearch import runner
from deepresearch.doctor import doctor_report
from deepresearch.errors import DeepResearchError, EndpointError, ModelCallError, UserInputError
from deepresearch.progress import Progress
from deepresearch.settings import Settings, load_settings
from state.context import Context
from tools.corpus import Corpus, iter_files
from tools.endpoint import list_models
from tools.fetch import Fetcher
from tools.http import make_clients
from tools.parse import Parsed, format_parsed, parse_many
from tools.search import resolve_backend

try:  # typer >= 0.22 vendors click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as click_errors  # type: ignore[no-redef]

app = typer.Typer(
    name="deepresearch",
    help="Deep research with Tongyi DeepResearch (or any OpenAI-compatible model) on LangGraph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
THREAD_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


class Mode(StrEnum):
    """Research modes."""

    iter = "iter"


class SearchName(StrEnum):
    """Search backends."""

    local = "local"
    duckduckgo = "duckduckgo"
    searxng = "searxng"
    serper = "serper"
    tavily = "tavily"
    auto = "auto"


QuestionArg = Annotated[str, typer.Argument(help="The research question.", show_default=False)]
ThreadArg = Annotated[str, typer.Argument(help="Thread id (see `deepresearch threads`).", show_default=False)]
MaxRounds = Annotated[int | None, typer.Option("--max-rounds", min=1, help="Rounds before a forced answer.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the report.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write the report to FILE.", dir_okay=False)]
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE", help="Any run setting, e.g. --set pages_per_round=2 (see README).")]


def _settings() -> Settings:
    settings = load_settings()
    settings.ensure_home()
    return settings


def _check_out(out: Path | None) -> None:
    if out is not None and not out.expanduser().resolve().parent.is_dir():
        raise UserInputError(f"cannot write --out {out}: its folder does not exist")


def _emit(result: runner.RunResult, out: Path | None, as_json: bool) -> None:
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
        print(result.report)
    err.print(f"[dim]thread {escape(result.thread_id)} · {result.status} · rounds {result.rounds} · "
              f"llm calls {result.llm_calls} · tokens {result.tokens:,}"
              + (f" · {result.invented_citations} invented citations removed" if result.invented_citations else "")
              + "[/]")


def _check_search(ctx: Context, settings: Settings) -> None:
    """Fail before the run starts if the search backend cannot work (missing key, empty corpus)."""
    backend = resolve_backend(ctx.search, settings.web)
    if backend == "local" and Corpus(settings.corpus_db).stats()["documents"] == 0:
        raise UserInputError("the local corpus is empty: add documents with `deepresearch ingest PATH`")


async def _preflight(ctx: Context, settings: Settings) -> None:
    served = await list_models(str(ctx.base_url), settings.api_key)
    names = [m.id for m in served]
    if names and ctx.model not in names:
        err.print(f"[yellow]warning:[/] {escape(str(ctx.base_url))} lists {escape(', '.join(names[:5]))} but not "
                  f"{escape(str(ctx.model))} "
                  "(DEEPRESEARCH_MODEL)")


def _run_guarded(thread_id: str, coro_factory) -> runner.RunResult:  # type: ignore[no-untyped-def]
    """Run the graph; model failures keep the thread resumable and say how."""
    try:
        return asyncio.run(coro_factory())
    except EndpointError as exc:
        raise EndpointError(f"{exc} (progress is saved: `deepresearch resume {thread_id}`)") from exc
    except ModelCallError as exc:
        raise ModelCallError(f"{exc} (progress is saved: `deepresearch resume {thread_id}`)") from exc
    except KeyboardInterrupt:
        err.print(f"interrupted; continue with `deepresearch resume {escape(thread_id)}`")
        raise typer.Exit(130) from None


@app.command()
def run(
    question: QuestionArg,
    mode: Annotated[Mode, typer.Option("--mode", help="Research mode.")] = Mode.iter,
    search: Annotated[SearchName, typer.Option("--search", help="Search backend.")] = SearchName.local,
    max_rounds: MaxRounds = None,
    thread: Annotated[str | None, typer.Option("--thread", help="Thread id (new one if omitted).")] = None,
    out: OutOpt = None,
    as_json: JsonFlag = False,
    quiet: QuietFlag = False,
    settings_: SetOpt = None,
) -> None:
    """Research QUESTION and print a cited markdown report.

    Example: deepresearch run "Who designed the library of the town where Glass Harbor premiered?"
    """
    question = question.strip()
    if not question:
        raise UserInputError("the question is empty")
    if thread is not None and not THREAD_ID.fullmatch(thread):
        raise UserInputError("--thread takes 1 to 100 letters, digits, '.', '_' or '-'")
    _check_out(out)
    settings = _settings()
    ctx = Context.from_dict(Context.parse_assignments(settings_ or []), search=search.value, max_rounds=max_rounds)
    _check_search(ctx, settings)
    asyncio.run(_preflight(ctx, settings))
    thread_id = (thread or uuid.uuid4().hex[:12]).strip()
    err.print(f"thread {escape(thread_id)}")
    progress = Progress(err, enabled=not quiet)
    result = _run_guarded(thread_id, lambda: runner.start(settings, thread_id, question, mode.value, ctx, progress))
    _emit(result, out, as_json)


@app.command()
def resume(
    thread_id: ThreadArg,
    max_rounds: MaxRounds = None,
    out: OutOpt = None,
    as_json: JsonFlag = False,
    quiet: QuietFlag = False,
    settings_: SetOpt = None,
) -> None:
    """Continue an unfinished thread from its last checkpoint (finished rounds are not redone).

    Example: deepresearch resume 3f2a9c1b7d4e
    """
    _check_out(out)
    settings = _settings()
    progress = Progress(err, enabled=not quiet)
    overrides = {**Context.parse_assignments(settings_ or []), "max_rounds": max_rounds}
    result = _run_guarded(thread_id, lambda: runner.resume(settings, thread_id, progress, **overrides))
    _emit(result, out, as_json)


@app.command()
def threads() -> None:
    """List research threads: id, question, status, rounds, last update.

    Example: deepresearch threads
    """
    settings = _settings()

    async def collect():  # type: ignore[no-untyped-def]
        async with open_saver(settings.checkpoints_db) as saver:
            return await list_threads(saver, runner.compile_mode("iter", saver))

    rows = asyncio.run(collect())
    if not rows:
        err.print("no threads yet; start one with `deepresearch run \"QUESTION\"`")
        return
    print(f"{'THREAD':<14} {'STATUS':<11} {'ROUNDS':>6}  {'UPDATED':<16}  QUESTION")
    for row in rows:
        question = row.question if len(row.question) <= 70 else row.question[:69] + "…"
        print(f"{row.thread_id:<14} {row.status:<11} {row.rounds:>6}  {row.updated:<16}  {question}")


@app.command()
def show(thread_id: ThreadArg, as_json: JsonFlag = False) -> None:
    """Print a thread's report, or its progress so far if it is unfinished.

    Example: deepresearch show 3f2a9c1b7d4e
    """
    result = asyncio.run(runner.load(_settings(), thread_id))
    if as_json:
        print(json.dumps({**result.to_json(), "status": result.status, "failures": result.failures},
                         ensure_ascii=False, indent=2))
        return
    if result.status == "done":
        print(result.report)
    else:
        print(f"# {result.question}\n\n_status: {result.status}, round {result.rounds}, "
              f"{result.llm_calls} llm calls, {result.tokens:,} tokens_\n")
        print("## Report so far\n\n" + (result.report or "(nothing yet)"))
        if result.sources:
            print("\n## Sources so far\n")
            print("\n".join(f"- [{s['n']}] {s['title']} — {s['url']}" for s in result.sources))
    if result.failures:
        print("\n## Failed actions\n")
        for f in result.failures:
            print(f"- round {f['round']} {f['action']} {f['target']}: {f['error']}")


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursive).")]) -> None:
    """Index .md, .txt, .html and .pdf files into the local corpus (unchanged files are skipped).

    Example: deepresearch ingest ~/papers notes.md
    """
    settings = _settings()
    for path in paths:
        if not path.expanduser().exists():
            raise UserInputError(f"no such file or folder: {path}")
    if not any(True for _ in iter_files(p.expanduser() for p in paths)):
        raise UserInputError("no .md, .txt, .html or .pdf files found in " + ", ".join(map(str, paths)))
    report = Corpus(settings.corpus_db).ingest(paths)
    for _path, reason in report.failed:
        err.print(f"[yellow]skipped[/] {escape(reason)}")
    stats = Corpus(settings.corpus_db).stats()
    print(f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
          f"failed {len(report.failed)}; corpus: {stats['documents']} documents, {stats['passages']} passages")
    if report.failed and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(1)


@app.command()
def parse(
    sources: Annotated[list[str], typer.Argument(help="Local files or http(s) URLs.", show_default=False)],
    max_chars: Annotated[int, typer.Option("--max-chars", min=100, help="Characters kept per document.")] = 60_000,
) -> None:
    """Print the text of documents (PDF, DOCX, HTML, TXT, MD, CSV), local or fetched safely from the web.

    Example: deepresearch parse report.pdf https://example.org/table.csv
    """
    web = _settings().web

    async def go() -> list[Parsed]:
        clients = make_clients(web)
        try:
            return await parse_many(sources, Fetcher(clients.pages, web), max_chars)
        finally:
            await clients.pages.aclose()
            await clients.api.aclose()

    results = asyncio.run(go())
    print(format_parsed(results))
    for failed in (r for r in results if r.error):
        err.print(f"[yellow]failed[/] {escape(failed.error)}")
    if all(r.error for r in results):
        raise typer.Exit(1)


@app.command()
def doctor() -> None:
    """Check the endpoint, the served model and context length, the corpus and the checkpoint store.

    Example: deepresearch doctor
    """
    ok, lines = asyncio.run(doctor_report(_settings()))
    for line in lines:
        print(line)
    if not ok:
        raise typer.Exit(2)


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors become one line on stderr and a nonzero exit, never a traceback."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="deepresearch", standalone_mode=False)
    except click_errors.NoArgsIsHelpError:
        code = 0
    except click_errors.UsageError as exc:
        hint = f" (see `deepresearch {exc.ctx.info_name} --help`)" if exc.ctx and exc.ctx.parent else ""
        print(f"deepresearch: error: {exc.format_message()}{hint}", file=sys.stderr)
        code = 2
    except click_errors.ClickException as exc:
        print(f"deepresearch: error: {exc.format_message()}", file=sys.stderr)
        code = exc.exit_code
    except typer.Abort:
        print("deepresearch: aborted", file=sys.stderr)
        code = 130
    except DeepResearchError as exc:
        print(f"deepresearch: error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except sqlite3.Error as exc:  # a checkpoint write failing mid-run (disk full, database locked too long)
        print(f"deepresearch: error: database failure: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("deepresearch: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
