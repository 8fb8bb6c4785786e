"""How fast the `deepresearch` command starts: median wall time per command over N runs.

    python -m benchmarks.startup [--runs 5] [--baseline DIR]

Commands, each a fresh process as a user starts it:
- `--help`;
- `threads` on a home holding 12 threads (10 done, one waiting for plan review, one unfinished);
- `run "QUESTION"` until its first model call arrives at the local toy endpoint (the process is then
  killed): the time a user waits before any research happens; with the CPU seconds the process had spent by
  then (what the wait is on a quiet machine: the start is all CPU, mostly imports);
- `run "QUESTION"` to its end: from the last model call's reply (the toy endpoint records when it answered)
  to the process's exit, the time a finished run still holds the terminal (or a script running many).

With ``--baseline DIR`` (a checkout of another version, e.g. ``git worktree add /tmp/base HEAD~3``), the
same commands run from that checkout in the same session, interleaved, so the ratios are fair on a busy
machine. Targets: `--help` and `threads` under 0.5 s; `run` to its first model call under 1.0 s on a quiet
machine; from the last model call to the exit under 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = ("In what year was the architect born who designed the public library of the town "
            "where the film Glass Harbor premiered?")


def environment(home: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPRESEARCH_")}
    env.update({"DEEPRESEARCH_HOME": str(home), "DEEPRESEARCH_BASE_URL": base_url, "DEEPRESEARCH_MAX_RETRIES": "0"})
    return env


def command(checkout: Path, *args: str) -> list[str]:
    """`python -m deepresearch` from a checkout (its own folder comes first on sys.path)."""
    return [sys.executable, "-m", "deepresearch", *args] if checkout == ROOT else [
        sys.executable, "-c", f"import sys; sys.path.insert(0, {str(checkout)!r}); import runpy; "
        "runpy.run_module('deepresearch', run_name='__main__')", *args]


def timed(checkout: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(command(checkout, *args), env=env, cwd=checkout, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {checkout}: {done.stderr.strip()[-500:]}")
    return elapsed


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds process ``pid`` has spent so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_call(checkout: Path, env: dict[str, str], server: object) -> tuple[float, float]:
    """Wall seconds from starting `run` to the first chat completion request reaching the endpoint, and CPU seconds.

    The endpoint holds that request (a gate), so the CPU time read then is the start's alone.
    """
    calls = server.calls  # type: ignore[attr-defined]
    before = len(calls())
    started = time.time()
    proc = subprocess.Popen(command(checkout, "run", QUESTION, "-q"), env=env, cwd=checkout,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while len(calls()) == before:
            if proc.poll() is not None:
                stderr = proc.stderr.read() if proc.stderr else ""
                raise SystemExit(f"run exited before calling the model: {stderr[-500:]}")
            time.sleep(0.005)
        return calls()[before].at - started, cpu_seconds(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def last_call_to_exit(checkout: Path, env: dict[str, str], server: object) -> float:
    """Seconds from the reply to a whole run's last model call to the process's exit.

    The toy endpoint answers at once, so a call's recorded time is its reply's.
    """
    calls = server.calls  # type: ignore[attr-defined]
    before = len(calls())
    done = subprocess.run(command(checkout, "run", QUESTION, "-q"), env=env, cwd=checkout, capture_output=True,
                          text=True)
    exited = time.time()
    if done.returncode != 0 or len(calls()) == before:
        raise SystemExit(f"run failed in {checkout}: {done.stderr.strip()[-500:]}")
    return exited - calls()[-1].at


def populate(home: Path, corpus: Path, base_url: str) -> None:
    """12 threads: 10 done, one waiting for plan review, one unfinished (its model died mid-run)."""
    env = environment(home, base_url)
    subprocess.run(command(ROOT, "ingest", str(corpus)), env=env, cwd=ROOT, check=True, capture_output=True)
    for i in range(10):
        subprocess.run(command(ROOT, "run", QUESTION, "--thread", f"done-{i}", "-q", "--set", "max_rounds=2"),
                       env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(command(ROOT, "run", QUESTION, "--thread", "review", "--review", "-q"), env=env, cwd=ROOT,
                   input="", check=True, capture_output=True, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to measure side by side")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.conftest import glass_harbor, write_corpus
    from tests.fakes.model_server import ModelServer
    from tests.fakes.toy_model import ToyModel

    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    corpus = write_corpus(work / "corpus")
    checkouts = {"this": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    results: dict[tuple[str, str], list[float]] = {}
    with ModelServer(ToyModel(glass_harbor())) as server:
        home = work / "home"
        populate(home, corpus, server.base_url)
        server.faults.drop = {"planner"}  # one more thread, left unfinished when its model dies
        subprocess.run(command(ROOT, "run", QUESTION, "--thread", "unfinished", "-q"), cwd=ROOT,
                       env=environment(home, server.base_url), capture_output=True)
        server.faults.drop = set()
        env = environment(home, server.base_url)
        runs = environment(work / "runs", server.base_url)  # whole runs go here: `threads` keeps its 12
        subprocess.run(command(ROOT, "ingest", str(corpus)), env=runs, cwd=ROOT, check=True, capture_output=True)
        for _ in range(args.runs):  # interleaved: each round measures every checkout once
            for label, checkout in checkouts.items():
                results.setdefault((label, "--help"), []).append(timed(checkout, env, "--help"))
                results.setdefault((label, "threads"), []).append(timed(checkout, env, "threads"))
                results.setdefault((label, "run: last model call to exit"), []).append(
                    last_call_to_exit(checkout, runs, server))
                release = threading.Event()
                server.faults.gates["planner"] = (1, release)  # the run waits at its first call, then dies
                wall, cpu = first_call(checkout, env, server)
                release.set()
                del server.faults.gates["planner"]
                results.setdefault((label, "run: first model call"), []).append(wall)
                results.setdefault((label, "run: first model call, CPU s"), []).append(cpu)
    targets = {"--help": "< 0.5 s", "threads": "< 0.5 s", "run: first model call": "< 1.0 s quiet",
               "run: first model call, CPU s": "-", "run: last model call to exit": "< 0.2 s"}
    print(f"median wall seconds over {args.runs} runs (python {sys.version.split()[0]}, {os.cpu_count()} cpus)\n")
    header = "| command | target | " + " | ".join(checkouts) + (" | this / baseline |" if args.baseline else " |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, target in targets.items():
        medians = {label: statistics.median(results[(label, name)]) for label in checkouts}
        row = f"| `{name}` | {target} | " + " | ".join(f"{m:.2f}" for m in medians.values())
        if args.baseline:
            row += f" | {medians['this'] / medians['baseline']:.2f}x"
        print(row + " |")


if __name__ == "__main__":
    main()
