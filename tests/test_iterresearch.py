"""End to end: the IterResearch graph on the real LangGraph runtime, a real SQLite checkpointer, the real
ChatOpenAI client and the toy model behind HTTP, over the multi-hop test corpus."""

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch import runner
from deepresearch.progress import Progress
from state.queries import normalize_query
from tests.conftest import QUESTION, glass_harbor, run_context
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tools.corpus.store import Corpus


class Recorder(Progress):
    def __init__(self) -> None:
        super().__init__(enabled=False)
        self.events: list[dict[str, Any]] = []

    def event(self, ev: dict[str, Any]) -> None:
        self.events.append(ev)


@pytest.fixture
def corpus(home: Path, corpus_dir: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    Corpus(home / "corpus.db").ingest([corpus_dir])
    return corpus_dir


async def research(thread: str = "t1", **options: Any) -> tuple[runner.RunResult, Recorder]:
    recorder = Recorder()
    ctx = run_context(**{"pages_per_round": 2, **options})
    result = await runner.start(load_settings(), thread_id_for(thread), QUESTION, "iterresearch", ctx, recorder)
    return result, recorder


def kinds(recorder: Recorder, kind: str) -> list[dict[str, Any]]:
    return [e for e in recorder.events if e["event"] == kind]


async def test_multi_hop_question_needs_rounds_and_a_backtrack(model_server: ModelServer, corpus: Path) -> None:
    result, rec = await research()
    assert result.status == "done"
    assert result.answer == "1921"
    assert result.rounds >= 2 and len(kinds(rec, "backtrack")) == 1
    cited = {Path(s["url"]).name: s["n"] for s in result.sources}
    assert cited == {"glass_harbor.md": 1, "velmora_town_guide.pdf": 2, "ilse_marrow.html": 3}
    sources_part = result.report.split("## Sources")[1]
    assert "velmora_architecture_society" not in sources_part and "harbor_lights" not in sources_part
    for n in cited.values():  # every [n] in the report is listed
        assert f"[{n}]" in result.report.split("## Sources")[0]
    assert set(re.findall(r"\[(\d+)\]", result.report)) <= {"1", "2", "3"}
    assert result.llm_calls == len(model_server.calls())
    assert result.tokens > 0


async def test_stops_as_soon_as_answered_and_never_repeats(model_server: ModelServer, corpus: Path) -> None:
    result, rec = await research(max_rounds=10)
    decisions = [e["decision"] for e in kinds(rec, "decide")]
    assert decisions[-1] == "answer" and decisions.count("answer") == 1
    # one main call per round: the planner is asked in round 1 and after a backtrack only, and the final
    # report is built from the research's own report, with no call
    assert len(model_server.calls("planner")) == 1 + len(kinds(rec, "backtrack")) < result.rounds
    assert len(model_server.calls("writer")) == result.rounds - len(kinds(rec, "backtrack"))
    assert not model_server.calls("final")
    queries = [q for e in kinds(rec, "plan") for q in e["queries"]]
    assert len({normalize_query(q) for q in queries}) == len(queries)
    read_urls = [re.search(r'source="([^"]+)"', c.user).group(1) for c in model_server.calls("reader")]
    assert len(read_urls) == len(set(read_urls))


async def test_reader_gets_question_goal_and_fenced_page(model_server: ModelServer, corpus: Path) -> None:
    await research()
    for call in model_server.calls("reader"):
        assert "<question>\n" + QUESTION in call.user
        assert re.search(r"<goal>\nfind the \w+", call.user)
        assert call.user.count("<document ") == 1 and call.user.rstrip().endswith("</document>")
    system = str(model_server.calls("reader")[0].messages[0]["content"])
    assert "never follow" in system.lower()


async def test_each_round_sees_only_the_last_round(model_server: ModelServer, corpus: Path) -> None:
    await research()
    last = model_server.calls("planner")[-1].user
    last_round = last.split("<last_round>")[1].split("</last_round>")[0]
    assert "Glass Harbor premiered" not in last_round  # round 1's finding is in the report, not replayed
    assert "Glass Harbor premiered" in last.split("<report>")[1]


async def test_invented_citations_are_removed_and_counted(home: Path, corpus: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with ModelServer(ToyModel(glass_harbor(invent_citation=True))) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, _ = await research()
    assert result.answer == "1921"
    assert "[77]" not in result.report and "[42]" not in result.report
    assert result.invented_citations >= 2
    assert "made up" not in result.report  # the model's own source list is replaced by ours


@pytest.mark.parametrize(
    ("options", "check"),
    [
        ({"max_rounds": 1}, lambda r: r.rounds == 1),
        ({"max_llm_calls": 5}, lambda r: r.llm_calls <= 5),
        ({"max_tokens": 300}, lambda r: r.rounds == 1),
        ({"deadline_seconds": 0.001}, lambda r: r.rounds == 1 and r.llm_calls <= 2),
    ],
)
async def test_budgets_end_with_the_best_answer_so_far(model_server: ModelServer, corpus: Path,
                                                       options: dict, check: Any) -> None:
    result, rec = await research(**options)
    assert result.status == "done" and check(result)
    assert result.report.startswith("# " + QUESTION)
    assert kinds(rec, "answer")


async def test_malformed_json_is_repaired(model_server: ModelServer, corpus: Path) -> None:
    model_server.faults.malformed_until_repair = {"planner", "reader", "writer"}
    result, _ = await research()
    assert result.answer == "1921"


async def test_unusable_writer_degrades_to_appended_evidence(model_server: ModelServer, corpus: Path) -> None:
    toy = model_server.brain

    def brain(messages: list[dict]) -> tuple[str, Any]:
        role, reply = toy(messages)
        return (role, "Sorry, I cannot produce JSON.") if role == "writer" else (role, reply)

    model_server.brain = brain
    result, _ = await research()
    assert result.status == "done" and result.answer == "1921"
    assert any(f["action"] == "synthesize" for f in result.failures)


@pytest.mark.parametrize("method", ["text", "tool_calling"])
async def test_other_structured_output_methods(model_server: ModelServer, corpus: Path, method: str) -> None:
    result, _ = await research(structured_output=method)
    assert result.answer == "1921"
    assert {c.method for c in model_server.calls() if c.role != "final"} == {method}


async def test_page_text_lives_in_the_stores_not_in_checkpoints(model_server: ModelServer, corpus: Path,
                                                             home: Path) -> None:
    await research()
    unused_sentence = b"Critics praised the photography of the harbour scenes"
    # a corpus document stays in the corpus: it is not copied into the page store either
    assert unused_sentence in b"".join(p.read_bytes() for p in home.glob("corpus.db*"))
    assert unused_sentence not in b"".join(p.read_bytes() for p in home.glob("pages.db*"))
    checkpoint_bytes = b"".join(p.read_bytes() for p in home.glob("checkpoints.db*"))
    assert unused_sentence not in checkpoint_bytes
    assert b"Glass Harbor premiered in Velmora" in checkpoint_bytes  # evidence quotes do live in state


async def test_a_page_whose_reading_failed_is_tried_again(model_server: ModelServer, corpus: Path) -> None:
    model_server.faults.fail_when = {'glass_harbor.md"': [503, 503]}  # the reader call fails, retry included
    result, rec = await research()
    assert result.answer == "1921"
    failed = [e for e in kinds(rec, "read_failed") if e["url"].endswith("glass_harbor.md")]
    assert len(failed) == 1
    assert any(f["action"] == "read" and f["transient"] for f in result.failures)
    assert "glass_harbor.md" in result.sources[0]["url"]


async def test_call_budget_is_hard_even_with_repairs(model_server: ModelServer, corpus: Path) -> None:
    model_server.faults.malformed_until_repair = {"planner", "reader", "writer"}
    result, _ = await research(max_llm_calls=8)
    assert result.llm_calls == len(model_server.calls()) <= 8
    assert model_server.calls()[-1].role == "final"  # the reserved call was there for the answer


async def test_token_budget_is_checked_before_each_call(model_server: ModelServer, corpus: Path) -> None:
    result, _ = await research(max_tokens=1)
    assert [c.role for c in model_server.calls()] == ["planner", "final"]
    assert result.status == "done"


async def test_deadline_cuts_a_hung_call(model_server: ModelServer, corpus: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPRESEARCH_TIMEOUT", "300")  # only the run's deadline can end the hung calls
    model_server.faults.delay = {"reader": 300}
    result, _ = await asyncio.wait_for(research(deadline_seconds=1.5), 60)  # the calls would hang five minutes
    assert result.status == "done" and result.report.startswith("# ")
    assert "final" not in {c.role for c in model_server.calls()}  # no model call after the deadline


async def test_nodes_use_the_settings_the_edge_loaded(model_server: ModelServer, corpus: Path, home: Path,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = run_context(pages_per_round=2)  # the environment is read here, once
    monkeypatch.setenv("DEEPRESEARCH_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("DEEPRESEARCH_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("DEEPRESEARCH_TIMEOUT", "not a number")  # reading the environment again would fail
    result = await runner.start(ctx.settings, thread_id_for("once"), QUESTION, "iterresearch", ctx, Recorder())
    assert result.answer == "1921"
    assert (home / "pages.db").exists() and not (tmp_path / "elsewhere").exists()


def never_finds(messages: list[dict]) -> tuple[str, Any]:
    """A model whose every round reads a page and finds nothing: each round takes its longest path."""
    system = str(messages[0]["content"])
    user = "\n".join(str(m["content"]) for m in messages if m["role"] == "user")
    if "research planner" in system:
        dead = [int(n) for n in re.findall(r"- round (\d+):", user)]
        return "planner", {"goal": "find anything", "queries": [f"Velmora library harbour {max(dead, default=0) + 1}"]}
    if "page reader" in system:
        return "reader", {"relevant": False, "evidence": "", "quote": ""}
    return "final", "<answer>unknown</answer>"


async def test_the_longest_rounds_fit_the_step_limit(home: Path, corpus: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """max_rounds rounds of plan, review, search, select, read, synthesize, decide and backtrack end by the
    round budget, with an answer, within the step limit derived from max_rounds (never GraphRecursionError)."""
    with ModelServer(never_finds) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, rec = await research(max_rounds=5, max_stalls=50, pages_per_round=1)
    assert result.status == "done" and result.rounds == 5 and "max_rounds" in kinds(rec, "decide")[-1]["reason"]
    assert len(kinds(rec, "read")) == 5 and len(kinds(rec, "backtrack")) == 4
