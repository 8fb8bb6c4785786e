"""`--report long`: an outline from the evidence, each section written from only its own, one numbering."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import InProcess
from tests.conftest import QUESTION, glass_harbor
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_iterresearch import corpus, research  # noqa: F401 - the corpus fixture


def sections_of(report: str) -> dict[str, set[int]]:
    """Each "## On ..." section's heading and the citation numbers it uses."""
    parts = re.findall(r"^## (On .*?)\n(.*?)(?=^## )", report, re.S | re.M)
    return {title: {int(n) for n in re.findall(r"\[(\d+)\]", text)} for title, text in parts}


def shown_sources(call: Any, numbers: dict[str, int]) -> tuple[str, set[int]]:
    """A section call's title and the thread's numbers of the documents its prompt showed."""
    title = re.search(r"The section: (.*?)\. It covers", str(call.messages[0]["content"])).group(1)
    urls = re.findall(r'<document n="\d+" title="[^"]*" source="([^"]*)">', call.user)
    return title, {numbers[u] for u in urls}


class Straying(ToyModel):
    """A section writer that also cites numbers it was not shown, and leaves one section unwritten."""

    def __init__(self) -> None:
        super().__init__(glass_harbor())

    def section(self, user: str) -> str:
        if "Ilse Marrow" in user.split("<document", 2)[1]:
            return ""  # an empty reply: the section is left out
        return super().section(user) + "\n\nAs shown elsewhere [2][7]."


async def test_a_long_report_writes_sections_with_one_numbering(model_server: ModelServer,
                                                                 corpus: Path) -> None:  # noqa: F811
    short, _ = await research("short")
    before = len(model_server.calls())
    long, _ = await research("long", report_length="long")
    sections = model_server.calls("section")
    assert long.answer == "1921" and len(model_server.calls("final")) == len(model_server.calls("outline")) == 1
    assert long.llm_calls == short.llm_calls + 2 + len(sections) == len(model_server.calls()) - before
    numbers = {s["url"]: s["n"] for s in long.sources if s["n"] is not None}
    written = sections_of(long.report)
    assert len(written) == len(sections) == 2 and not long.failures
    for call in sections:  # each section cites only its own evidence, in the thread's numbering
        title, own = shown_sources(call, numbers)
        assert written[title] and written[title] <= own
    assert set().union(*written.values()) == set(numbers.values())
    # one source list, at the end, every cited source once
    assert long.report.count("## Sources") == 1 and long.report.rstrip().endswith(
        f"{long.report.split('## Sources')[1].strip()}")
    assert all(long.report.count(f"- [{n}] ") == 1 for n in numbers.values())
    # every section's citations passed the grounding check the final report gets
    assert long.grounding["citations_checked"] >= sum(len(v) for v in written.values())
    assert long.grounding["claims_unsupported"] == 0 and "[unverified]" not in long.report


async def test_a_section_cites_only_what_it_was_shown_and_a_failed_one_is_left_out(
        home: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    with ModelServer(Straying()) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        long, _ = await research("stray", report_length="long")
        calls = server.calls("section")
    numbers = {s["url"]: s["n"] for s in long.sources if s["n"] is not None}
    written = sections_of(long.report)
    assert long.answer == "1921" and len(calls) == 2 and len(written) == 1
    for call in calls:
        title, own = shown_sources(call, numbers)
        if title in written:
            assert written[title] <= own  # [2] is its second document's; [7] it was never shown: gone
    left_out = [f for f in long.failures if f["target"].startswith("long report section")]
    assert len(left_out) == 1 and "left out" in left_out[0]["error"] and "Ilse Marrow" in left_out[0]["target"]
    assert long.report.rstrip().split("\n")[-1].startswith("- [")  # the report still ends with its sources


async def test_a_budget_too_short_for_sections_keeps_the_single_call(model_server: ModelServer,
                                                                     corpus: Path) -> None:  # noqa: F811
    long, _ = await research("tight", report_length="long", max_llm_calls=14)
    assert long.answer == "1921" and len(model_server.calls("final")) == 1
    assert not model_server.calls("outline") and not model_server.calls("section")
    assert long.llm_calls <= 14 and not sections_of(long.report)
    note = [f for f in long.failures if f["target"] == "long report"]
    assert len(note) == 1 and "no long report" in note[0]["error"] and "max_llm_calls 14" in note[0]["error"]
    assert "The answer is 1921." in long.report and "## Sources" in long.report


def test_eval_writes_deepresearch_bench_lines(env: dict[str, str], tmp_path: Path, model_server: ModelServer,
                                              run_cli: InProcess) -> None:
    questions = tmp_path / "bench.jsonl"
    questions.write_text(json.dumps({"id": 7, "prompt": QUESTION, "answer": "1921"}) + "\n"
                         + json.dumps({"question": "关于玻璃港？ " + QUESTION, "answer": "1921"}) + "\n",
                         encoding="utf-8")
    bench = tmp_path / "articles.jsonl"
    done = run_cli(env, "eval", str(questions), "--out", str(tmp_path / "o"), "--set", "report_length=long",
                   "--deepresearch-bench", str(bench))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in bench.read_text(encoding="utf-8").splitlines()]
    assert [list(line) for line in lines] == [["id", "prompt", "article"]] * 2
    assert [line["id"] for line in lines] == [7, "line:2"]
    assert lines[0]["prompt"] == QUESTION and lines[1]["prompt"].startswith("关于玻璃港")
    assert all(line["article"].startswith(f"# {line['prompt']}") and "## On " in line["article"] for line in lines)
    refused = run_cli(env, "eval", str(questions), "--server", "http://127.0.0.1:9", "--deepresearch-bench",
                      str(bench))
    assert refused.returncode == 1 and "not with --server" in refused.stderr
