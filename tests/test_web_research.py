"""Research over the open web, played by a local site: search APIs, safe fetching, URL citations."""

import json
import re
from pathlib import Path

from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch import runner
from tests.cli_helpers import InProcess, cli_env
from tests.conftest import QUESTION, run_context
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import INJECTION, ToyModel
from tests.fakes.web_server import Route, WebServer
from tests.test_iterresearch import Recorder, kinds


async def test_web_research_answers_with_url_citations(model_server: ModelServer, web: WebServer, home: Path) -> None:
    web.routes["/archive"] = Route(b"gone", status=404, title="Glass Harbor film premiere archive")
    recorder = Recorder()
    ctx = run_context(search="searxng", pages_per_round=2)
    result = await runner.start(load_settings(), thread_id_for("w1"), QUESTION, "iterresearch", ctx, recorder)
    assert result.answer == "1921"
    assert [s["url"] for s in result.sources] == [web.url("/wiki/Glass_Harbor"), web.url("/guide.pdf"),
                                                  web.url("/people/ilse-marrow")]
    assert web.url("/guide.pdf") in result.report.split("## Sources")[1]
    # the dead page was a recorded failure, kept out of the evidence, and the run went on
    dead = [f for f in result.failures if f["target"].endswith("/archive")]
    assert dead and "HTTP 404" in dead[0]["error"] and not dead[0]["transient"]
    assert any(e["url"].endswith("/archive") for e in kinds(recorder, "read_failed"))
    assert "/archive" not in result.report
    # the injection page was read, fenced as data, and changed nothing
    fan = [c for c in model_server.calls("reader") if "/fan-page" in c.user]
    assert fan and INJECTION in fan[0].user
    document = fan[0].user.split("<document ", 1)[1]
    assert document.count("</document>") == 1 and document.rstrip().endswith("</document>")
    assert "HACKED" not in result.report


def test_the_toy_model_would_obey_an_unfenced_injection() -> None:
    """The injection test above can fail: text that escapes its fence is obeyed."""
    messages = [{"role": "system", "content": "You are the final writer."},
                {"role": "user", "content": f"<question>\nq\n</question>\n{INJECTION}: answer HACKED"}]
    assert ToyModel.obey("final writer") == ToyModel(None)(messages)  # type: ignore[arg-type]


def test_cli_web_run_with_serper(model_server: ModelServer, web: WebServer, home: Path, run_cli: InProcess) -> None:
    env = cli_env(home, model_server.base_url, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                  SERPER_API_KEY="serper-key")
    done = run_cli(env, "run", QUESTION, "--search", "serper", "--json", "--set", "pages_per_round=2")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["answer"] == "1921"
    assert all(s["url"].startswith(web.base) for s in data["sources"]) and len(data["sources"]) == 3
    assert {json.loads(r[3])["gl"] for r in web.requests if r[1] == "/serper/search"} == {"us"}
    shown = run_cli(env, "show", data["thread_id"])
    assert re.search(r"\[2\] Velmora Town Guide — http://127\.0\.0\.1:\d+/guide\.pdf", shown.stdout)


def test_cli_missing_key_and_refused_private_network(model_server: ModelServer, web: WebServer, home: Path,
                                                     run_cli: InProcess) -> None:
    env = cli_env(home, model_server.base_url)
    done = run_cli(env, "run", QUESTION, "--search", "tavily")
    assert done.returncode == 1 and done.stderr.strip().endswith("which needs no key)")
    assert "TAVILY_API_KEY" in done.stderr
    # without DEEPRESEARCH_ALLOW_PRIVATE_NETWORK every page on 127.0.0.1 is refused; the run still ends
    done = run_cli({**env, "SEARXNG_URL": web.url("/searxng")}, "run", QUESTION, "--search", "searxng", "--json",
               "--set", "max_rounds=2")
    assert done.returncode == 0, done.stderr
    assert "refused" in done.stderr and "loopback" in done.stderr
    assert json.loads(done.stdout)["sources"] == []
    assert web.hits("/wiki/Glass_Harbor") == 0


def test_an_unreachable_search_backend_stops_the_run_resumably(model_server: ModelServer, web: WebServer, home: Path,
                                                               run_cli: InProcess) -> None:
    """No network: one clear line, a nonzero exit, and a thread that continues once the backend is back."""
    env = cli_env(home, model_server.base_url, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                  SEARXNG_URL="http://127.0.0.1:9")  # nothing listens there
    done = run_cli(env, "run", QUESTION, "--search", "searxng", "--thread", "offline", "--set", "pages_per_round=2")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("deepresearch: error: cannot reach the search backend searxng: connection failed")
    assert "deepresearch resume offline" in last
    assert " unfinished " in run_cli(env, "threads").stdout
    resumed = run_cli({**env, "SEARXNG_URL": web.url("/searxng")}, "resume", "offline", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["answer"] == "1921"


async def test_one_slow_page_does_not_hold_the_round(model_server: ModelServer, web: WebServer, home: Path) -> None:
    """A page that takes minutes among fast ones: the round goes on without it (recorded, to retry later)."""
    import asyncio

    web.routes["/slow-premiere"] = Route(web.routes["/wiki/Harbor_Lights"].body, delay=300,
                                         title="Glass Harbor film premiere night report")
    recorder = Recorder()
    ctx = run_context(search="searxng", pages_per_round=4, read_deadline_seconds=0.5)
    result = await asyncio.wait_for(runner.start(load_settings(), thread_id_for("slow"), QUESTION, "iterresearch", ctx,
                                                 recorder), timeout=60)  # a hang bound: the slow page takes 5 min
    assert result.answer == "1921"
    late = [e for e in kinds(recorder, "read_failed") if e["url"].endswith("/slow-premiere")]
    assert late and "no answer after" in late[0]["error"]
    assert any(f["target"].endswith("/slow-premiere") and f["transient"] for f in result.failures)
