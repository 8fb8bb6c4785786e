"""What the software does with a real server's real replies: llama.cpp's server and a 270M model, every mode.

A model this small cannot research; these tests hold the software to its word with real replies: an answer or
a one-line reason, never a traceback; calls and tokens counted; every run within its budgets; an answer given
only with a cited source; the model's failures told as the model's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from core.errors import ModelCallError, StructuredOutputError
from state.model_failures import model_failures
from tests.conftest import QUESTION
from tests.real_model.conftest import ALIAS, CONTEXT, Real
from tools.model.endpoint import list_models
from tools.model.llm import Endpoint
from tools.model.llm_json import complete_json


def small(real: Real) -> tuple[str, ...]:
    """Small budgets: llama-cpp-python serves one request at a time (its runs' calls queue), so its replies are
    held to fewer tokens."""
    tokens = 128 if real.implementation == "llama-cpp-python" else 256
    return ("--set", f"max_output_tokens={tokens}", "--set", "pages_per_round=2")

pytestmark = pytest.mark.real_model
MODEL_WORDS = ("unusable", "ran on to its output budget", "cites none", "repeats the template")


def finished(done: Any, max_calls: int) -> dict[str, Any]:
    """The run's --json object, after checking what every real-model run must hold to."""
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    data: dict[str, Any] = json.loads(done.stdout)
    assert 1 <= data["llm_calls"] <= max_calls and data["tokens"] > 0
    if data["answer"] != "not determined":  # an answer stands on a cited source this run read
        assert data["sources"], data["report"]
    assert "<|im_start|>" not in data["report"] and "<start_of_turn>" not in data["report"]
    return data


def classified_truthfully(real: Real, thread: str, stderr: str) -> list[dict[str, Any]]:
    """Every failure of the thread that is an unusable reply is marked the model's; none passes for a passing one."""
    shown = real.cli("show", thread, "--json")
    assert shown.returncode == 0, shown.stderr
    failures: list[dict[str, Any]] = json.loads(shown.stdout)["failures"]
    for failure in failures:
        if any(word in failure["error"] for word in MODEL_WORDS):
            assert failure.get("model") is True, failure
    passing = [f for f in failures if f["transient"] and not f.get("model")]
    if not passing:
        assert "failed for passing reasons" not in stderr
    return failures


# what each server really does, as doctor's probe finds it
CAPABILITIES = {
    # llama.cpp enforces a schema; Gemma 3's template has no tools, so neither a named nor a "required"
    # tool_choice forces a call; the context is in /props
    "llama.cpp": ("capabilities json_schema enforced; json_object yes; tools not forced (named: ignored, required: "
                  f"ignored); reasoning field no; context {CONTEXT:,} (/props)", "auto -> json_schema"),
    # llama-cpp-python refuses json_schema (HTTP 500, "Input should be 'text' or 'json_object'"), forces a named
    # call with a grammar, says no context, and reads only max_tokens
    "llama-cpp-python": ("capabilities json_schema refused; json_object yes; tools forced (named: yes, required: "
                         "ignored); reasoning field no; context not said; output limit sent as max_tokens "
                         "(max_completion_tokens is ignored)", "auto -> tool_calling"),
}


def test_doctor_probes_what_the_server_does(real: Real) -> None:
    done = real.cli("doctor", DEEPRESEARCH_STRUCTURED_OUTPUT="auto")
    assert done.returncode == 0, done.stdout + done.stderr
    context = f", max context {CONTEXT:,} tokens" if real.implementation == "llama.cpp" else ""
    assert f"model       {ALIAS}: served{context}\n" in done.stdout
    found, chosen = CAPABILITIES[real.implementation]
    assert found in done.stdout and f"structured  {chosen}" in done.stdout


def test_iter_run_ends_within_its_budgets(real: Real) -> None:
    done = real.cli("run", QUESTION, "--thread", "iter", "--json", "--max-rounds", "2", *small(real),
                    "--set", "max_llm_calls=14")
    data = finished(done, 14)
    assert data["rounds"] <= 2
    failures = classified_truthfully(real, "iter", done.stderr)
    assert data["model_failures"] == model_failures(failures)


def test_react_run_ends_within_its_budgets(real: Real) -> None:
    done = real.cli("run", QUESTION, "--mode", "react", "--thread", "react", "--json", *small(real),
                    "--set", "react_max_calls=6")
    finished(done, 6)
    classified_truthfully(real, "react", done.stderr)


ONE_SLOT = "llama-cpp-python serves one request at a time: Heavy's parallel agents and eval's rollouts run on llama.cpp"


def test_heavy_run_ends_within_its_budgets(real: Real) -> None:
    if real.implementation == "llama-cpp-python":
        pytest.skip(ONE_SLOT)
    done = real.cli("run", QUESTION, "--mode", "heavy", "--agents", "2", "--thread", "heavy", "--json",
                    "--max-rounds", "1", *small(real), "--set", "max_llm_calls=16")
    finished(done, 16)
    assert re.search(r"agent 1 done .* calls \d+", done.stderr) and re.search(r"agent 2 done", done.stderr)


def test_eval_of_three_offline_items(real: Real, tmp_path: Path) -> None:
    if real.implementation == "llama-cpp-python":
        pytest.skip(ONE_SLOT)
    questions = Path(__file__).resolve().parents[2] / "benchmarks" / "offline" / "questions.jsonl"
    done = real.cli("eval", str(questions), "--limit", "3", "--judge", "exact", "--concurrency", "1",
                    "--out", str(tmp_path / "eval"), "--set", "max_rounds=1", *small(real), timeout=900)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "eval" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    summary = (tmp_path / "eval" / "summary.md").read_text()
    assert "100.0%" not in summary or "none cited" not in summary


class Verdict(BaseModel):
    """A yes/no verdict."""

    correct: bool
    reason: str


async def test_tool_calling_without_tools_in_the_chat_template_is_the_models_failure(real: Real) -> None:
    """Gemma 3's template has no tools (/props: supports_tools false): llama.cpp ignores a named tool_choice, and
    "required" too, and the model answers in text. Each forced call fails as an unusable reply (the model's
    failure, with its usage counted), never as an endpoint fault; the second is asked with "required"."""
    from langchain_core.messages import HumanMessage

    if real.implementation != "llama.cpp":
        pytest.skip("llama.cpp's tool_choice handling (llama-cpp-python forces a named call with a grammar)")

    endpoint = Endpoint(real.base_url, ALIAS, structured_output="tool_calling", max_output_tokens=64, timeout=120,
                        max_retries=1)
    ask = [HumanMessage("Is 7 a prime number? Answer with the Verdict tool.")]
    for _ in range(2):
        try:
            await complete_json(endpoint, ask, Verdict, repair=False)
        except StructuredOutputError as exc:
            assert str(exc).startswith("Verdict reply unusable") and exc.calls == 1 and exc.tokens > 0
    served = httpx.get(real.base_url.removesuffix("/v1") + "/props", timeout=10).json()
    assert served["chat_template_caps"]["supports_tools"] is False


async def test_the_served_context_and_a_prompt_over_it(real: Real) -> None:
    served = await list_models(real.base_url, "EMPTY")
    said = CONTEXT if real.implementation == "llama.cpp" else None  # llama-cpp-python's /v1/models says none
    assert [(m.id, m.max_model_len) for m in served] == [(ALIAS, said)]
    from langchain_core.messages import HumanMessage

    limit = "max_tokens" if real.implementation == "llama-cpp-python" else "max_completion_tokens"
    endpoint = Endpoint(real.base_url, ALIAS, max_output_tokens=16, timeout=120, max_retries=0, output_limit=limit)
    try:
        await complete_json(endpoint, [HumanMessage("word " * (CONTEXT + 2000))], Verdict, repair=False)
    except ModelCallError as exc:
        assert "prompt too long for the context the server allows" in str(exc)
    else:
        raise AssertionError("a prompt over the served context was answered")
