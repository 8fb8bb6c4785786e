"""Passages: split text for the corpus index, the terms it is searched by, and focus on a goal.

Long pages are cut down to the passages that match the round's goal. Chinese and Japanese write no
spaces between words, and Korean attaches particles to them, so a run of those scripts is taken as its
overlapping character pairs (bigrams), as CJK search engines do: 玻璃港 becomes 玻璃 and 璃港. Other
text is taken as words.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")


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
        else:  # CJK sentences follow each other without a space
            current = (current + sentence if current.endswith(("。", "！", "？")) else f"{current} {sentence}").strip()
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
# Han (with extensions and compatibility ideographs), kana, Hangul syllables and jamo
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff]+")
_CJK_RUNS = re.compile(f"({_CJK.pattern})")  # splits a word into its CJK runs and the rest, keeping both
_COMMON_WORDS = frozenset(
    "a an and are as at be by did do does for from had has have how in is it its of on or that the this "
    "to was were what when where which who whom whose why will with".split()
)


def bigrams(run: str) -> list[str]:
    """A CJK run as its overlapping character pairs (a single character stays itself)."""
    return [run] if len(run) < 2 else [run[i : i + 2] for i in range(len(run) - 1)]


def cjk_grams(text: str) -> str:
    """The bigrams of every CJK run in ``text``, space-separated (the corpus indexes them beside the words)."""
    return " ".join(g for run in _CJK.findall(text) for g in bigrams(run))


def terms(text: str) -> list[str]:
    """What text is searched by: lower-case words without the most common English ones, and CJK bigrams."""
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if not _CJK.search(word):
            if word not in _COMMON_WORDS:
                out.append(word)
            continue
        for part in _CJK_RUNS.split(word):
            if _CJK.fullmatch(part):
                out.extend(bigrams(part))
            elif part and part not in _COMMON_WORDS:
                out.append(part)
    return out


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
