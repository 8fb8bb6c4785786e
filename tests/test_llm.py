"""The model client against the fake OpenAI-compatible server, through the real ChatOpenAI client."""

from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from core.errors import EndpointError, EndpointUnreachable, ModelCallError, StructuredOutputError
from core.vocabulary import StructuredMethod
from tests.fakes.model_server import ModelServer
from tools.model.endpoint import list_models
from tools.model.llm import Endpoint, complete_text
from tools.model.llm_json import complete_json
from tools.model.structured import json_schema


class Verdict(BaseModel):
    answered: bool
    answer: str


def brain(messages: list[dict]) -> tuple[str, object]:
    """Answers with what the user message says the answer is."""
    user = next(str(m["content"]) for m in messages if m["role"] == "user")
    if "final" in str(messages[0]["content"]):
        return "final", f"<think>easy</think><answer>{user}</answer>"
    return "judge", {"answered": True, "answer": user.split("answer is ")[-1].split("\n")[0]}


async def test_a_llama_cpp_server_says_its_context_and_refuses_a_prompt_over_it() -> None:
    """llama.cpp lists the served context as meta.n_ctx; a prompt over it is "prompt too long", not a failure."""
    with ModelServer(brain, max_model_len=50, flavour="llamacpp") as llama:
        assert [m.max_model_len for m in await list_models(llama.base_url, "EMPTY")] == [50]
        with pytest.raises(ModelCallError, match="prompt too long for the context the server allows"):
            await complete_text(endpoint(llama), msgs("x" * 400))


async def test_a_server_that_ignores_a_named_tool_choice_is_asked_with_required() -> None:
    """llama.cpp warns on a named tool_choice and answers as with "auto": the next calls say "required"."""
    with ModelServer(brain, flavour="llamacpp") as llama:
        for text in ("the answer is 7", "the answer is 8"):
            verdict, usage = await complete_json(endpoint(llama, "tool_calling"), msgs(text), Verdict)
            assert usage.calls == 1
        calls = llama.calls()
    assert verdict.answer == "8"
    assert isinstance(calls[0].tool_choice, dict) and calls[1].tool_choice == "required"
    assert [c.method for c in calls] == ["text", "tool_calling"]  # the second reply is the forced call


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer(brain) as srv:
        yield srv


def endpoint(server: ModelServer, method: StructuredMethod = "json_schema", **kw: object) -> Endpoint:
    options: dict = {"max_retries": 1, "timeout": 5, **kw}
    return Endpoint(server.base_url, server.model, structured_output=method, **options)


def msgs(text: str, system: str = "You judge.") -> list:
    return [SystemMessage(system), HumanMessage(text)]


@pytest.mark.parametrize("method", ["json_schema", "tool_calling", "text"])
async def test_structured_output_each_method(server: ModelServer, method: StructuredMethod) -> None:
    verdict, usage = await complete_json(endpoint(server, method), msgs("the answer is 1921"), Verdict)
    assert verdict == Verdict(answered=True, answer="1921")
    assert usage.calls == 1 and usage.tokens > 0
    assert server.calls()[-1].method == method
    if method == "text":  # the schema travels in the prompt when the server cannot enforce it
        assert '"answered"' in str(server.calls()[-1].messages[0]["content"])
    assert json_schema(Verdict) == Verdict.model_json_schema()  # built once and shared: no call changed it


async def test_one_repair_retry_shows_the_model_its_error(server: ModelServer) -> None:
    server.faults.malformed_until_repair = {"judge"}
    verdict, usage = await complete_json(endpoint(server, "text"), msgs("the answer is 7"), Verdict)
    assert verdict.answer == "7" and usage.calls == 2
    repair = server.calls()[-1].messages[-1]["content"]
    assert "could not be used" in repair and "no valid JSON" in repair


async def test_a_repair_whose_call_fails_counts_both_calls(server: ModelServer) -> None:
    """The first reply was made and is spent, whatever happens to its repair."""
    from tools.model.llm import guarded

    server.faults.malformed_until_repair = {"judge"}
    server.faults.fail_when = {"could not be used": [400]}  # the repair request is refused
    outcome = await guarded(lambda: complete_json(endpoint(server, "text"), msgs("the answer is 7"), Verdict))
    requests = [path for method, path, _ in server.requests if method == "POST"]
    assert outcome.value is None and outcome.usage.calls == 2 == len(requests)
    assert "its repair call failed" in outcome.error


async def test_a_reply_cut_at_the_output_budget_is_not_asked_again(server: ModelServer) -> None:
    """finish_reason "length": the model ran on; a repair would run on too, a whole budget more."""
    server.faults.cut_off = {"judge"}
    with pytest.raises(StructuredOutputError, match="ran on to its output budget .1,024 tokens. and was cut off"):
        await complete_json(endpoint(server, max_output_tokens=1024), msgs("the answer is 7"), Verdict)
    assert len(server.calls()) == 1


async def test_unrepairable_output_raises_with_usage(server: ModelServer) -> None:
    server.brain = lambda m: ("judge", "I refuse to answer in JSON.")
    with pytest.raises(StructuredOutputError) as info:
        await complete_json(endpoint(server), msgs("x"), Verdict)
    assert info.value.calls == 2 and info.value.tokens > 0


async def test_server_without_json_schema_falls_back_to_text(server: ModelServer) -> None:
    server.faults.reject_json_schema = True
    ep = endpoint(server)
    verdict, _ = await complete_json(ep, msgs("the answer is 5"), Verdict)
    assert verdict.answer == "5"
    verdict, _ = await complete_json(ep, msgs("the answer is 6"), Verdict)
    assert verdict.answer == "6"
    assert [c.method for c in server.calls()] == ["text", "text"]  # the refusal is remembered


async def test_transient_errors_are_retried(server: ModelServer) -> None:
    server.faults.statuses = [429]
    text, usage = await complete_text(endpoint(server), msgs("ok", "You are the final writer."))
    assert text == "<answer>ok</answer>" and usage.calls == 1


async def test_persistent_5xx_becomes_one_clear_error(server: ModelServer) -> None:
    server.faults.statuses = [500, 503]
    with pytest.raises(ModelCallError, match="HTTP 503"):
        await complete_text(endpoint(server), msgs("x"))


async def test_hung_call_times_out(server: ModelServer) -> None:
    server.faults.delay = {"judge": 3}
    with pytest.raises(ModelCallError, match="timed out"):
        await complete_json(endpoint(server, timeout=1, max_retries=0), msgs("x"), Verdict)


async def test_unknown_model_and_dead_endpoint(server: ModelServer) -> None:
    with pytest.raises(EndpointError, match="not served"):
        await complete_text(Endpoint(server.base_url, "no-such-model", max_retries=0), msgs("x"))
    with pytest.raises(EndpointUnreachable, match="vllm serve .*llama-server -m MODEL.gguf --jinja"):
        await complete_text(Endpoint("http://127.0.0.1:9/v1", "m", max_retries=0, timeout=2), msgs("x"))


async def test_list_models_reports_context_length(server: ModelServer) -> None:
    models = await list_models(server.base_url, "EMPTY")
    assert models[0].id == server.model and models[0].max_model_len == 131072
    with pytest.raises(EndpointUnreachable, match="DEEPRESEARCH_BASE_URL"):
        await list_models("http://127.0.0.1:9/v1", "EMPTY")


@pytest.mark.parametrize("body", ['{"error": {"message": "provider overloaded"}}', "<html>oops</html>",
                                  '{"choices": null}', "[]", '{"choices": []}', '{"choices": [{"message": 5}]}',
                                  '{"choices": [{"message": {"role": "assistant", "content": 42}}]}'])
async def test_a_200_that_is_not_a_completion_is_a_clear_error(server: ModelServer, body: str) -> None:
    server.faults.junk = [body]
    with pytest.raises(ModelCallError, match="unusable response"):
        await complete_json(endpoint(server), msgs("x"), Verdict)


async def test_our_own_bugs_are_not_blamed_on_the_endpoint(server: ModelServer) -> None:
    """A TypeError raised by the client code (here a keyword no API knows) surfaces as itself."""
    from tools.model.llm import invoke

    with pytest.raises(TypeError):
        await invoke(endpoint(server), msgs("x"), no_such_keyword=object())
    assert server.calls() == []
