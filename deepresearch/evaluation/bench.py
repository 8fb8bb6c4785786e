"""DeepResearch Bench's output file: one ``{"id", "prompt", "article"}`` line per question of an eval.

So a user can score the eval's reports with that benchmark's own scripts (RACE, FACT). The article is the
final report of the item's first finished rollout, read back from its thread (the eval's results keep no
report); an item with no finished rollout has no line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.settings import Settings
from deepresearch import runner
from deepresearch.evaluation.data import Item
from deepresearch.evaluation.store import Result


def bench_id(key: str) -> int | str:
    """The item's id as the question file gave it (a number stays a number); an item without one: its key."""
    kind, _, value = key.partition(":")
    if kind != "id":
        return key
    return int(value) if value.isdigit() else value


def first_finished(results: list[Result]) -> dict[str, Result]:
    """Each item's finished rollout with the lowest number."""
    first: dict[str, Result] = {}
    for result in sorted(results, key=lambda r: r.rollout):
        if not result.error:
            first.setdefault(result.item, result)
    return first


async def bench_lines(settings: Settings, items: list[Item], results: list[Result]) -> list[dict[str, Any]]:
    """One line per item with a finished rollout, in the file's order."""
    first = first_finished(results)
    lines = []
    for item in items:
        if item.key in first:
            report = (await runner.load(settings, first[item.key].thread_id)).report
            lines.append({"id": bench_id(item.key), "prompt": item.question, "article": report})
    return lines


def write_bench(path: Path, lines: list[dict[str, Any]]) -> None:
    """The file, as JSON Lines in UTF-8 (non-ASCII text kept as it is)."""
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
