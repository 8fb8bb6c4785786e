"""What an eval measured: Avg@k (the headline), Pass@k, best Pass@1, costs, and citation validity."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

from deepresearch.evaluation.store import Result


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def summarize(results: list[Result]) -> dict[str, float]:
    """The metrics over every rollout stored (an ungraded or failed rollout counts as not right).

    Costs, wall times and citations are those of the rollouts that finished: a failed one measured nothing.
    """
    by_item: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_item[r.item].append(r)
    items = list(by_item.values())
    rollouts = max((len(rs) for rs in items), default=0)
    right = [[bool(r.correct) for r in sorted(rs, key=lambda r: r.rollout)] for rs in items]
    per_rollout = [statistics.fmean(rs[k] for rs in right if k < len(rs)) for k in range(rollouts)] if items else []
    finished = [r for r in results if not r.error]
    cited = sum(r.citations for r in finished)
    invented = sum(r.invented for r in finished)
    checked = sum(r.checked for r in finished)
    return {
        "items": len(items), "rollouts": len(results), "k": rollouts, "failed": len(results) - len(finished),
        "avg_at_k": statistics.fmean(statistics.fmean(rs) for rs in right) if right else 0.0,
        "pass_at_k": statistics.fmean(any(rs) for rs in right) if right else 0.0,
        "best_pass_at_1": max(per_rollout, default=0.0),
        "ungraded": sum(r.correct is None for r in finished),
        "mean_rounds": statistics.fmean(r.rounds for r in finished) if finished else 0.0,
        "mean_calls": statistics.fmean(r.llm_calls for r in finished) if finished else 0.0,
        "mean_tokens": statistics.fmean(r.tokens for r in finished) if finished else 0.0,
        "wall_p50": _quantile([r.wall for r in finished], 0.5),
        "wall_p95": _quantile([r.wall for r in finished], 0.95),
        # no citation at all is no evidence that citations hold: NaN, shown as "none cited", never 100%
        "citation_validity": cited / (cited + invented) if cited + invented else math.nan,
        "invented_removed": invented,
        # of the cited sentences checked against their sources: moved to another source, and left unverified
        "checked": checked,
        "reattributed_rate": sum(r.reattributed for r in finished) / checked if checked else math.nan,
        "unsupported_rate": sum(r.unsupported for r in finished) / checked if checked else math.nan,
    }


def share_of_cited(value: float) -> str:
    """A share of citations as a percentage, or "none cited" when there was no citation to judge."""
    return "none cited" if math.isnan(value) else f"{value:.1%}"


def markdown(summary: dict[str, float], title: str, skipped: int = 0) -> str:
    """The summary as a markdown table; ``skipped``: records of the file left out as bad (each was reported)."""
    rows = [("items × rollouts", f"{summary['items']:.0f} × {summary['k']:.0f}"),
            ("**Avg@k**", f"**{summary['avg_at_k']:.1%}**"), ("Pass@k", f"{summary['pass_at_k']:.1%}"),
            ("best Pass@1", f"{summary['best_pass_at_1']:.1%}"), ("ungraded", f"{summary['ungraded']:.0f}"),
            ("failed", f"{summary['failed']:.0f}"), ("bad records skipped", f"{skipped}"),
            ("rounds (mean)", f"{summary['mean_rounds']:.1f}"), ("model calls (mean)", f"{summary['mean_calls']:.1f}"),
            ("tokens (mean)", f"{summary['mean_tokens']:,.0f}"),
            ("wall s p50 / p95", f"{summary['wall_p50']:.1f} / {summary['wall_p95']:.1f}"),
            ("citations that are retrieved sources", share_of_cited(summary["citation_validity"])),
            ("invented citations removed", f"{summary['invented_removed']:.0f}"),
            ("cited sentences checked against their sources", f"{summary['checked']:.0f}"),
            ("citations re-attributed", share_of_cited(summary["reattributed_rate"])),
            ("sentences no source supports (unverified)", share_of_cited(summary["unsupported_rate"]))]
    return f"# {title}\n\n| metric | value |\n|---|---:|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows) + "\n"
