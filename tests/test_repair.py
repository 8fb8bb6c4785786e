"""One repair loop for structured JSON replies and the native tag format, against the fake server over HTTP."""

from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from core.errors import StructuredOutputError
from nodes.native import complete_native
from tests.fakes.model_server import ModelServer
from tests.test_llm import Verdict
from tools.model.llm import Endpoint
from tools.model.llm_json import complete_json

PLAN = ('<think>first the town</think>\n<tool_call>\n{"name": "search", "arguments": {"query": ["Velmora"]}}\n'
        "</tool_call>")


def endpoint(server: ModelServer, **options: Any) -> Endpoint:
    return Endpoint(server.base_url, server.model, max_retries=0, timeout=5, **options)


def shown_back(server: ModelServer) -> list[bool]:
    """For each request: whether it carried an unusable reply back with its problem."""
    return [any("could not be used" in str(m["content"]) for m in c.messages) for c in server.calls()]


async def test_a_native_reply_is_repaired_as_a_json_one_is() -> None:
    replies = iter(["I would search for the town.", PLAN])
    with ModelServer(lambda messages: ("planner", next(replies))) as server:
        reply, usage = await complete_native(endpoint(server), [HumanMessage("Q")], "plan")
        assert reply.queries == ["Velmora"] and usage.calls == 2
        assert shown_back(server) == [False, True]
        assert "I would search for the town." in str(server.calls()[1].messages[1]["content"])
    with ModelServer(lambda messages: ("judge", "No JSON from me.")) as server:
        with pytest.raises(StructuredOutputError, match="Verdict reply unusable after a repair retry") as failed:
            await complete_json(endpoint(server, structured_output="text"), [HumanMessage("Q")], Verdict)
        assert failed.value.calls == 2 and shown_back(server) == [False, True]


async def test_native_tries_run_out() -> None:
    with ModelServer(lambda messages: ("planner", "Nothing to call.")) as server:
        with pytest.raises(StructuredOutputError, match="native reply unusable after 3 tries: it has no <tool_call>") \
                as failed:
            await complete_native(endpoint(server), [HumanMessage("Q")], "plan")
    assert failed.value.calls == 3 and failed.value.tokens > 0


async def test_a_cut_off_native_reply_is_never_used_nor_asked_again() -> None:
    """Its tags, read tolerantly, would pass for a whole reply; a cut JSON reply that parses is whole."""
    with ModelServer(lambda messages: ("planner", PLAN)) as server:
        server.faults.cut_off = {"planner"}
        with pytest.raises(StructuredOutputError, match="native reply unusable: it ran on to its output budget"):
            await complete_native(endpoint(server, max_output_tokens=512), [HumanMessage("Q")], "plan")
        assert len(server.calls()) == 1
    with ModelServer(lambda messages: ("judge", '{"answered": true, "answer": "7"}')) as server:
        server.faults.cut_off = {"judge"}
        verdict, usage = await complete_json(endpoint(server, structured_output="text"), [HumanMessage("Q")], Verdict)
    assert verdict.answer == "7" and usage.calls == 1
