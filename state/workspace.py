"""The workspace a round's prompts show: what the last round looked for and found, and the dead ends."""

from __future__ import annotations

from state.graph_state import State


def last_round(state: State, findings: bool = True) -> str:
    """The last round's goal and queries, with what it found (``findings``) and what is still missing."""
    approach = f"approach of this research: {state['angle']}\n" if state.get("angle") else ""
    if not state.get("round"):
        return approach + "(first round)"
    lines = approach + f"goal: {state.get('goal', '')}\nqueries: " + ("; ".join(state.get("queries", [])) or "(none)")
    return f"{lines}\n{round_result(state)}" if findings else lines


def round_result(state: State) -> str:
    """What the last round found, by citation number, and what is still missing."""
    found = state.get("findings", [])
    lines = ["found:" if found else "found: nothing new"]
    by_url = {s["url"]: s["n"] for s in state.get("sources", [])}
    lines += [f"- [{by_url.get(f['url'])}] {f['evidence']}" for f in found]
    if state.get("missing"):
        lines.append(f"still missing: {state['missing']}")
    return "\n".join(lines)


def last_call(state: State) -> dict[str, object] | None:
    """The last round's action as a native tool call (None in the first round)."""
    if not state.get("round"):
        return None
    return {"name": "search", "arguments": {"query": list(state.get("queries", [])), "goal": state.get("goal", "")}}


def dead_ends(state: State) -> str:
    """The lines of inquiry abandoned so far (the newest few), one per line."""
    ends = state.get("dead_ends", [])
    lines = [f"- round {d['round']}: {d['goal']} (queries: {'; '.join(d['queries'])})" for d in ends]
    return "\n".join(lines) or "(none)"
