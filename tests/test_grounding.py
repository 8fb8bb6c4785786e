"""Grounded citations: every cited sentence of the final report is checked against its source's stored text.

A citation to a page that does not say the sentence moves to the retrieved page that does; a sentence no
retrieved source says loses its citation and is marked; a report whose citations hold is unchanged. The
check is cheap (no model call) and works for CJK text as for English, in every mode.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from checkpoints.threads import thread_id_for
from core.settings import load_settings
from deepresearch import runner
from tests.conftest import QUESTION, glass_harbor, run_context
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_iterresearch import Recorder, corpus  # noqa: F401 - the corpus fixture
from tests.test_languages import QUESTION_ZH, chinese_chain, corpus_zh  # noqa: F401 - the Chinese corpus fixture
from tools.grounding.attribution import judge, rewrite
from tools.grounding.check import claims, source_text, verdict

FILM = ("Glass Harbor is a 1958 drama directed by Tomas Reyle. Glass Harbor premiered in Velmora, a small coastal "
        "town, at the Lantern Cinema on 14 March 1958.")
TOWN = "The Velmora Public Library on Harbour Street was designed by Ilse Marrow and opened in 1962."
PERSON = "Ilse Marrow was an architect known for civic buildings. Ilse Marrow was born in 1921 in Tromsholm."
SOURCES = {1: source_text(FILM), 2: source_text(TOWN), 3: source_text(PERSON)}
INVENTED = "Ilse Marrow received the Harbour Medal in 1975."
INVENTED_ZH = "伊尔莎·马罗于1975年获得港口奖章。"


def test_sentences_bullets_and_cjk_sentence_ends_are_claims() -> None:
    body = ("Intro without a source.\n- Glass Harbor premiered in Velmora. [1]\nIt opened in 1962 [2]. "
            "Marrow was born in 1921 [3].\n伊尔莎出生于1921年[3]。她是建筑师[3]！Lived [1921-1962].")
    found = [(c.text.strip(), c.cited) for c in claims(body)]
    assert found == [("- Glass Harbor premiered in Velmora. [1]", (1,)), ("It opened in 1962 [2].", (2,)),
                     ("Marrow was born in 1921 [3].", (3,)), ("伊尔莎出生于1921年[3]。", (3,)),
                     ("她是建筑师[3]！", (3,))]


def test_numbers_quotes_and_words_decide() -> None:
    assert verdict("The library was designed by Ilse Marrow and opened in 1962 [2].", SOURCES[2]) == "supported"
    # full-width digits and letters, another case: the same words
    assert verdict("ＶＥＬＭＯＲＡ Public Library opened in １９６２ [2].", SOURCES[2]) == "supported"
    assert verdict("Ilse Marrow was born in 1921 [1].", SOURCES[1]) == "unsupported"  # the film page lacks it
    assert verdict('It was called "the finest reading hall" [2].', SOURCES[2]) == "unsupported"
    # the same words with another number: a number written another way, or a wrong one; cheap matching can't tell
    assert verdict("The Velmora Public Library opened in 1963 [2].", SOURCES[2]) == "undecided"
    assert verdict("It is admired across the region [2].", SOURCES[2]) == "undecided"  # a paraphrase


def test_a_report_whose_citations_hold_is_unchanged() -> None:
    body = f"- {FILM} [1]\n- {TOWN} [2]\n\nThe architect was born in 1921 [3], in Tromsholm [3]."
    grounded = rewrite(body, judge(body, SOURCES), SOURCES, "[unverified]")
    assert grounded.body == body and grounded.checked == 3  # a sentence citing [3] twice is checked once
    assert grounded.reattributed == grounded.unsupported == 0


def test_a_wrong_page_is_re_attributed_and_an_unsourced_fact_is_marked() -> None:
    body = f"- {TOWN} [1]\n- Ilse Marrow was born in 1921 [1][3].\n- {INVENTED} [3]"
    grounded = rewrite(body, judge(body, SOURCES), SOURCES, "[unverified]")
    assert grounded.body == f"- {TOWN} [2]\n- Ilse Marrow was born in 1921 [3].\n- {INVENTED} [unverified]"
    assert (grounded.checked, grounded.reattributed, grounded.unsupported) == (4, 2, 1)
    assert rewrite(body, judge(body, SOURCES), SOURCES, "").body.endswith(INVENTED)  # no mark: the citation goes


def test_chinese_citations_are_checked_by_bigrams() -> None:
    sources = {1: source_text("《玻璃港》于1958年3月14日在韦尔莫拉的灯笼影院首映。"),
               2: source_text("伊尔莎·马罗出生于1921年，在哥本哈根学习。")}
    body = f"伊尔莎·马罗出生于1921年[1]。《玻璃港》在韦尔莫拉首映[1]！{INVENTED_ZH[:-1]}[2]。"
    grounded = rewrite(body, judge(body, sources), sources, "[unverified]")
    assert grounded.body == f"伊尔莎·马罗出生于1921年[2]。《玻璃港》在韦尔莫拉首映[1]！{INVENTED_ZH[:-1]}[unverified]。"
    assert (grounded.reattributed, grounded.unsupported) == (1, 1)


# --- end to end: a model that cites the first page for every fact, and adds one no page states -------------------
def miscited(text: str, invented: str) -> str:
    """Every citation turned into [1], and one more cited fact that no source states."""
    text = re.sub(r"\[\d+\]", "[1]", text)
    return text if invented in text else f"{text}\n- {invented} [1]"


class Miscites(ToyModel):
    """IterResearch's report writer and ReAct's agent cite [1] for every fact, and state one fact of no source."""

    invented = INVENTED

    def synthesize(self, parts: dict[str, str], system: str) -> dict[str, Any]:
        reply = super().synthesize(parts, system)
        return {**reply, "report": miscited(reply["report"], self.invented)}

    def react(self, messages: list[dict[str, Any]]) -> str:
        reply = super().react(messages)
        return miscited(reply[: -len("</answer>")], self.invented) + "</answer>" if "<answer>" in reply else reply

    def synthesis(self, user: str) -> dict[str, Any]:
        reply = super().synthesis(user)
        return {**reply, "report": miscited(reply["report"], self.invented)}


class MiscitesZh(Miscites):
    invented = INVENTED_ZH


def citing(result: runner.RunResult, phrase: str) -> list[str]:
    """The names of the sources cited by the body's lines that hold ``phrase``."""
    names = {f"[{s['n']}]": Path(s["url"]).name for s in result.sources}
    body = result.report.split("## Sources")[0]
    lines = [line for line in body.splitlines() if phrase in line]
    assert lines, f"no line of the report holds {phrase!r}"
    return [names.get(c, c) for line in lines for c in re.findall(r"\[\d+\]|\[unverified\]", line)]


async def run_with(monkeypatch: pytest.MonkeyPatch, brain: ToyModel, mode: str, question: str = QUESTION,
                   **options: Any) -> tuple[runner.RunResult, ModelServer]:
    """A run of ``mode`` against a model server of its own that answers with ``brain``."""
    with ModelServer(brain) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result = await runner.start(load_settings(), thread_id_for(f"g-{mode}"), question, mode,
                                    run_context(pages_per_round=2, **options), Recorder())
        return result, server


@pytest.mark.parametrize("mode", ["iterresearch", "react", "heavy"])
async def test_each_mode_re_attributes_and_marks(home: Path, corpus: Path, mode: str,  # noqa: F811
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    result, server = await run_with(monkeypatch, Miscites(glass_harbor()), mode, heavy_agents=2)
    assert result.answer == "1921"
    assert set(citing(result, "Public Library")) == {"velmora_town_guide.pdf"}
    assert set(citing(result, "was born in 1921")) == {"ilse_marrow.html"}
    assert citing(result, "Harbour Medal") == ["[unverified]"]
    counts = result.to_json()
    # Heavy: each agent's report was checked and marked before the synthesis, whose own check finds it marked
    assert counts["citations_reattributed"] >= 2 and counts["claims_unsupported"] == (mode != "heavy")
    assert counts["citations_checked"] >= 3
    assert result.llm_calls == len(server.calls())  # the check itself asked the model nothing


@pytest.mark.parametrize("mode", ["iterresearch", "react", "heavy"])
async def test_a_chinese_report_is_re_attributed_and_marked(home: Path, corpus_zh: Path,  # noqa: F811
                                                            monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    result, _ = await run_with(monkeypatch, MiscitesZh(chinese_chain()), mode, QUESTION_ZH, heavy_agents=2)
    assert result.answer == "1921"
    assert set(citing(result, "公共图书馆由")) == {"韦尔莫拉.md"}
    assert set(citing(result, "出生于1921")) == {"伊尔莎.md"}
    assert citing(result, "港口奖章") == ["[unverified]"]


async def test_a_right_report_keeps_every_citation(home: Path, corpus: Path, model_server: ModelServer,  # noqa: F811
                                                   ) -> None:
    result = await runner.start(load_settings(), thread_id_for("right"), QUESTION, "iterresearch",
                                run_context(pages_per_round=2, unverified_marker="(?)"), Recorder())
    counts = result.to_json()
    assert counts["citations_checked"] >= 3
    assert counts["citations_reattributed"] == counts["claims_unsupported"] == 0 and "(?)" not in result.report
