"""`eval`: run a benchmark file through a mode, judge every answer, and report Avg@k."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import UserInputError
from deepresearch.cli.common import ModeOpt, SearchOpt, SetOpt, app, err, settings

if TYPE_CHECKING:
    from deepresearch.evaluation.store import Result


@app.command("eval")
def evaluate(
    file: Annotated[Path | None, typer.Argument(help="JSONL or a JSON list of {question, answer} (public "
                                                 "benchmark field names work: problem, Prompt, query; Answer, "
                                                 "gold).", show_default=False)] = None,
    mode: ModeOpt = "iter",
    search: SearchOpt = None,
    k: Annotated[int, typer.Option("--k", min=1, max=32, help="Rollouts per question.")] = 1,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Rollouts at once.")] = 4,
    limit: Annotated[int | None, typer.Option("--limit", min=1, show_default=False,
                                              help="Only the first N questions.")] = None,
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="Folder for results.db, results.jsonl, "
                                      "summary.md and the plots (with --compare: the comparison's plot); run the "
                                      "same command again to resume.")] = Path("eval-out"),
    judge: Annotated[str, typer.Option("--judge", help="exact (normalised match), browsecomp, gaia, xbench, or "
                                       "auto (xbench for Chinese questions, else browsecomp).")] = "exact",
    server: Annotated[str | None, typer.Option(
        "--server", show_default=False, help="Run the rollouts through a LangGraph server at this URL "
        "(langgraph dev, or a deployment) instead of in this process.")] = None,
    compare: Annotated[tuple[Path, Path] | None, typer.Option(
        "--compare", show_default=False, help="Put two evals' results side by side (their --out folders).")] = None,
    settings_: SetOpt = None,
) -> None:
    """Evaluate a mode on question/answer pairs; an interrupted eval, run again, redoes no finished rollout.

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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from deepresearch.evaluation.data import load_items
    from deepresearch.evaluation.judges import JUDGES
    from deepresearch.evaluation.metrics import markdown, summarize
    from deepresearch.evaluation.run import run_eval
    from state.context import Context

    if judge not in JUDGES:
        raise UserInputError(f"--judge must be one of {', '.join(JUDGES)} (got {judge!r})")
    loaded = settings()
    items = load_items(file, limit)
    bound = Context.bind(loaded)
    ctx = bound.build(bound.parse_assignments(settings_ or []), search=search)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot create --out {out}: {exc.strerror}") from exc
    right = [0, 0]
    with Progress(TextColumn("[bold]eval[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("", total=len(items) * k)

        def counted(result: Result) -> None:
            right[0] += bool(result.correct)
            right[1] += 1
            bar.update(task, advance=1, description=f"accuracy so far {right[0] / right[1]:.0%}")

        research = None
        if server:
            from core.vocabulary import MODES
            from deepresearch.evaluation.remote import RemoteResearch

            research = RemoteResearch(server, MODES[mode], ctx)
        try:
            results = asyncio.run(run_eval(loaded, items, mode=mode, ctx=ctx, k=k, concurrency=concurrency,
                                           judge=judge, out=out, on_result=counted, research=research))
        except KeyboardInterrupt:
            err.print(f"interrupted; {right[1]} rollouts are stored: run the same command again to go on")
            raise typer.Exit(130) from None
    wanted = {item.key for item in items}
    results = [r for r in results if r.item in wanted and r.rollout <= k]
    summary = summarize(results)
    (out / "results.jsonl").write_text("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in results),
                                       encoding="utf-8")
    report = markdown(summary, f"{file.name}: {mode} mode, judge {judge}")
    (out / "summary.md").write_text(report, encoding="utf-8")
    from deepresearch.evaluation.plots import eval_plots

    plots = eval_plots(results, out, f"{file.name} ({mode})")
    print(report, end="")
    err.print(f"results in {out / 'results.jsonl'} and {out / 'summary.md'}; plots: "
              + ", ".join(p.name for p in plots))
