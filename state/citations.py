"""Citation rules: [n] must name a source retrieved in this thread; anything else is removed and counted."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from state.links import literal_title
from state.records import Source

# [3], [ 3 ], [3, 5], [3 and 5], [3][5], [2-4], and number-only links [3](http://...) whose URL the model
# made up; not footnotes ([^1]) or links with words
_GROUP = re.compile(r"[ \t]?\[\s*(\d+(?:\s*(?:,|;|-|–|and|&)\s*\d+)*)\s*\](?:\([^)\s]*\))?", re.I)
_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&)\s*", re.I)
_RANGE = re.compile(r"(\d+)\s*[-–]\s*(\d+)")
_MAX_RANGE = 50
YEARLIKE = 1000  # [1921] or [1921-1962] is a year in brackets, not a citation
_LABEL = r"(?:sources|references|bibliography|citations|works cited)"
# a trailing section under a sources heading or bold label, with no later heading
_HEADING = rf"(?:#{{1,6}}[ \t]*{_LABEL}[ \t]*:?|\*\*{_LABEL}:?\*\*:?)"
_MODEL_SOURCES = re.compile(rf"\n{_HEADING}[ \t]*\n(?:(?!\n#{{1,6}}\s).)*\Z", re.I | re.S)
# a line listing a numbered source with a link, as models write their own reference lists
_SOURCE_LINE = re.compile(r"^[ \t]*(?:[-*][ \t]*)?\[\d+\][^\n]*(?:https?://|www\.)[^\n]*\n?", re.M)
@dataclass(frozen=True)
class CheckedText:
    """Text with invalid citations removed, how many were removed, and the numbers still cited."""

    text: str
    removed: int
    cited: tuple[int, ...]


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in _SPLIT.split(group.strip()):
        span = _RANGE.fullmatch(part)
        if span:
            lo, hi = int(span.group(1)), int(span.group(2))
            out.extend(range(lo, hi + 1) if 0 <= hi - lo <= _MAX_RANGE else [lo, hi])
        elif part.isdigit():
            out.append(int(part))
    return out


def check_citations(text: str, valid: Iterable[int]) -> CheckedText:
    """Keep citations to valid source numbers, drop the rest, and report what remains cited."""
    allowed = set(valid)
    removed = 0
    cited: list[int] = []

    def fix(match: re.Match[str]) -> str:
        nonlocal removed
        numbers = _numbers(match.group(1))
        if any(n >= YEARLIKE for n in numbers):
            return match.group(0)
        keep = [n for n in numbers if n in allowed]
        removed += len(numbers) - len(keep)
        for n in keep:
            if n not in cited:
                cited.append(n)
        if not keep:
            return ""
        lead = match.group(0)[0] if match.group(0)[0] in " \t" else ""
        return lead + "".join(f"[{n}]" for n in dict.fromkeys(keep))

    return CheckedText(_GROUP.sub(fix, text), removed, tuple(cited))


def numbered(sources: Iterable[Source]) -> dict[int, Source]:
    """Sources that carry a citation number, by number."""
    return {src["n"]: src for src in sources if src["n"] is not None}


def strip_model_sources(text: str) -> str:
    """Remove source lists the model wrote itself (a trailing sources section, lines of numbered links).

    Ours is built from the sources actually read.
    """
    text = _MODEL_SOURCES.sub("", "\n" + text.rstrip())
    return _SOURCE_LINE.sub("", text).strip()


def sources_section(sources: Iterable[Source], cited: Iterable[int]) -> str:
    """Markdown list of the cited sources, in citation-number order."""
    by_n = numbered(sources)
    lines = [f"- [{n}] {literal_title(by_n[n]['title'] or by_n[n]['url'])} — {by_n[n]['url']}"
             for n in sorted(set(cited)) if n in by_n]
    return "## Sources\n\n" + "\n".join(lines) if lines else ""


_CITATION = re.compile(r"\[(\d+)\]")


def renumber(text: str, numbers: dict[int, int | None]) -> str:
    """Citations ``[n]`` as ``numbers`` maps them (a report's or a section's own numbers into a wider numbering).

    One the map does not hold goes (its writer could not have cited it); a year in brackets stays.
    """
    def swap(match: re.Match[str]) -> str:
        if int(match.group(1)) >= YEARLIKE:
            return match.group(0)
        n = numbers.get(int(match.group(1)))
        return f"[{n}]" if n is not None else ""

    return _CITATION.sub(swap, text)
