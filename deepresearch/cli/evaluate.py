"""`eval`: run a benchmark file through a mode, judge every answer, and report Avg@k."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from core.errors import (
    DeepResearchError,
    EndpointError,
    SearchUnavailable,
    ServerUnavailable,
    StorageError,
    UserInputError,
)
from deepresearch.cli.common import ModeOpt, SearchOpt, SetOpt, TakesRunSettings, app, err, settings

if TYPE_CHECKING:
    from core.settings import Settings
    from deepresearch.evaluation.data import Item
    from deepresearch.evaluation.remote import RemoteResearch
    from deepresearch.evaluation.store import Result
    from state.context import Context


@app.command("eval", cls=TakesRunSettings)
def evaluate(
    file: Annotated[Path | None, typer.Argument(help="JSONL or a JSON list of {question, answer} (public "
                                                 "benchmark field names work: problem, Prompt, query; Answer, "
                                                 "gold).", show_default=False)] = None,
    mode: ModeOpt = "iterresearch",
    search: SearchOpt = None,
    k: Annotated[int, typer.Option("--k", min=1, max=32, help="Rollouts per question.")] = 1,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Rollouts at once.")] = 4,
    limit: Annotated[int | None, typer.Option("--limit", min=1, show_default=False,
                                              help="Only the first N records of the file.")] = None,
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="Folder for results.db, results.jsonl, "
                                      "summary.md and the plots (with --compare: the comparison's plot); run the "
                                      "same command again to resume.")] = Path("eval-out"),
    judge: Annotated[str, typer.Option("--judge", help="exact (normalised match), browsecomp, gaia, xbench, or "
                                       "auto (xbench for Chinese questions, else browsecomp).")] = "exact",
    server: Annotated[str | None, typer.Option(
        "--server", show_default=False, help="Run the rollouts through a LangGraph server at this URL "
        "(langgraph dev, or a deployment) instead of in this process. It is sent an API key only from "
        "DEEPRESEARCH_SERVER_API_KEY.")] = None,
    compare: Annotated[tuple[Path, Path] | None, typer.Option(
        "--compare", show_default=False, help="Put two evals' results side by side (their --out folders).")] = None,
    bench: Annotated[Path | None, typer.Option(
        "--deepresearch-bench", dir_okay=False, show_default=False, help="Also write DeepResearch Bench's output "
        "file here: one {id, prompt, article} line per question, the article its first finished rollout's final "
        "report (use with --set report_length=long; not with --server).")] = None,
    settings_: SetOpt = None,
) -> None:
    """Evaluate a mode on question/answer pairs; an interrupted eval, run again, redoes no finished rollout.

    A bad record is named by its line and skipped; a rollout that fails is stored as failed and run again next
    time. Exit code 1 when any record was skipped or any rollout failed (the results are written all the same).

    Example: deepresearch eval questions.jsonl --k 3 --judge browsecomp --out runs/iter
    """
    if compare is not None:
        from deepresearch.evaluation.compare import side_by_side

        table, plot = side_by_side(*compare, out)
        print(table, end="")
        err.print(f"plot in {plot}")
        return
    if file is None:
        raise UserInputError("eval needs a question file (or --compare A B)")
    from deepresearch.evaluation.data import load_items
    from deepresearch.evaluation.judges import JUDGES
    from state.context import Context

    if judge not in JUDGES:
        raise UserInputError(f"--judge must be one of {', '.join(JUDGES)} (got {judge!r})")
    if bench is not None and server:
        raise UserInputError("--deepresearch-bench reads each report from its thread here: not with --server")
    loaded = settings()
    bound = Context.bind(loaded)
    ctx = bound.build(bound.parse_assignments(settings_ or []), search=search)
    research = None
    if server:
        from deepresearch.evaluation.remote import RemoteResearch

        research = RemoteResearch(server, mode, ctx, loaded.server_api_key.get_secret_value().strip())
    data = load_items(file, limit, ctx.max_question_chars)
    if research is None:  # as `run` checks before a thread exists: the endpoint serves the model, search can work
        from deepresearch.cli.research import check_search, preflight

        check_search(ctx, loaded)
        asyncio.run(preflight(ctx, loaded))
    for problem in data.problems:
        err.print(f"[yellow]skipped[/] {escape(problem)}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot create --out {out}: {exc.strerror}") from exc
    results = _run(loaded, data.items, mode, ctx, k, concurrency, judge, out, research)
    if bench is not None:
        from deepresearch.evaluation.bench import bench_lines, write_bench

        lines = asyncio.run(bench_lines(loaded, data.items, results))
        try:
            write_bench(bench, lines)
        except OSError as exc:
            raise UserInputError(f"cannot write --deepresearch-bench {bench}: {exc.strerror}") from exc
        err.print(f"DeepResearch Bench file: {bench} ({len(lines)} articles)")
    _report(results, data.items, k, len(data.problems), out, f"{file.name}: {mode} mode, judge {judge}",
            f"{file.name} ({mode})")


VERDICTS = {True: "right", False: "wrong", None: "ungraded"}


def _run(loaded: Settings, items: list[Item], mode: str, ctx: Context, k: int, concurrency: int, judge: str,
         out: Path, research: RemoteResearch | None) -> list[Result]:
    """Run the rollouts under a progress bar; each failed one is named on stderr as it is stored."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from deepresearch.evaluation.run import STOPS, item_label, run_eval

    right = [0, 0, 0]  # right, stored, failed
    with Progress(TextColumn("[bold]eval[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("", total=len(items) * k)

        def counted(result: Result) -> None:
            right[0] += bool(result.correct)
            right[1] += 1
            if result.error:
                right[2] += 1
                err.print(f"[red]failed[/] {item_label(result.item)}, rollout {result.rollout}: "
                          f"{escape(result.error)} (thread {result.thread_id})")
            failed = f" · {right[2]} failed" if right[2] else ""
            bar.update(task, advance=1, description=f"accuracy so far {right[0] / right[1]:.0%}{failed}")
            if not err.is_terminal:  # no bar there (a log file, CI): a line per rollout, so a long eval is seen
                verdict = "failed" if result.error else VERDICTS[result.correct]
                err.print(f"eval {right[1]}/{len(items) * k}: {item_label(result.item)}, rollout {result.rollout}: "
                          f"{verdict} ({result.wall:.1f}s) · accuracy so far {right[0] / right[1]:.0%}{failed}")

        started = [False]  # a stop before the first rollout (the --server check) needs no word on what is stored

        async def go() -> list[Result]:
            try:
                if research is not None:
                    await research.check()
                started[0] = True
                return await run_eval(loaded, items, mode=mode, ctx=ctx, k=k, concurrency=concurrency, judge=judge,
                                      out=out, on_result=counted, research=research,
                                      notice=lambda line: err.print(escape(line)))
            finally:
                if research is not None:
                    await research.aclose()

        try:
            return asyncio.run(go())
        except KeyboardInterrupt:
            err.print(f"interrupted; {right[1]} rollouts are stored: run the same command again to go on")
            raise typer.Exit(130) from None
        except STOPS as exc:
            if not started[0]:
                raise
            raise _stopped(exc, f"{right[1]} rollouts are stored: run the same command again to go on") from exc


def _stopped(exc: Exception, hint: str) -> DeepResearchError:
    """A fault that stopped the eval (every rollout would meet it), as one line that says what is kept."""
    if isinstance(exc, SearchUnavailable):
        return SearchUnavailable(exc.backend, f"{exc.detail}; {hint}")
    if isinstance(exc, ServerUnavailable):
        return ServerUnavailable(f"{exc}; {hint}")
    if isinstance(exc, EndpointError):
        return EndpointError(f"{exc}; {hint}")
    return StorageError(f"cannot store the eval's work ({exc}); is the disk full? {hint}")


def _report(results: list[Result], items: list[Item], k: int, skipped: int, out: Path, title: str,
            plot_title: str) -> None:
    """Write results.jsonl, summary.md and the plots; print the summary. Exit 1 if anything was left out or failed."""
    from deepresearch.evaluation.metrics import markdown, summarize
    from deepresearch.evaluation.plots import eval_plots

    wanted = {item.key for item in items}
    results = [r for r in results if r.item in wanted and r.rollout <= k]
    summary = summarize(results)
    (out / "results.jsonl").write_text("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in results),
                                       encoding="utf-8")
    report = markdown(summary, title, skipped)
    (out / "summary.md").write_text(report, encoding="utf-8")
    plots = eval_plots([r for r in results if not r.error], out, plot_title)
    print(report, end="")
    err.print(f"results in {out / 'results.jsonl'} and {out / 'summary.md'}; plots: "
              + ", ".join(p.name for p in plots))
    failed = int(summary["failed"])
    if skipped or failed:
        err.print(f"not complete: {skipped} bad records skipped (named above), {failed} rollouts failed"
                  + (" (run the same command again to retry them)" if failed else ""))
        raise typer.Exit(1)
