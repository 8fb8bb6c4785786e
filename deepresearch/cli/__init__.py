"""The `deepresearch` command: a thin layer over the runner, corpus and checkpoint functions."""

from __future__ import annotations

import gc
import sqlite3
import sys

import typer

from core.errors import DeepResearchError
from core.redact import redact_logs, redact_text
from deepresearch.cli import corpus, data, evaluate, research, threads  # noqa: F401 - each module registers its commands
from deepresearch.cli.common import app
from deepresearch.cli.typer_private import NoArgsIsHelpError, UsageError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors become one line on stderr and a nonzero exit, never a traceback."""
    redact_logs()  # the HTTP clients log the URLs they call, passwords included
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


def _error(text: str) -> None:
    """The one line an error ends with, on stderr; the last defence against a secret in a message."""
    print(f"deepresearch: {redact_text(text)}", file=sys.stderr)


def _run(argv: list[str] | None) -> int:
    try:
        code = typer.main.get_command(app).main(args=argv, prog_name="deepresearch", standalone_mode=False)
    except NoArgsIsHelpError:
        code = 0
    except UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx and exc.ctx.parent else ""
        _error(f"error: {exc.format_message()}{hint}")
        code = 2
    except typer.TyperException as exc:  # click's exceptions (typer's public base of them)
        _error(f"error: {exc.format_message()}")
        code = exc.exit_code
    except typer.Abort:
        _error("aborted")
        code = 130
    except DeepResearchError as exc:
        _error(f"error: {exc}")
        code = exc.exit_code
    except sqlite3.Error as exc:  # a checkpoint write failing mid-run (disk full, database locked too long)
        _error(f"error: database failure: {exc}")
        code = 1
    except KeyboardInterrupt:
        _error("interrupted")
        code = 130
    return code if isinstance(code, int) else 0
