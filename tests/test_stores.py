"""Damaged stores are reported, not trusted; a read-only home can still be read.

`doctor` runs SQLite's quick check on each database of the home and fails on damage (one line per
problem, never a traceback); `threads`, `show` and `doctor` open the databases read-only, so they work in
a home nobody may write. That is checked for real: as root (whom permissions do not stop) the commands run
in a process without the capabilities that bypass them.
"""

from __future__ import annotations

import ctypes
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from tests.cli_helpers import ROOT, Done, InProcess, cli_env
from tests.fakes.model_server import ModelServer

PR_CAPBSET_DROP = 24
BYPASSES = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: the forked child only calls into it


@pytest.fixture
def env(stocked_env: dict[str, str]) -> dict[str, str]:
    return stocked_env



def read_back(thread_id: str, listing: Done, as_json: Done, show: Done) -> None:
    """`threads`, `threads --json` and `show --json` of a home whose one thread, done, was edited to "edited"."""
    assert show.returncode == 0, show.stderr
    result = json.loads(show.stdout)
    assert result["report"] == "edited" and result["status"] == "done"
    assert listing.returncode == 0, listing.stderr
    assert [line.split()[:3] for line in listing.stdout.splitlines()[1:]] == [
        [thread_id, "done", str(result["rounds"])]]
    assert as_json.returncode == 0, as_json.stderr
    assert [(r["thread_id"], r["status"], r["rounds"]) for r in json.loads(as_json.stdout)] == [
        (thread_id, "done", result["rounds"])]

def settle(db: Path) -> None:
    """Fold the WAL into the database file; closing the last connection removes the -wal and -shm files."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def doctor_lines(run_cli: InProcess, env: dict[str, str]) -> tuple[int, dict[str, str], str]:
    done = run_cli(env, "doctor")
    assert "Traceback" not in done.stderr + done.stdout
    return done.returncode, {line[:12].strip(): line[12:] for line in done.stdout.splitlines()}, done.stderr


def test_doctor_on_a_healthy_home(env: dict[str, str], run_cli: InProcess) -> None:
    code, lines, _ = doctor_lines(run_cli, env)
    assert code == 0
    assert lines["integrity"] == "corpus.db ok; pages.db ok; checkpoints.db ok"
    assert lines["corpus"].startswith("8 documents") and lines["checkpoints"].startswith("1 threads")
    assert lines["checkpoints"].endswith("journal wal") and lines["endpoint"].endswith("reachable")


def test_doctor_on_an_empty_home_creates_nothing(home: Path, model_server: ModelServer, run_cli: InProcess) -> None:
    code, lines, _ = doctor_lines(run_cli, cli_env(home, model_server.base_url))
    assert code == 0 and lines["integrity"] == "corpus.db none yet; pages.db none yet; checkpoints.db none yet"
    assert not home.exists()


def test_doctor_on_a_home_that_is_a_file(home: Path, model_server: ModelServer, run_cli: InProcess) -> None:
    home.parent.mkdir(parents=True, exist_ok=True)
    home.write_text("")
    code, lines, _ = doctor_lines(run_cli, cli_env(home, model_server.base_url))
    assert code == 1 and lines["home"].endswith(": NOT a folder (DEEPRESEARCH_HOME)")


def overwrite_a_btree_page(db: Path) -> None:
    """Garbage over a b-tree page in the middle of a real database (a page whose type byte says b-tree)."""
    data = bytearray(db.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    pages = len(data) // size
    page = next(n for n in [*range(pages // 2, pages), *range(1, pages // 2)] if data[n * size] in (2, 5, 10, 13))
    data[page * size:(page + 1) * size] = b"\xff" * size
    db.write_bytes(bytes(data))


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda db: db.write_bytes(os.urandom(8192)), "not a SQLite database"),
    (lambda db: db.write_bytes(b""), "empty file"),
    (lambda db: db.write_bytes(db.read_bytes()[:50]), "database disk image is malformed"),
    (overwrite_a_btree_page, ""),  # SQLite's own words for the page
], ids=["random-bytes", "zero-length", "truncated", "page-overwritten"])
def test_doctor_reports_a_damaged_checkpoint_database(env: dict[str, str], home: Path, run_cli: InProcess,
                                                      damage: Callable[[Path], object], problem: str) -> None:
    db = home / "checkpoints.db"
    settle(db)  # every committed page in the file itself
    damage(db)
    code, lines, stderr = doctor_lines(run_cli, env)
    assert code == 1, lines
    corpus, pages, checkpoints = lines["integrity"].split("; ")
    assert corpus == "corpus.db ok" and pages == "pages.db ok"
    assert checkpoints.startswith(f"checkpoints.db DAMAGED: {problem}") and len(checkpoints) > 24, checkpoints
    assert lines["checkpoints"] == "not read: checkpoints.db is damaged"
    assert lines["corpus"].startswith("8 documents") and lines["endpoint"].endswith("reachable")  # the rest stays
    assert stderr == ""


def drop_root_powers() -> None:  # runs in the forked child, before exec
    for cap in BYPASSES:
        if LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def confined(env: dict[str, str], *commands: list[str]) -> list[Done]:
    """Python commands, run at once, each in a process that file permissions stop.

    As root, whom they do not stop, the process runs without the capabilities that bypass them.
    """
    procs = [subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, preexec_fn=drop_root_powers if os.geteuid() == 0 else None)
             for args in commands]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(Done(proc.returncode, out, err))
    return done


def snapshot(home: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in home.iterdir()}


# edits thread "kept" by hand, as Studio can: `threads` leaves such a thread to LangGraph, so it opens the saver too
EDIT = """
import asyncio, os, sys
from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch import runner

async def edit():
    async with runner.saver_for(load_settings()) as saver:
        graph = runner.compile_graph("iterresearch", saver)
        await graph.aupdate_state({"configurable": {"thread_id": thread_id_for("kept")}}, {"report": "edited"})
        if sys.argv[1:] == ["die"]:
            os._exit(0)  # as kill -9 would: the edit lives only in the -wal file, beside its -shm

asyncio.run(edit())
"""


@pytest.mark.parametrize("killed", [False, True], ids=["clean-exit", "killed-writer"])
def test_a_read_only_home_can_be_read(env: dict[str, str], home: Path, killed: bool) -> None:
    """A home nobody may write: after a clean exit (no -wal or -shm files, which SQLite would have to create to
    read a WAL database) or with a writer killed mid-write (its last transaction only in checkpoints.db-wal)."""
    for db in home.glob("*.db"):
        settle(db)
    edited = subprocess.run([sys.executable, "-c", EDIT, *(["die"] if killed else [])], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert edited.returncode == 0, edited.stderr
    names = {"checkpoints.db", "corpus.db", "pages.db", "capabilities.json"}  # the last: the run's probe findings
    assert {p.name for p in home.iterdir()} == names | ({"checkpoints.db-wal", "checkpoints.db-shm"} if killed
                                                        else set())
    thread_id = thread_id_for("kept")
    before = snapshot(home)
    home.chmod(0o555)
    for path in home.iterdir():
        path.chmod(0o444)
    try:
        try:
            [probe] = confined(env, ["-c", f"open({str(home / 'x')!r}, 'w')"])
        except subprocess.SubprocessError:  # prctl refused
            probe = Done(0, "", "")
        if probe.returncode == 0 or "Permission denied" not in probe.stderr:
            pytest.skip("this process cannot give up the power to write a read-only folder")
        listing, as_json, show, doctor = confined(env, *(["-m", "deepresearch", *args] for args in (
            ["threads"], ["threads", "--json"], ["show", thread_id[:8], "--json"], ["doctor"])))
        read_back(thread_id, listing, as_json, show)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "integrity   corpus.db ok; pages.db ok; checkpoints.db ok" in doctor.stdout
        assert "checkpoints 1 threads" in doctor.stdout and "journal wal" in doctor.stdout
        assert snapshot(home) == before  # nothing written, created or removed
    finally:
        home.chmod(0o755)
        for path in home.iterdir():
            path.chmod(0o644)


def test_doctor_calls_a_locked_database_busy_not_damaged(env: dict[str, str], home: Path,
                                                         run_cli: InProcess) -> None:
    """A writer holding the corpus locked (longer than doctor waits) is not damage: exit 0, one line saying so."""
    (home / "corpus.db").unlink()
    holder = sqlite3.connect(home / "corpus.db")
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("CREATE TABLE t (x)")
    holder.commit()
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, lines, _ = doctor_lines(run_cli, env)
    finally:
        holder.rollback()
        holder.close()
    assert code == 0, lines
    assert lines["corpus"] == "not read: corpus.db is busy (another process is writing to it)"
    assert "corpus.db busy, not checked" in lines["integrity"]
