"""`threads`: list, delete and prune research threads (the CLI's and `langgraph dev`'s alike)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from core.sqlite import connect
from deepresearch.cli.common import ThreadArg, app, listed_elsewhere, say, settings

threads_app = typer.Typer(help="List, delete and prune research threads.", no_args_is_help=False)
app.add_typer(threads_app, name="threads")


@threads_app.callback(invoke_without_command=True)
def threads(ctx: typer.Context, as_json: Annotated[bool, typer.Option(
        "--json", help="Print a JSON list instead of the table.")] = False) -> None:
    """List threads: id, status, rounds, last update, name and question.

    Example: deepresearch threads --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from deepresearch.catalog import list_all

    rows = asyncio.run(list_all(settings(create_home=False)))
    if listed_elsewhere(rows, as_json, "no threads yet; start one with `deepresearch run \"QUESTION\"`"):
        return
    print(f"{'THREAD':<36}  {'STATUS':<10} {'ROUNDS':>6}  {'UPDATED':<16}  QUESTION")
    for row in rows:
        label = f"[{row.name}] " if row.name else ""
        question = label + row.question
        question = question if len(question) <= 70 else question[:69] + "…"
        say(f"{row.thread_id:<36}  {row.status:<10} {row.rounds:>6}  {row.updated:<16}  {question}")


@threads_app.command("delete")
def delete(thread: ThreadArg) -> None:
    """Delete a thread and all its checkpoints.

    Example: deepresearch threads delete 3f2a9c1b
    """
    from deepresearch import catalog

    thread_id = asyncio.run(catalog.delete(settings(), thread))
    print(f"deleted thread {thread_id}")


@threads_app.command("prune")
def prune(
    keep: Annotated[int, typer.Option("--keep", min=1, help="Checkpoints to keep per thread (newest).")],
    threads: Annotated[list[str] | None, typer.Argument(help="Threads to prune (all if none).")] = None,
) -> None:
    """Delete old checkpoints, keeping the newest N per thread; threads still resume afterwards.

    Example: deepresearch threads prune --keep 5
    """
    from deepresearch import catalog

    loaded = settings()
    deleted = asyncio.run(catalog.prune(loaded, keep, threads))
    total = sum(deleted.values())
    with connect(loaded.checkpoints_db) as conn:  # reclaim the space the deleted rows took
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
    print(f"pruned {total} checkpoints from {sum(1 for n in deleted.values() if n)} of {len(deleted)} threads "
          f"(kept the newest {keep} of each)")
