"""One real `langgraph dev` for the suite: the toy model, an ingested corpus and the server on one home, and
the helpers the tests that drive it share (conftest makes ``stack`` a fixture of every module)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import Done, InProcess, cli_env, langgraph_dev
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tools.corpus.store import Corpus

CONTEXT = {"pages_per_round": 2}


@contextmanager
def serving(base: Path, **extra_env: str) -> Iterator[dict[str, Any]]:
    """Toy model, ingested corpus, and `langgraph dev` on one home under ``base`` (``extra_env`` for the server)."""
    from tests.conftest import glass_harbor, write_corpus  # conftest imports this module (for ``stack``)

    home = base / "home"
    home.mkdir(parents=True)
    os.environ.pop("DEEPRESEARCH_HOME", None)
    Corpus(home / "corpus.db").ingest([write_corpus(base / "corpus")])
    with ModelServer(ToyModel(glass_harbor())) as model:
        env = {**cli_env(home, model.base_url), **extra_env}
        try:
            with langgraph_dev(base, env) as url:
                yield {"url": url, "home": home, "model": model, "env": env}
        except RuntimeError as exc:
            pytest.fail(str(exc))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Toy model, ingested corpus, and `langgraph dev` on one shared home, for every module that asks for it."""
    with serving(tmp_path_factory.mktemp("lgdev")) as served:
        yield served


async def stream(client: Any, thread_id: str, **kwargs: Any
                 ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Run once; the custom progress events, and the (node, text) of what the `messages` stream carried."""
    events, shown = [], []
    async for part in client.runs.stream(thread_id, "iterresearch", stream_mode=["custom", "messages-tuple"],
                                         context={**CONTEXT, **kwargs.pop("context", {})}, **kwargs):
        if part.event == "custom":
            events.append(part.data)
        elif part.event == "messages":
            shown.append((part.data[1].get("langgraph_node"), str(part.data[0].get("content"))))
    return events, shown


async def command(run_cli: InProcess, stack: dict[str, Any], *args: str, stdin: str | None = None) -> Done:
    """The CLI on the stack's home, in this process (on a worker thread: the test's event loop is running)."""
    return await asyncio.to_thread(run_cli, stack["env"], *args, stdin=stdin)


def checkpoint_rows(home: Path, thread_id: str) -> int:
    with sqlite3.connect(home / "checkpoints.db") as conn:
        return conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = ?", (thread_id,)).fetchone()[0]
