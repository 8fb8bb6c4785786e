"""The toy model's citation checker: it judges each listed sentence by what its prompt shows of the cited source.

A sentence is supported iff its key words (numbers, capitalised names, CJK names written with "·", titles in
《》) all occur in the fenced excerpt of the source it cites: a paraphrase with the right names and numbers
passes, a wrong year fails. It reads only the prompt, so a verdict proves the excerpt reached the model.
"""

from __future__ import annotations

import re
from typing import Any

_SENTENCE = re.compile(r"^(\d+)\. cites \[(\d+)\]: (.*)$", re.M)
_DOCUMENT = re.compile(r'<document n="(\d+)"[^>]*>\n(.*?)\n</document>', re.S)
# a CJK name written with "·" ends where a particle or a number follows it (在, 于, 是, 出生, 的)
_KEY = re.compile(r"\d+(?:[.,]\d+)*|[A-Z][a-z]+|《[^》]+》"
                  r"|[\u4e00-\u9fff]{1,4}·[\u4e00-\u9fff]+?(?=[在于是出的，。\d]|$)")
_FUNCTION_WORDS = {"The", "It", "She", "He", "Her", "His", "This", "In", "An"}


def key_words(sentence: str) -> set[str]:
    """What the checker insists on: numbers and names (function words that open a sentence aside)."""
    return set(_KEY.findall(sentence)) - _FUNCTION_WORDS


def is_checker(system: str) -> bool:
    """Whether the prompt is the citation checker's (prompts/verify.py)."""
    return "citation checker" in system


def verdicts(user: str) -> dict[str, Any]:
    """One verdict for each listed sentence and source, from the words of that source's excerpt."""
    excerpts = {int(n): text for n, text in _DOCUMENT.findall(user)}
    out = []
    for sid, n, sentence in _SENTENCE.findall(user):
        wanted = key_words(sentence)
        shown = excerpts.get(int(n), "")
        absent = sorted(w for w in wanted if w not in shown)
        out.append({"sentence": int(sid), "source": int(n), "supported": bool(wanted) and not absent,
                    "reason": f"the excerpt lacks {', '.join(absent)}" if absent else "the excerpt states it"})
    return {"verdicts": out}
