"""The model's verdicts on the sentences the cheap check left undecided: what is asked, and how a reply is applied.

Pure (the call is nodes/verify.py's). What is asked is each undecided (sentence, cited source) pair, up to a
bound; a reply's verdict on a pair that was not asked is ignored, and a pair the reply leaves out stays
undecided, that is, kept as cited.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from tools.grounding.attribution import Judged

MAX_ASKED = 24  # (sentence, source) pairs one verification call judges; the rest stay as cited


class SentenceVerdict(BaseModel):
    """Whether one source states what one sentence of the report says."""

    sentence: int = Field(description="The sentence's id, as listed.")
    source: int = Field(description="The number of the source it cites, as listed.")
    supported: bool = Field(description="True when the source's excerpt states what the sentence says.")
    reason: str = Field("", description="Why, in a few words.")


class Verdicts(BaseModel):
    """One verdict for each listed sentence and the source it cites."""

    verdicts: list[SentenceVerdict]


@dataclass(frozen=True)
class Asked:
    """One sentence, by its id in the prompt (1-based), and one source it cites, for the model to judge."""

    id: int
    index: int  # the sentence's position in the judged list
    n: int


def to_ask(judged: list[Judged], limit: int = MAX_ASKED) -> list[Asked]:
    """The undecided (sentence, source) pairs, in report order, numbered for the prompt; at most ``limit``."""
    pairs = [(i, n) for i, j in enumerate(judged) for n in j.undecided][:limit]
    ids = {i: k for k, i in enumerate(dict.fromkeys(i for i, _ in pairs), start=1)}
    return [Asked(ids[i], i, n) for i, n in pairs]


def applied(judged: list[Judged], asked: list[Asked], reply: Verdicts) -> tuple[list[Judged], int]:
    """The judgements with the model's verdicts on the asked pairs, and how many pairs it decided."""
    by_pair = {(a.id, a.n): a for a in asked}
    out = list(judged)
    decided = 0
    for said in reply.verdicts:
        pair = by_pair.pop((said.sentence, said.source), None)
        if pair is None:  # not asked, or said twice: the first word stands
            continue
        out[pair.index] = out[pair.index].decided(pair.n, "supported" if said.supported else "unsupported")
        decided += 1
    return out, decided
