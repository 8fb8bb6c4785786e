"""Passages: split text for the corpus index, and cut long pages down to what matches a goal."""

from __future__ import annotations

import math
import re
from collections import Counter

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:
            parts.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if current and len(current) + len(sentence) + 1 > max_chars:
            parts.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        parts.append(current)
    return parts


def split_passages(text: str, max_chars: int = 1200) -> list[str]:
    """Split text into passages of whole paragraphs, each at most ``max_chars`` long."""
    passages: list[str] = []
    current = ""
    for para in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not para:
            continue
        pieces = _split_long(para, max_chars) if len(para) > max_chars else [para]
        for piece in pieces:
            if current and len(current) + len(piece) + 2 > max_chars:
                passages.append(current)
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
    if current:
        passages.append(current)
    return passages


_WORD = re.compile(r"\w+", re.UNICODE)
_COMMON_WORDS = frozenset(
    "a an and are as at be by did do does for from had has have how in is it its of on or that the this "
    "to was were what when where which who whom whose why will with".split()
)


def terms(text: str) -> list[str]:
    """Lower-case words without the most common English ones."""
    return [w for w in _WORD.findall(text.lower()) if w not in _COMMON_WORDS]


def focus_text(text: str, focus: str, max_chars: int) -> str:
    """The text if it fits; else its opening plus the passages that best match ``focus``, in order.

    Passages are scored by the focus words they contain, rarer words counting more (a small BM25).
    """
    if len(text) <= max_chars:
        return text
    passages = split_passages(text, min(1200, max(80, max_chars // 2)))
    wanted = set(terms(focus))
    counts = [Counter(terms(p)) for p in passages]
    df = Counter(w for c in counts for w in wanted if c[w])
    scores = [sum(math.log(1 + len(passages) / df[w]) * c[w] / (c[w] + 1.2) for w in wanted if c[w]) for c in counts]
    order = [0] + sorted(range(len(passages)), key=lambda i: -scores[i])
    chosen: list[int] = []
    used = 0
    for i in order:
        if i not in chosen and used + len(passages[i]) + 3 <= max_chars:
            chosen.append(i)
            used += len(passages[i]) + 3
    if not chosen:  # a single passage longer than the limit
        best = max(range(len(passages)), key=lambda i: scores[i])
        return passages[best][:max_chars]
    return "\n…\n".join(passages[i] for i in sorted(chosen))
