"""How the `deepresearch` process ends: with the command's status, its output flushed, every exit handler run
once, and none of the interpreter's teardown (deepresearch/__main__.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli_helpers import ROOT, cli_env
from tests.test_interrupt import PYTHON_M

# a library's exit handler, and an object whose finaliser only the interpreter's teardown would call
BESIDE = """import atexit, sys
atexit.register(lambda: print("handler ran", file=sys.stderr))
class Kept:
    def __del__(self):
        print("torn down", file=sys.stderr)
kept = Kept()
"""


def command(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BESIDE + PYTHON_M, *args], env=cli_env(home), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_process_ends_after_the_exit_handlers_without_teardown(tmp_path: Path) -> None:
    done = command(tmp_path / "home", "--help")
    assert done.returncode == 0 and "Usage" in done.stdout  # piped output, flushed before the end
    assert done.stderr.count("handler ran") == 1 and "torn down" not in done.stderr


def test_the_commands_status_is_the_processs(tmp_path: Path) -> None:
    done = command(tmp_path / "home", "show", "no-such-thread")
    assert done.returncode == 1 and "deepresearch: error: unknown thread" in done.stderr
    assert done.stderr.count("handler ran") == 1
    assert command(tmp_path / "home", "--no-such-flag").returncode == 2


def test_exit_handlers_run_now_are_not_run_again_at_exit() -> None:
    """What deepresearch.atexit_private.run_exit_handlers relies on (``atexit._run_exitfuncs``)."""
    script = ("import atexit\nfrom deepresearch.atexit_private import run_exit_handlers\n"
              "atexit.register(print, 'first')\natexit.register(print, 'second')\n"
              "run_exit_handlers()\nprint('after')\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["second", "first", "after"]
