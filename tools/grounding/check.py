"""Grounded citations, the cheap check: whether the source a sentence cites says what the sentence says.

No model call and no I/O: the report's body and the stored text of each numbered source are given. A
report is cut into sentences (lines, bullets, and sentence ends, 。！？ included); each sentence that
cites ``[n]`` is matched against source n's text, normalised the same way (NFKC, case-folded,
punctuation gone): its numbers (years, quantities) and quoted strings must occur there, and its content
words (CJK text: character bigrams, as the corpus index takes it) must mostly occur there. That decides
*supported* and *unsupported*; a sentence it cannot decide (a paraphrase, a translation, a number
written another way) is *undecided*, for the model to judge or to keep as cited.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from core.text import squash
from state.citations import YEARLIKE
from tools.documents.passages import terms

Verdict = Literal["supported", "unsupported", "undecided"]
SUPPORTED_SHARE = 0.6  # of a sentence's content terms the source must hold for it to support the sentence
MIN_QUOTE_CHARS = 4  # a shorter quoted string is a word in quotes, not a quotation

CITATION = re.compile(r"[ \t]?\[(\d+)\]")
# a sentence ends at . ! ? (then space, not a lower-case word: "e.g. the" goes on) or at 。！？, with the
# citations that follow the end still its own
_END = re.compile(r"(?:[.!?][\"'”’)]*(?:[ \t]*\[\d+\])*(?=[ \t]+[^a-z\s]|\s*$)|[。！？」』]+(?:[ \t]*\[\d+\])*)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)\s]*\)")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTED = re.compile(r"[\"“«„「『]([^\"“”«»„「」『』\n]+)[\"”»“」』]")


@dataclass(frozen=True)
class Claim:
    """One cited sentence of a body: where it is, its text, and the sources it cites (in order)."""

    start: int
    end: int
    text: str
    cited: tuple[int, ...]


@dataclass(frozen=True)
class SourceText:
    """A source's text as the check reads it: its terms, its numbers and its squashed text (for quotes)."""

    terms: frozenset[str]
    numbers: frozenset[str]
    flat: str


def normal(text: str) -> str:
    """Text as compared: NFKC (full-width digits and letters become plain ones) and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def _numbers(text: str) -> set[str]:
    """The numbers written in a text, separators dropped (1,921 and 1921 are one), one digit left out."""
    keys = {re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text)}
    return {k.lstrip("0") or "0" for k in keys if len(k) > 1}


def _content_terms(text: str) -> set[str]:
    """A text's words and CJK bigrams, without numbers and one-letter words."""
    return {t for t in terms(text) if not t.isdigit() and len(t) > 1 or _is_cjk_char(t)}


def _is_cjk_char(term: str) -> bool:
    return len(term) == 1 and ord(term) >= 0x3040


def source_text(text: str) -> SourceText:
    """A source's stored text, prepared once for every sentence that is matched against it."""
    flat = normal(text)
    return SourceText(frozenset(_content_terms(flat)), frozenset(_numbers(flat)), squash(flat))


def plain(sentence: str) -> str:
    """A sentence as matched: without its citations, links' addresses, markdown marks and bullets."""
    text = CITATION.sub("", sentence)
    text = _URL.sub("", _LINK.sub(r"\1", text))
    return re.sub(r"^\s*(?:[-*+]|\d+[.)]|#{1,6})\s+", "", text).replace("**", "").strip()


def claims(body: str) -> list[Claim]:
    """The sentences of ``body`` that cite a source, in order (a year in brackets, [1921], is no citation)."""
    found: list[Claim] = []
    offset = 0
    for line in body.splitlines(keepends=True):
        start = 0
        ends = [m.end() for m in _END.finditer(line)] + [len(line)]
        for end in ends:
            if end <= start:
                continue
            text = line[start:end]
            cited = tuple(int(n) for n in CITATION.findall(text) if int(n) < YEARLIKE)
            if cited and plain(text):
                found.append(Claim(offset + start, offset + end, text, tuple(dict.fromkeys(cited))))
            start = end
        offset += len(line)
    return found


def coverage(sentence: str, source: SourceText) -> float:
    """The share of the sentence's content terms that the source holds (1.0 for a sentence without any)."""
    wanted = _content_terms(normal(plain(sentence)))
    return len(wanted & source.terms) / len(wanted) if wanted else 1.0


def missing(sentence: str, source: SourceText) -> list[str]:
    """The sentence's numbers and quoted strings that the source does not hold."""
    text = normal(plain(sentence))
    absent = sorted(_numbers(text) - source.numbers)
    for quote in _QUOTED.findall(text):
        key = squash(quote)
        if len(key) >= MIN_QUOTE_CHARS and key not in source.flat:
            absent.append(quote)
    return absent


def verdict(sentence: str, source: SourceText) -> Verdict:
    """Whether the source supports the sentence, as far as matching its text can tell.

    Supported: the source holds the sentence's numbers, quotes and most of its words. Unsupported: it
    lacks a number or quote and most of the words too. Anything else cannot be decided this cheaply.
    """
    share = coverage(sentence, source)
    lacking = missing(sentence, source)
    if share >= SUPPORTED_SHARE:
        return "undecided" if lacking else "supported"
    return "unsupported" if lacking else "undecided"
