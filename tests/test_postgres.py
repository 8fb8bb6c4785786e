"""Checkpoints in Postgres: a real server the tests start (pgserver), shared by CLIs on two homes and by
`langgraph dev`; an eval through the server lands its threads there."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.base import empty_checkpoint

from checkpoints import langgraph_private as lg
from checkpoints import postgres as store
from checkpoints.listing import parse_metadata
from checkpoints.postgres import open_postgres, postgres_sql
from core.errors import StorageError
from tests.cli_helpers import InProcess, cli_env
from tests.conftest import QUESTION
from tests.fakes.model_server import ModelServer
from tests.server_stack import command, serving
from tools.corpus.store import Corpus


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pgserver = pytest.importorskip("pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server.get_uri()


def test_two_homes_share_one_thread_store(postgres: str, model_server: ModelServer, corpus_dir: Path,
                                          tmp_path: Path, run_cli: InProcess) -> None:
    first = cli_env(tmp_path / "a", model_server.base_url, DEEPRESEARCH_CHECKPOINT_URL=postgres)
    second = cli_env(tmp_path / "b", model_server.base_url, DEEPRESEARCH_CHECKPOINT_URL=postgres)
    for env in (first, second):
        assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    done = run_cli(first, "run", QUESTION, "--thread", "pg-shared", "--json", "--set", "pages_per_round=2")
    assert done.returncode == 0, done.stderr
    thread_id = json.loads(done.stdout)["thread_id"]
    assert not (tmp_path / "a" / "checkpoints.db").exists()  # nothing went to the home's SQLite file
    listed = json.loads(run_cli(second, "threads", "--json").stdout)
    assert thread_id in {t["thread_id"] for t in listed}
    shown = json.loads(run_cli(second, "show", "pg-shared", "--json").stdout)
    assert shown["answer"] == "1921" and shown["status"] == "done"
    again = run_cli(second, "resume", "pg-shared")
    assert again.returncode == 0 and "nothing to resume" in again.stderr
    pruned = run_cli(second, "threads", "prune", "--keep", "1")
    assert pruned.returncode != 0 and "SQLite store" in pruned.stderr and "Traceback" not in pruned.stderr
    doctor = run_cli(second, "doctor")
    assert "checkpoints in Postgres" in doctor.stdout and "checkpoints.db" not in doctor.stdout


def test_an_unreachable_checkpoint_database_is_one_line(model_server: ModelServer, tmp_path: Path,
                                                        run_cli: InProcess) -> None:
    env = cli_env(tmp_path / "h", model_server.base_url,
                  DEEPRESEARCH_CHECKPOINT_URL="postgresql://nobody@127.0.0.1:9/none")
    done = run_cli(env, "threads")
    assert done.returncode != 0 and "cannot use the checkpoint database" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    bad = run_cli({**env, "DEEPRESEARCH_CHECKPOINT_URL": "mysql://x"}, "threads")
    assert bad.returncode != 0 and "DEEPRESEARCH_CHECKPOINT_URL" in bad.stderr


async def test_an_eval_through_langgraph_dev_on_postgres(postgres: str, tmp_path: Path,
                                                         run_cli: InProcess) -> None:
    with serving(tmp_path / "served", DEEPRESEARCH_CHECKPOINT_URL=postgres) as stack:
        questions = tmp_path / "q.jsonl"
        questions.write_text(json.dumps({"question": QUESTION, "answer": "1921"}) + "\n")
        done = await command(run_cli, stack, "eval", str(questions), "--server", stack["url"], "--k", "2",
                             "--out", str(tmp_path / "out"), "--set", "pages_per_round=2")
        assert done.returncode == 0, done.stderr
        assert "| **Avg@k** | **100.0%** |" in done.stdout
        # the server's threads are in Postgres: a CLI on another home lists them
        other = cli_env(tmp_path / "elsewhere", stack["model"].base_url, DEEPRESEARCH_CHECKPOINT_URL=postgres)
        (tmp_path / "elsewhere").mkdir()
        Corpus(tmp_path / "elsewhere" / "corpus.db")
        listed = json.loads((await command(run_cli, {**stack, "env": other}, "threads", "--json")).stdout)
        threads = [json.loads(line)["thread_id"] for line in (tmp_path / "out" / "results.jsonl").read_text()
                   .splitlines()]
        assert set(threads) <= {t["thread_id"] for t in listed}
        assert not (stack["home"] / "checkpoints.db").exists()


async def test_runs_that_start_together_on_a_new_postgres_database_all_open_it(postgres: str) -> None:
    """Eight rollouts setting up the tables of a new database at once: none fails on another's migration."""
    async def first_look(url: str) -> int:
        async with open_postgres(url) as saver:
            return len(await saver.rows("SELECT thread_id FROM checkpoints", []))

    for attempt in range(5):
        name = f"fresh_{attempt}"
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        url = postgres.replace("/postgres?", f"/{name}?", 1)  # pgserver's URI: postgresql://postgres:@/postgres?host=
        assert url != postgres
        assert await asyncio.gather(*(first_look(url) for _ in range(8))) == [0] * 8


async def test_a_setup_lock_held_too_long_is_one_clear_error(postgres: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A session that holds the setup lock (a stuck process) makes the next setup give up with a clear message.

    The connection that gave up is closed, and a database already set up opens without the lock.
    """
    monkeypatch.setattr(store, "SETUP_WAIT_S", 0.3)
    fresh = postgres.replace("/postgres?", "/stuck_setup?", 1)

    def sessions() -> int:
        with psycopg.connect(postgres, autocommit=True) as probe:
            row = probe.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'stuck_setup'").fetchone()
            return int(row[0]) if row else 0

    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute("CREATE DATABASE stuck_setup")
    with psycopg.connect(fresh, autocommit=True) as stuck:  # advisory locks are the database's own
        stuck.execute("SELECT pg_advisory_lock(%s)", (store.SETUP_LOCK,))
        with pytest.raises(StorageError, match="setting up the checkpoint tables"):
            async with open_postgres(fresh):
                pass
        assert sessions() == 1  # the stuck one: the connection that gave up did not linger
        async with open_postgres(postgres) as saver:  # set up before: no lock needed
            assert await saver.rows("SELECT 1", []) == [(1,)]
    async with open_postgres(fresh) as saver:  # the lock went with its session
        assert await saver.rows("SELECT count(*) FROM checkpoints", []) == [(0,)]


def test_queries_written_for_sqlite_take_psycopgs_placeholders() -> None:
    assert postgres_sql("SELECT 1 WHERE a = ? AND b IN (?, ?)") == "SELECT 1 WHERE a = %s AND b IN (%s, %s)"
    assert postgres_sql("SELECT '?', \"a?\" FROM t WHERE c LIKE 'x%' AND d = ?") == (
        "SELECT '?', \"a?\" FROM t WHERE c LIKE 'x%%' AND d = %s")
    assert postgres_sql("SELECT 'it''s?' WHERE e = ?") == "SELECT 'it''s?' WHERE e = %s"


async def test_the_thread_queries_and_langgraphs_tables_in_postgres(postgres: str) -> None:
    """Pins what the store relies on in LangGraph's Postgres tables (checkpoints/langgraph_private.py)."""
    async with open_postgres(postgres) as saver:
        assert await saver.rows("SELECT '?' AS mark, ? AS arg, 'x%' AS pct", ["a"]) == [("?", "a", "x%")]
        thread = "pinned-tables"
        config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        await saver.aput(config, empty_checkpoint(), {"source": "input", "step": -1, "thread_name": "pin"}, {})
        assert thread in {row[0] for row in await saver.rows(lg.THREAD_IDS, [])}
        assert await saver.rows(lg.THREAD_EXISTS, [thread]) == [(1,)]
        assert await saver.rows(lg.THREAD_EXISTS, ["nobody"]) == []
        (metadata,), = await saver.rows(lg.LATEST_METADATA, [thread])
        assert parse_metadata(metadata)["thread_name"] == "pin"
        await saver.adelete_thread(thread)
        (version,), = await saver.rows(lg.MIGRATION_VERSION, [])
        assert lg.fully_migrated(version, saver.MIGRATIONS) and not lg.fully_migrated(None, saver.MIGRATIONS)
        assert not lg.fully_migrated(version - 1, saver.MIGRATIONS)
