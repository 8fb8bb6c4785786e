"""The parser processes: killed at once when their parse is cancelled or the run is interrupted, ended when
their parent is gone, started from the package's own folder with no keys; a page over its parse limit is
a permanent failure of the research run."""

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from core.settings import ParseLimits, load_settings
from deepresearch import runner
from deepresearch.progress import Progress
from tests.cli_helpers import cli_env, spawn
from tests.conftest import QUESTION, run_context
from tests.fakes.hostile import heavy_pdf
from tests.fakes.model_server import ModelServer
from tests.fakes.pdf import make_pdf
from tests.fakes.web_server import Route, WebServer
from tools.parse_pool import parse_async, parse_limited


def _workers_of(parent: int) -> set[int]:
    """The parser processes whose parent is ``parent`` (Linux)."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"tools.parse_worker" in cmdline:
            found.add(int(pid))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
async def test_cancelling_a_parse_kills_its_worker_at_once() -> None:
    import asyncio

    before = _workers_of(os.getpid())
    limits = ParseLimits(timeout=60, max_pdf_pages=499)  # a pool of its own
    task = asyncio.ensure_future(parse_async(heavy_pdf(1, 100_000), "pdf", "heavy.pdf", limits))
    for _ in range(200):
        await asyncio.sleep(0.05)
        if _workers_of(os.getpid()) - before:
            break
    (worker,) = _workers_of(os.getpid()) - before
    await asyncio.sleep(0.3)  # parsing
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    while _running(worker) and time.monotonic() - started < 5:
        await asyncio.sleep(0.05)
    assert not _running(worker) and time.monotonic() - started < 2
    # a cancel that comes after the parse finished leaves the pooled worker alone
    from tools.parse_pool import Job, pool_for

    job = Job()
    pool_for(limits).parse(make_pdf([["done"]]), "pdf", "ok.pdf", None, time.monotonic() + 30, job)
    job.cancel()
    assert "next" in parse_limited(make_pdf([["next"]]), "pdf", "next.pdf", limits).text


HEAVY = "/velmora-library-architect.pdf"


def heavy_site(web: WebServer) -> None:
    """A page that search ranks first for the library hop, and that would take minutes to parse."""
    web.routes[HEAVY] = Route(heavy_pdf(3, 100_000), "application/pdf",
                              title="Velmora public library architect designed by")


async def test_a_page_over_the_parse_limit_is_a_permanent_failure(model_server: ModelServer, web: WebServer,
                                                                  home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    heavy_site(web)
    monkeypatch.setenv("DEEPRESEARCH_PARSE_TIMEOUT", "1")
    ctx = run_context(search="searxng", pages_per_round=3)
    started = time.monotonic()
    result = await runner.start(load_settings(), thread_id_for("heavy"), QUESTION, "iter", ctx,
                                Progress(enabled=False))
    assert result.answer == "1921" and time.monotonic() - started < 60
    failed = [f for f in result.failures if f["target"].endswith(HEAVY)]
    assert len(failed) == 1 and not failed[0]["transient"] and "not parsed within 1s" in failed[0]["error"]
    assert web.hits(HEAVY) == 1  # never fetched again: later rounds (and a resume) skip it


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_during_a_long_parse_stops_the_run_at_once(model_server: ModelServer, web: WebServer,
                                                          home: Path) -> None:
    heavy_site(web)
    env = cli_env(home, model_server.base_url, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                  SEARXNG_URL=web.url("/searxng"), DEEPRESEARCH_PARSE_TIMEOUT="300")
    process = spawn(env, "run", QUESTION, "--search", "searxng", "--thread", "interrupted",
                    "--set", "pages_per_round=3")
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while web.hits(HEAVY) == 0 or not workers:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        workers |= _workers_of(process.pid)
        time.sleep(0.05)
    time.sleep(0.5)  # the heavy page is being parsed
    workers |= _workers_of(process.pid)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert time.monotonic() - started < 2, "Ctrl-C stops the run within a second or two"
    assert process.returncode == 130 and "deepresearch resume interrupted" in stderr
    time.sleep(0.2)
    assert not any(_running(pid) for pid in workers), "no parser process outlives the run"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_worker_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    """kill -9 of the parent mid-parse: the worker notices it is orphaned and ends within a second."""
    import subprocess

    from tests.cli_helpers import ROOT

    (tmp_path / "heavy.pdf").write_bytes(heavy_pdf(1, 100_000))
    script = ("import sys; from pathlib import Path; from core.settings import ParseLimits; "
              "from tools.parse_pool import parse_limited; "
              "parse_limited(Path(sys.argv[1]).read_bytes(), 'pdf', 'heavy.pdf', ParseLimits(timeout=120))")
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "heavy.pdf")], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not (workers := _workers_of(parent.pid)):
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    parent.kill()
    parent.wait()
    killed = time.monotonic()
    while any(_running(pid) for pid in workers) and time.monotonic() - killed < 5:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in workers) and time.monotonic() - killed < 2


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
    before = _workers_of(os.getpid())
    parse_limited(b"<html><p>x</p></html>", "html", "a.html", ParseLimits(max_pdf_pages=497))
    (worker,) = _workers_of(os.getpid()) - before
    environ = Path(f"/proc/{worker}/environ").read_bytes()
    assert b"secret" not in environ and b"DEEPRESEARCH" not in environ
