"""The quick thread listing (straight from SQLite) agrees with LangGraph's own view of every thread."""

from pathlib import Path

import pytest

from checkpoints.listing import ThreadSummary, quick_summaries
from checkpoints.threads import thread_id_for
from core.errors import EndpointError
from core.settings import load_settings
from deepresearch import catalog, runner
from deepresearch.catalog import list_all
from deepresearch.progress import Progress
from tests.cli_helpers import cli_env
from tests.conftest import QUESTION, run_context
from tests.fakes.model_server import ModelServer
from tests.test_packaging import loaded_by
from tools.corpus.store import Corpus


async def start(name: str, **options: object) -> None:
    await runner.start(load_settings(), thread_id_for(name), QUESTION, "iterresearch",
                       run_context(**{"pages_per_round": 2, **options}), Progress(enabled=False), name=name)


async def test_a_react_thread_is_listed_with_its_steps(model_server: ModelServer, home: Path,
                                                      corpus_dir: Path) -> None:
    # found by running it: ReAct counts steps, not rounds, and `threads` listed its thread with 0 rounds
    home.mkdir(parents=True, exist_ok=True)
    Corpus(home / "corpus.db").ingest([corpus_dir])
    result = await runner.start(load_settings(), thread_id_for("react"), QUESTION, "react", run_context(),
                                Progress(enabled=False), name="react")
    settings = load_settings()
    quick = quick_summaries(settings.checkpoints_db)
    assert result.rounds > 0
    assert [row.rounds for row in quick if isinstance(row, ThreadSummary)] == [result.rounds]
    assert quick == await catalog.summaries(settings, [thread_id_for("react")])


async def test_quick_listing_matches_langgraph(model_server: ModelServer, home: Path, corpus_dir: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    Corpus(home / "corpus.db").ingest([corpus_dir])
    await start("done")
    await start("one-round", max_rounds=1)
    await start("review", review_plan=True)  # stops at the first plan, waiting for a person
    model_server.faults.drop = {"writer"}
    with pytest.raises(EndpointError):
        await start("unfinished")  # the model dies mid-run
    model_server.faults.drop = set()

    settings = load_settings()
    quick = quick_summaries(settings.checkpoints_db)
    assert all(isinstance(row, ThreadSummary) for row in quick)
    ids = [row.thread_id for row in quick if isinstance(row, ThreadSummary)]
    assert ids == [thread_id_for(n) for n in ("unfinished", "review", "one-round", "done")]  # newest first
    assert quick == await catalog.summaries(settings, ids)
    assert [row.status for row in quick if isinstance(row, ThreadSummary)] == ["unfinished", "review", "done", "done"]

    assert loaded_by(["threads"], cli_env(home)) == []  # `deepresearch threads` lists them without LangGraph

    # a state edited by hand (as in Studio) is left to LangGraph to judge, in its place in the list
    async with runner.saver_for(settings) as saver:
        graph = runner.compile_graph("iterresearch", saver)
        await graph.aupdate_state({"configurable": {"thread_id": thread_id_for("one-round")}}, {"report": "edited"})
    again = quick_summaries(settings.checkpoints_db)
    assert again[0] == thread_id_for("one-round") and again[1:] == [quick[0], quick[1], quick[3]]
    listed = await list_all(settings)
    assert [row.thread_id for row in listed] == [ids[2], ids[0], ids[1], ids[3]] and listed[0].status == "done"
