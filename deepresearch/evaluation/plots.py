"""PNG plots of evals (matplotlib, loaded only when plotting).

One eval: accuracy against rounds and against model calls. Several: accuracy and tokens side by side.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from deepresearch.evaluation.store import Result


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _buckets(results: list[Result], key: str, width: int) -> tuple[list[str], list[float], list[int]]:
    """Accuracy per bucket of ``key`` (rounds or calls), ``width`` wide."""
    groups: dict[int, list[bool]] = defaultdict(list)
    for r in results:
        groups[int(getattr(r, key)) // width * width].append(bool(r.correct))
    starts = sorted(groups)
    labels = [str(s) if width == 1 else f"{s}-{s + width - 1}" for s in starts]
    return labels, [sum(groups[s]) / len(groups[s]) for s in starts], [len(groups[s]) for s in starts]


def eval_plots(results: list[Result], out: Path, title: str) -> list[Path]:
    """accuracy_by_rounds.png and accuracy_by_calls.png in ``out``; the paths written."""
    plt = _pyplot()
    written = []
    for key, name, width in (("rounds", "rounds", 1), ("llm_calls", "model calls", 5)):
        labels, accuracy, counts = _buckets(results, key, width)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        bars = ax.bar(labels, [a * 100 for a in accuracy], color="#5b6abf")
        for bar, n in zip(bars, counts, strict=True):
            ax.annotate(f"n={n}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                        fontsize=8)
        ax.set(xlabel=name, ylabel="accuracy (%)", ylim=(0, 105), title=f"{title}: accuracy by {name}")
        path = out / f"accuracy_by_{key if key == 'rounds' else 'calls'}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def compare_plot(runs: dict[str, dict[str, float]], path: Path) -> Path:
    """Avg@k and mean tokens of several evals (by name) side by side, in one PNG."""
    plt = _pyplot()
    names = list(runs)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.5))
    left.bar(names, [runs[n]["avg_at_k"] * 100 for n in names], color="#5b6abf")
    left.set(ylabel="Avg@k (%)", ylim=(0, 105), title="accuracy")
    right.bar(names, [runs[n]["mean_tokens"] for n in names], color="#bf8a5b")
    right.set(ylabel="tokens per rollout", title="cost")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
