"""A model that cannot do a step: its failures told as its own, the other structured method tried once, then an
early stop with what the run has; per-step output budgets; an answer no evidence supports is not given."""

from pathlib import Path
from typing import Any

import pytest

from state.budget import PLAN_TOKENS, READ_TOKENS, REPORT_TOKENS
from tests.conftest import glass_harbor
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_iterresearch import corpus, kinds, research  # noqa: F401 - the corpus fixture

PLACEHOLDERS = {"relevant": True, "evidence": "...", "quote": "..."}  # what a 270M model sent under the schema


class WeakReader(ToyModel):
    """Plans and writes as the toy model does, but every page reading repeats the template's placeholders, and
    the final writer names an answer found in no document, citing nothing."""

    def __init__(self) -> None:
        super().__init__(glass_harbor())

    def __call__(self, messages: list[dict[str, Any]]) -> tuple[str, Any]:
        role, reply = super().__call__(messages)
        if role == "reader":
            return role, PLACEHOLDERS
        if role == "final":
            return role, "<answer>James Leacock, a public library architect.</answer>\nJames Leacock designed it."
        return role, reply


@pytest.fixture
def weak(home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with ModelServer(WeakReader()) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        yield server


async def test_a_model_that_cannot_read_pages_is_tried_once_another_way_then_the_run_stops_early(
        weak: ModelServer, corpus: Path) -> None:  # noqa: F811
    result, rec = await research(max_rounds=8)
    decisions = kinds(rec, "decide")
    # not "failed for passing reasons: trying again" round after round: two rounds, then the truth
    assert not any("passing reasons" in d["reason"] for d in decisions)
    assert [d["decision"] for d in decisions] == ["plan", "answer"]
    assert "the model could not read pages" in decisions[0]["reason"]
    assert "trying again with structured_output=text" in decisions[0]["reason"]
    assert result.rounds == 2
    methods = [(c.method, c.user.count("<document")) for c in weak.calls("reader")]
    first = [m for m, _ in methods[: len(methods) // 2]]
    assert set(first) == {"json_schema"} and methods[-1][0] == "text"  # the second round's readings asked as text
    assert result.gave_up.startswith("stopped early: the model could not read pages")
    assert "structured_output=text as well" in result.gave_up and "larger model" in result.gave_up
    # classified as the model's failures, counted by step in --json
    as_json = result.to_json()
    assert as_json["model_failures"]["read"] == len(weak.calls("reader")) // 2  # each reading made a repair call
    assert as_json["gave_up"] == result.gave_up
    # the final writer's name comes from no document and cites nothing: not the answer
    assert result.answer == "not determined"
    assert "**Answer:** not determined" in result.report
    assert "does not determine the answer" in result.report


async def test_each_step_asks_for_an_output_budget_fit_for_it(model_server: ModelServer, corpus: Path) -> None:  # noqa: F811
    result, _ = await research(report_length="long")
    assert result.answer == "1921"
    budgets = {c.role: c.max_tokens for c in model_server.calls()}
    assert budgets["reader"] == READ_TOKENS and budgets["planner"] == PLAN_TOKENS
    assert budgets["writer"] == REPORT_TOKENS
    assert budgets["final"] == 8192  # the final answer has all of max_output_tokens


async def test_a_step_budget_never_exceeds_max_output_tokens(model_server: ModelServer, corpus: Path) -> None:  # noqa: F811
    await research(max_output_tokens=300)
    assert {c.max_tokens for c in model_server.calls()} == {300}


async def test_a_final_answer_cut_off_at_its_budget_is_the_models_failure_not_the_report(
        model_server: ModelServer, corpus: Path) -> None:  # noqa: F811
    model_server.faults.cut_off = {"final"}
    result, _ = await research(report_length="long")
    answer_failures = [f for f in result.failures if f["action"] == "answer"]
    assert answer_failures and answer_failures[0].get("model") is True
    assert "ran on to its output budget" in answer_failures[0]["error"]
    assert "(cut off)" not in result.report  # the research's own report stands, cited
    assert result.answer == "1921" and "[1]" in result.report


class WeakPlanner(WeakReader):
    """WeakReader whose planner, too, repeats the template's placeholders."""

    def __call__(self, messages: list[dict[str, Any]]) -> tuple[str, Any]:
        role, reply = super().__call__(messages)
        return (role, {"reasoning": "...", "goal": "...", "queries": ["..."]}) if role == "planner" else (role, reply)


async def test_the_progress_lines_name_the_model_call_that_failed_and_why(home: Path, corpus: Path,  # noqa: F811
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from deepresearch.progress import Progress

    with ModelServer(WeakPlanner()) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        _, rec = await research(max_rounds=3)
    screen = io.StringIO()
    progress = Progress(Console(file=screen, width=400, color_system=None))
    for event in rec.events:
        progress.event(event)
    shown = screen.getvalue()
    assert "model   the planner's reply: Plan reply unusable after a repair retry: the JSON repeats" in shown
    assert "model   the reader's reply for" in shown and "repeats the template's placeholders" in shown
    assert "the model could not read pages (extract evidence as JSON): all" in shown
    assert "trying again with structured_output=text" in shown
