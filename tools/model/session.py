"""What one owner keeps of the model endpoints it talks to: their HTTP clients, and what their servers refused.

An owner is one run, the runs of one eval, or one server: tools/toolbox.py's ``Toolboxes`` makes the session
current for the code it runs (a ContextVar: the graph's tasks inherit it), and closes it when the owner ends.
Two owners in one process (tests, an eval beside a run) never share a client or a refusal: a server that
refused json_schema at some address says nothing about another one there later. Code that runs under no owner
(the graphs `langgraph dev` serves, a test calling the model directly) gets its event loop's session, which
lasts as long as the loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from core.vocabulary import OutputLimit

C = TypeVar("C")
E = TypeVar("E", bound=Hashable)


@dataclass(eq=False)
class ModelSession:
    """One owner's model clients and what its endpoints' servers were found to refuse or honour."""

    clients: dict[Hashable, Any] = field(default_factory=dict)  # one per Endpoint (tools/model/llm.py): reused
    no_json_schema: set[str] = field(default_factory=set)  # base URLs that refused response_format=json_schema
    no_tools: set[str] = field(default_factory=set)  # base URLs that refused a forced tool call
    named_choice_ignored: set[str] = field(default_factory=set)  # answered a forced named tool call without one
    output_limits: dict[tuple[str, str], OutputLimit] = field(default_factory=dict)  # per base URL and model

    def client(self, endpoint: E, make: Callable[[E], C]) -> C:
        """The client for ``endpoint``, made by ``make`` the first time it is asked for."""
        if endpoint not in self.clients:
            self.clients[endpoint] = make(endpoint)
        return self.clients[endpoint]  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Close the clients' HTTP connections; what was learnt goes with them (the session is over)."""
        clients, self.clients = self.clients, {}
        for model in clients.values():
            if model.http_async_client is not None:
                await model.http_async_client.aclose()
            if model.http_client is not None:
                model.http_client.close()
        for learnt in (self.no_json_schema, self.no_tools, self.named_choice_ignored, self.output_limits):
            learnt.clear()


_CURRENT: ContextVar[ModelSession | None] = ContextVar("model_session", default=None)
# the sessions of code run by no owner, one per event loop (HTTP clients belong to one loop)
_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ModelSession] = weakref.WeakKeyDictionary()


def current() -> ModelSession:
    """The session of the owner running this code, else the running event loop's."""
    return _CURRENT.get() or _BY_LOOP.setdefault(asyncio.get_running_loop(), ModelSession())


@contextmanager
def using(session: ModelSession) -> Iterator[ModelSession]:
    """Make ``session`` the current one for the code run inside (and the tasks it starts)."""
    token = _CURRENT.set(session)
    try:
        yield session
    finally:
        _CURRENT.reset(token)


async def close_loop_session() -> None:
    """Close the session of the code this event loop ran under no owner."""
    session = _BY_LOOP.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.aclose()
