"""Rollouts through a LangGraph server (`eval --server URL`): `langgraph dev` here, or a deployment.

Each rollout is a server thread with the same id it would have here, so an eval run again resumes the
same way: a finished thread is read back, a stopped one continued. The server gets an API key only when
DEEPRESEARCH_SERVER_API_KEY names one: left to itself, langgraph-sdk would send LANGGRAPH_API_KEY or
LANGSMITH_API_KEY (a LangSmith account's key) to whatever URL it is given.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from core.errors import ServerRunError, ServerUnavailable, UserInputError
from core.urls import url_origin
from deepresearch.evaluation.data import Item
from deepresearch.results import RunResult, result_from_values
from state.context import Context

_REFUSED = (401, 403)


def _detail(exc: httpx.HTTPStatusError) -> str:
    """What an error answer said, in one short line (an HTML page: only its status's name)."""
    body: Any = getattr(exc, "body", None)  # langgraph-sdk's APIError keeps the decoded body
    if isinstance(body, dict):
        body = body.get("detail") or body.get("message") or body.get("error") or json.dumps(body)
    text = " ".join(str(body if body is not None else " ".join(getattr(exc, "__notes__", []))).split())
    return text[:200] if text and not text.startswith("<") else exc.response.reason_phrase


class RemoteResearch:
    """Runs one rollout as a thread of the server's graph ``graph_id`` with the eval's run settings."""

    def __init__(self, url: str, graph_id: str, ctx: Context, api_key: str | None = None) -> None:
        from langgraph_sdk import get_client

        origin = url_origin(url)
        if origin is None:
            raise UserInputError("--server takes the http:// or https:// URL of a LangGraph server, such as "
                                 "http://127.0.0.1:2024 (what `langgraph dev` prints)")
        self.where = origin  # what messages name: scheme, host and port (no credentials, no path)
        # api_key=None: langgraph-sdk loads no key from the environment
        self.client = get_client(url=url.rstrip("/"), api_key=api_key or None)
        self.graph_id = graph_id
        # only what was set for this eval: the rest are the server's own defaults (its endpoint among them)
        self.context = ctx.model_dump(exclude_unset=True)

    @asynccontextmanager
    async def _talking(self, what: str) -> AsyncIterator[None]:
        """Turn the client's failures into the project's: the server gone (stop), or this request failed."""
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ServerUnavailable(f"cannot reach the LangGraph server at {self.where} (--server): "
                                    f"{' '.join(str(exc).split()) or type(exc).__name__}") from None
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            if status in _REFUSED:
                raise ServerUnavailable(f"the LangGraph server at {self.where} refused the request (HTTP {status}): "
                                        "set DEEPRESEARCH_SERVER_API_KEY to its API key") from None
            raise ServerRunError(f"the server answered {what} with HTTP {status}: {_detail(exc)}") from None
        except httpx.TransportError as exc:
            raise ServerRunError(f"the connection to the server failed during {what}: "
                                 f"{' '.join(str(exc).split()) or type(exc).__name__}") from None

    async def check(self) -> None:
        """Before any rollout: the server answers, is a LangGraph server, and serves the graph."""
        try:
            async with self._talking("POST /assistants/search"):
                found = await self.client.assistants.search(graph_id=self.graph_id, limit=1)
        except ServerRunError as exc:
            raise ServerUnavailable(f"{self.where} is not a LangGraph server that works (--server): {exc}") from None
        except ValueError:  # an answer that is not JSON
            found = None
        if not isinstance(found, list):
            raise ServerUnavailable(f"{self.where} did not answer as a LangGraph server (--server)")
        if not found:
            raise ServerUnavailable(f"the LangGraph server at {self.where} has no graph {self.graph_id!r} "
                                    "(does it serve this project's langgraph.json?)")

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()

    async def __call__(self, thread_id: str, item: Item) -> RunResult:
        """The rollout's result: run, continued, or (already finished) read."""
        async with self._talking("the rollout's run"):
            await self.client.threads.create(thread_id=thread_id, if_exists="do_nothing",
                                              metadata={"graph_id": self.graph_id})
            state: Any = await self.client.threads.get_state(thread_id)
            values = state.get("values") or {}
            if not values.get("done"):
                started = bool(values.get("question"))  # stopped mid-way last time: on from there
                answer = await self.client.runs.wait(thread_id, self.graph_id, input=None if started else {
                    "question": item.question}, context=self.context, raise_error=False)
                error = answer.get("__error__") if isinstance(answer, dict) else None
                if isinstance(error, dict):
                    raise ServerRunError(f"{error.get('error')}: {error.get('message')}")
                values = (await self.client.threads.get_state(thread_id)).get("values") or {}
        return result_from_values(thread_id, "done" if values.get("done") else "unfinished",
                                         {"question": item.question, **values})
