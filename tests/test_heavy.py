"""Heavy mode end to end: parallel IterResearch agents as checkpointed subgraphs, then Research-Synthesis."""

import json
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch import runner
from tests.cli_helpers import InProcess, cli_env, spawn
from tests.conftest import QUESTION, glass_harbor, run_context
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_iterresearch import Recorder, corpus, kinds  # noqa: F401 - the corpus fixture
from tests.test_resume import killed

MISLED = "look first for primary sources"  # agent 3's angle: the toy takes a wrong turn on it


class Misled(ToyModel):
    """An agent with the given angle believes a wrong birth year, cites it, and answers with it."""

    def synthesize(self, parts: dict[str, str], system: str) -> dict[str, Any]:
        reply = super().synthesize(parts, system)
        if MISLED in parts.get("last_round", ""):
            return {**reply, "report": "- The architect Ilse Marrow was born in 1899. [1]", "answered": True,
                    "answer": "1899", "missing": ""}
        return reply


async def heavy(thread: str = "h1", **options: Any) -> tuple[runner.RunResult, Recorder]:
    recorder = Recorder()
    result = await runner.start(load_settings(), thread_id_for(thread), QUESTION, "heavy",
                                run_context(**{"pages_per_round": 2, **options}), recorder)
    return result, recorder


async def test_three_agents_and_a_synthesis_that_follows_the_evidence(home: Path, corpus: Path,  # noqa: F811
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with ModelServer(Misled(glass_harbor())) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, rec = await heavy()
        synthesis = server.calls("synthesis")
    done = {e["agent"]: e["answer"] for e in kinds(rec, "agent_done")}
    assert done == {1: "1921", 2: "1921", 3: "1899"}  # agent 3 was misled
    assert result.answer == "1921" and "1899" not in result.report
    # one synthesis call, over the agents' reports only (no trajectories), citations over the union
    assert len(synthesis) == 1 and synthesis[0].user.count("<report agent=") == 3
    assert "<findings" not in synthesis[0].user and "<last_round>" not in synthesis[0].user
    # each agent hands back its report's body as a field: no title, answer line or source list reaches the synthesis
    assert all(marker not in synthesis[0].user for marker in ("# " + QUESTION, "**Answer:**", "## Sources"))
    cited = {Path(s["url"]).name: s["n"] for s in result.sources}
    assert set(cited) == {"glass_harbor.md", "velmora_town_guide.pdf", "ilse_marrow.html"}
    body = result.report.split("## Sources")[0]
    assert all(f"[{n}]" in body for n in cited.values())
    # progress names each agent
    assert {e.get("agent") for e in kinds(rec, "plan")} == {1, 2, 3}


async def test_the_budgets_are_split_between_the_agents(model_server: ModelServer, corpus: Path) -> None:  # noqa: F811
    result, rec = await heavy("split", max_llm_calls=30)
    assert all(e["llm_calls"] <= 10 for e in kinds(rec, "agent_done"))  # 30 calls, 3 agents
    assert result.llm_calls == len(model_server.calls())


def test_a_killed_heavy_run_resumes_without_redoing_finished_work(home: Path, model_server: ModelServer,
                                                                  corpus_dir: Path, run_cli: InProcess) -> None:
    env = cli_env(home, model_server.base_url)
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    release = threading.Event()
    model_server.faults.gates["writer"] = (3, release)  # agent 2's first report, agent 1 being done
    proc = spawn(env, "run", QUESTION, "--mode", "heavy", "--thread", "hk", "--set", "heavy_concurrency=1",
                 "--set", "pages_per_round=2")
    with killed(proc, release):
        assert model_server.blocked.wait(90), "the run never reached the gated call"
    assert proc.returncode == -signal.SIGKILL
    before = [c.user for c in model_server.calls() if c.role in ("planner", "writer")]
    resumed = run_cli(env, "resume", "hk", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["answer"] == "1921"
    main = [c.user for c in model_server.calls() if c.role in ("planner", "writer")]
    # agent 1 (finished) and agent 2's finished calls were not made again; only the call held at the kill was
    assert main[: len(before)] == before and main.count(before[-1]) == 2
    assert len(main) == len(set(main)) + 1
    assert len(model_server.calls("synthesis")) == 1


def test_cli_heavy_mode(home: Path, model_server: ModelServer, corpus_dir: Path, run_cli: InProcess) -> None:
    env = cli_env(home, model_server.base_url)
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    done = run_cli(env, "run", QUESTION, "--mode", "heavy", "--agents", "2", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["answer"] == "1921" and len(data["sources"]) == 3
    assert "agent 1 done" in done.stderr and "agent 2 done" in done.stderr and "agent 3" not in done.stderr


def test_agent_reports_keep_their_text_when_renumbered() -> None:
    """Each agent's report body goes to the synthesis whole: a year in brackets stays, a two-line question's
    second line does not leak into it, and citations take the union's numbers."""
    from nodes.answer import compose
    from nodes.heavy import union_sources
    from state.heavy_state import AgentReport
    from state.records import Source

    question = "Who designed the library?\nGive the architect's name."
    pages = [Source(url=f"https://example.org/{i}", title=f"Page {i}", page_hash="", n=n, round=1)
             for i, n in ((1, 1), (2, 2))]
    other = [Source(url="https://example.org/2", title="Page 2", page_hash="", n=1, round=1)]
    runs = ((1, "Ilse Marrow", "Built in [1962] by Ilse Marrow [1], who was born in 1921 [2].", pages),
            (2, "Ilse Marrow", "Ilse Marrow designed it [1].", other))
    finals = [(agent, answer, compose(question, answer, body, srcs), srcs) for agent, answer, body, srcs in runs]
    reports = [AgentReport(agent=agent, angle="", answer=answer, report=final.report, body=final.body, sources=srcs,
                           llm_calls=1, tokens=1, rounds=1) for agent, answer, final, srcs in finals]
    union, bodies = union_sources(reports)
    assert [s["url"] for s in union] == ["https://example.org/1", "https://example.org/2"]
    assert [body for _, body in bodies] == ["Built in [1962] by Ilse Marrow [1], who was born in 1921 [2].",
                                            "Ilse Marrow designed it [2]."]


async def test_each_heavy_run_has_its_own_agent_slots() -> None:
    """heavy_concurrency bounds one run's agents: another run's agent on the same server is not held back."""
    import asyncio

    from nodes.heavy import _SLOTS, agent_slot

    async with agent_slot("run-a", 1):
        async with asyncio.timeout(5), agent_slot("run-b", 1):  # another thread's run: in at once
            pass
        with pytest.raises(TimeoutError):  # this run's second agent waits for the first
            async with asyncio.timeout(0.2), agent_slot("run-a", 1):
                pass
    assert not _SLOTS  # nothing kept once a run's agents are done


class NoSynthesis(ToyModel):
    """Agents research as usual; the Research-Synthesis replies are never JSON (each is repaired, in vain)."""

    def __call__(self, messages: list[dict[str, Any]]) -> tuple[str, Any]:
        role, reply = super().__call__(messages)
        return (role, "I cannot write JSON.") if role == "synthesis" else (role, reply)


async def test_the_synthesis_is_within_max_llm_calls(home: Path, corpus: Path,  # noqa: F811
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Its calls are kept out of the agents' shares: a synthesis that fails and is repaired stays in budget."""
    with ModelServer(NoSynthesis(glass_harbor())) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, rec = await heavy("budget", max_llm_calls=33)
        made = len(server.calls())
    assert len(server.calls("synthesis")) == 2  # the try and its repair
    assert "the best agent report stands" in kinds(rec, "answer")[-1]["error"]  # and progress says so
    assert result.llm_calls == made <= 33
    # the report of an agent that found an answer, if one did, though more may agree on not knowing
    found = {e["answer"] for e in kinds(rec, "agent_done")} - {"", "unknown", "not determined"}
    assert result.answer in (found or {"unknown", "not determined"})
    assert all(e["llm_calls"] <= 10 for e in kinds(rec, "agent_done"))  # (33 - 3 kept for the synthesis) / 3


def test_the_final_report_is_built_from_the_fields_it_hands_back() -> None:
    """compose's body field is the report's text between its answer line and its sources, as checked."""
    from nodes.answer import compose
    from state.records import Source

    page = Source(url="https://example.org/1", title="Page 1", page_hash="", n=1, round=1)
    final = compose("Who?\nWhich one?", "Ilse Marrow", "  Ilse Marrow [1], not [7].\n\n## Sources\n[1] x  ", [page])
    assert final.body == "Ilse Marrow [1], not."  # the model's own source list and the invented [7] go
    assert final.report.startswith(f"# Who?\nWhich one?\n\n**Answer:** Ilse Marrow\n\n{final.body}\n\n## Sources")
    assert final.finished()["body"] == final.body
