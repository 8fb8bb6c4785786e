"""What `langgraph dev` loads (langgraph.json): the graphs and the checkpointer factory.

The server's environment is read once, here, as the server imports this module. The graphs are
compiled without a checkpointer (the server refuses graphs that bring their own) and with a context
bound to those settings: a run through the API gets the environment's endpoint as its defaults, and
Studio's form shows them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from core.redact import redact_logs
from core.settings import load_settings
from deepresearch.runner import saver_for
from graphs.registry import GRAPHS, step_limit
from state.context import Context

redact_logs()  # the server logs at INFO: every model and search call's URL, passwords included
SETTINGS = load_settings()
SERVER_CONTEXT = Context.bind(SETTINGS)


def for_server(graph_id: str) -> CompiledStateGraph[Any, Context, Any, Any]:
    """A registered graph as the server runs it; the step limit covers the longest run a context allows."""
    compiled = GRAPHS[graph_id](SERVER_CONTEXT).compile(name=graph_id)
    return compiled.with_config(recursion_limit=step_limit(graph_id))


iterresearch = for_server("iterresearch")
react = for_server("react")
heavy = for_server("heavy")


@asynccontextmanager
async def checkpointer() -> AsyncIterator[Any]:
    """Named in langgraph.json: the saver the CLI uses too (checkpoints.db in the home, or Postgres)."""
    async with saver_for(SETTINGS) as saver:
        yield saver
