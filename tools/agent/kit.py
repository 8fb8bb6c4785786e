"""What an agent tool runs with, and what its arguments may hold, apart from what the model is shown.

A tool's arguments are a pydantic model. Two kinds of field are never in the schema the model sees
(LangChain's ``InjectedToolArg``): ``kit`` (``FromRun``), the run's clients and what the thread has
found, given by the dispatch; and a program (``InCodeTag``), which the model writes in ``<code>`` after
the call's JSON, as Tongyi DeepResearch was trained to. A field may carry an ``Arg`` (its bound as the
call enters state); one without is kept whole up to ``ARGUMENT_CHARS`` of JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
from langchain_core.tools import InjectedToolArg
from pydantic import BaseModel, ConfigDict, SkipValidation

from core.limits import ParseLimits
from state.records import Source
from tools.search import SearchBackend
from tools.web.fetch import Fetcher

ARGUMENT_CHARS = 20_000  # an argument without an Arg: its JSON, at most

# reads pages for a goal: one state update per URL (its source, finding or failure, and the calls spent)
PageReading = Callable[[list[str], str], Awaitable[list[dict[str, Any]]]]


class FromRun(InjectedToolArg):
    """Marks the ``kit`` argument: the dispatch gives it; the model never sees or sets it."""


class InCodeTag(InjectedToolArg):
    """Marks an argument the model writes in ``<code>`` after the call's JSON (not in the JSON schema it sees)."""


@dataclass(frozen=True)
class Arg:
    """What one argument may hold: its length, and what happens to a longer one.

    ``shorten`` cuts one too long to what still serves (a query, a goal); without it a longer value is
    refused (a cut URL or program is another one) and ``refused`` says so to the model. A list field
    takes its first MAX_ITEMS values, each bounded alike.
    """

    limit: int
    shorten: Callable[[str], str] | None = None
    refused: str = "not used"


@dataclass(frozen=True)
class ToolKit:
    """The run's clients and what the thread knows, injected into every call of a tool that takes ``kit``."""

    question: str
    search: SearchBackend
    results_per_query: int
    read: PageReading  # the readers' pipeline (page store, extraction model), as IterResearch reads
    fetcher: Fetcher  # the safe page fetcher, for documents by URL
    parsing: ParseLimits
    http: httpx.AsyncClient  # API calls (the Python sandbox)
    sandbox_url: str = ""  # a SandboxFusion endpoint: PythonInterpreter is offered only with one
    sources: Sequence[Source] = ()  # the thread's numbered sources (the numbers a new page continues)
    step: int = 0  # the thread's step (ReAct), recorded with the sources a tool finds
    roots: Sequence[Path] = ()  # folders whose local files parse_file may read (ReAct: none, URLs only)


class KitArgs(BaseModel):
    """Arguments of a tool that runs with the run's kit (a tool's own arguments extend it)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kit: Annotated[SkipValidation[ToolKit], FromRun]
