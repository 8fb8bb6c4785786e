"""How the command ends, in a real process: Ctrl-C at any moment (even while the command is still loading) is
one line and exit 130, and the exit is not held up by a final garbage collection over everything loaded.

Ctrl-C during a run's parses: tests/test_parse_workers.py. How fast the command stops: benchmarks/interrupt.py.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT, cli_env
from tests.conftest import QUESTION
from tests.fakes.model_server import ModelServer
from tests.fakes.web_server import WebServer

HANG_S = 120.0  # what only a hang takes, on the busiest machine the suite runs on
# Ctrl-C as the command's modules load: a SIGINT sent from inside, the moment `typer` starts to be imported
CTRL_C_WHILE_LOADING = """import os, signal, sys
def interrupt(event, args):
    if event == "import" and args[0] == "typer":
        os.kill(os.getpid(), signal.SIGINT)
sys.addaudithook(interrupt)
"""
# what the interpreter's final collection will walk, reported by the last thing to run before it
LEFT_AT_EXIT = """import atexit, gc, sys
atexit.register(lambda: print(f"tracked at exit: {len(gc.get_objects())}", file=sys.stderr))
"""


def console_script() -> str:
    """The `deepresearch` command as pyproject.toml declares it, started as the installed script starts it."""
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["deepresearch"]
    module, function = target.split(":")
    return f"import importlib, sys\nsys.exit(getattr(importlib.import_module({module!r}), {function!r})())\n"


PYTHON_M = "import runpy\nrunpy.run_module('deepresearch', run_name='__main__', alter_sys=True)\n"


@pytest.mark.parametrize("start", [console_script(), PYTHON_M], ids=["console-script", "python-m"])
def test_ctrl_c_while_the_command_loads_is_one_line_and_exit_130(tmp_path: Path, start: str) -> None:
    done = subprocess.run([sys.executable, "-c", CTRL_C_WHILE_LOADING + start, "threads"],
                          env=cli_env(tmp_path / "home"), cwd=ROOT, capture_output=True, text=True, timeout=HANG_S)
    assert (done.returncode, done.stderr) == (130, "deepresearch: interrupted\n")


def test_a_run_leaves_nothing_for_the_final_collection(model_server: ModelServer, web: WebServer,
                                                      home: Path) -> None:
    """Python's last act is a full collection over every object still alive: after a run (or its Ctrl-C),
    hundreds of thousands of them, seconds of CPU on a busy machine before the process is gone."""
    env = cli_env(home, model_server.base_url, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                  SEARXNG_URL=web.url("/searxng"))
    done = subprocess.run([sys.executable, "-c", LEFT_AT_EXIT + PYTHON_M, "run", QUESTION, "--search", "searxng",
                           "--set", "pages_per_round=2"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=HANG_S)
    assert done.returncode == 0 and "1921" in done.stdout, done.stderr
    tracked = int(done.stderr.rsplit("tracked at exit: ", 1)[1])
    assert tracked < 1_000  # what the run made is out of the collector's way (it was over 300,000)
