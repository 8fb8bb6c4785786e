"""Requests that would start a run on a bad question (or context) are refused before the server stores anything.

Neither langgraph-api nor LangGraph checks a run's input against the graph's input schema: the server keeps
the input with the run, and LangGraph writes it into the thread's first checkpoint before any node can look
at it. So the requests that create runs or write a question into a thread are checked here, by a middleware
of the app langgraph.json's `http.app` names: a run's context must validate and its input must be exactly
``{"question": text}`` within the context's ``max_question_chars``; a question written by a command or a state
edit must be text within the longest any context allows. A bad one is refused in the protocol the request
came in: 422 with ``detail`` on the REST routes (langgraph-sdk raises it), the error envelope of protocol v2
(``/threads/{id}/commands`` and its WebSocket), a JSON-RPC error for an MCP tool call.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.errors import LangGraphError
from pydantic import ValidationError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import one_line
from deepresearch.server import SERVER_CONTEXT
from graphs.registry import GRAPHS
from state.context import MAX_QUESTION_CHARS, Context
from state.queries import input_problem, question_problem

# POST /runs, /runs/stream, /runs/wait, /runs/batch, /runs/crons, and the same under /threads/{thread_id}
RUNS = re.compile(r"/(?:threads/[^/]+/)?runs(?:/stream|/wait|/batch|/crons)?/?")
EDITS = re.compile(r"/threads(?:/[^/]+/state)?/?")  # a state edit, or a new thread with its first states
COMMANDS = re.compile(r"/threads/(?P<thread>[^/]+)/commands/?")  # protocol v2 over HTTP
SOCKET = re.compile(r"/threads/(?P<thread>[^/]+)/stream/events/?")  # protocol v2 over a WebSocket
MCP = re.compile(r"/mcp/?")
MCP_INVALID_PARAMS = -32602  # JSON-RPC's code, as the server's MCP handler answers an unknown tool
PARSE_OFF_LOOP = 100_000  # bytes of JSON parsed on a worker thread, as the server does with large bodies
# the context keys the server passes on to the graph (it drops the others), as its context schema lists them
CONTEXT_KEYS = frozenset(SERVER_CONTEXT.model_json_schema()["properties"])
Refusal = Callable[[Scope, Receive, Send], Awaitable[None]]


class RunGuard:
    """ASGI middleware: a request that would run on (or store) a bad question is refused, and nothing stored."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass every other request on untouched; one of these is read whole, judged, then passed on or refused."""
        path = _route_path(scope) if scope["type"] in ("http", "websocket") else ""
        if scope["type"] == "websocket" and (socket := SOCKET.fullmatch(path)):
            await self.app(scope, _screened(socket["thread"], receive, send), send)
            return
        judge = next((judge for route, judge in _JUDGES if route.fullmatch(path)), None)
        if scope["type"] != "http" or scope["method"] != "POST" or judge is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        refusal = await judge(path, await _parsed(body))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _route_path(scope: Scope) -> str:
    path, root = str(scope["path"]), str(scope.get("root_path", ""))
    return path[len(root):] if root and path.startswith(root + "/") else path


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            return b"".join(chunks)


async def _parsed(body: bytes | str) -> Any:
    """The JSON of a request (None if it is not JSON: the server answers malformed requests itself)."""
    try:
        return await asyncio.to_thread(json.loads, body) if len(body) > PARSE_OFF_LOOP else json.loads(body)
    except ValueError:
        return None


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """The request's body once more (it was read here), then whatever the client sends next."""
    pending = [body]

    async def again() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        return await receive()

    return again


def _screened(thread_id: str, receive: Receive, send: Send) -> Callable[[], Awaitable[Message]]:
    """A v2 WebSocket's messages, less each command that would run on a bad question: answered here instead."""

    async def screened() -> Message:
        while True:
            message = await receive()
            text = message.get("text") if message["type"] == "websocket.receive" else None
            envelope = await _v2_problem(thread_id, await _parsed(text)) if text else None
            if envelope is None:
                return message
            await send({"type": "websocket.send", "text": json.dumps(envelope)})

    return screened


def _refused(problem: str | None) -> Refusal | None:
    return None if problem is None else JSONResponse({"detail": problem}, status_code=422)


async def _runs(_path: str, payload: Any) -> Refusal | None:
    """The REST routes: one run, or a batch of them."""
    runs = payload if isinstance(payload, list) else [payload]
    for number, run in enumerate(runs, 1):
        problem = await run_problem(run) if isinstance(run, dict) else None
        if problem:
            return _refused(f"run {number} of the batch: {problem}" if isinstance(payload, list) else problem)
    return None


async def _edits(path: str, payload: Any) -> Refusal | None:
    """A state edit (``values``), or a new thread made of states (``supersteps``): the question they would write."""
    if not isinstance(payload, dict):
        return None
    steps = payload.get("supersteps") if path.rstrip("/") == "/threads" else [{"updates": [payload]}]
    updates = [u for s in steps if isinstance(s, dict) for u in (s.get("updates") or []) if isinstance(u, dict)] \
        if isinstance(steps, list) else []
    return _refused(next(filter(None, (update_problem(u.get("values"), MAX_QUESTION_CHARS) for u in updates)), None))


async def _v2(path: str, payload: Any) -> Refusal | None:
    match = COMMANDS.fullmatch(path)
    envelope = await _v2_problem(match["thread"], payload) if match else None
    return None if envelope is None else JSONResponse(envelope)


async def _v2_problem(thread_id: str, command: Any) -> dict[str, Any] | None:
    """A protocol v2 command that would run on a bad question, as the protocol's error envelope; else None."""
    params = command.get("params") if isinstance(command, dict) else None
    if not isinstance(params, dict) or command.get("method") not in ("run.start", "input.respond"):
        return None
    if command["method"] == "input.respond":  # a resume: only the state update it carries could set a question
        problem = update_problem(params.get("update"), MAX_QUESTION_CHARS)
    elif params.get("force_resume") or await _waiting(thread_id):  # the server takes the input as a resume value
        problem = None
    else:
        config = params.get("config")
        problem = await run_problem({"assistant_id": params.get("assistant_id"), "input": params.get("input"),
                                     "config": config if isinstance(config, dict) else {}})
    if problem is None:
        return None
    return {"type": "error", "id": command.get("id"), "error": "invalid_argument", "message": problem}


async def _waiting(thread_id: str) -> bool:
    """Whether a thread waits on an interrupt (where a v2 ``run.start`` resumes it)."""
    try:
        thread = await get_client().threads.get(thread_id)  # in-process: this very server
    except (LangGraphError, httpx.HTTPError):
        return False  # no such thread yet: the run starts it
    return thread.get("status") == "interrupted" or bool(thread.get("interrupts"))


async def _mcp(_path: str, payload: Any) -> Refusal | None:
    """An MCP tool call: the tool's arguments are the run's input (tools named after a graph run it)."""
    params = payload.get("params") if isinstance(payload, dict) and payload.get("method") == "tools/call" else None
    if not isinstance(params, dict) or params.get("name") not in GRAPHS:
        return None
    problem = await run_problem({"assistant_id": params["name"], "input": params.get("arguments", {}),
                                 "context": params.get("context")})
    if problem is None:
        return None
    return JSONResponse({"jsonrpc": "2.0", "id": payload.get("id"),
                         "error": {"code": MCP_INVALID_PARAMS, "message": problem}})


_JUDGES = ((RUNS, _runs), (EDITS, _edits), (COMMANDS, _v2), (MCP, _mcp))


async def run_problem(run: dict[str, Any]) -> str | None:
    """Why one run's payload cannot start: its context, its input, or the question a command would set."""
    config, command = run.get("config"), run.get("command")
    given = run.get("context") or (config.get("configurable") if isinstance(config, dict) else None) or {}
    assistant = await _assistant_context(run.get("assistant_id"))
    if not isinstance(given, dict) or assistant is None:
        return None  # not an object, or no such assistant: the server answers that itself
    try:  # as the server will: the assistant's context, the run's over it, the keys the graphs take, validated
        merged = {key: value for key, value in {**assistant, **given}.items() if key in CONTEXT_KEYS}
        ctx: Context = SERVER_CONTEXT.model_validate(merged)
    except ValidationError as exc:
        return f"invalid context: {one_line(exc, ': ')}"
    if run.get("input") is not None:
        return input_problem(run["input"], ctx.max_question_chars)
    return update_problem(command.get("update") if isinstance(command, dict) else None, ctx.max_question_chars)


def update_problem(update: Any, limit: int) -> str | None:
    """Why a state update would write a bad question: a mapping, several of them, or LangGraph's [key, value] pairs."""
    if isinstance(update, dict):
        return question_problem(update["question"], limit) if "question" in update else None
    if not isinstance(update, list):
        return None
    parts = [u if isinstance(u, dict) else {u[0]: u[1]} for u in update
             if isinstance(u, dict) or (isinstance(u, list) and len(u) == 2 and isinstance(u[0], str))]
    return next(filter(None, (update_problem(part, limit) for part in parts)), None)


async def _assistant_context(assistant_id: Any) -> dict[str, Any] | None:
    """The context an assistant adds to its runs ({} for a graph's own), or None if there is no such assistant."""
    if assistant_id in GRAPHS:
        return {}
    try:
        assistant = await get_client().assistants.get(str(assistant_id))  # in-process: this very server
    except (LangGraphError, httpx.HTTPError):
        return None
    context = assistant.get("context")
    return context if isinstance(context, dict) else {}
