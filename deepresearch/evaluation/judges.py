"""Judges: normalised exact match, or an LLM grader with the prompt its benchmark uses.

browsecomp (also HLE's): extracted_final_answer, reasoning, correct yes/no, confidence. gaia (also
WebWalkerQA's): Correct or Incorrect. xbench: its Chinese judge. auto: xbench for questions in Chinese,
else browsecomp. A verdict that cannot be read is asked for again, then counted as ungraded: never right.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Any, get_args

from langchain_core.messages import HumanMessage

from core.errors import ParseError
from core.redact import redact_text
from core.vocabulary import JudgeName
from prompts.judges import BROWSECOMP, GAIA, XBENCH
from tools.model.llm import Endpoint, complete_text
from tools.model.structured import find_json

JUDGES: tuple[str, ...] = get_args(JudgeName)
ATTEMPTS = 2

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


@dataclass(frozen=True)
class Verdict:
    """A judgement: right, wrong, or None (ungraded), with what the judge said."""

    correct: bool | None
    detail: dict[str, Any]


def normalize(text: str) -> str:
    """Lower case, no accents, punctuation or articles, single spaces (SQuAD's normalisation, Unicode-aware)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = "".join(" " if ch in string.punctuation or unicodedata.category(ch).startswith("P") else ch for ch in text)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact(response: str, answer: str) -> Verdict:
    """Normalised exact match."""
    return Verdict(normalize(response) == normalize(answer), {"judge": "exact"})


def pick(judge: str, question: str) -> str:
    """The judge ``auto`` stands for, for this question."""
    if judge != "auto":
        return judge
    return "xbench" if _CJK.search(question) else "browsecomp"


def read_verdict(judge: str, text: str) -> Verdict:
    """The verdict in a judge's reply; ParseError when it says none."""
    if judge == "gaia":
        words = re.findall(r"\b(correct|incorrect)\b", text.lower())
        if not words:
            raise ParseError("the reply says neither Correct nor Incorrect")
        return Verdict(words[-1] == "correct", {"judge": judge, "reply": text.strip()[:500]})
    data = find_json(text)
    if judge == "xbench":
        verdict = str(data.get("结论", "")).strip()
        if verdict not in ("正确", "错误"):
            raise ParseError('the reply has no 结论 of "正确" or "错误"')
        return Verdict(verdict == "正确", {"judge": judge, **data})
    verdict = str(data.get("correct", "")).strip().lower()
    if verdict not in ("yes", "no"):
        raise ParseError('the reply has no "correct": "yes" or "no"')
    return Verdict(verdict == "yes", {"judge": judge, **data})


async def judge_answer(judge: str, endpoint: Endpoint | None, question: str, answer: str, response: str) -> Verdict:
    """Judge one response: exact match, or the benchmark's LLM grader (a verdict it cannot give: ungraded)."""
    name = pick(judge, question)
    if name == "exact" or endpoint is None:
        return exact(response, answer)
    prompt = {"browsecomp": BROWSECOMP, "gaia": GAIA, "xbench": XBENCH}[name].format(
        question=question, answer=answer, response=response or "(no answer)")
    problem = ""
    for _ in range(ATTEMPTS):
        try:
            text, _usage = await complete_text(endpoint, [HumanMessage(prompt)])
            return read_verdict(name, text)
        except ParseError as exc:
            problem = str(exc)
        except Exception as exc:  # noqa: BLE001 - a judge that fails leaves the item ungraded, never right
            problem = redact_text(f"{type(exc).__name__}: {exc}")  # stored with the result: no password
    return Verdict(None, {"judge": name, "ungraded": problem})
