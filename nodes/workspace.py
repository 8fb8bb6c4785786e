"""The workspace a round's prompts show: what the last round looked for and found, and the dead ends.

Rendered here, from the thread's state, with the words of prompts/iterresearch.py (state holds no prompt
text); the caller fences what it shows.
"""

from __future__ import annotations

from prompts.fences import NONE
from prompts.iterresearch import (
    APPROACH,
    DEAD_END,
    FIRST_ROUND,
    FOUND,
    FOUND_LINE,
    LAST_GOAL,
    NOTHING_FOUND,
    STILL_MISSING,
)
from state.graph_state import State


def last_round(state: State, findings: bool = True) -> str:
    """The last round's goal and queries, with what it found (``findings``) and what is still missing."""
    approach = APPROACH.format(angle=state["angle"]) if state.get("angle") else ""
    if not state.get("round"):
        return approach + FIRST_ROUND
    lines = approach + LAST_GOAL.format(goal=state.get("goal", ""),
                                        queries="; ".join(state.get("queries", [])) or NONE)
    return f"{lines}\n{round_result(state)}" if findings else lines


def round_result(state: State) -> str:
    """What the last round found, by citation number, and what is still missing."""
    found = state.get("findings", [])
    lines = [FOUND if found else NOTHING_FOUND]
    by_url = {s["url"]: s["n"] for s in state.get("sources", [])}
    lines += [FOUND_LINE.format(n=by_url.get(f["url"]), evidence=f["evidence"]) for f in found]
    if state.get("missing"):
        lines.append(STILL_MISSING.format(missing=state["missing"]))
    return "\n".join(lines)


def last_call(state: State) -> dict[str, object] | None:
    """The last round's action as a native tool call (None in the first round)."""
    if not state.get("round"):
        return None
    return {"name": "search", "arguments": {"query": list(state.get("queries", [])), "goal": state.get("goal", "")}}


def dead_ends(state: State) -> str:
    """The lines of inquiry abandoned so far (the newest few), one per line."""
    ends = state.get("dead_ends", [])
    lines = [DEAD_END.format(round=d["round"], goal=d["goal"], queries="; ".join(d["queries"])) for d in ends]
    return "\n".join(lines) or NONE
