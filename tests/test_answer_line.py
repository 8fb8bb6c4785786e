"""The report's answer line is written once, whatever label the model put on its answer, in every mode."""

from pathlib import Path
from typing import Any

import pytest

from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch import runner
from state.answer_line import answer_and_body, short_answer, strip_answer_label
from tests.conftest import QUESTION, glass_harbor, run_context
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_iterresearch import Recorder, corpus  # noqa: F401 - the corpus fixture


@pytest.mark.parametrize("labelled", [
    "**Answer:** 1921", "**Answer:** **Answer:** 1921", "Answer: 1921", "ANSWER:1921", "**Answer**: 1921",
    "**Final answer**: 1921", "Final Answer: **1921**", "**Answer: 1921**", '"1921"', "“1921”", "**1921**",
    "答案：1921", "最终答案: 1921", "**答案**：1921", "最终答案：「1921」", "Réponse : 1921", "Ответ: 1921",
    "## Final answer\n1921", "  1921 \n", "__Answer__: '1921'",
])
def test_the_short_answer_loses_every_label(labelled: str) -> None:
    assert short_answer(labelled) == "1921"


@pytest.mark.parametrize("answer", ["Answer set programming", "The answer is 1921", '"A" and "B"',
                                    "**1921** and **1922**", "答案是1921年", "Answers: vary"])
def test_an_answer_that_only_looks_labelled_stays(answer: str) -> None:
    assert short_answer(answer) == answer


def test_a_body_that_repeats_the_answer_line_loses_it() -> None:
    assert answer_and_body("1921", "**Answer:** 1921\n\nMarrow was born in 1921 [3].") == (
        "1921", "Marrow was born in 1921 [3].")
    # a longer answer of its own keeps its sentence; without a short answer, it gives one
    assert answer_and_body("1921", "Answer: 1921, in Tromsholm [3]\nMore.") == ("1921", "1921, in Tromsholm [3]\nMore.")
    assert answer_and_body("", "答案：1921\n更多。") == ("1921", "更多。")
    assert strip_answer_label("**Answer:**\n1921\nMarrow [3]") == "1921\nMarrow [3]"


class Labelling(ToyModel):
    """Writes its answers with a label of its own, wherever it gives one."""

    def __init__(self, label: str) -> None:
        super().__init__(glass_harbor())
        self.label = label

    def synthesize(self, parts: dict[str, str], system: str) -> dict[str, Any]:  # iter's rounds, both formats
        reply = super().synthesize(parts, system)
        return {**reply, "answer": f"{self.label}{reply['answer']}"} if reply["answered"] else reply

    def final(self, parts: dict[str, str]) -> str:  # the long report, which repeats the line in its body
        text = super().final(parts)
        answer = text.split("<answer>")[1].split("</answer>")[0]
        return text.replace(f"<answer>{answer}</answer>", f"<answer>{self.label}{answer}</answer>\n\n"
                                                          f"{self.label}{answer}")

    def react(self, messages: list[dict[str, Any]]) -> str:
        return super().react(messages).replace("<answer>", f"<answer>{self.label}")

    @staticmethod
    def synthesis(user: str) -> dict[str, Any]:  # Heavy's Research-Synthesis
        reply = ToyModel.synthesis(user)
        return {**reply, "answer": f"最终答案：{reply['answer']}", "report": f"**Answer:** {reply['answer']}\n\n"
                + reply["report"]}


@pytest.mark.parametrize(("mode", "options", "label"), [
    ("iterresearch", {}, "**Answer:** **Answer:** "),
    ("iterresearch", {"prompt_format": "native"}, "答案："),
    ("iterresearch", {"report_length": "long"}, "**Final answer**: "),
    ("react", {}, "**Answer:** "),
    ("heavy", {"heavy_agents": 2}, "Answer: "),
])
async def test_the_report_has_one_answer_line_in_every_mode(home: Path, corpus: Path,  # noqa: F811
                                                            monkeypatch: pytest.MonkeyPatch, mode: str,
                                                            options: dict[str, Any], label: str) -> None:
    with ModelServer(Labelling(label)) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        ctx = run_context(**{"pages_per_round": 2, **options})
        result = await runner.start(load_settings(), thread_id_for("a1"), QUESTION, mode, ctx, Recorder())
    assert result.status == "done" and result.answer == "1921"
    assert result.report.split("\n\n")[1] == "**Answer:** 1921"
    assert result.report.count("Answer") == 1 and "答案" not in result.report
