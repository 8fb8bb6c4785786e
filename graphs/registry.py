"""The graphs this project serves, by id (as in langgraph.json) and by CLI mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.graph import StateGraph

from graphs.iterresearch import build_graph as build_iterresearch
from state.context import Context

GRAPHS: dict[str, Callable[[], StateGraph[Any, Context, Any, Any]]] = {"iterresearch": build_iterresearch}
MODES: dict[str, str] = {"iter": "iterresearch"}
