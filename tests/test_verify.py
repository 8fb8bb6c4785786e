"""The model's verification of the cited sentences the cheap check cannot decide: one batched call, a verdict each.

A paraphrase its source bears out keeps its citation; a sentence with a wrong number is marked; a report the
cheap check decides fully makes no extra call; a spent budget or a failed call leaves the sentences as cited
and the run goes on. The toy model's checker judges by what the prompt shows it of each source (an excerpt).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch import runner
from nodes.grounding import verify_calls
from nodes.verify import EXCERPT_CHARS
from tests.conftest import QUESTION, glass_harbor, run_context
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_grounding import citing
from tests.test_iterresearch import Recorder, corpus  # noqa: F401 - the corpus fixture
from tests.test_languages import QUESTION_ZH, chinese_chain, corpus_zh  # noqa: F401 - the Chinese corpus fixture
from tools.grounding.attribution import judge
from tools.grounding.check import source_text
from tools.grounding.verdicts import SentenceVerdict, Verdicts, applied, to_ask

PERSON = "Ilse Marrow was an architect known for civic buildings. Ilse Marrow was born in 1921 in Tromsholm."
PARAPHRASE = "Ilse Marrow came into the world in Tromsholm, her hometown"
WRONG_YEAR = "Ilse Marrow was born in 1931 in Tromsholm"
PARAPHRASE_ZH = "伊尔莎·马罗在1921年降临人世"
WRONG_YEAR_ZH = "伊尔莎·马罗出生于1931年"


def test_only_undecided_pairs_are_asked_and_only_asked_pairs_are_applied() -> None:
    sources = {3: source_text(PERSON)}
    body = f"{PERSON} [3]\n{PARAPHRASE} [3].\n{WRONG_YEAR} [3]."
    judged = judge(body, sources)
    asked = to_ask(judged)
    assert [(a.id, a.index, a.n) for a in asked] == [(1, 1, 3), (2, 2, 3)]  # the first line is decided: supported
    reply = Verdicts(verdicts=[SentenceVerdict(sentence=1, source=3, supported=True),
                               SentenceVerdict(sentence=2, source=3, supported=False),
                               SentenceVerdict(sentence=2, source=3, supported=True),  # said twice: first stands
                               SentenceVerdict(sentence=9, source=3, supported=False)])  # never asked
    after, decided = applied(judged, asked, reply)
    assert decided == 2 and [j.verdicts[3] for j in after] == ["supported", "supported", "unsupported"]


def test_the_budget_bounds_the_verification() -> None:
    ctx = run_context(max_llm_calls=10, max_tokens=1000)
    assert verify_calls({"llm_calls": 4}, ctx) == 2
    assert verify_calls({"llm_calls": 9}, ctx) == 1
    assert verify_calls({"llm_calls": 9}, ctx, used=type("U", (), {"calls": 1, "tokens": 0})()) == 0
    assert verify_calls({"llm_calls": 1, "tokens": 1000}, ctx) == 0


class Paraphrases(ToyModel):
    """Its final report adds two sentences cited to the architect's page: a paraphrase, and a wrong year."""

    added = (PARAPHRASE, WRONG_YEAR)
    person = "Ilse Marrow"

    def synthesize(self, parts: dict[str, str], system: str) -> dict[str, Any]:
        reply = super().synthesize(parts, system)
        numbers = re.findall(rf"^- {self.person}.* \[(\d+)\]$", reply["report"], re.M)
        if not reply["answered"] or not numbers:
            return reply
        extra = "\n".join(f"- {sentence} [{numbers[0]}]。" if "·" in sentence else f"- {sentence} [{numbers[0]}]."
                          for sentence in self.added)
        return {**reply, "report": f"{reply['report']}\n{extra}"}


class ParaphrasesZh(Paraphrases):
    added = (PARAPHRASE_ZH, WRONG_YEAR_ZH)
    person = "伊尔莎·马罗"


async def run(monkeypatch: pytest.MonkeyPatch, brain: ToyModel, question: str = QUESTION,
              **options: Any) -> tuple[runner.RunResult, ModelServer]:
    with ModelServer(brain) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result = await runner.start(load_settings(), thread_id_for("verify"), question, "iterresearch",
                                    run_context(pages_per_round=2, **options), Recorder())
        return result, server


async def test_the_model_keeps_a_paraphrase_and_marks_a_wrong_year(home: Path, corpus: Path,  # noqa: F811
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    result, server = await run(monkeypatch, Paraphrases(glass_harbor()))
    assert result.answer == "1921"
    assert citing(result, "came into the world") == ["ilse_marrow.html"]
    assert citing(result, "born in 1931") == ["[unverified]"]
    asked = server.calls("verifier")
    assert len(asked) == 1 and result.llm_calls == len(server.calls())  # one batched call, counted
    prompt = asked[0].user
    assert "cites [" in prompt and PARAPHRASE in prompt and WRONG_YEAR in prompt
    excerpt = re.search(r"<document [^>]*>\n(.*?)\n</document>", prompt, re.S)
    assert excerpt and "born in 1921" in excerpt.group(1) and len(excerpt.group(1)) <= EXCERPT_CHARS
    assert result.to_json()["claims_unsupported"] == 1


async def test_a_chinese_paraphrase_is_kept_and_a_wrong_year_marked(home: Path, corpus_zh: Path,  # noqa: F811
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    result, server = await run(monkeypatch, ParaphrasesZh(chinese_chain()), QUESTION_ZH)
    assert result.answer == "1921"
    assert citing(result, "降临人世") == ["伊尔莎.md"]
    assert citing(result, "出生于1931") == ["[unverified]"]
    assert len(server.calls("verifier")) == 1


async def test_a_report_the_cheap_check_decides_makes_no_extra_call(home: Path, corpus: Path,  # noqa: F811
                                                                   model_server: ModelServer) -> None:
    result = await runner.start(load_settings(), thread_id_for("decided"), QUESTION, "iterresearch",
                                run_context(pages_per_round=2), Recorder())
    assert result.answer == "1921" and result.to_json()["citations_checked"] >= 3
    assert model_server.calls("verifier") == [] and result.llm_calls == len(model_server.calls())


async def test_a_failed_verification_keeps_the_citations_and_is_recorded(home: Path, corpus: Path,  # noqa: F811
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    brain = Paraphrases(glass_harbor())
    with ModelServer(brain) as server:
        server.faults.cut_off = {"verifier"}
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result = await runner.start(load_settings(), thread_id_for("failed"), QUESTION, "iterresearch",
                                    run_context(pages_per_round=2), Recorder())
    assert result.answer == "1921"
    assert citing(result, "born in 1931") == ["ilse_marrow.html"]  # undecided, and no verdict: kept as cited
    assert [f["action"] for f in result.failures] == ["verify"]
    assert result.llm_calls == len(server.calls())


async def test_a_spent_budget_makes_no_verification_call(home: Path, corpus: Path,  # noqa: F811
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    result, server = await run(monkeypatch, Paraphrases(glass_harbor()), max_tokens=1)
    assert server.calls("verifier") == [] and result.llm_calls == len(server.calls())
