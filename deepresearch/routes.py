"""Routes, a startup task and a check of run requests added to `langgraph dev` (langgraph.json `http.app`).

The server keeps its own list of threads; threads started by the CLI live only in the shared checkpoint
database. A background task registers them with the server every few seconds (and on POST
/deepresearch/sync), so they show up in Studio and in `threads.search`, readable and resumable there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.errors import LangGraphError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from checkpoints.saver import graph_id_of
from checkpoints.threads import latest_metadata, thread_ids
from core.redact import redact_text
from deepresearch.catalog import list_all
from deepresearch.run_guard import RunGuard
from deepresearch.runner import saver_for
from deepresearch.server import SETTINGS

SYNC_SECONDS = 5.0
PAGE = 500
log = logging.getLogger(__name__)


async def _server_threads(client: Any) -> dict[str, dict[str, Any]]:
    """Every thread the server knows, with its metadata."""
    known: dict[str, dict[str, Any]] = {}
    while True:
        page = await client.threads.search(limit=PAGE, offset=len(known))
        known.update({t["thread_id"]: t.get("metadata") or {} for t in page})
        if len(page) < PAGE:
            return known


async def sync_threads() -> dict[str, int]:
    """Register the database's threads the server lacks, and forget the ones deleted from the database.

    Only threads this sync registered (metadata ``source: deepresearch``) are ever removed.
    """
    client = get_client()  # in-process: talks to this very server
    on_server = await _server_threads(client)
    async with saver_for(SETTINGS) as saver:
        in_db = await thread_ids(saver)
        missing = [(t, await latest_metadata(saver, t)) for t in in_db if t not in on_server]
    added = 0
    for thread_id, metadata in missing:
        labels = {"graph_id": graph_id_of(metadata), "source": "deepresearch"}
        if metadata.get("thread_name"):
            labels["thread_name"] = str(metadata["thread_name"])
        try:
            await client.threads.create(thread_id=thread_id, if_exists="do_nothing", metadata=labels)
            added += 1
        except (LangGraphError, httpx.HTTPError) as exc:  # an id the server will not take: skip it
            log.warning("could not register thread %s with the server: %s", thread_id, redact_text(str(exc)))
    gone = [t for t, meta in on_server.items() if meta.get("source") == "deepresearch" and t not in set(in_db)]
    for thread_id in gone:
        await client.threads.delete(thread_id)
    return {"registered": added, "removed": len(gone)}


async def _sync_forever() -> None:
    while True:
        await asyncio.sleep(SYNC_SECONDS)
        try:
            await sync_threads()
        except Exception as exc:  # noqa: BLE001 - a background loop that dies would silently stop syncing
            log.warning("thread sync failed, will retry: %s", redact_text(str(exc)))


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Run the thread sync while the server is up."""
    task = asyncio.create_task(_sync_forever())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def list_threads(request: Request) -> JSONResponse:
    """GET /deepresearch/threads: every thread in the shared database, as `deepresearch threads` lists them."""
    rows = await list_all(SETTINGS)
    return JSONResponse([row.__dict__ for row in rows])


async def sync_now(request: Request) -> JSONResponse:
    """POST /deepresearch/sync: register CLI threads with the server now (and drop deleted ones)."""
    return JSONResponse(await sync_threads())


# the middleware wraps the whole server (langgraph-api applies a custom app's middleware to every route)
app = Starlette(routes=[Route("/deepresearch/threads", list_threads, methods=["GET"]),
                        Route("/deepresearch/sync", sync_now, methods=["POST"])],
                middleware=[Middleware(RunGuard)], lifespan=lifespan)
