"""How fast Ctrl-C stops a run: seconds from SIGINT to the process's exit, p50 / p95 / max.

    python -m benchmarks.interrupt [--runs 24] [--busy N] [--baseline DIR]

Each run is a fresh `deepresearch run` over a small local web (the toy model, SearXNG, and a PDF among the
hits that would take minutes to parse), sent SIGINT at a different moment, in turn: while the command
loads; just after the first parser processes start; and 0 to 1.5 s after the heavy page is asked for
(fetched, its worker starting or parsing). Every run must end with exit 130 (with the resume hint once the
thread exists; or, silently, by the signal itself if it came before Python set its handler), no traceback,
and every parser process it started gone; the table counts those that did not. ``--busy N`` runs N busy
loops beside it (2 on a 2-core machine: a loaded machine); ``--baseline DIR`` measures another checkout
interleaved with this one, so the comparison holds on a noisy machine.
Target (issue 17): p95 under 2 s, on a quiet machine and beside two busy loops alike.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from tests.conftest import QUESTION
from tests.fakes.web_server import WebServer
from tests.processes import running, workers_of

ROOT = Path(__file__).resolve().parent.parent
HEAVY = "/velmora-library-architect.pdf"
HANG_S = 120.0
MOMENTS = ("loading", "workers start", "heavy page", "heavy page")



def one(checkout: Path, env: dict[str, str], web: WebServer, moment: str, delay: float) -> tuple[float, str] | None:
    """Seconds from SIGINT to exit and what was wrong ('' if nothing); None if the run ended before the signal."""
    home = Path(tempfile.mkdtemp(prefix="bench-interrupt-"))
    before = web.hits(HEAVY)
    proc = subprocess.Popen([sys.executable, "-m", "deepresearch", "run", QUESTION, "--search", "searxng", "--thread",
                             "interrupted", "--set", "pages_per_round=3"],
                            env={**env, "DEEPRESEARCH_HOME": str(home), "PYTHONPATH": str(checkout)}, cwd=checkout,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()

    def watch(done: Callable[[], bool]) -> None:
        """Wait until ``done`` or the run ends, noting every parser process it starts meanwhile."""
        until = time.monotonic() + HANG_S
        while not done() and proc.poll() is None and time.monotonic() < until:
            workers.update(workers_of(proc.pid))
            time.sleep(0.005)

    if moment == "workers start":
        watch(lambda: bool(workers))
    elif moment == "heavy page":
        watch(lambda: web.hits(HEAVY) > before)
    at = time.monotonic() + delay
    watch(lambda: time.monotonic() >= at)
    if proc.poll() is not None:
        proc.communicate()
        return None
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    watch(lambda: False)
    took = time.monotonic() - sent
    if proc.poll() is None:
        proc.kill()
    stderr = proc.communicate()[1]
    # killed by the signal itself, silently: it came before Python set its handler (the first instants)
    before_python = proc.returncode == -signal.SIGINT and not stderr
    wrong = [f"exit {proc.returncode}"] if proc.returncode != 130 and not before_python else []
    wrong += ["traceback"] if "Traceback" in stderr else []
    wrong += ["no resume hint"] if moment != "loading" and "resume interrupted" not in stderr else []
    wrong += ["a parser process outlived it"] if any(running(pid) for pid in workers) else []
    return took, ", ".join(wrong)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=24, help="runs per checkout")
    parser.add_argument("--busy", type=int, default=0, help="busy loops to run beside it")
    parser.add_argument("--baseline", type=Path, help="another checkout to measure side by side")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    from tests.cli_helpers import cli_env
    from tests.conftest import glass_harbor, glass_harbor_site
    from tests.fakes.hostile import heavy_pdf
    from tests.fakes.model_server import ModelServer
    from tests.fakes.toy_model import ToyModel
    from tests.fakes.web_server import Route

    checkouts = {"this": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    rng = random.Random(args.seed)
    results: dict[str, list[tuple[float, str]]] = {label: [] for label in checkouts}
    with ExitStack() as stack:
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
        stack.callback(lambda: [(p.kill(), p.wait()) for p in busy])
        model = stack.enter_context(ModelServer(ToyModel(glass_harbor())))
        web = stack.enter_context(WebServer(glass_harbor_site()))
        web.routes[HEAVY] = Route(heavy_pdf(3, 100_000), "application/pdf",
                                  title="Velmora public library architect designed by")
        env = cli_env(Path(tempfile.mkdtemp()), model.base_url, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                      SEARXNG_URL=web.url("/searxng"), DEEPRESEARCH_PARSE_TIMEOUT="300")
        for i in range(args.runs):  # interleaved: each moment is measured on every checkout in turn
            moment = MOMENTS[i % len(MOMENTS)]
            delay = rng.uniform(0.2, 1.0) if moment == "loading" else rng.uniform(0, 0.3 if moment == "workers start"
                                                                                     else 1.5)
            for label, checkout in checkouts.items():
                outcome = one(checkout, env, web, moment, delay)
                if outcome is not None:
                    results[label].append(outcome)
                    print(f"  {label}: {moment} +{delay:.2f}s: {outcome[0]:.2f}s {outcome[1]}", flush=True)
    print(f"\nseconds from SIGINT to exit (python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
          f"{args.busy} busy loops)\n")
    print("| checkout | runs | p50 | p95 | max | over 2 s | wrong (exit, traceback, hint, workers) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, done in results.items():
        took = sorted(t for t, _ in done)
        if not took:
            continue
        p95 = took[min(len(took) - 1, round(0.95 * (len(took) - 1)))]
        wrong = sum(1 for _, w in done if w)
        print(f"| {label} | {len(took)} | {statistics.median(took):.2f} | {p95:.2f} | {took[-1]:.2f} | "
              f"{sum(t > 2 for t in took)} | {wrong} |")


if __name__ == "__main__":
    main()
