"""Every rollout's result in SQLite as it finishes: an interrupted eval, run again, redoes no finished rollout."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.sqlite import connect

_SCHEMA = """CREATE TABLE IF NOT EXISTS results (
    item TEXT NOT NULL, rollout INTEGER NOT NULL, question TEXT, gold TEXT, answer TEXT,
    correct INTEGER, verdict TEXT, rounds INTEGER, llm_calls INTEGER, tokens INTEGER, wall REAL,
    citations INTEGER, invented INTEGER, thread_id TEXT, finished_at REAL, PRIMARY KEY (item, rollout))"""


@dataclass(frozen=True)
class Result:
    """One rollout of one item: the answer, its judgement (None: ungraded), and what it cost."""

    item: str
    rollout: int
    question: str
    gold: str
    answer: str
    correct: bool | None
    verdict: dict[str, Any]
    rounds: int
    llm_calls: int
    tokens: int
    wall: float
    citations: int  # [n] left in the report (every one a retrieved source)
    invented: int  # [n] removed: not a retrieved source
    thread_id: str


def _create(conn: sqlite3.Connection) -> None:
    conn.execute(_SCHEMA)


class ResultStore:
    """``results.db`` in the eval's output folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def done(self) -> set[tuple[str, int]]:
        """(item, rollout) pairs already finished."""
        with connect(self.path, _create) as conn:
            return {(row[0], row[1]) for row in conn.execute("SELECT item, rollout FROM results")}

    def add(self, result: Result) -> None:
        """Keep one rollout's result (durably, before the next is counted)."""
        row = asdict(result)
        row["verdict"] = json.dumps(row["verdict"], ensure_ascii=False)
        row["correct"] = None if result.correct is None else int(result.correct)
        with connect(self.path, _create) as conn:
            conn.execute(f"INSERT OR REPLACE INTO results ({', '.join(row)}, finished_at) "
                         f"VALUES ({', '.join('?' * len(row))}, ?)", [*row.values(), time.time()])

    def all(self) -> list[Result]:
        """Every result, by item and rollout."""
        with connect(self.path, _create) as conn:
            rows = conn.execute("SELECT item, rollout, question, gold, answer, correct, verdict, rounds, llm_calls, "
                                "tokens, wall, citations, invented, thread_id FROM results "
                                "ORDER BY item, rollout").fetchall()
        return [Result(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else bool(r[5]), json.loads(r[6]),
                       *r[7:]) for r in rows]
