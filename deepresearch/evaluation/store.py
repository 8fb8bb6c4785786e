"""Every rollout's result in SQLite as it finishes: an interrupted eval, run again, redoes no finished rollout.

A rollout that failed is kept too, with its reason (``error``), and is run again by the next eval of the folder.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.errors import UserInputError
from core.sqlite import connect

_SCHEMA = """CREATE TABLE IF NOT EXISTS results (
    item TEXT NOT NULL, rollout INTEGER NOT NULL, question TEXT, gold TEXT, answer TEXT,
    correct INTEGER, verdict TEXT, rounds INTEGER, llm_calls INTEGER, tokens INTEGER, wall REAL,
    citations INTEGER, invented INTEGER, thread_id TEXT, finished_at REAL, error TEXT,
    checked INTEGER, reattributed INTEGER, unsupported INTEGER,
    PRIMARY KEY (item, rollout))"""
# added to a results table written before citations were checked against their sources (its rows: 0)
_GROUNDING = ("checked", "reattributed", "unsupported")
# 2: items named by their id or place in the file, failed rollouts kept (1, unmarked: items named by a hash of
# their question, so that duplicate questions were one item)
VERSION = 2
_COLUMNS = ("item, rollout, question, gold, answer, correct, verdict, rounds, llm_calls, tokens, wall, citations, "
            "invented, thread_id")
_GROUNDED = ", ".join(f"coalesce({name}, 0)" for name in _GROUNDING)


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
    error: str = ""  # why the rollout failed (then nothing above it was measured); "" if it finished
    checked: int = 0  # cited sentences checked against their sources' text
    reattributed: int = 0  # citations moved to the source that supports their sentence
    unsupported: int = 0  # sentences no retrieved source supports (marked unverified)


def _create(conn: sqlite3.Connection) -> None:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'results'").fetchone():
        conn.execute(_SCHEMA)
        conn.execute(f"PRAGMA user_version = {VERSION}")
    present = {row[1] for row in conn.execute("PRAGMA table_info(results)")}
    for name in _GROUNDING:
        if name not in present:
            conn.execute(f"ALTER TABLE results ADD COLUMN {name} INTEGER")


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0]) or 1


class ResultStore:
    """``results.db`` in the eval's output folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def check_writable(self) -> None:
        """Refuse a folder an earlier version wrote: its items are named otherwise, and must not mix with these."""
        with connect(self.path, _create) as conn:
            if _version(conn) < VERSION:
                raise UserInputError(f"{self.path} was written by an earlier version of `deepresearch eval`, which "
                                     "named items by their question's text: give this eval a new --out (the old "
                                     "results stay readable there, and --compare still reads them)")

    def done(self) -> dict[tuple[str, int], tuple[str, str]]:
        """(item, rollout) of each finished rollout -> the (question, gold) it was run and judged with."""
        with connect(self.path, _create) as conn:
            rows = conn.execute("SELECT item, rollout, question, gold FROM results WHERE coalesce(error, '') = ''")
            return {(row[0], row[1]): (row[2], row[3]) for row in rows}

    def add(self, result: Result) -> None:
        """Keep one rollout's result (durably, before the next is counted)."""
        row = asdict(result)
        row["verdict"] = json.dumps(row["verdict"], ensure_ascii=False)
        row["correct"] = None if result.correct is None else int(result.correct)
        row["error"] = result.error or None
        with connect(self.path, _create) as conn:
            conn.execute(f"INSERT OR REPLACE INTO results ({', '.join(row)}, finished_at) "
                         f"VALUES ({', '.join('?' * len(row))}, ?)", [*row.values(), time.time()])

    def all(self) -> list[Result]:
        """Every result, by item and rollout (of this version or an earlier one)."""
        with connect(self.path, _create) as conn:
            error = "coalesce(error, '')" if _version(conn) >= VERSION else "''"
            query = f"SELECT {_COLUMNS}, {error}, {_GROUNDED} FROM results ORDER BY item, rollout"
            rows = conn.execute(query).fetchall()
        return [Result(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else bool(r[5]), json.loads(r[6]),
                       *r[7:]) for r in rows]
