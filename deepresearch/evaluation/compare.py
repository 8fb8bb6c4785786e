"""Two evals side by side: their metrics, and the questions one got right and the other did not."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from core.errors import UserInputError
from deepresearch.evaluation.metrics import share_of_cited, summarize
from deepresearch.evaluation.store import Result, ResultStore

ROWS = (("Avg@k", "avg_at_k", "{:.1%}"), ("Pass@k", "pass_at_k", "{:.1%}"), ("best Pass@1", "best_pass_at_1", "{:.1%}"),
        ("ungraded", "ungraded", "{:.0f}"), ("failed", "failed", "{:.0f}"), ("rounds (mean)", "mean_rounds", "{:.1f}"),
        ("model calls (mean)", "mean_calls", "{:.1f}"), ("tokens (mean)", "mean_tokens", "{:,.0f}"),
        ("wall s p50", "wall_p50", "{:.1f}"), ("wall s p95", "wall_p95", "{:.1f}"),
        ("citations that are retrieved sources", "citation_validity", share_of_cited),
        ("citations re-attributed", "reattributed_rate", share_of_cited),
        ("sentences no source supports", "unsupported_rate", share_of_cited))


def _shown(fmt: str | Callable[[float], str], value: float) -> str:
    return fmt(value) if callable(fmt) else fmt.format(value)


def _results(folder: Path) -> list[Result]:
    db = folder / "results.db"
    if not db.is_file():
        raise UserInputError(f"{folder} holds no eval results (no results.db)")
    return ResultStore(db).all()


def _right(results: list[Result]) -> dict[str, bool]:
    by_item: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_item[r.item].append(bool(r.correct))
    return {item: any(rs) for item, rs in by_item.items()}


def side_by_side(a: Path, b: Path, out: Path) -> tuple[str, Path]:
    """A markdown table of both evals' metrics and which shared questions only one got right; and a plot in ``out``."""
    from deepresearch.evaluation.plots import compare_plot

    ra, rb = _results(a), _results(b)
    sa, sb = summarize(ra), summarize(rb)
    lines = [f"| metric | {a.name} | {b.name} |", "|---|---:|---:|",
             f"| items × rollouts | {sa['items']:.0f} × {sa['k']:.0f} | {sb['items']:.0f} × {sb['k']:.0f} |"]
    lines += [f"| {label} | {_shown(fmt, sa[key])} | {_shown(fmt, sb[key])} |" for label, key, fmt in ROWS]
    right_a, right_b = _right(ra), _right(rb)
    shared = right_a.keys() & right_b.keys()
    only_a = sum(right_a[i] and not right_b[i] for i in shared)
    only_b = sum(right_b[i] and not right_a[i] for i in shared)
    out.mkdir(parents=True, exist_ok=True)
    plot = compare_plot({a.name: sa, b.name: sb}, out / f"compare-{a.name}-{b.name}.png")
    return ("\n".join(lines) + f"\n\n{len(shared)} questions in both: {only_a} right (in some rollout) only in "
            f"{a.name}, {only_b} only in {b.name}.\n"), plot
