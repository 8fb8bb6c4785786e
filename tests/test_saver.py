"""The checkpointer's maintenance operations, on a real SQLite file and the real graph."""

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from checkpoints.saver import open_saver as open_sqlite
from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch.runner import saver_for
from graphs.iterresearch import build_graph
from tests.conftest import QUESTION, run_context
from tests.fakes.model_server import ModelServer
from tools.corpus.store import Corpus


@pytest.fixture
def db(home: Path, corpus_dir: Path) -> Path:
    """The checkpoint database of a home whose corpus holds the test documents."""
    home.mkdir(parents=True, exist_ok=True)
    Corpus(home / "corpus.db").ingest([corpus_dir])
    return load_settings().checkpoints_db


def open_saver(db: Path) -> Any:
    """The shared saver of the home whose checkpoints.db is ``db``."""
    settings = load_settings()
    assert settings.checkpoints_db == db
    return saver_for(settings)


def rows(db: Path, thread: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = ?", (thread,)).fetchone()[0]


async def run_until_review(saver: Any, thread: str, rounds: int) -> Any:
    """Run with plan review on, approving, until the review of round ``rounds``."""
    graph = build_graph().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread}, "recursion_limit": 200}
    ctx = run_context(pages_per_round=2, review_plan=True)
    inputs: Any = {"question": QUESTION}
    for _ in range(rounds):
        await graph.ainvoke(inputs, config, context=ctx, durability="sync")
        inputs = Command(resume={"approve": True})
    return graph, config, ctx


async def test_prune_keeps_newest_n_and_the_thread_still_resumes(model_server: ModelServer, db: Path) -> None:
    thread = thread_id_for("prune-me")
    async with open_saver(db) as saver:
        graph, config, ctx = await run_until_review(saver, thread, rounds=4)  # paused before round 4's search
        before = await graph.aget_state(config)
        assert before.values["round"] == 4 and len([s for s in before.values["sources"] if s["n"]]) == 2
        assert rows(db, thread) > 20
        deleted = await saver.prune_thread(thread, keep=3)
        assert deleted > 0 and rows(db, thread) == 3
        after = await graph.aget_state(config)
        assert after.values["sources"] == before.values["sources"]  # delta channels survive the pruning
        assert after.values["queries_run"] == before.values["queries_run"]
        assert after.next == before.next == ("review",)
        result = await graph.ainvoke(Command(resume={"approve": True}), config, context=ctx, durability="sync")
    assert result["answer"] == "1921"
    assert [s["url"].rsplit("/", 1)[1] for s in result["sources"] if s["n"]] == [
        "glass_harbor.md", "velmora_town_guide.pdf", "ilse_marrow.html"]


async def test_keep_latest_copy_and_delete_for_runs(model_server: ModelServer, db: Path) -> None:
    source, copy = thread_id_for("original"), thread_id_for("copy")
    async with open_saver(db) as saver:
        graph, config, ctx = await run_until_review(saver, source, rounds=2)
        await saver.acopy_thread(source, copy)
        copied = await graph.aget_state({"configurable": {"thread_id": copy}})
        assert copied.values == (await graph.aget_state(config)).values and rows(db, copy) == rows(db, source)
        await saver.aprune([copy], strategy="keep_latest")
        assert rows(db, copy) == 1
        pruned = await graph.aget_state({"configurable": {"thread_id": copy}})
        assert pruned.values["sources"] == copied.values["sources"] and pruned.next == ("review",)
        # a run's checkpoints go, the thread's earlier ones stay
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE checkpoints SET metadata = json_set(CAST(metadata AS TEXT), '$.run_id', 'r-2') "
                         "WHERE thread_id = ? AND json_extract(CAST(metadata AS TEXT), '$.step') > 3", (source,))
        total = rows(db, source)
        await saver.adelete_for_runs(["r-2"])
        assert 0 < rows(db, source) < total
        await saver.aprune([copy], strategy="delete")
        assert rows(db, copy) == 0


async def test_pruning_never_changes_the_state(model_server: ModelServer, db: Path) -> None:
    """Whatever N is kept, after forks (edits at old checkpoints) and Command(update=...) resumes."""
    thread = thread_id_for("forked")
    async with open_saver(db) as saver:
        graph, config, ctx = await run_until_review(saver, thread, rounds=2)
        failure = {"round": 2, "action": "note", "target": "x", "error": "added by hand", "transient": False}
        await graph.ainvoke(Command(resume={"approve": True}, update={"failures": [failure]}), config,
                            context=ctx, durability="sync")
        history = [s async for s in graph.aget_state_history(config)]
        older = next(s for s in history if s.values.get("round") == 2 and s.next == ("review",))
        await graph.aupdate_state(older.config, {"report": "edited in Studio"})  # a fork from an older step
        head = await graph.aget_state(config)
        total = rows(db, thread)
        for keep in range(1, total):
            copy = thread_id_for(f"forked-{keep}")
            await saver.acopy_thread(thread, copy)
            await saver.prune_thread(copy, keep)
            pruned = await graph.aget_state({"configurable": {"thread_id": copy}})
            assert pruned.values == head.values, keep
            assert pruned.next == head.next


async def test_a_saver_that_does_not_know_the_delta_channels_refuses_to_prune(model_server: ModelServer,
                                                                             db: Path) -> None:
    """Pruning blind would drop the history delta channels rebuild from: it stops before deleting anything."""
    from checkpoints.saver import open_saver as blind_saver
    from core.errors import StorageError

    thread = thread_id_for("blind")
    async with open_saver(db) as saver:
        await run_until_review(saver, thread, rounds=2)
    before = rows(db, thread)
    async with blind_saver(db) as saver:
        with pytest.raises(StorageError, match="delta channels"):
            await saver.prune_thread(thread, keep=2)
    assert rows(db, thread) == before


async def test_runs_that_start_together_on_a_new_database_all_open_it(tmp_path: Path) -> None:
    """Eight rollouts opening a checkpoint database that does not exist yet, at once, all get it.

    Setting WAL on a new file needs it to itself, and SQLite answers the others 'locked' without waiting;
    `eval --concurrency 8` on a fresh home failed that way on a 2-core machine.
    """
    async def first_look(path: Path) -> int:
        async with open_sqlite(path) as saver:
            return len(await saver.rows("SELECT thread_id FROM checkpoints", []))

    for attempt in range(40):
        path = tmp_path / f"fresh-{attempt}" / "checkpoints.db"
        assert await asyncio.gather(*(first_look(path) for _ in range(8))) == [0] * 8
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
