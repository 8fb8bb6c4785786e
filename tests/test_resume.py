"""kill -9 in the middle of a run, then resume: finished rounds are not redone."""

import asyncio
import json
import re
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from checkpoints.threads import thread_id_for
from tests.cli_helpers import InProcess, cli_env, spawn
from tests.conftest import QUESTION
from tests.fakes.model_server import ModelServer


@contextmanager
def killed(proc: subprocess.Popen[str], release: threading.Event) -> Iterator[None]:
    """Wait for the moment the body waits for, then kill -9 the run (and let the held model call go)."""
    try:
        yield
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()


def test_sigkill_mid_run_then_resume(home: Path, model_server: ModelServer, corpus_dir: Path,
                                    run_cli: InProcess) -> None:
    env = cli_env(home, model_server.base_url)
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    release = threading.Event()
    # hold the second report rewrite (round 3, after its pages were read) until the process is dead
    model_server.faults.gates["writer"] = (2, release)
    proc = spawn(env, "run", QUESTION, "--thread", "k1", "--set", "pages_per_round=2")
    with killed(proc, release):
        assert model_server.blocked.wait(60), "the run never reached the gated call"
    assert proc.returncode == -signal.SIGKILL
    planned_before = len(model_server.calls("planner"))
    read_before = len(model_server.calls("reader"))
    assert planned_before == 2  # round 1, and round 3 after round 2's dead end; round 2 was planned with a report

    listing = run_cli(env, "threads")
    assert re.search(rf"^{thread_id_for('k1')}\s+unfinished\s+3\s.*\[k1\]", listing.stdout, re.M), listing.stdout
    progress = run_cli(env, "show", "k1")
    assert "status: unfinished" in progress.stdout and "premiered in Velmora" in progress.stdout

    resumed = run_cli(env, "resume", "k1", "--json")
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert data["answer"] == "1921" and data["thread_id"] == thread_id_for("k1")
    assert f"resuming thread {thread_id_for('k1')} at round 3" in resumed.stderr
    # no finished call was made again: the planner's calls were all before the kill, and the only main call
    # (planner, report writer) made twice is the report rewrite held unanswered when the process died
    planners = model_server.calls("planner")
    assert len(planners) == planned_before and data["rounds"] == 4
    assert sum("(first round)" in c.user for c in planners) == 1
    main = [c.user for c in model_server.calls() if c.role in ("planner", "writer")]
    held = model_server.calls("writer")[1].user
    assert len(main) == len(set(main)) + 1 and main.count(held) == 2
    # round 3's pages were read before the kill and are not read again
    readers = [re.search(r'source="([^"]+)"', c.user).group(1) for c in model_server.calls("reader")]
    assert len(readers) == len(set(readers)) and len(readers) == read_before + 1

    finished = run_cli(env, "resume", "k1")
    assert finished.returncode == 0 and "nothing to resume" in finished.stderr


def test_endpoint_lost_mid_run_exits_2_and_resumes(home: Path, model_server: ModelServer, corpus_dir: Path,
                                                   run_cli: InProcess) -> None:
    env = cli_env(home, model_server.base_url)
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    model_server.faults.drop = {"writer"}  # the server dies when the first report is being written
    done = run_cli(env, "run", QUESTION, "--thread", "lost", "--set", "pages_per_round=2")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert "cannot reach the model endpoint" in last and "deepresearch resume lost" in last
    assert "Traceback" not in done.stderr
    assert len(model_server.calls("reader")) == 2
    model_server.faults.drop = set()
    resumed = run_cli(env, "resume", "lost", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["answer"] == "1921"
    planners = model_server.calls("planner")  # round 1 and round 3 (after a dead end): round 1 not planned again
    assert len(planners) == 2 and sum("(first round)" in c.user for c in planners) == 1


def test_reads_that_finished_before_a_kill_are_not_read_again(home: Path, model_server: ModelServer,
                                                              corpus_dir: Path, run_cli: InProcess) -> None:
    """kill -9 while one read of the round is still out: the reads already printed are kept."""
    env = cli_env(home, model_server.base_url)
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    release = threading.Event()
    model_server.faults.hold_when = {'lantern_cinema.md"': release}  # this page's read never returns
    proc = spawn(env, "run", QUESTION, "--thread", "k2", "--set", "pages_per_round=3")
    finished: list[str] = []
    with killed(proc, release):
        assert proc.stderr is not None
        for line in proc.stderr:
            if "✓ evidence" in line or "· nothing relevant" in line:
                finished.append(line.split("  ")[-1].split(" (")[0].strip())
            if len(finished) == 2:
                break
    assert sorted(finished) == ["Glass Harbor", "Harbor Lights"]  # titles, as printed (token counts cut off)
    model_server.faults.hold_when = {}
    resumed = run_cli(env, "resume", "k2", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["answer"] == "1921"
    readers = [re.search(r'source="([^"]+)"', c.user).group(1) for c in model_server.calls("reader")]
    for name in ("glass_harbor.md", "harbor_lights.md"):  # read once, before the kill
        assert sum(url.endswith(name) for url in readers) == 1, readers


def test_a_thread_that_ended_on_a_budget_researches_on_with_a_larger_one(home: Path, model_server: ModelServer,
                                                                          corpus_dir: Path,
                                                                          run_cli: InProcess) -> None:
    env = cli_env(home, model_server.base_url)
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    short = run_cli(env, "run", QUESTION, "--thread", "budget", "--max-rounds", "1", "--json")
    assert short.returncode == 0 and json.loads(short.stdout)["answer"] != "1921"
    same = run_cli(env, "resume", "budget")
    assert same.returncode == 1 and "max_rounds (1) reached" in same.stderr and "--max-rounds N" in same.stderr
    more = run_cli(env, "resume", "budget", "--max-rounds", "6", "--json")
    assert more.returncode == 0, more.stderr
    data = json.loads(more.stdout)
    assert data["answer"] == "1921" and data["rounds"] > 1 and len(data["sources"]) == 3
    assert "researching on" in more.stderr
    again = run_cli(env, "resume", "budget", "--max-rounds", "9")
    assert again.returncode == 0 and "nothing to resume" in again.stderr  # it answered: done for good


async def test_a_thread_stopped_between_steps_is_resumable(home: Path, model_server: ModelServer, corpus_dir: Path,
                                                           run_cli: InProcess) -> None:
    """No next step and no answer (as a kill or a full disk can leave it): listed unfinished, and resumed."""
    from core.settings import load_settings
    from deepresearch import runner
    from deepresearch.progress import Progress
    from tests.conftest import run_context
    from tools.corpus.store import Corpus

    home.mkdir(parents=True, exist_ok=True)
    Corpus(home / "corpus.db").ingest([corpus_dir])
    thread = thread_id_for("stopped")
    await runner.start(load_settings(), thread, QUESTION, "iterresearch", run_context(review_plan=True),
                       Progress(enabled=False))
    async with runner.saver_for(load_settings()) as saver:
        graph = runner.compile_graph("iterresearch", saver)
        config = {"configurable": {"thread_id": thread}}
        await graph.aupdate_state(config, {"report": ""}, as_node="answer")  # ends the graph, with no answer
        stopped = await graph.aget_state(config)
    assert stopped.next == () and not stopped.values.get("done")
    env = cli_env(home, model_server.base_url)
    assert any(line.startswith(thread) and " unfinished " in line
               for line in (await asyncio.to_thread(run_cli, env, "threads")).stdout.splitlines())
    resumed = await asyncio.to_thread(run_cli, env, "resume", "stopped", "--json", stdin="\n" * 10)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["answer"] == "1921"


def test_a_disk_that_fills_up_mid_run_leaves_a_resumable_thread(home: Path, model_server: ModelServer,
                                                                 corpus_dir: Path, run_cli: InProcess) -> None:
    """The files may not grow past 200 KB (as on a full disk): one line, and the thread goes on later."""
    import sys

    from tests.cli_helpers import ROOT

    env = cli_env(home, model_server.base_url)
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    full_disk = ("import resource, signal, sys\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
                 "resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))\n"
                 "from deepresearch.cli import main\nmain(sys.argv[1:])\n")
    done = subprocess.run([sys.executable, "-c", full_disk, "run", QUESTION, "--thread", "full", "--set",
                           "pages_per_round=2"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "is the disk full?" in last and "`deepresearch resume full`" in last
    assert re.search(rf"^{thread_id_for('full')}\s+unfinished\s", run_cli(env, "threads").stdout, re.M)
    resumed = run_cli(env, "resume", "full", "--json")
    assert resumed.returncode == 0 and json.loads(resumed.stdout)["answer"] == "1921"


async def test_a_step_whose_results_were_saved_but_not_the_checkpoint_after_it_is_kept(
        home: Path, model_server: ModelServer, corpus_dir: Path, run_cli: InProcess) -> None:
    """Killed (or the disk filled) after round 1's synthesis saved its writes, before the next checkpoint.

    The thread then ends on a checkpoint whose one task is done: resume carries on from the saved report
    and plan, it does not restart the round from the planner (which lost the report and, its pages
    counted as read, answered "unknown").
    """
    from core.settings import load_settings
    from deepresearch import runner

    env = cli_env(home, model_server.base_url)
    assert (await asyncio.to_thread(run_cli, env, "ingest", str(corpus_dir))).returncode == 0
    done = await asyncio.to_thread(run_cli, env, "run", QUESTION, "--thread", "cut", "--json",
                                  "--set", "pages_per_round=2")
    assert done.returncode == 0 and json.loads(done.stdout)["answer"] == "1921"
    thread = thread_id_for("cut")
    async with runner.saver_for(load_settings()) as saver:
        graph = runner.compile_graph("iterresearch", saver)
        history = [s async for s in graph.aget_state_history({"configurable": {"thread_id": thread}})]
    synthesis = next(s for s in reversed(history) if s.next == ("synthesize",))
    cut = synthesis.config["configurable"]["checkpoint_id"]
    with sqlite3.connect(home / "checkpoints.db") as conn:  # every checkpoint after it, and their writes
        for table in ("writes", "checkpoints"):
            conn.execute(f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id > ?", (thread, cut))
        assert conn.execute("SELECT count(*) FROM writes WHERE thread_id = ? AND checkpoint_id = ?",
                            (thread, cut)).fetchone()[0] > 0  # the synthesis' own writes are still there
    planners, writers = len(model_server.calls("planner")), len(model_server.calls("writer"))

    resumed = await asyncio.to_thread(run_cli, env, "resume", "cut", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert "(next: after synthesize)" in resumed.stderr
    assert json.loads(resumed.stdout)["answer"] == "1921"
    # the rest of the run again, as it went the first time: every main call but round 1's planner and synthesis
    assert len(model_server.calls("planner")) - planners == planners - 1
    assert len(model_server.calls("writer")) - writers == writers - 1
    assert json.loads(resumed.stdout)["rounds"] == json.loads(done.stdout)["rounds"]


async def test_a_step_that_failed_after_its_results_were_saved_is_researched_on(
        home: Path, model_server: ModelServer, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A routing bug raises after `decide` saved its update: resume goes on with the next round, not to END.

    (Carrying on from the saved writes would find no route and stop "unfinished" without an answer.)
    """
    from core.settings import load_settings
    from deepresearch import runner
    from deepresearch.progress import Progress
    from graphs import iterresearch
    from tests.conftest import run_context
    from tools.corpus.store import Corpus

    home.mkdir(parents=True, exist_ok=True)
    Corpus(home / "corpus.db").ingest([corpus_dir])
    real, calls = iterresearch.route_decision, []

    def fails_once(state: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("a routing bug")
        return real(state)

    monkeypatch.setattr(iterresearch, "route_decision", fails_once)
    runner._compiled.cache_clear()  # the graph is built again, with the failing route
    try:
        with pytest.raises(ValueError, match="a routing bug"):
            await runner.start(load_settings(), thread_id_for("routed"), QUESTION, "iterresearch", run_context(),
                               Progress(enabled=False), name="routed")
        result = await runner.resume(load_settings(), "routed", Progress(enabled=False))
    finally:
        runner._compiled.cache_clear()
    assert result.status == "done" and result.answer == "1921"
