"""A damaged database is named with what to do, never used, and never answered with a thread to resume.

Random bytes, a file cut short, or an empty file in place of checkpoints.db, pages.db or corpus.db: `run`
stops before a thread is made, `resume`, `show` and `threads` say the same of the database they need, the
file stays as it was, and `resume` is offered only for a thread that has a saved step.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from tests.cli_helpers import ROOT, InProcess, cli_env
from tests.conftest import QUESTION
from tests.fakes.model_server import ModelServer
from tests.test_stores import settle

DAMAGE: dict[str, tuple[Callable[[Path], object], str]] = {
    "random-bytes": (lambda db: db.write_bytes(os.urandom(8192)), "file is not a database"),
    "truncated": (lambda db: db.write_bytes(db.read_bytes()[:50]), "database disk image is malformed"),
    "zero-length": (lambda db: db.write_bytes(b""), "empty file"),
}
# runs the CLI with files limited to `limit` bytes, as on a full disk (SQLite then fails to write)
FULL_DISK = ("import resource, signal, sys\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
             "limit = int(sys.argv.pop(1))\nresource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
             "from deepresearch.cli import main\nmain(sys.argv[1:])\n")


@pytest.fixture
def env(stocked_env: dict[str, str]) -> dict[str, str]:
    return stocked_env


def last_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    return stderr.strip().splitlines()[-1]


def damaged(db: Path, problem: str) -> str:
    """The one line that names a damaged database and what to do."""
    return (f"deepresearch: error: {db} is damaged ({problem}): move it aside (`mv {db} {db}.damaged`) and the next "
            "command that writes starts a new one; `deepresearch doctor` checks every database")


@pytest.mark.parametrize("kind", DAMAGE)
@pytest.mark.parametrize("name", ["checkpoints.db", "pages.db", "corpus.db"])
def test_a_damaged_database_is_named_and_left_alone(env: dict[str, str], home: Path, run_cli: InProcess,
                                                    name: str, kind: str) -> None:
    db = home / name
    settle(db)  # every committed page in the file itself
    damage, problem = DAMAGE[kind]
    damage(db)
    before = db.read_bytes()
    run = run_cli(env, "run", QUESTION, "--thread", "new", "--search", "local", "-q")
    assert run.returncode == 1 and last_line(run.stderr) == damaged(db, problem)  # no resume offered, no disk blamed
    needs = {"checkpoints.db": ("resume", "show", "threads"), "pages.db": ("resume",), "corpus.db": ()}[name]
    for args in (["resume", "kept", "-q"], ["show", "kept"], ["threads"]):
        done = run_cli(env, *args)
        if args[0] in needs:
            assert done.returncode == 1 and last_line(done.stderr) == damaged(db, problem), args
        else:  # what does not need the damaged file works (the thread "kept" is done: nothing to resume)
            assert done.returncode == 0, (args, done.stderr)
    if name != "checkpoints.db":
        assert [row["thread_id"] for row in json.loads(run_cli(env, "threads", "--json").stdout)] == [
            thread_id_for("kept")]  # `run` made no thread
    assert db.read_bytes() == before  # never written over, an empty file not taken for a new database


def test_a_database_damaged_mid_run_is_named_and_the_thread_resumes_once_it_is_replaced(
        env: dict[str, str], home: Path, corpus_dir: Path, run_cli: InProcess) -> None:
    """The corpus turns to garbage while a thread waits for plan review: resume names it, and keeps its word."""
    waiting = run_cli(env, "run", QUESTION, "--thread", "rev", "--search", "local", "--review", "-q")
    assert waiting.returncode == 0 and "waiting for plan review" in waiting.stderr
    corpus = home / "corpus.db"
    corpus.write_bytes(os.urandom(8192))
    failed = run_cli(env, "resume", "rev", "-q", stdin="\n")
    assert failed.returncode == 1
    assert last_line(failed.stderr) == (damaged(corpus, "file is not a database")
                                 + ". Progress up to the last step is saved: `deepresearch resume rev`")
    corpus.rename(home / "corpus.db.damaged")
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    resumed = run_cli(env, "resume", "rev", "--json", stdin="\n" * 10)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["answer"] == "1921"


def test_a_disk_full_before_the_first_step_offers_no_resume(home: Path, model_server: ModelServer,
                                                            corpus_dir: Path, run_cli: InProcess) -> None:
    """Files may grow to 32 KB: the corpus can be read (its -shm file is that size), the new checkpoint database
    set up, but not the thread's first step. Nothing is offered for resuming; run again, it goes through."""
    if resource.getpagesize() > 32768:
        pytest.skip("the -shm file of a database is a memory page here, larger than the 32 KB this test allows")
    env = cli_env(home, model_server.base_url)
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    done = subprocess.run([sys.executable, "-c", FULL_DISK, "32768", "run", QUESTION, "--thread", "full", "-q"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert last_line(done.stderr) == (f"deepresearch: error: cannot store the research (database "
                                      f"{home / 'checkpoints.db'}: disk I/O error); is the disk full? "
                                      "No step of thread full was saved")
    assert json.loads(run_cli(env, "threads", "--json").stdout) == []
    again = run_cli(env, "run", QUESTION, "--thread", "full", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["answer"] == "1921"


def test_processes_making_a_database_at_once_never_meet_an_empty_file(tmp_path: Path) -> None:
    """SQLite writes a new file's header only after creating it; a database of the home is linked into place
    whole, so the refusal of empty files cannot hit a process that merely came second."""
    db = tmp_path / "pages.db"
    script = ("import sys\nfrom pathlib import Path\nfrom tools.web.pages import PageStore\n"
              "PageStore(Path(sys.argv[1])).put('https://example.org/' + sys.argv[2], 't', 'text ' + sys.argv[2])\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(db), str(n)], cwd=ROOT, stderr=subprocess.PIPE,
                              text=True) for n in range(8)]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 8, errors
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM urls").fetchone() == (8,)
    conn.close()
    assert not [p.name for p in tmp_path.iterdir() if not p.name.startswith("pages.db")]  # no file made aside is left
