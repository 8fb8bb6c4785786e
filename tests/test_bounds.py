"""What a model or a search backend hands over is bounded in what is stored and printed, and the run goes on."""

import json
import sqlite3
from pathlib import Path
from typing import Any

from state.records import URL_CHARS, failure
from tests.cli_helpers import InProcess, cli_env
from tests.conftest import QUESTION, glass_harbor
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.fakes.web_server import WebServer, html

HUGE = 200_000
LONG_URL = "http://127.0.0.1:9/" + "a" * HUGE
LONG_QUERY = "Glass Harbor" + " q" * (HUGE // 2)  # 200,012 characters


class Sprawling(ToyModel):
    """Visits a 200,000-character URL, then searches a 200,000-character query, then researches as usual."""

    def react(self, messages: list[dict[str, Any]]) -> str:
        steps = sum(1 for m in messages if m["role"] == "assistant")
        if steps == 0:
            return self._call("visit", {"url": [LONG_URL], "goal": "g" * HUGE})
        if steps == 1:
            return self._call("search", {"query": [LONG_QUERY, *[f"q{i}" for i in range(HUGE // 10)]]})
        return super().react(messages)


def stored_bytes(db: Path) -> tuple[int, int]:
    """Bytes of checkpoint rows and pending writes in the database, and how many checkpoints there are."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT count(*), coalesce(sum(length(checkpoint) + length(metadata)), 0) "
                            "FROM checkpoints").fetchone()
        writes = conn.execute("SELECT coalesce(sum(length(value)), 0) FROM writes").fetchone()[0]
    return int(rows[1]) + int(writes), int(rows[0])


def test_oversized_tool_arguments_are_bounded_everywhere(home: Path, corpus_dir: Path,
                                                         run_cli: InProcess) -> None:
    with ModelServer(Sprawling(glass_harbor())) as server:
        env = cli_env(home, server.base_url)
        assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
        done = run_cli(env, "run", QUESTION, "--mode", "react", "--thread", "huge")
        shown = run_cli(env, "show", "huge")
        shown_json = run_cli(env, "show", "huge", "--json")
        agent = server.calls("react")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "**Answer:** 1921" in done.stdout  # the run went on and answered
    assert len(done.stderr) < 20_000  # progress lines
    assert shown.returncode == 0 and len(shown.stdout) < 20_000 and len(shown_json.stdout) < 20_000
    stored, checkpoints = stored_bytes(home / "checkpoints.db")
    assert stored < 20_000 * checkpoints, (stored, checkpoints)
    # the model is told its argument was too long; it is not echoed back
    responses = [str(m["content"]) for m in agent[-1].messages if m["role"] == "user"][1:]
    assert "url 1 is too long (200,019 characters, at most 2,048): not visited" in responses[0]
    assert "query 1 is too long (200,012 characters): only its first 400 were used" in responses[1]
    assert "only the first 5 of the 20,001" in responses[1] and len(responses[0]) + len(responses[1]) < 10_000
    # the history it sees keeps its calls, cut with a visible mark
    history = [str(m["content"]) for m in agent[-1].messages if m["role"] == "assistant"]
    assert len(history[0]) < 10_000 and "aaaa… (200,019 chars)" in history[0] and len(history[1]) < 10_000
    json.loads(shown_json.stdout)



class Wordy(ToyModel):
    """Plans a 200,000-character query before its own in the first round."""

    def plan(self, parts: dict[str, str], user: str = "") -> dict[str, Any]:
        planned = super().plan(parts, user)
        first = planned["queries"] == ["Glass Harbor film premiere"]
        return {**planned, "queries": [LONG_QUERY, *planned["queries"]]} if first else planned


def test_oversized_queries_and_hits_are_bounded_in_iterresearch(home: Path, web: WebServer,
                                                                run_cli: InProcess) -> None:
    # a search result whose URL and title run to 200,000 characters each
    web.routes["/" + "p" * HUGE] = html("Glass Harbor film premiere " + "t" * HUGE, "Glass Harbor premiered.")
    with ModelServer(Wordy(glass_harbor())) as server:
        env = cli_env(home, server.base_url, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                      SEARXNG_URL=web.url("/searxng"))
        done = run_cli(env, "run", QUESTION, "--search", "searxng", "--thread", "wordy", "--set", "pages_per_round=2")
        shown = run_cli(env, "show", "wordy", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "**Answer:** 1921" in done.stdout
    assert len(shown.stdout) < 20_000
    stored, checkpoints = stored_bytes(home / "checkpoints.db")
    assert stored < 20_000 * checkpoints, (stored, checkpoints)
    # the query was searched, cut to what a search backend takes; the page no server could serve was skipped
    searched = [r[1] for r in web.requests if r[1].startswith("/searxng/search")]
    assert any("q+q+q" in path for path in searched) and max(len(p) for p in searched) < 2_000
    assert web.hits("/" + "p" * HUGE) == 0



def test_a_failure_record_keeps_a_url_whole_and_bounds_the_rest() -> None:
    url = "https://example.org/" + "a" * (URL_CHARS - 20)
    kept = failure(round=1, action="read", target=url, error="HTTP 404", transient=False)
    assert kept["target"] == url  # the next rounds match it to skip the page
    cut = failure(round=1, action="search", target=LONG_QUERY, error="e" * HUGE, transient=True)
    assert cut["target"].endswith("… (200,012 chars)") and len(cut["target"]) < URL_CHARS + 30
    assert cut["error"].endswith("… (200,000 chars)") and len(cut["error"]) < 1_100
