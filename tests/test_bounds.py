"""What a model or a search backend hands over is bounded in what is stored and printed, and the run goes on."""

import sqlite3
from pathlib import Path
from typing import Any

from tests.cli_helpers import InProcess, cli_env
from tests.conftest import QUESTION, glass_harbor
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.fakes.web_server import WebServer, html

HUGE = 200_000
LONG_QUERY = "Glass Harbor " + "q " * (HUGE // 2)  # 200,013 characters


def stored_bytes(db: Path) -> tuple[int, int]:
    """Bytes of checkpoint rows and pending writes in the database, and how many checkpoints there are."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT count(*), coalesce(sum(length(checkpoint) + length(metadata)), 0) "
                            "FROM checkpoints").fetchone()
        writes = conn.execute("SELECT coalesce(sum(length(value)), 0) FROM writes").fetchone()[0]
    return int(rows[1]) + int(writes), int(rows[0])


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

