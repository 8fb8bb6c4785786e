"""Pins what the project expects of the dependencies' unpublished parts, so an upgrade that changes one fails here.

LangGraph's checkpoint storage: checkpoints/langgraph_private.py; typer's click exceptions:
deepresearch/cli/typer_private.py. pyproject.toml caps each of those dependencies at the versions verified here.
"""

from __future__ import annotations

import sqlite3
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypedDict

import typer
from langchain_core.messages import AIMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from langgraph.checkpoint.serde import types as serde_types
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from packaging.requirements import Requirement

from checkpoints import langgraph_private as lg
from checkpoints.listing import ThreadSummary, quick_summaries
from deepresearch.cli.typer_private import NoArgsIsHelpError, UsageError

CAPPED = ("langgraph", "langgraph-checkpoint", "langgraph-checkpoint-sqlite", "langgraph-checkpoint-postgres", "typer")


def test_a_delta_snapshot_holds_the_value_survives_the_serializer_and_rebuilds_the_channel() -> None:
    snapshot = lg.delta_snapshot(["a", "b"])
    assert snapshot.value == ["a", "b"]
    serde = JsonPlusSerializer()
    back = serde.loads_typed(serde.dumps_typed(snapshot))
    assert type(back) is type(snapshot) and back.value == ["a", "b"]  # the ancestor walk stops at this type
    channel = DeltaChannel(lambda state, writes: [*state, *writes], list).from_checkpoint(back)
    assert channel.get() == ["a", "b"]
    assert hasattr(BaseCheckpointSaver, "aget_delta_channel_history")


def test_a_checkpoint_reads_as_plain_values_without_langgraph() -> None:
    checkpoint: Any = empty_checkpoint()
    checkpoint["channel_values"] = {"question": "Q?", "round": 3, "done": True, "answer": "1921",
                                    "messages": [AIMessage(content="hi")], "sources": [{"n": 1}]}
    kind, blob = JsonPlusSerializer().dumps_typed(checkpoint)
    values = lg.checkpoint_values(kind, blob)
    assert kind == lg.MSGPACK and values is not None
    assert {k: values[k] for k in ("question", "round", "done", "answer", "sources")} == {
        "question": "Q?", "round": 3, "done": True, "answer": "1921", "sources": [{"n": 1}]}
    assert values["messages"] == [None]  # an extension type reads as None, without failing
    assert values["__ts__"] == checkpoint["ts"]
    assert lg.checkpoint_values("json", blob) is None and lg.checkpoint_values(lg.MSGPACK, b"\xc1") is None


def test_the_signal_channels_are_langgraphs() -> None:
    assert (lg.INTERRUPT, lg.RESUME) == (serde_types.INTERRUPT, serde_types.RESUME)


class Asked(TypedDict, total=False):
    question: str
    round: int
    done: bool
    answer: str


def _ask(state: Asked) -> Asked:
    """Waits for a person once, then answers."""
    reply = interrupt("approve?")
    return {"round": 1, "done": True, "answer": str(reply)}


def test_the_sqlite_tables_read_as_the_listing_expects(tmp_path: Path) -> None:
    """A graph run through LangGraph's own saver: the listing reads its tables and judges each thread."""
    from langgraph.types import Command

    db = tmp_path / "checkpoints.db"
    graph = StateGraph(Asked)
    graph.add_node("ask", _ask)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", END)
    with SqliteSaver.from_conn_string(str(db)) as saver:
        app = graph.compile(checkpointer=saver)
        waiting = {"configurable": {"thread_id": "waiting"}}
        app.invoke({"question": "Q1"}, waiting)
        done = {"configurable": {"thread_id": "done"}}
        app.invoke({"question": "Q2"}, done)
        app.invoke(Command(resume="yes"), done)
        assert app.get_state(waiting).interrupts and app.get_state(done).values["done"]
    rows = quick_summaries(db)
    assert all(isinstance(row, ThreadSummary) for row in rows)
    by_id = {row.thread_id: row for row in rows if isinstance(row, ThreadSummary)}
    assert (by_id["waiting"].status, by_id["waiting"].question) == ("review", "Q1")
    assert (by_id["done"].status, by_id["done"].rounds, by_id["done"].answer) == ("done", 1, "yes")
    with sqlite3.connect(db) as conn:  # the columns the SQLite saver's maintenance copies and rewrites
        assert [r[1] for r in conn.execute("PRAGMA table_info(checkpoints)")] == [
            "thread_id", "checkpoint_ns", "checkpoint_id", "parent_checkpoint_id", "type", "checkpoint", "metadata"]
        assert [r[1] for r in conn.execute("PRAGMA table_info(writes)")] == [
            "thread_id", "checkpoint_ns", "checkpoint_id", "task_id", "task_path", "idx", "channel", "type", "value"]


def test_typers_click_exceptions_are_the_ones_its_commands_raise() -> None:
    app = typer.Typer(add_completion=False)

    @app.command()
    def hello(count: int) -> None:
        """A command with one integer argument."""

    command = typer.main.get_command(app)
    try:
        command.main(args=["not-a-number"], standalone_mode=False)
    except UsageError as exc:
        assert isinstance(exc, typer.TyperException) and exc.exit_code == 2 and exc.ctx is not None
    else:
        raise AssertionError("a bad argument raised no UsageError")
    assert issubclass(NoArgsIsHelpError, UsageError)


def test_each_dependency_used_privately_is_capped_at_a_verified_minor() -> None:
    """An upper bound below the next minor, which the installed (CI-verified) version satisfies."""
    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    declared = {req.name: req for req in map(Requirement, project["dependencies"])}
    for name in CAPPED:
        installed = version(name)
        major, minor = (int(part) for part in installed.split(".")[:2])
        assert declared[name].specifier.contains(installed), name
        assert not declared[name].specifier.contains(f"{major}.{minor + 1}.0"), f"{name} has no upper bound"
