"""Runs in one process (tests, an eval, a server) own their clients and what they learnt of their endpoints.

Two runs never see each other's model clients, toolboxes or refusals (tools/toolbox.py's Toolboxes, and the
model session it makes current): a run that ends closes its own clients only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch import runner
from state.context import Context
from tests.conftest import QUESTION, glass_harbor
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_iterresearch import Recorder
from tools.corpus.store import Corpus
from tools.model import session
from tools.toolbox import owned


def stocked(home: Path, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``home`` the data home (the next settings loaded read it), its corpus holding the test documents."""
    monkeypatch.setenv("DEEPRESEARCH_HOME", str(home))
    home.mkdir(parents=True)
    Corpus(home / "corpus.db").ingest([corpus_dir])


async def research(thread: str, base_url: str, **options: object) -> runner.RunResult:
    settings = load_settings()
    ctx = Context.bind(settings).build({"base_url": base_url, "pages_per_round": 2, **options})
    return await runner.start(settings, thread_id_for(thread), QUESTION, "iterresearch", ctx, Recorder())


async def test_a_refusal_learnt_by_one_run_is_not_another_runs(tmp_path: Path, home: Path, corpus_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The same address, a server that refuses json_schema, then one that honours it: the second run asks with it."""
    stocked(tmp_path / "first", corpus_dir, monkeypatch)
    with ModelServer(ToyModel(glass_harbor())) as refusing:
        refusing.faults.reject_json_schema = True
        port = int(refusing.base_url.rsplit(":", 1)[1].split("/")[0])
        first = await research("first", refusing.base_url, structured_output="json_schema")
    assert first.answer == "1921"
    stocked(tmp_path / "second", corpus_dir, monkeypatch)  # its own home: nothing remembered on disk
    with ModelServer(ToyModel(glass_harbor()), port=port) as honouring:
        assert honouring.base_url == refusing.base_url
        second = await research("second", honouring.base_url, structured_output="json_schema")
        methods = {call.method for call in honouring.calls() if not call.stream}
    assert second.answer == "1921"
    assert methods == {"json_schema"}  # not "text", as the first run had to


async def test_a_run_that_ends_leaves_another_runs_clients_open(tmp_path: Path, home: Path, corpus_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs at once on one event loop, on two endpoints: the quick one ends first, the slow one goes on."""
    stocked(tmp_path / "both", corpus_dir, monkeypatch)
    with ModelServer(ToyModel(glass_harbor())) as quick, ModelServer(ToyModel(glass_harbor())) as slow:
        slow.faults.delay["planner"] = 0.4
        fast, late = await asyncio.gather(research("quick", quick.base_url), research("slow", slow.base_url))
    assert (fast.answer, fast.failures, late.answer, late.failures) == ("1921", [], "1921", [])


async def test_owners_keep_their_own_sessions_and_close_only_them() -> None:
    loop_session = session.current()
    async with owned() as outer:
        assert session.current() is outer.models is not loop_session
        session.current().no_json_schema.add("http://127.0.0.1:9/v1")
        async with owned(share=True) as shared:  # a run inside an eval: the eval's owner
            assert shared is outer
        async with owned() as inner:  # another owner: nothing learnt by the first
            assert session.current() is inner.models and not inner.models.no_json_schema
        assert session.current() is outer.models and outer.models.no_json_schema
    assert session.current() is loop_session and not loop_session.no_json_schema
    assert not outer.models.no_json_schema  # closed: what it learnt went with it
