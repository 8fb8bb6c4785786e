"""Citations that hold: each cited sentence judged against its sources, then kept, re-attributed or marked.

A citation whose source does not say what its sentence says goes; a sentence left with no citation is
cited to the retrieved source that does say it, if one does, else marked (``[unverified]``) and counted,
never silently kept. A body whose every citation holds comes back unchanged. Pure: the sources' texts
are given (nodes/grounding.py reads them; tools/grounding/check.py is the cheap check).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tools.grounding.check import CITATION, Claim, SourceText, Verdict, claims, coverage, verdict


@dataclass(frozen=True)
class Judged:
    """One cited sentence and the verdict on each cited source whose text was there to check."""

    claim: Claim
    verdicts: dict[int, Verdict] = field(default_factory=dict)

    @property
    def undecided(self) -> list[int]:
        """The cited sources the cheap check could not decide for this sentence."""
        return [n for n, v in self.verdicts.items() if v == "undecided"]

    def decided(self, n: int, said: Verdict) -> Judged:
        """The judgement with source ``n``'s verdict replaced (the model's, for an undecided one)."""
        return replace(self, verdicts={**self.verdicts, n: said})


@dataclass(frozen=True)
class Grounded:
    """The body as checked, and the counts: citations checked, re-attributed, and sentences marked.

    ``calls`` and ``tokens``: what the model's verification of the undecided sentences cost; ``failed``: why
    it gave no verdicts (those sentences kept their citations).
    """

    body: str
    checked: int = 0
    reattributed: int = 0
    unsupported: int = 0
    calls: int = 0
    tokens: int = 0
    failed: str = ""


def judge(body: str, sources: Mapping[int, SourceText]) -> list[Judged]:
    """Every cited sentence of ``body``, each cited source with a text judged by the cheap check."""
    return [Judged(c, {n: verdict(c.text, sources[n]) for n in c.cited if n in sources}) for c in claims(body)]


def alternative(claim: Claim, sources: Mapping[int, SourceText]) -> int | None:
    """The retrieved source (other than those cited) that supports the sentence best, if one does."""
    backing = [(coverage(claim.text, src), -n, n) for n, src in sources.items()
               if n not in claim.cited and verdict(claim.text, src) == "supported"]
    return max(backing)[2] if backing else None


def _edited(text: str, bad: set[int], replacement: str) -> str:
    """The sentence without its citations to ``bad``; ``replacement`` where the last of them stood."""
    matches = [m for m in CITATION.finditer(text) if int(m.group(1)) in bad]
    last = matches[-1].start() if matches else -1

    def swap(match: re.Match[str]) -> str:
        if int(match.group(1)) not in bad:
            return match.group(0)
        lead = match.group(0)[: len(match.group(0)) - len(match.group(0).lstrip())]  # " " unless CJK
        if replacement and match.start() == last:
            return f"{lead}{replacement}"
        return lead if text.startswith("[", match.end()) else ""  # "1921 [1][3]" keeps its space before [3]

    return CITATION.sub(swap, text)


def rewrite(body: str, judged: list[Judged], sources: Mapping[int, SourceText], marker: str) -> Grounded:
    """The body with every unsupported citation dealt with (re-attributed, or the sentence marked)."""
    checked = sum(len(j.verdicts) for j in judged)
    reattributed = unsupported = 0
    pieces: list[str] = []
    at = 0
    for j in judged:
        bad = {n for n, v in j.verdicts.items() if v == "unsupported"}
        if not bad:
            continue
        keep = [n for n in j.claim.cited if n not in bad]
        replacement = ""
        if keep:
            reattributed += 1
        elif (other := alternative(j.claim, sources)) is not None:
            replacement, reattributed = f"[{other}]", reattributed + 1
        else:
            replacement, unsupported = marker, unsupported + 1
        pieces += [body[at : j.claim.start], _edited(j.claim.text, bad, replacement)]
        at = j.claim.end
    if not pieces:
        return Grounded(body, checked)
    return Grounded("".join(pieces) + body[at:], checked, reattributed, unsupported)
