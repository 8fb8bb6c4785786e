"""Capabilities probed, not assumed: what each kind of server answers, the method chosen, remembered and forced."""

import json
import logging
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from core.errors import EndpointUnreachable
from core.settings import load_settings
from deepresearch.doctor import doctor_report
from tests.conftest import run_context
from tests.fakes.model_server import ModelServer
from tools.model.capabilities import Capabilities, probe
from tools.model.capability_store import Asking, recall, structured_method
from tools.model.llm import Endpoint
from tools.model.llm_json import complete_json
from tools.toolbox import close_toolboxes, toolbox


class Verdict(BaseModel):
    answered: bool
    answer: str


def judge(messages: list[dict]) -> tuple[str, object]:
    return "judge", {"answered": True, "answer": "1921"}


async def test_a_vllm_server_enforces_the_schema_and_forces_named_calls() -> None:
    with ModelServer(judge) as server:
        found = await probe(server.base_url, server.model, "EMPTY")
        sent = server.calls("probe")
    assert found == Capabilities("enforced", "yes", "yes", "yes", "", 131072, "/v1/models")
    assert found.choose() == "json_schema"
    assert found.describe() == ("json_schema enforced; json_object yes; tools forced (named: yes, required: yes); "
                                "reasoning field no; context 131,072 (/v1/models)")
    assert server.calls() == []  # a probe is not a call a run counts
    # four small chat requests: a schema the prompt does not ask for, json_object, a named and a required tool call
    assert [(c.method, c.tool_choice) for c in sent] == [
        ("json_schema", None), ("text", None),
        ("tool_calling", {"type": "function", "function": {"name": "record_probe"}}), ("tool_calling", "required")]
    assert all(c.user.startswith("Say hello") for c in sent)


async def test_llama_cpp_ignores_a_named_choice_and_says_its_context_in_props() -> None:
    with ModelServer(judge, flavour="llamacpp", max_model_len=16384) as server:
        found = await probe(server.base_url, server.model, "EMPTY")
        paths = [path for method, path, _ in server.requests if method == "GET"]
    assert (found.named_tool, found.required_tool) == ("ignored", "yes")
    assert (found.context, found.context_from) == (16384, "/props")
    assert "/props" in paths  # at the server's root, not under /v1
    assert "tools forced (named: ignored, required: yes)" in found.describe()
    assert found.describe().endswith("context 16,384 (/props)")


async def test_a_reasoning_field_is_seen() -> None:
    with ModelServer(judge) as server:
        server.faults.reasoning_field = True
        found = await probe(server.base_url, server.model, "EMPTY")
    assert found.reasoning_field == "reasoning_content"
    assert "reasoning field yes (reasoning_content)" in found.describe()


@pytest.mark.parametrize("status", [400, 422, 500])
async def test_a_refused_response_format_is_not_supported_not_unreachable(status: int) -> None:
    with ModelServer(judge) as server:
        server.faults.reject_json_schema = True
        server.faults.json_schema_refusal = (status, "response_format json_schema is not supported")
        found = await probe(server.base_url, server.model, "EMPTY")
    assert (found.json_schema, found.json_object) == ("refused", "yes")
    assert found.choose() == "tool_calling"


async def test_a_schema_accepted_but_not_enforced_is_not_chosen() -> None:
    with ModelServer(judge) as server:
        server.faults.ignore_json_schema = True
        found = await probe(server.base_url, server.model, "EMPTY")
    assert found.json_schema == "accepted" and found.choose() == "tool_calling"
    assert found.describe().startswith("json_schema accepted, NOT enforced;")


async def test_refused_tools_then_both_refused() -> None:
    with ModelServer(judge) as server:
        server.faults.reject_tools = True
        tools_refused = await probe(server.base_url, server.model, "EMPTY")
        server.faults.reject_json_schema = True
        both_refused = await probe(server.base_url, server.model, "EMPTY")
    assert (tools_refused.named_tool, tools_refused.required_tool) == ("refused", "refused")
    assert "tools refused" in tools_refused.describe() and tools_refused.choose() == "json_schema"
    assert both_refused.choose() == "text"


async def test_a_kept_alive_connection_the_server_closed_is_asked_again_on_a_new_one() -> None:
    # found by the real-model tests: llama.cpp's server closed the connection after the streamed output-limit probe
    # and doctor's next probe request failed with RemoteProtocolError ("the capability probe failed")
    with ModelServer(judge) as server:
        server.faults.close_reused = True
        found = await probe(server.base_url, server.model, "EMPTY")
        posted = [path for method, path, _ in server.requests if method == "POST"]
    assert found == Capabilities("enforced", "yes", "yes", "yes", "", 131072, "/v1/models")
    assert len(posted) > 5  # five probe requests, and the ones dropped on a reused connection asked again


async def test_nothing_listening_is_unreachable() -> None:
    with pytest.raises(EndpointUnreachable, match="cannot reach the model endpoint at http://127.0.0.1:9/v1"):
        await probe("http://127.0.0.1:9/v1", "m", "EMPTY", timeout=2)


async def test_auto_probes_once_and_later_runs_reuse_what_was_remembered(home: Path,
                                                                        model_server: ModelServer) -> None:
    model_server.faults.reject_json_schema = True  # so the choice is not the old default
    box = await toolbox(run_context())
    await close_toolboxes()
    assert box.endpoint.structured_output == box.extraction.structured_output == "tool_calling"
    posts = [path for method, path, _ in model_server.requests if method == "POST"]
    assert len(posts) == 5  # the probe's (the refused one included: refusals are not in the call log)
    saved = json.loads((home / "capabilities.json").read_text())["endpoints"]
    assert [(r["base_url"], r["model"], r["chosen"], r["found"]["json_schema"]) for r in saved.values()] == [
        (model_server.base_url, model_server.model, "tool_calling", "refused")]
    again = await toolbox(run_context())
    await close_toolboxes()
    assert again.endpoint.structured_output == "tool_calling"
    assert len([1 for method, _, _ in model_server.requests if method == "POST"]) == 5  # no probe the second time


async def test_forcing_a_method_skips_the_method_probe(home: Path, model_server: ModelServer) -> None:
    box = await toolbox(run_context(structured_output="text"))
    await close_toolboxes()
    assert box.endpoint.structured_output == "text" and box.endpoint.output_limit == "max_completion_tokens"
    # one small request asks only how the server bounds a reply; nothing is remembered for a forced method
    assert len([1 for method, _, _ in model_server.requests if method == "POST"]) == 1
    assert model_server.calls("probe") == [] and not (home / "capabilities.json").exists()


async def test_tool_calling_refused_in_a_run_switches_once_and_is_remembered(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "capabilities.json"
    with ModelServer(judge) as server:
        server.faults.reject_tools = True
        endpoint = Endpoint(server.base_url, server.model, structured_output="tool_calling", max_retries=0,
                            timeout=5, capabilities_file=path)
        messages = [SystemMessage("You judge."), HumanMessage("the answer is 1921")]
        with caplog.at_level(logging.WARNING):
            for _ in range(2):
                verdict, usage = await complete_json(endpoint, messages, Verdict)
                assert verdict.answer == "1921" and usage.calls == 1
        assert [c.method for c in server.calls()] == ["json_schema", "json_schema"]
        switched = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
        assert switched == ["endpoint rejected a forced tool call (Error code: 400 - tools and tool_choice are not "
                            "supported by this server); using json_schema from now on"]
        remembered = recall(path, server.base_url, server.model)
        assert remembered is not None and remembered.chosen == "json_schema"
        assert remembered.note.startswith("tool_calling refused in a run")
        # the next run starts with the method that worked, without a probe
        assert await structured_method("auto", server.base_url, server.model, "EMPTY", path) == Asking("json_schema")
        assert server.calls("probe") == []


async def test_both_refused_in_a_run_fall_to_text(tmp_path: Path) -> None:
    path = tmp_path / "capabilities.json"
    with ModelServer(judge) as server:
        server.faults.reject_tools = server.faults.reject_json_schema = True
        endpoint = Endpoint(server.base_url, server.model, structured_output="tool_calling", max_retries=0,
                            timeout=5, capabilities_file=path)
        verdict, _ = await complete_json(endpoint, [SystemMessage("You judge."), HumanMessage("x")], Verdict)
        assert verdict.answer == "1921" and [c.method for c in server.calls()] == ["text"]
    remembered = recall(path, endpoint.base_url, endpoint.model)
    assert remembered is not None and remembered.chosen == "text"


async def test_doctor_probes_prints_and_saves_nothing(home: Path, model_server: ModelServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = await doctor_report(load_settings())
    shown = {line[:12].strip(): line[12:].strip() for line in lines}
    assert code == 0
    assert shown["capabilities"] == ("json_schema enforced; json_object yes; tools forced (named: yes, required: "
                                     "yes); reasoning field no; context 131,072 (/v1/models)")
    file = home / "capabilities.json"
    assert shown["structured"] == (f"auto -> json_schema (probed now; the first run remembers it in {file}; force "
                                   "with DEEPRESEARCH_STRUCTURED_OUTPUT)")
    assert not file.exists()  # doctor only reads
    await toolbox(run_context())  # a run remembers
    await close_toolboxes()
    _, lines = await doctor_report(load_settings())
    day = json.loads(file.read_text())["endpoints"].popitem()[1]["at"][:10]
    assert (f"structured  auto -> json_schema (probed {day}, remembered in {file}; force with "
            "DEEPRESEARCH_STRUCTURED_OUTPUT)") in lines
    monkeypatch.setenv("DEEPRESEARCH_STRUCTURED_OUTPUT", "text")
    _, lines = await doctor_report(load_settings())
    assert "structured  text (forced by DEEPRESEARCH_STRUCTURED_OUTPUT; the probe chooses json_schema)" in lines


async def test_doctor_on_an_unreachable_endpoint_does_not_probe(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPRESEARCH_BASE_URL", "http://127.0.0.1:9/v1")
    code, lines = await doctor_report(load_settings())
    assert code == 2 and not any(line.startswith("capabilities") for line in lines)
    assert "structured  auto (not probed: the endpoint cannot be used; force with DEEPRESEARCH_STRUCTURED_OUTPUT)" \
        in lines


async def test_a_server_that_ignores_max_completion_tokens_is_sent_max_tokens_alone() -> None:
    """llama-cpp-python's server reads only max_tokens: every call there would generate to the context's end."""
    with ModelServer(judge) as server:
        server.faults.ignore_max_completion_tokens = True
        found = await probe(server.base_url, server.model, "EMPTY")
        assert found.output_limit == "max_tokens"
        assert found.describe().endswith("output limit sent as max_tokens (max_completion_tokens is ignored)")
        endpoint = Endpoint(server.base_url, server.model, max_output_tokens=300, output_limit="max_tokens")
        await complete_json(endpoint, [SystemMessage("You judge."), HumanMessage("x")], Verdict)
        assert [(c.limit_names, c.max_tokens) for c in server.calls()] == [(("max_tokens",), 300)]
    with ModelServer(judge) as server:  # a server that reads max_completion_tokens gets that name alone
        assert (await probe(server.base_url, server.model, "EMPTY")).output_limit == "max_completion_tokens"
        await complete_json(Endpoint(server.base_url, server.model, max_output_tokens=300),
                            [SystemMessage("You judge."), HumanMessage("x")], Verdict)
        assert [(c.limit_names, c.max_tokens) for c in server.calls()] == [(("max_completion_tokens",), 300)]


async def test_a_run_on_such_a_server_bounds_every_call(home: Path, model_server: ModelServer,
                                                        corpus_dir: Path) -> None:
    from tests.test_iterresearch import research
    from tools.corpus.store import Corpus

    home.mkdir(parents=True, exist_ok=True)
    Corpus(home / "corpus.db").ingest([corpus_dir])
    model_server.faults.ignore_max_completion_tokens = True
    result, _ = await research(structured_output="text")  # forced: the limit is still asked for
    assert result.answer == "1921"
    assert {c.limit_names for c in model_server.calls()} == {("max_tokens",)}
    assert all(c.max_tokens for c in model_server.calls())
