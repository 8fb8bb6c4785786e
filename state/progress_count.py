"""How far a thread went, as its state values say: IterResearch's (and Heavy's) rounds, ReAct's steps.

Read by the thread listing straight from SQLite, so it imports nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def rounds_done(values: Mapping[str, Any]) -> int:
    """The rounds a thread's values record (ReAct's: its steps, the model calls its agent made)."""
    count = values.get("round", values.get("step"))
    return count if isinstance(count, int) and not isinstance(count, bool) else 0
