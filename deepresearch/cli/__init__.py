"""The `deepresearch` command: a thin layer over the runner, corpus and checkpoint functions."""

from __future__ import annotations

import gc
import sqlite3
import sys

import typer
from typer._click import exceptions as click_errors  # typer >= 0.22 vendors click

from core.errors import DeepResearchError
from deepresearch.cli import corpus, data, evaluate, research, threads  # noqa: F401 - each module registers its commands
from deepresearch.cli.common import app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors become one line on stderr and a nonzero exit, never a traceback."""
    collecting = gc.isenabled()
    # starting up imports thousands of long-lived objects; collecting cycles among them while they load
    # costs a fifth of the start (benchmarks/startup.py). Research work turns the collector back on.
    gc.disable()
    try:
        code = _run(argv)
    finally:
        gc.unfreeze()  # (in a long-lived caller, such as the tests, nothing stays frozen)
        if collecting:
            gc.enable()
    sys.exit(code)


def _run(argv: list[str] | None) -> int:
    try:
        code = typer.main.get_command(app).main(args=argv, prog_name="deepresearch", standalone_mode=False)
    except click_errors.NoArgsIsHelpError:
        code = 0
    except click_errors.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx and exc.ctx.parent else ""
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
    return code if isinstance(code, int) else 0
