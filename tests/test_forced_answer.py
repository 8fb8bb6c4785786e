"""ReAct's forced answer: a model that still calls a tool is asked once more, then answered for from the evidence."""

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import glass_harbor
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_iterresearch import corpus  # noqa: F401 - the corpus fixture
from tests.test_react import react

IGNORED = ('<think>one more search</think>\n<tool_call>\n{"name": "search", "arguments": {"query": ["%s"]}}\n'
           "</tool_call>")



async def react_with(brain: Any, monkeypatch: pytest.MonkeyPatch, thread: str = "r1",
                     **options: Any) -> tuple[Any, list[Any]]:
    """A ReAct run (with these context options) against a server answering with ``brain``; result and agent calls."""
    with ModelServer(brain) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, _ = await react(thread, **options)
        return result, server.calls("react")


class Stubborn(ToyModel):
    """Researches as usual, but answers a forced-answer prompt with a tool call.

    ``muse`` replies without a call after its first visit (so the budget that forces it is the run of
    unusable replies), and with nothing at all to the first forced-answer prompt; ``relent`` answers when
    asked the second time.
    """

    def __init__(self, *, muse: bool = False, relent: bool = False) -> None:
        super().__init__(glass_harbor())
        self.muse, self.relent = muse, relent

    def react(self, messages: list[dict[str, Any]]) -> str:
        last = str(messages[-1]["content"])
        if "No tool will run" in last:  # the second, stricter ask
            return "<answer>Velmora, as far as the pages go [1]</answer>" if self.relent else IGNORED % ("x" * 100_000)
        if "reached the limit" in last:
            return "<think>Perhaps I should look again.</think>" if self.muse else IGNORED % ("x" * 100_000)
        visited = any('"visit"' in str(m["content"]) for m in messages if m["role"] == "assistant")
        if self.muse and visited and "<tool_response>" in last:
            return "<think>Let me think.</think>\nI wonder."
        return super().react(messages)


def no_call_markup(text: str) -> bool:
    return not any(mark in text for mark in ("<tool_call", "tool_call>", "<think", '"arguments"', "xxxxxxxx"))


async def test_a_forced_answer_answered_with_a_tool_call_is_answered_from_the_evidence(
        home: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    result, calls = await react_with(Stubborn(), monkeypatch, react_max_calls=4)
    # no call was left for a second ask: the answer comes from what the visited pages said
    assert len(calls) == 4 and result.status == "done"
    assert result.answer == "not determined" and no_call_markup(result.report)
    assert "4 model calls" in result.report
    assert re.search(r"Glass Harbor premiered in Velmora[^\n]*\[2\]", result.report)
    assert "## Sources" in result.report and "glass_harbor.md" in result.report


async def test_a_forced_answer_is_asked_for_once_more_when_the_budget_allows(
        home: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    result, calls = await react_with(Stubborn(muse=True), monkeypatch)
    # search, visit, three replies without a call, the forced ask (no answer), one stricter ask (a tool call)
    assert len(calls) == 7 and result.status == "done"
    assert "reached the limit" in calls[-2].messages[-1]["content"]
    assert "No tool will run" in calls[-1].messages[-1]["content"]
    assert result.answer == "not determined" and no_call_markup(result.report)
    assert re.search(r"Glass Harbor premiered in Velmora[^\n]*\[2\]", result.report)
    relented, calls = await react_with(Stubborn(muse=True, relent=True), monkeypatch, thread="r2")
    assert len(calls) == 7 and relented.answer == "Velmora, as far as the pages go [1]"
    assert no_call_markup(relented.report)
