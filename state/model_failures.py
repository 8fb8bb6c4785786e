"""When the model, not the world, keeps a step from working: told truthfully, tried another way once, given up.

A reply that parses badly or is useless (the template's placeholders echoed, a reply that runs on past its
output budget, the prompt's own frame repeated) is the model's failure: calling it again the same way fails
the same way. A round whose every page reading failed so is retried once with the other structured-output
method; when that fails too, the run ends early with what it has and one line on what to try.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.vocabulary import StructuredMethod

# a step "keeps failing" only on evidence: at least this many of its replies in the round, all unusable
MIN_FAILED_READS = 2
STEP_WORDS = {"read": "read pages (extract evidence as JSON)", "plan": "plan searches",
              "synthesize": "write the report", "answer": "write the final answer"}


def other_method(method: StructuredMethod) -> StructuredMethod:
    """The structured-output method to try once when the model's replies under ``method`` are unusable."""
    return "json_schema" if method == "text" else "text"


@dataclass(frozen=True)
class Struggle:
    """A step whose every reply of the round was unusable, how many there were, and the first reason."""

    step: str
    failed: int
    error: str

    def said(self) -> str:
        """The step and what went wrong, in words."""
        replies = "reply was" if self.failed == 1 else f"{self.failed} replies were"
        return (f"the model could not {STEP_WORDS.get(self.step, self.step)}: "
                f"{'its' if self.failed == 1 else 'all'} {replies} unusable ({self.error})")


def struggling(state: Mapping[str, Any]) -> Struggle | None:
    """The step of this round that the model could not do, or None.

    The reads: every page of the round (at least MIN_FAILED_READS) failed by the model's reply, none was read.
    """
    round_no = int(state.get("round", 0))
    failed = [f for f in state.get("failures", []) if f["round"] == round_no and f.get("model")]
    reads = [f for f in failed if f["action"] == "read"]
    read_any = any(s.get("round") == round_no for s in state.get("sources", []))
    if len(reads) >= MIN_FAILED_READS and not read_any:
        return Struggle("read", len(reads), reads[0]["error"])
    return None


def give_up(struggle: Struggle, method: StructuredMethod) -> str:
    """The one line that ends a run early: what failed, and what to try."""
    return (f"stopped early: {struggle.said()}, with structured_output={method} as well; try a larger model, "
            f"another server, or `--set structured_output=...` with another method")


def model_failures(failures: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many replies of each step were the model's failures (``--json``'s ``model_failures``)."""
    counts: dict[str, int] = {}
    for f in failures:
        if f.get("model"):
            counts[f["action"]] = counts.get(f["action"], 0) + 1
    return counts
