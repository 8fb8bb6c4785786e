"""The parser processes: killed when their parse is cancelled or the run is interrupted (even while they
start), ended when their parent is gone, started from the package's own folder with no keys; a page over
its parse limit is a permanent failure of the research run, and a worker slow to start is not the page's.

Time bounds here only tell a hang apart (generous, for a busy machine); how fast is for benchmarks/."""

import asyncio
import dataclasses
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from core.errors import DocumentError
from core.settings import ParseLimits, load_settings
from deepresearch import runner
from deepresearch.progress import Progress
from tests.cli_helpers import cli_env, spawn
from tests.conftest import QUESTION, run_context
from tests.fakes.hostile import heavy_pdf
from tests.fakes.model_server import ModelServer
from tests.fakes.pdf import make_pdf
from tests.fakes.web_server import Route, WebServer
from tests.processes import running, workers_of
from tools.documents.parse_pool import Job, ParserPool, parse_async, parse_limited

HANG_S = 60.0  # what only a hang takes, on the busiest machine the suite runs on



def _gone(pids: set[int], within: float = HANG_S) -> None:
    """Wait until none of ``pids`` runs; fail if one still does after ``within`` seconds (a hang)."""
    deadline = time.monotonic() + within
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(running(pid) for pid in pids), "a parser process outlived what it was for"


def _new_worker(before: set[int]) -> int:
    """The parser process this process starts next, caught as soon as it exists (it is still loading)."""
    deadline = time.monotonic() + HANG_S
    while not (started := workers_of(os.getpid()) - before):
        assert time.monotonic() < deadline, "no parser process started"
        time.sleep(0.002)
    (worker,) = started
    return worker


class _Parse(threading.Thread):
    """A parse on a thread of its own, as the event loop's executor runs one: its outcome once it ends."""

    def __init__(self, call: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.call, self.outcome = call, ""

    def run(self) -> None:
        try:
            self.outcome = f"parsed: {self.call()}"
        except DocumentError as exc:
            self.outcome = f"{type(exc).__name__}: {exc}"

    def result(self) -> str:
        self.join(HANG_S)
        assert not self.is_alive(), "the parse still waits (a hang)"
        return self.outcome


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
async def test_cancelling_a_parse_kills_its_worker_at_once() -> None:
    import asyncio

    before = workers_of(os.getpid())
    limits = ParseLimits(timeout=60, max_pdf_pages=499)  # a pool of its own
    task = asyncio.ensure_future(parse_async(heavy_pdf(1, 100_000), "pdf", "heavy.pdf", limits))
    worker = await asyncio.to_thread(_new_worker, before)
    await asyncio.sleep(0.3)  # starting or parsing
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(_gone, {worker}, 30)  # killed, not left to parse for the minute its limit allows
    # a cancel that comes after the parse finished leaves the pooled worker alone
    from tools.documents.parse_pool import pool_for

    job = Job()
    pool_for(limits).parse(make_pdf([["done"]]), "pdf", "ok.pdf", None, time.monotonic() + HANG_S, job)
    job.cancel()
    assert "next" in parse_limited(make_pdf([["next"]]), "pdf", "next.pdf", limits).text


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_cancelling_a_parse_kills_its_worker_while_it_starts() -> None:
    """Ctrl-C while the parse's worker still loads its parsers (seconds, on a busy machine): killed, not awaited."""
    pool = ParserPool(ParseLimits(timeout=60, max_pdf_pages=495), size=1)
    job = Job()
    before = workers_of(os.getpid())
    parse = _Parse(lambda: pool.parse(make_pdf([["x"]]), "pdf", "x.pdf", None, time.monotonic() + HANG_S, job))
    parse.start()
    worker = _new_worker(before)
    os.kill(worker, signal.SIGSTOP)  # held where it is: it will not be ready
    job.cancel()
    assert parse.result() == "DocumentError: cancelled"  # not "could not start", 20 s later
    _gone({worker})


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_parse_waiting_for_a_free_worker_can_be_cancelled() -> None:
    pool = ParserPool(ParseLimits(timeout=120, max_pdf_pages=494), size=1)
    busy, waiting = Job(), Job()
    before = workers_of(os.getpid())
    first = _Parse(lambda: pool.parse(make_pdf([["x"]]), "pdf", "x.pdf", None, time.monotonic() + HANG_S, busy))
    first.start()
    worker = _new_worker(before)  # the one worker there may be is the first parse's
    os.kill(worker, signal.SIGSTOP)  # held: it keeps the one slot as long as the test needs
    second = _Parse(lambda: pool.parse(make_pdf([["x"]]), "pdf", "x.pdf", None, time.monotonic() + HANG_S,
                                       waiting))
    second.start()
    waiting.cancel()
    assert second.result() == "DocumentError: cancelled" and first.is_alive()  # it did not wait for the first
    busy.cancel()
    assert first.result() == "DocumentError: cancelled"
    _gone({worker})


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_documents_time_limit_runs_from_when_a_worker_takes_it() -> None:
    """A worker slow to start (a busy machine) does not spend the document's own limit, nor get it refused."""
    limits = ParseLimits(timeout=2, max_pdf_pages=493)  # a pool of its own: its first parse starts a worker
    before = workers_of(os.getpid())
    parse = _Parse(lambda: parse_limited(make_pdf([["on time"]]), "pdf", "a.pdf", limits).text.strip())
    parse.start()
    worker = _new_worker(before)
    os.kill(worker, signal.SIGSTOP)
    time.sleep(3)  # longer than the document may take
    os.kill(worker, signal.SIGCONT)
    assert parse.result() == "parsed: on time"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
async def test_a_worker_slow_to_start_costs_a_web_page_nothing(web: WebServer, tmp_path: Path) -> None:
    """A read with a run deadline far off: the page's worker starting slowly is neither its fault nor the run's."""
    import asyncio

    from core.settings import WebSettings
    from tools.net.http import make_clients
    from tools.reader import WebReader
    from tools.web.fetch import Fetcher
    from tools.web.pages import PageStore

    settings = WebSettings(allow_private_network="127.0.0.1")
    reader = WebReader(Fetcher(make_clients(settings).pages, settings), PageStore(tmp_path / "pages.db"), 3600,
                       ParseLimits(timeout=2, max_pdf_pages=492))  # a pool of its own: its first parse starts a worker
    before = workers_of(os.getpid())
    read = asyncio.ensure_future(reader.read(web.url("/wiki/Glass_Harbor"), "premiere", 5000, time.time() + 3600))
    worker = await asyncio.to_thread(_new_worker, before)
    os.kill(worker, signal.SIGSTOP)
    await asyncio.sleep(3)  # longer than the page may take to parse
    os.kill(worker, signal.SIGCONT)
    page = await asyncio.wait_for(read, HANG_S)
    assert "premiered in Velmora" in page.text


HEAVY = "/velmora-library-architect.pdf"


def heavy_site(web: WebServer) -> None:
    """A page that search ranks first for the library hop, and that would take minutes to parse."""
    web.routes[HEAVY] = Route(heavy_pdf(3, 100_000), "application/pdf",
                              title="Velmora public library architect designed by")


async def test_a_page_over_the_parse_limit_is_a_permanent_failure(model_server: ModelServer, web: WebServer,
                                                                  home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    heavy_site(web)
    # the heavy page needs minutes; a normal page parses in milliseconds, and its limit runs from when a worker
    # takes it, so a busy machine's slow worker start does not count
    monkeypatch.setenv("DEEPRESEARCH_PARSE_TIMEOUT", "3")
    # the other pages take 3 s each: the heavy page becomes a straggler only after 3 x 3 s, long after its parse
    # limit (were they instant, it would be cut as late after 2 s and go on loading in the background)
    for path, route in list(web.routes.items()):
        if path != HEAVY:
            web.routes[path] = dataclasses.replace(route, delay=3.0)
    ctx = run_context(search="searxng", pages_per_round=3)
    result = await asyncio.wait_for(runner.start(load_settings(), thread_id_for("heavy"), QUESTION, "iterresearch", ctx,
                                                 Progress(enabled=False)), HANG_S)
    assert result.answer == "1921"
    failed = [f for f in result.failures if f["target"].endswith(HEAVY)]
    assert len(failed) == 1 and not failed[0]["transient"] and "not parsed within 3s" in failed[0]["error"]
    assert [f["target"] for f in result.failures] == [failed[0]["target"]]  # no other page was refused for time
    assert web.hits(HEAVY) == 1  # never fetched again: later rounds (and a resume) skip it


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_during_a_long_parse_stops_the_run_and_its_workers(model_server: ModelServer, web: WebServer,
                                                                   home: Path) -> None:
    """SIGINT while the heavy page is fetched, its worker starts or parses: exit 130 with the resume hint, and
    every parser process the run started is gone (how fast: benchmarks/interrupt.py)."""
    heavy_site(web)
    env = cli_env(home, model_server.base_url, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                  SEARXNG_URL=web.url("/searxng"), DEEPRESEARCH_PARSE_TIMEOUT="300")
    process = spawn(env, "run", QUESTION, "--search", "searxng", "--thread", "interrupted",
                    "--set", "pages_per_round=3")
    deadline = time.monotonic() + HANG_S
    workers: set[int] = set()
    while web.hits(HEAVY) == 0 or not workers:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        workers |= workers_of(process.pid)
        time.sleep(0.05)
    time.sleep(0.5)  # the heavy page is on its way to a worker, or in one
    process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + HANG_S
    while process.poll() is None and time.monotonic() < deadline:  # (its output is a few lines: no pipe fills)
        workers |= workers_of(process.pid)  # a worker starting as the signal came is one of them
        time.sleep(0.01)
    assert process.poll() is not None, "the run did not stop on Ctrl-C"
    stderr = process.communicate()[1]
    assert process.returncode == 130 and "deepresearch resume interrupted" in stderr, stderr
    assert "Traceback" not in stderr
    assert not any(running(pid) for pid in workers), "no parser process outlives the run"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_worker_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    """kill -9 of the parent mid-parse: the worker notices it is orphaned and ends (it does not parse on)."""
    import subprocess

    from tests.cli_helpers import ROOT

    (tmp_path / "heavy.pdf").write_bytes(heavy_pdf(1, 100_000))
    script = ("import sys; from pathlib import Path; from core.settings import ParseLimits; "
              "from tools.documents.parse_pool import parse_limited; "
              "parse_limited(Path(sys.argv[1]).read_bytes(), 'pdf', 'heavy.pdf', ParseLimits(timeout=120))")
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "heavy.pdf")], cwd=ROOT)
    deadline = time.monotonic() + HANG_S
    while not (workers := workers_of(parent.pid)):
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    parent.kill()
    parent.wait()
    _gone(workers, within=30)  # its watchdog, not its two-minute limit, ended it


def test_the_worker_never_imports_from_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tools.py").write_text("open('PWNED', 'w').write('x')\n")
    monkeypatch.chdir(tmp_path)
    doc = parse_limited(b"<html><title>Safe</title><p>text</p></html>", "html", "a.html",
                        ParseLimits(max_pdf_pages=498))  # a fresh pool: its workers start here
    assert doc.title == "Safe" and not (tmp_path / "PWNED").exists()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_workers_get_no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPRESEARCH_API_KEY", "sk-secret-key")
    monkeypatch.setenv("SERPER_API_KEY", "serper-secret")
    before = workers_of(os.getpid())
    parse_limited(b"<html><p>x</p></html>", "html", "a.html", ParseLimits(max_pdf_pages=497))
    (worker,) = workers_of(os.getpid()) - before
    environ = Path(f"/proc/{worker}/environ").read_bytes()
    assert b"secret" not in environ and b"DEEPRESEARCH" not in environ
