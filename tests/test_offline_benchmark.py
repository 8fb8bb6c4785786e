"""The bundled offline benchmark: built from its fact chains, ingested, and evaluated end to end."""

import json
from pathlib import Path

import pytest

from benchmarks.offline import build
from benchmarks.offline.world import CHAINS, documents, questions
from tests.cli_helpers import InProcess, cli_env
from tests.fakes.model_server import ModelServer
from tests.fakes.offline_model import Benchmark

HERE = Path(build.__file__).parent


def test_the_committed_files_are_what_the_chains_give(tmp_path: Path) -> None:
    build.build(tmp_path)
    assert (tmp_path / "questions.jsonl").read_text() == (HERE / "questions.jsonl").read_text()
    for name in documents():
        assert (tmp_path / "corpus" / name).read_text() == (HERE / "corpus" / name).read_text()
    records = questions()
    assert len(records) >= 20 and {r["hops"] for r in records} == {2, 3, 4}
    assert sum(r["language"] == "zh" for r in records) >= 6 and len(documents()) >= 30
    assert all(c.distractor for c in CHAINS)


@pytest.mark.parametrize("mode", ["iterresearch", "react"])
def test_the_offline_benchmark_runs_end_to_end(home: Path, tmp_path: Path, run_cli: InProcess, mode: str) -> None:
    with ModelServer(Benchmark()) as server:
        env = cli_env(home, server.base_url)
        assert run_cli(env, "ingest", str(HERE / "corpus")).returncode == 0
        done = run_cli(env, "eval", str(HERE / "questions.jsonl"), "--mode", mode, "--concurrency", "8",
                       "--out", str(tmp_path / "run"), "--set", "pages_per_round=3")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    wrong = [(r["question"], r["gold"], r["answer"]) for r in results if not r["correct"]]
    assert not wrong, wrong
    assert "| **Avg@k** | **100.0%** |" in done.stdout


@pytest.mark.parametrize(("policy", "right"), [("full", False), ("keep_last:2", True), ("discard_all", True),
                                               ("summarize", True)])
def test_react_context_policies_on_a_small_context(home: Path, tmp_path: Path, run_cli: InProcess, policy: str,
                                                   right: bool) -> None:
    """On a 3,000-token context, ReAct's full trajectory is forced to answer before its last hops; each policy that
    bounds the prompt lets a note-taking model finish (docs/modes.md's table). Questions 1 to 6 (2 to 4 hops)."""
    with ModelServer(Benchmark(notes=True), max_model_len=3000, flavour="llamacpp") as server:
        env = cli_env(home, server.base_url)
        assert run_cli(env, "ingest", str(HERE / "corpus")).returncode == 0
        done = run_cli(env, "eval", str(HERE / "questions.jsonl"), "--mode", "react", "--concurrency", "6",
                       "--limit", "6", "--out", str(tmp_path / "run"), "--set", f"react_context={policy}")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert len(results) == 6
    assert all(r["correct"] for r in results) is right, [(r["question"], r["answer"]) for r in results]
