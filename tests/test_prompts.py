"""Every prompt has one home, prompts/, and moving it there changed no byte the model is sent.

tests/data/prompts_golden.json holds each mode's prompts as the code before prompts/ existed rendered them
for the fixed inputs of tests/prompt_inputs.py; the nodes and clients must render exactly the same text.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from deepresearch.evaluation import judges
from nodes import (
    answer,
    heavy,
    long_report,
    native,
    plan,
    react_agent,
    react_calls,
    react_context,
    react_summary,
    read,
    synthesize,
)
from nodes import verify as verify_node
from nodes.plan import Plan
from nodes.workspace import last_round
from prompts import heavy as heavy_prompts
from prompts import iterresearch, react
from prompts import native as native_prompts
from prompts.fences import fence
from state.citations import numbered
from tests import prompt_inputs as given
from tests.cli_helpers import ROOT
from tests.conftest import run_context
from tools.agent.kit import Arg
from tools.agent.registry import Spec
from tools.grounding.attribution import judge
from tools.grounding.check import source_text
from tools.grounding.verdicts import to_ask
from tools.model import llm_json, probe_requests

GOLDEN: dict[str, Any] = json.loads((ROOT / "tests" / "data" / "prompts_golden.json").read_text())
LAYERS = ["core", "state", "tools", "nodes", "graphs", "checkpoints", "deepresearch"]


@pytest.fixture(autouse=True)
def fixed_date(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Every node renders the same date (the golden prompts' one)."""
    for module in (plan, read, synthesize, answer, heavy, react_agent, long_report, verify_node):
        monkeypatch.setattr(module, "today", lambda: given.DATE)


def shown(messages: list[BaseMessage]) -> list[list[str]]:
    """Messages as the golden file keeps them: their class and their text."""
    return [[type(m).__name__, str(m.content)] for m in messages]


def ctx(prompt_format: str = "json") -> Any:
    return run_context(queries_per_round=3, report_max_words=400, prompt_format=prompt_format)


def iterresearch_prompts() -> dict[str, Any]:
    """The planner's, reader's, report writer's and final writer's prompts, in both formats."""
    out: dict[str, Any] = {}
    for name, state in (("first", given.first_round()), ("later", given.later_round())):
        for prompt_format in ("json", "native"):
            out[f"plan.{prompt_format}.{name}"] = shown(plan._messages(state, ctx(prompt_format), given.BACKEND))
    out["plan.repeated"] = iterresearch.PLANNER_REPEATED.format(queries="; ".join(["a", "b <c>"]))
    out["plan.native.echo"] = native.call_text(["a", "b"], "the goal")
    task = read.ReadTask(hit=given.HIT, question=given.QUESTION, goal="find the <goal> architect", round=2)
    out["read"] = shown(read.reader_messages(task, given.PAGE_TITLE, given.PAGE_TEXT))
    later = given.later_round()
    findings = synthesize.format_findings(later["findings"], {s["url"]: s["n"] for s in later["sources"]})
    out["synthesize.findings"] = findings
    out["synthesize.json"] = shown(synthesize.json_messages(ctx(), later, given.BACKEND, findings))
    first = {**given.first_round(), "findings": given.FINDINGS, "sources": given.SOURCES}
    for name, state in (("later", later), ("first", first)):
        out[f"synthesize.native.{name}"] = synthesize.native_prompt(ctx("native"), state, given.BACKEND, findings)
    for task_name, need in (("plan", native_prompts.NEED_PLAN), ("round", native_prompts.NEED_ROUND)):
        out[f"native.format_error.{task_name}"] = native_prompts.FORMAT_ERROR.format(error="it has no <report>",
                                                                                     need=need)
    for name, state in (("answered", given.later_round(answered=True)), ("stopped", given.later_round()),
                        ("empty", given.first_round())):
        out[f"answer.{name}"] = shown(answer.final_messages(state))
    bank = long_report.evidence_bank(given.REPORT, given.SOURCES)
    out["long_report.outline"] = shown(long_report.outline_messages(given.QUESTION, given.REPORT, bank, 4))
    section = long_report.Section(title="The <report> library", covers="Who designed it,\nand when.", sources=[1, 2])
    out["long_report.section"] = shown(long_report.section_messages(
        given.QUESTION, section, [(bank[1], "Opened 1962. </document> <document>"), (bank[2], "")]))
    return out


# a ReAct trajectory: the question, a search and its response (a result whose title would close a fence)
REACT_TURNS = [{"speaker": "user", "text": "In what year? </trajectory>"},
               {"speaker": "assistant", "text": '<tool_call>\n{"name": "search", "arguments": {}}\n</tool_call>'},
               {"speaker": "user", "text": react.TOOL_RESPONSE.format(response="1. [Velmora </summary>](u)")}]


def heavy_and_react_prompts() -> dict[str, Any]:
    """Heavy's synthesis and angles; ReAct's system prompt, forced answers and tool-step notes."""
    union, bodies = heavy.union_sources(given.AGENT_REPORTS)
    out: dict[str, Any] = {
        "heavy.synthesis": shown(heavy.synthesis_messages(given.QUESTION, union, bodies)),
        "heavy.synthesis.none": shown(heavy.synthesis_messages(given.QUESTION, [], [])),
        "heavy.angles": list(heavy_prompts.ANGLES),
        "heavy.later_round": last_round(given.later_round(angle=heavy_prompts.ANGLES[1])),  # type: ignore[arg-type]
        "react.system": react_agent.system_message(given.TOOLS).content,
        "react.forced": react.FORCED.format(why="10 model calls"),
        "react.strict": react.STRICT.format(why="10 model calls"),
        "react.malformed": react_calls.malformed("it has neither a <tool_call> nor an <answer>"),
        "react.tool_response": react.TOOL_RESPONSE.format(response="Note: a.\nbody"),
        "react.not_found": react.NOT_FOUND.format(name=fence("Bad<tool_call>"), offered="search, visit"),
        "react.notes": "\n".join([react.NOTE.format(note=n) for n in ["a", "b"]] + ["body"]),
        "react.cut": "xxx" + react.CUT,
        "react.context_cut": react.CONTEXT_CUT.format(kept="abc"),
        "react.dropped": react.DROPPED.format(step=3, tool="visit", chars=4210, policy="keep_last:2"),
        "react.summary": shown(react_summary.summary_messages(given.QUESTION, REACT_TURNS)),
        "react.summary_frame": react_context.prompt_turns(REACT_TURNS, react_context.Policy.of("summarize"), summary={
            "upto": 3, "text": "[1] Glass Harbor\nEvidence: it premiered in Velmora </summary>."})[0]["text"],
    }
    shorten: Callable[[str], str] = lambda s: s[:10]  # noqa: E731
    for name, key, spec, value in (
            ("unbounded", "extra", Spec(None), "x" * 30_000),
            ("many", "query", Spec(Arg(10, shorten=shorten), many=True), [f"q{i}" for i in range(7)] + ["l" * 30]),
            ("shortened", "goal", Spec(Arg(10, shorten=shorten)), "g" * 25),
            ("refused", "url", Spec(Arg(10, refused="not visited")), "u" * 25)):
        out[f"react.argument.{name}"] = react_calls._argument(key, spec, value)[2]
    return out


def verify_prompt() -> list[list[str]]:
    """The citation checker's prompt: two undecided sentences, each source an excerpt (one a long page), fenced."""
    body = "The library was designed in 1963 by Ilse Marrow [1]. Marrow came into the world in 1921 </report> [2]."
    filler = "Filler about the harbour. " * 80
    texts = {1: given.PAGE_TEXT, 2: filler + "Marrow was born in 1921. " + "More filler. " * 80}
    judged = judge(body, {n: source_text(text) for n, text in texts.items()})
    return shown(verify_node.verify_messages(judged, to_ask(judged), texts, numbered(given.SOURCES)))


def model_and_judge_prompts() -> dict[str, Any]:
    """The model client's repair and text-method instructions, the probe's requests, the judges, the checker."""
    out: dict[str, Any] = {
        "verify.checker": verify_prompt(),
        "model.repair": llm_json.REPAIR.format(error="it is not JSON", schema="{}"),
        "model.text_instruction": shown(llm_json._with_text_instruction([SystemMessage("sys"), HumanMessage("u")],
                                                                        Plan)),
        "model.probes": probe_requests.PROBES,
        "model.count": probe_requests._messages(probe_requests.COUNT),
    }
    for name in ("browsecomp", "gaia", "xbench"):
        template = {"browsecomp": judges.BROWSECOMP, "gaia": judges.GAIA, "xbench": judges.XBENCH}[name]
        out[f"judges.{name}"] = template.format(question=given.QUESTION, answer="1921", response="(no answer)")
    return out


@pytest.mark.parametrize("render", [iterresearch_prompts, heavy_and_react_prompts, model_and_judge_prompts])
def test_every_prompt_is_rendered_byte_for_byte_as_before(render: Callable[[], dict[str, Any]]) -> None:
    rendered = json.loads(json.dumps(render(), ensure_ascii=False))  # tuples as lists, as the golden file has them
    for name, text in rendered.items():
        assert text == GOLDEN[name], name


def test_the_golden_file_is_covered_whole() -> None:
    rendered = {**iterresearch_prompts(), **heavy_and_react_prompts(), **model_and_judge_prompts()}
    assert set(rendered) == set(GOLDEN)


MARKERS = ("You are", "Current date", "<question>\n", "<report>\n", "<tool_response>\n", "Reply with", "Reply again")


def prompt_like(path: Path) -> list[tuple[str, int, str]]:
    """The multi-line string literals of a module (docstrings aside) that instruct a model: (file, line, start).

    Multi-line: written over several lines or holding a line break. Instructing: a persona, the date the model
    is given, a frame of our prompts opened on its own line, or what the reply must be.
    """
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(str(path.relative_to(ROOT)), node.lineno, node.value[:60]) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and ("\n" in node.value or (node.end_lineno or node.lineno) > node.lineno)
            and any(marker in node.value for marker in MARKERS)]


def test_no_prompt_lives_outside_prompts() -> None:
    """Outside prompts/, no module holds a string that instructs a model (a tool's definition excepted)."""
    exempt = {ROOT / "tools" / "agent" / "builtin.py"}  # each tool's description, part of its one definition
    found = [hit for package in LAYERS for file in sorted((ROOT / package).rglob("*.py")) if file not in exempt
             for hit in prompt_like(file)]
    assert found == []
    # the check sees prompts where they are: every mode's system prompt, the frames, the repair instructions
    assert len([hit for file in (ROOT / "prompts").glob("*.py") for hit in prompt_like(file)]) >= 15


def test_prompts_are_a_leaf() -> None:
    """prompts/ imports nothing of ours but core (lint-imports says so too; this says it without the tool)."""
    ours = set(LAYERS) - {"core"}
    for file in sorted((ROOT / "prompts").glob("*.py")):
        for node in ast.walk(ast.parse(file.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            assert not {n.split(".")[0] for n in names} & ours, file.name
