"""Progress events: typed, JSON on the custom stream as `langgraph dev` sends it, and read back the same."""

from __future__ import annotations

import json
import operator
from typing import Annotated, Any

import orjson
import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send
from langgraph_api.serde import json_dumpb
from typing_extensions import TypedDict

from state.events import KIND, AgentDone, Decided, Event, PageRead, Planned, Searched, emit, event_from_json
from tests.event_samples import every_event_class, sample

CLASSES = sorted(every_event_class(), key=lambda cls: cls.kind)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.kind)
def test_an_event_round_trips_through_json_as_langgraph_dev_sends_it(cls: type[Event]) -> None:
    event = sample(cls)
    wire = event.to_json()
    assert wire[KIND] == cls.kind and list(wire)[0] == KIND
    serde = JsonPlusSerializer()
    for back in (json.loads(json.dumps(wire)), orjson.loads(json_dumpb(wire)),
                 serde.loads_typed(serde.dumps_typed(wire))):
        assert back == wire and event_from_json(back) == event


def test_the_state_fills_in_what_an_event_does_not_say() -> None:
    sent: list[dict[str, Any]] = []
    runtime = Runtime(context=None, stream_writer=sent.append)
    state = {"agent": 2, "round": 4, "llm_calls": 11, "tokens": 900}
    emit(runtime, Planned(round=5, llm_calls=12, goal="g", queries=["q"]), state)
    emit(runtime, Decided(decision="plan", reason="more to find"), {"round": 1})
    emit(runtime, Searched(round=3, query="q", hits=2))
    assert sent[0] == {
        KIND: "plan", "agent": 2, "round": 5, "llm_calls": 12, "tokens": 900, "goal": "g", "queries": ["q"],
        "call_tokens": 0, "review": False, "proposed": False, "failed": "", "model": False}
    assert sent[1] == {KIND: "decide", "round": 1, "llm_calls": 0, "tokens": 0, "decision": "plan",
                       "reason": "more to find", "model_failed": ""}  # no agent: not a Heavy agent's state
    assert sent[2] == {KIND: "search", "round": 3, "query": "q", "hits": 2}  # nothing said, nothing sent


def test_what_is_not_an_event_is_refused() -> None:
    with pytest.raises(ValueError, match="not a progress event"):
        event_from_json({"custom_data": "hello"})
    with pytest.raises(ValueError, match=r"search event with unknown fields \['pages'\], without \[\]"):
        event_from_json({KIND: "search", "query": "q", "hits": 1, "pages": []})
    with pytest.raises(ValueError, match=r"agent_done event with unknown fields \[\], without \['agent'\]"):
        event_from_json({KIND: "agent_done", "answer": "1921"})


class Tally(TypedDict, total=False):
    agent: int
    round: int
    done: Annotated[list[int], operator.add]


async def _read(task: dict[str, Any], runtime: Runtime[None]) -> dict[str, Any]:
    emit(runtime, PageRead(round=task["round"], url=task["url"], title="t", relevant=True))
    return {"done": [1]}


async def _plan(state: Tally, runtime: Runtime[None]) -> dict[str, Any]:
    assert get_stream_writer() is runtime.stream_writer  # the writer get_stream_writer() finds in a run
    emit(runtime, Planned(goal="g", queries=["q"]), state)
    return {}


def _agents() -> Any:
    """A Heavy-shaped graph: agents sent in parallel, each a subgraph whose reads are sent in parallel."""
    sub = StateGraph(Tally)
    sub.add_node("plan", _plan)
    sub.add_node("read", _read)
    sub.add_edge(START, "plan")
    sub.add_conditional_edges("plan", lambda s: [Send("read", {"round": 1, "url": u}) for u in "ab"], ["read"])
    sub.add_edge("read", END)
    research = sub.compile()

    async def agent(task: dict[str, Any], runtime: Runtime[None]) -> dict[str, Any]:
        out = await research.ainvoke(task)
        emit(runtime, AgentDone(agent=task["agent"], answer="1921", llm_calls=len(out["done"])))
        return {"done": out["done"]}

    top = StateGraph(Tally)
    top.add_node("agent", agent)
    top.add_conditional_edges(START, lambda s: [Send("agent", {"agent": n, "round": 1}) for n in (1, 2)], ["agent"])
    top.add_edge("agent", END)
    return top.compile()


async def test_events_from_subgraphs_and_sent_tasks_reach_the_run_as_json() -> None:
    graph = _agents()
    parts = [part async for part in graph.astream({}, stream_mode="custom", subgraphs=True)]
    assert all(isinstance(chunk, dict) for _, chunk in parts)  # JSON forms, as a chat client receives them
    by_agent: dict[Any, list[str]] = {}
    for namespace, chunk in parts:
        by_agent.setdefault(namespace[:1], []).append(chunk[KIND])
    # each agent's events (its sent reads' too) under its task's namespace; agent_done at the top
    assert by_agent.pop(()) == ["agent_done", "agent_done"]
    assert sorted(map(sorted, by_agent.values())) == [["plan", "read", "read"]] * 2
    plans = [chunk for _, chunk in parts if chunk[KIND] == "plan"]
    assert sorted(p["agent"] for p in plans) == [1, 2]  # an agent's state says which agent
    top_only = [chunk async for chunk in graph.astream({}, stream_mode="custom")]
    assert [c[KIND] for c in top_only] == ["agent_done", "agent_done"]  # without subgraphs=True, theirs are dropped


def test_outside_a_run_an_event_goes_nowhere() -> None:
    emit(Runtime(context=None), sample(PageRead))  # a Runtime's own writer does nothing
    with pytest.raises(RuntimeError, match="outside of a runnable context"):
        get_stream_writer()  # which is why emit writes through the node's runtime
