"""What the server refuses before anything is stored: run inputs the graphs cannot take, on every route, and
contexts it cannot run with; each is a 422 whose message the client sees (through the real `langgraph dev`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import UnprocessableEntityError

from tests.cli_helpers import InProcess
from tests.conftest import QUESTION
from tests.server_stack import CONTEXT, checkpoint_rows, command, stream

REFUSED = [({"question": 5}, "the question must be a string, not a number"),
           ({"question": ["a", "b"]}, "the question must be a string, not an array"),
           ({"question": {"text": QUESTION}}, "the question must be a string, not an object"),
           ({"question": None}, "the input has no question"),
           ({"question": ""}, "the question is empty"),
           ({"question": "\u200b\u2060 \ufeff"}, "the question is empty"),
           ({"question": "why? " * 1000}, "the question has 5,000 characters, over the 4,000 allowed"),
           ({"messages": [{"role": "user", "content": QUESTION}]}, "the input has no question"),
           ({}, "the input has no question"),
           (7, 'the input must be an object such as {"question": "..."}, not a number'),
           ({"question": QUESTION, "notes": "x" * 100}, 'the input takes only a question (it also has "notes")')]


@pytest.mark.parametrize("graph_id", ["iterresearch", "react", "heavy"])
async def test_a_run_input_the_graphs_cannot_take_is_refused_and_nothing_stored(stack: dict[str, Any], graph_id: str,
                                                                                run_cli: InProcess) -> None:
    client = get_client(url=stack["url"])
    for value, message in REFUSED:
        thread_id = (await client.threads.create())["thread_id"]
        with pytest.raises(UnprocessableEntityError) as refused:
            await client.runs.create(thread_id, graph_id, input=value, context=CONTEXT)
        assert str(refused.value).startswith(message), value
        assert await client.runs.list(thread_id) == [] and checkpoint_rows(stack["home"], thread_id) == 0
    with pytest.raises(httpx.HTTPStatusError) as waited:  # runs.wait raises httpx's error, the body as its note
        await client.runs.wait(thread_id, graph_id, input=value)
    assert waited.value.response.status_code == 422 and waited.value.response.json()["detail"].startswith(message)
    for cli_command in ("show", "resume"):  # nothing of it to show or resume: one line
        done = await command(run_cli, stack, cli_command, thread_id)
        assert done.returncode == 1 and done.stderr.count("\n") == 1 and "unknown thread" in done.stderr


def database_bytes(home: Path) -> int:
    return sum(path.stat().st_size for path in home.glob("checkpoints.db*"))


async def test_a_ten_megabyte_question_is_refused_on_every_route_and_never_stored(stack: dict[str, Any]) -> None:
    client = get_client(url=stack["url"])
    question = "why? " * 2_000_000
    message = "the question has 10,000,000 characters, over the 4,000 allowed (max_question_chars)"
    thread_id = (await client.threads.create())["thread_id"]
    before = database_bytes(stack["home"])
    with pytest.raises(httpx.HTTPStatusError, match=re.escape(message)) as waited:
        await client.runs.wait(thread_id, "iterresearch", input={"question": question})
    assert waited.value.response.status_code == 422
    with pytest.raises(UnprocessableEntityError, match=re.escape(message)):
        async for _ in client.runs.stream(thread_id, "react", input={"question": question}):
            pass
    with pytest.raises(UnprocessableEntityError, match=re.escape(message)):
        await client.runs.create(None, "heavy", input={"question": question})  # a run on no thread
    with pytest.raises(UnprocessableEntityError, match=re.escape(message)):
        await client.crons.create_for_thread(thread_id, "iterresearch", schedule="0 0 * * *",
                                             input={"question": question})
    async with httpx.AsyncClient(base_url=stack["url"], timeout=120) as http:
        batch = await http.post("/runs/batch", json=[{"assistant_id": "react", "input": {"question": QUESTION}},
                                                     {"assistant_id": "react", "input": {"question": question}}])
        assert batch.status_code == 422 and batch.json() == {"detail": f"run 2 of the batch: {message}"}
        tool = await http.post("/mcp", headers={"Accept": "application/json"}, json={
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "iterresearch", "arguments": {"question": question}}})
        assert tool.json()["error"]["message"] == message
    for transport in ("sse", "websocket"):  # LangGraph's streaming protocol v2
        with pytest.raises(RuntimeError, match=re.escape(f"[invalid_argument]: {message}")):
            async with client.threads.stream(thread_id, assistant_id="iterresearch", transport=transport) as session:
                await session.run.start(input={"question": question})
    assert await client.runs.list(thread_id) == [] and checkpoint_rows(stack["home"], thread_id) == 0
    assert database_bytes(stack["home"]) - before < 1_000_000  # ten inputs of 10 MB: none of them stored


async def test_the_limit_is_the_contexts_and_the_assistants(stack: dict[str, Any]) -> None:
    client = get_client(url=stack["url"])
    thread_id = (await client.threads.create())["thread_id"]
    strict = await client.assistants.create("iterresearch", context={"max_question_chars": 20})
    with pytest.raises(UnprocessableEntityError, match=r"has 1\d\d characters, over the 20 allowed"):
        await client.runs.create(thread_id, strict["assistant_id"], input={"question": QUESTION})
    longer = QUESTION + " (asked at length)" * 250
    await stream(client, thread_id, input={"question": longer},
                 context={"max_question_chars": 6000, "review_plan": True})
    state = await client.threads.get_state(thread_id)
    assert state["values"]["question"] == longer and state["next"] == ["review"]


async def test_a_question_a_command_or_an_edit_would_write_is_checked_too(stack: dict[str, Any]) -> None:
    client = get_client(url=stack["url"])
    thread_id = (await client.threads.create())["thread_id"]
    await stream(client, thread_id, input={"question": QUESTION}, context={"review_plan": True})
    stored = checkpoint_rows(stack["home"], thread_id)
    with pytest.raises(UnprocessableEntityError, match="the question must be a string, not a number"):
        await client.runs.create(thread_id, "iterresearch", command={"update": {"question": 5}, "resume": {}})
    with pytest.raises(UnprocessableEntityError, match="has 10,000,000 characters, over the 100,000 allowed"):
        await client.threads.update_state(thread_id, {"question": "why? " * 2_000_000})  # as Studio edits state
    with pytest.raises(UnprocessableEntityError, match="the question is empty"):
        await client.threads.create(supersteps=[{"updates": [{"values": {"question": " "}, "as_node": "__input__"}]}])
    assert checkpoint_rows(stack["home"], thread_id) == stored
    # protocol v2 resumes a waiting thread with run.start: its input is the resume value then, not a question
    async with client.threads.stream(thread_id, assistant_id="iterresearch") as session:
        started = await session.run.start(input={"approve": True})
    await client.runs.join(thread_id, started["run_id"])
    assert (await client.runs.get(thread_id, started["run_id"]))["status"] == "success"
    state = await client.threads.get_state(thread_id)
    assert state["values"]["done"] and state["values"]["question"] == QUESTION  # resumed, and past the review


@pytest.mark.parametrize(("context", "message"), [
    ({"max_rounds": 0}, "max_rounds: input should be greater than or equal to 1 (got 0)"),
    ({"max_rounds": "8"}, "max_rounds: input should be a valid integer (got '8')"),
    ({"search": "bing"}, "search: input should be "),
    ({"base_url": "ftp://x"}, "base_url: must start with http:// or https://"),
    ({"base_url": "http://" + "a" * 100_000}, "base_url: must be at most 2,048 characters (this one has 100,007)"),
    ({"base_url": "http://localhost:99999/v1"}, "base_url: must be a valid URL (invalid port number)")])
async def test_a_bad_context_gets_its_real_message(stack: dict[str, Any], context: dict[str, Any],
                                                   message: str) -> None:
    client = get_client(url=stack["url"])
    thread = await client.threads.create()
    with pytest.raises(UnprocessableEntityError) as info:
        await client.runs.create(thread["thread_id"], "iterresearch", input={"question": QUESTION}, context=context)
    assert str(info.value).startswith(f"invalid context: {message}") and len(str(info.value)) < 400
    assert await client.runs.list(thread["thread_id"]) == []
