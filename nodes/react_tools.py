"""ReAct's tool step: run the call the agent made and give the result back as a ``<tool_response>``.

The tools are the registry's (tools/agent): this step gives them the run's kit (search backend, readers,
fetcher, sandbox, and visit's reading through the same reader, page store and extraction model as
IterResearch's readers, numbering every page that gave evidence thread-wide), and records what they
found. A call that cannot be run (malformed, unknown tool, bad arguments) gets an error response, never
a crash.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from nodes.react_calls import malformed
from nodes.read import ReadTask, read_one
from prompts.fences import fence
from prompts.react import CUT, NOT_FOUND, NOTE, TOOL_RESPONSE
from state.context import Context
from state.events import ToolAnswered, emit
from state.react_state import ReactState, Turn
from state.records import Hit
from tools.agent import registry
from tools.agent.kit import ToolKit
from tools.toolbox import Toolbox, toolbox

RESPONSE_CHARS = 40_000  # one tool response, at most


def tool_kit(state: ReactState, runtime: Runtime[Context], box: Toolbox) -> ToolKit:
    """What the tools run with in this step of the thread."""
    ctx = runtime.context

    async def read(urls: list[str], goal: str) -> list[dict[str, Any]]:
        step = int(state.get("step", 0))
        tasks = [ReadTask(hit=Hit(title=url, url=url, snippet="", rank=i + 1, backend="visit", query=""),
                          question=state["question"], goal=goal, round=step, calls=2) for i, url in enumerate(urls)]
        return list(await asyncio.gather(*(read_one(task, runtime, box) for task in tasks)))

    return ToolKit(question=state["question"], search=box.search, results_per_query=ctx.results_per_query, read=read,
                   fetcher=box.fetcher, parsing=ctx.settings.parsing, http=box.clients.api,
                   sandbox_url=ctx.settings.sandbox_url, sources=state.get("sources", []),
                   step=int(state.get("step", 0)))


async def act(state: ReactState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the agent's tool call and append its response."""
    call = state.get("call") or {}
    name, arguments = str(call.get("name", "")), call.get("arguments") or {}
    update: dict[str, Any] = {}
    kit = tool_kit(state, runtime, await toolbox(runtime.context))
    notes = list(call.get("notes", []))  # what was cut or not used of the arguments, and why
    ran = None if "error" in call else await registry.REGISTRY.run(name, arguments, kit)
    if "error" in call:
        response = malformed(str(call["error"]))
    elif ran is None:
        offered = ", ".join(t.name for t in registry.REGISTRY.offered(kit))
        response, notes = NOT_FOUND.format(name=fence(name), offered=offered), []  # its arguments: moot
    elif ran.error:
        response = "" if notes else malformed(ran.error)
    else:
        response, update = ran.text, ran.recorded
    if notes:
        response = "\n".join([NOTE.format(note=note) for note in notes] + ([response] if response else []))
    if len(response) > RESPONSE_CHARS:
        response = response[:RESPONSE_CHARS] + CUT
    step = int(state.get("step", 0))
    emit(runtime, ToolAnswered(step=step, tool=name or "malformed call", chars=len(response)), state)
    turn = Turn(speaker="user", text=TOOL_RESPONSE.format(response=response))
    return {**update, "turns": [turn], "call": {}}
