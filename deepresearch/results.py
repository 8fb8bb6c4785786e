"""What a thread produced, as the CLI, eval and API clients read it: from a snapshot or a server's state values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langgraph.types import StateSnapshot

from checkpoints.threads import status_of
from state.citations import numbered
from state.model_failures import model_failures
from state.progress_count import rounds_done

__all__ = ["GROUNDING", "RunResult", "grounding_counts", "result_from_state", "result_from_values"]


@dataclass
class RunResult:
    """What a finished (or stopped) thread produced."""

    thread_id: str
    status: str
    question: str
    answer: str
    report: str
    sources: list[dict[str, Any]]
    rounds: int
    llm_calls: int
    tokens: int
    invented_citations: int = 0
    grounding: dict[str, int] = field(default_factory=dict)  # citations_checked, _reattributed, claims_unsupported
    failures: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = ""
    gave_up: str = ""  # the run ended early because the model could not do a step: what failed, what to try

    def to_json(self) -> dict[str, Any]:
        """The `--json` object; ``model_failures`` counts the model's unusable replies by step."""
        return {"thread_id": self.thread_id, "answer": self.answer, "report": self.report,
                "sources": self.sources, "rounds": self.rounds, "llm_calls": self.llm_calls, "tokens": self.tokens,
                "stop_reason": self.stop_reason, "gave_up": self.gave_up,
                "model_failures": model_failures(self.failures), **grounding_counts(self.grounding)}


GROUNDING = ("citations_checked", "citations_reattributed", "claims_unsupported")


def grounding_counts(values: dict[str, Any]) -> dict[str, int]:
    """How the final report's citations held against their sources' text.

    Citations checked, re-attributed, and the sentences marked unsupported (0 each for a thread that has
    no final report yet).
    """
    return {name: int(values.get(name, 0) or 0) for name in GROUNDING}


def result_from_state(thread_id: str, snapshot: StateSnapshot) -> RunResult:
    """Build the result from a thread's state; sources are the cited ones, by number."""
    return result_from_values(thread_id, status_of(snapshot), snapshot.values)


def result_from_values(thread_id: str, status: str, values: dict[str, Any]) -> RunResult:
    """The result of a thread whose state values these are (read here or from a server)."""
    report = str(values.get("report", ""))
    sources = [{"n": n, "title": src["title"], "url": src["url"]}
               for n, src in sorted(numbered(values.get("sources", [])).items()) if f"[{n}]" in report]
    return RunResult(thread_id, status, str(values.get("question", "")), str(values.get("answer", "")),
                     report, sources, rounds_done(values),
                     int(values.get("llm_calls", 0)),
                     int(values.get("tokens", 0)), int(values.get("invented_citations", 0)), grounding_counts(values),
                     list(values.get("failures", [])), str(values.get("stop_reason", "")),
                     str(values.get("gave_up", "")))
