"""ReAct: search results share the citation space of visited pages, and a snippet is a source of its own text.

A model that cites a fact it saw only in a result's snippet cites a real URL, and the grounding check
checks that sentence against the snippet; a page visited after its search result keeps the result's
number, its text upgraded to the page's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core.settings import load_settings
from deepresearch import runner
from state.records import Source
from state.reducers import merge_sources
from tests.conftest import glass_harbor
from tests.fakes.toy_model import ToyModel
from tests.test_grounding import citing, run_with
from tests.test_iterresearch import corpus  # noqa: F401 - the corpus fixture

_RESULT = re.compile(r"^\[(\d+)\] \[[^\]]*\]\(([^)]+)\)\n(.+)$", re.M)


def test_a_visit_upgrades_a_snippet_and_keeps_its_number() -> None:
    snippet = Source(url="u", title="U", page_hash="", n=0, round=1, snippet="a fact")
    other = Source(url="v", title="V", page_hash="", n=0, round=1, snippet="another")
    sources = merge_sources([], [[snippet, other]])
    page = Source(url="u", title="U page", page_hash="h", n=None, round=2)  # read, no evidence: still the page
    after = merge_sources(sources, [[page], [Source(**{**snippet, "snippet": "seen again"})]])
    assert after[0] == Source(url="u", title="U page", page_hash="h", n=1, round=2)  # a snippet never replaces it
    assert after[1]["n"] == 2 and after[1]["snippet"] == "another"


class CitesASnippet(ToyModel):
    """Its answer adds a fact it saw only in a search result's snippet, cited by that result's number or by [1]."""

    def __init__(self, wrong_number: bool = False) -> None:
        super().__init__(glass_harbor())
        self.wrong_number = wrong_number
        self.cited: tuple[str, str] = ("", "")  # the snippet's sentence and its source's URL

    def react(self, messages: list[dict[str, Any]]) -> str:
        reply = super().react(messages)
        if "<answer>" not in reply:
            return reply
        said = "\n".join(str(m["content"]) for m in messages)
        visited = dict(re.findall(r"^\[(\d+)\] .* — (\S+)\nEvidence:", said, re.M))
        asked = "\n".join(str(m["content"]) for m in messages if m["role"] == "assistant")  # its visit calls
        unseen = [(n, url, text) for n, url, text in _RESULT.findall(said) if f'"{url}"' not in asked]
        n, url, text = next((r for r in unseen if "Harbor Lights" in r[2]), unseen[0])
        sentence = text.replace(" … ", " ").split(". ")[0].strip(" .…")
        self.cited = (sentence, url)
        line = f"- {sentence}. [{min(visited) if self.wrong_number else n}]"  # or a visited page's number
        return reply.replace("</answer>", f"\n{line}</answer>")


@pytest.mark.parametrize("wrong_number", [False, True])
async def test_a_snippet_fact_is_cited_to_its_search_result(home: Path, corpus: Path,  # noqa: F811
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            wrong_number: bool) -> None:
    brain = CitesASnippet(wrong_number)
    result, server = await run_with(monkeypatch, brain, "react")
    sentence, url = brain.cited
    assert result.answer == "1921" and sentence
    # cited by the result's number, or moved there from the page it does not come from: a real URL either way
    assert citing(result, sentence) == [Path(url).name]
    counts = result.to_json()
    assert counts["claims_unsupported"] == 0 and counts["citations_reattributed"] == int(wrong_number)
    async with runner.saver_for(load_settings(), read_only=True) as saver:
        graph = runner.compile_graph(runner.graph_id_for_mode("react"), saver)
        stored = (await graph.aget_state({"configurable": {"thread_id": result.thread_id}})).values["sources"]
    by_url = {s["url"]: s for s in stored}
    assert by_url[url]["page_hash"] == "" and sentence.split()[0] in by_url[url]["snippet"]  # never visited
    pages = [by_url[s["url"]] for s in result.sources if s["url"] != url]
    assert pages and all(s["page_hash"] and "snippet" not in s for s in pages)  # upgraded to the page
    # cited to its result, the cheap check decides it against the snippet; cited to a page that shares no number
    # with it, the cheap check cannot tell and the model's verdict takes the citation away
    assert len(server.calls("verifier")) == int(wrong_number) and result.llm_calls == len(server.calls())
