"""A weak model's echo of its own prompt (the frame's tags, the chat template's tokens) is never a report."""

from pathlib import Path
from typing import Any

import pytest

from state.echo import echo_problem
from tests.conftest import glass_harbor
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_iterresearch import corpus, research  # noqa: F401 - the corpus fixture
from tests.test_react import react

ECHO = "<question>\nIn what year?\n</question>\n<report>\n(empty)\n</report><|im_end|>\n<|im_start|>user\n" * 3


@pytest.mark.parametrize(("text", "echo"), [
    (ECHO, True), ("<start_of_turn>model\n1921", True), ("The answer <report>is</report> here [1].", True),
    ("Ilse Marrow was born in 1921 [1].", False), ("A page said &lt;question> once [2].", False),
    ("Values a < b and c > d, as reported [3].", False),
])
def test_an_echo_is_told_from_a_report(text: str, echo: bool) -> None:
    assert (echo_problem(text) is not None) is echo


class Echoing(ToyModel):
    """Researches as usual; the steps named in ``echo`` reply with an echo of their prompt."""

    def __init__(self, echo: set[str]) -> None:
        super().__init__(glass_harbor())
        self.echo = echo

    def final(self, parts: dict[str, str]) -> str:
        return f"<answer>{ECHO}</answer>\n{ECHO}" if "final" in self.echo else super().final(parts)

    def synthesize(self, parts: dict[str, str], system: str) -> dict[str, Any]:
        reply = super().synthesize(parts, system)
        return {**reply, "report": ECHO} if "writer" in self.echo else reply


def _clean(report: str) -> None:
    assert "<|im_" not in report and "<question>" not in report and "&lt;question>" not in report


async def test_a_final_writer_that_echoes_leaves_the_researchs_report(home: Path, corpus: Path,  # noqa: F811
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with ModelServer(Echoing({"final"})) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, _ = await research("echo-final", report_length="long")
    _clean(result.report)
    assert result.answer == "1921" and "[1]" in result.report
    assert any("final writer's reply was unusable" in f["error"] and not f["transient"] for f in result.failures)


async def test_a_report_writer_that_echoes_keeps_the_evidence_unedited(home: Path, corpus: Path,  # noqa: F811
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with ModelServer(Echoing({"writer"})) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, _ = await research("echo-writer", max_rounds=2)
    _clean(result.report)
    assert "Velmora" in result.report  # the round's evidence, appended to the report as it came
    assert any("report writer's reply was unusable" in f["error"] and not f["transient"] for f in result.failures)


class EchoingAgent(ToyModel):
    """A ReAct agent whose final answer is an echo of its prompt."""

    def react(self, messages: list[dict[str, Any]]) -> str:
        reply = super().react(messages)
        return f"<answer>{ECHO}</answer>" if "<answer>" in reply else reply


async def test_a_react_answer_that_echoes_gives_the_evidence(home: Path, corpus: Path,  # noqa: F811
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with ModelServer(EchoingAgent(glass_harbor())) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, _ = await react("echo-react")
    _clean(result.report)
    # the evidence, cited by the numbers its pages had in the search results
    assert result.answer == "not determined" and f"[{result.sources[0]['n']}]" in result.report.split("## Sources")[0]
    assert "the model's answer was unusable" in result.report


class EchoingSynthesis(ToyModel):
    """Heavy's agents research as usual; the Research-Synthesis reply is an echo of its prompt."""

    def synthesis(self, user: str) -> dict[str, Any]:  # type: ignore[override]
        return {**ToyModel.synthesis(user), "report": ECHO}


async def test_a_heavy_synthesis_that_echoes_leaves_the_agents_report(home: Path, corpus: Path,  # noqa: F811
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_heavy import heavy

    with ModelServer(EchoingSynthesis(glass_harbor())) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, _ = await heavy("echo-heavy")
    _clean(result.report)
    assert result.answer == "1921" and "[1]" in result.report
