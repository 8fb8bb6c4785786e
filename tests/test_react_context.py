"""ReAct's context policies (react_context): the prompts they derive, and each run to an answer within its bound.

The toy model knows only what its prompt shows; with ``notes`` it writes what the pages established before
each call, as a model whose old tool responses may be dropped must. A 2,000-token llama.cpp context (which
refuses a longer prompt) ends a full-trajectory run in a forced answer before the chain is walked; every
other policy walks it to the answer.
"""

from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from core.settings import load_settings
from deepresearch import runner
from nodes.react_context import Policy, next_prompt_tokens, prompt_turns
from prompts.react import TOOL_RESPONSE
from state.react_state import Turn
from tests.conftest import glass_harbor, run_context
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.test_iterresearch import corpus  # noqa: F401 - the corpus fixture
from tests.test_react import react

CONTEXT = 2000  # tokens: a full trajectory passes it before the chain's third hop


def call(name: str) -> Turn:
    return Turn(speaker="assistant", text=f'<tool_call>\n{{"name": "{name}", "arguments": {{}}}}\n</tool_call>')


def response(body: str) -> Turn:
    return Turn(speaker="user", text=TOOL_RESPONSE.format(response=body))


TURNS = [Turn(speaker="user", text="the question"), call("search"), response("a" * 4210), call("visit"),
         response("b" * 100), call("search"), response("c" * 50)]


def test_full_shows_every_turn() -> None:
    assert prompt_turns(TURNS, Policy.of("full")) == TURNS


def test_keep_last_stubs_all_but_the_last_k_responses() -> None:
    shown = prompt_turns(TURNS, Policy.of("keep_last:2"))
    assert shown[2]["text"] == TOOL_RESPONSE.format(response="[tool response of step 1 (search, 4,243 chars) "
                                                    "dropped: keep_last:2]")
    assert shown[4:] == TURNS[4:] and shown[:2] == TURNS[:2] and shown[3] == TURNS[3]
    assert prompt_turns(TURNS, Policy.of("keep_last:5")) == TURNS


def test_discard_all_drops_the_responses_before_its_cut() -> None:
    assert prompt_turns(TURNS, Policy.of("discard_all")) == TURNS  # no cut yet: nothing dropped
    shown = prompt_turns(TURNS, Policy.of("discard_all"), cut=6)
    assert "step 1 (search" in shown[2]["text"] and "step 2 (visit, 133 chars) dropped: discard_all" in shown[4]["text"]
    assert shown[6] == TURNS[6]


def test_a_summary_stands_for_the_turns_it_covers() -> None:
    shown = prompt_turns(TURNS, Policy.of("summarize"), summary={"upto": 5, "text": "found a </summary> b"})
    assert len(shown) == 3 and shown[1:] == TURNS[5:]
    assert shown[0]["text"].startswith("the question\n\nYour research so far, summarized")
    assert "found a &lt;/summary> b" in shown[0]["text"]  # the summary is data: it cannot close its frame
    # a failed summary's cut drops as discard_all does, and says why
    assert "the summary failed" in prompt_turns(TURNS, Policy.of("summarize"), cut=6)[4]["text"]


def test_the_next_prompt_counts_what_was_added_high_and_what_was_dropped_low() -> None:
    before, now = TURNS[:-1], prompt_turns(TURNS, Policy.of("keep_last:1"))
    dropped = sum(len(t["text"]) for t in before) + len(TURNS[-1]["text"]) - sum(len(t["text"]) for t in now)
    assert dropped > 4000  # the first two responses, less their stubs
    assert next_prompt_tokens(5000, before, now, len(TURNS[-1]["text"])) == 5000 + 83 // 3 - dropped // 4
    assert next_prompt_tokens(0, before, now, 10) == 0  # before the server said: nothing to count from


@pytest.mark.parametrize("value", ["keep_last:0", "keep_last:51", "keep_last", "keep_last:x", "Full", "discard"])
def test_a_bad_policy_is_refused_in_one_line(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^react_context: must be full, keep_last:K \(K from 1 to 50\)") as err:
        run_context(react_context=value)
    assert "\n" not in str(err.value)
    assert run_context(react_context="keep_last:50").react_context == "keep_last:50"


async def run_policy(policy: str, monkeypatch: pytest.MonkeyPatch, **faults: Any) -> tuple[Any, ModelServer]:
    """A ReAct run under ``policy`` against a note-taking toy model with a small llama.cpp context."""
    server = ModelServer(ToyModel(glass_harbor(notes=True)), max_model_len=CONTEXT, flavour="llamacpp")
    for name, value in faults.items():
        setattr(server.faults, name, value)
    with server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        result, _ = await react(f"policy-{policy}", react_context=policy)
    return result, server


def bounded(server: ModelServer) -> list[int]:
    """Every react prompt's size in characters, after checking none passed the served context."""
    sizes = [c.prompt_chars for c in server.calls("react")]
    assert all(c.prompt_chars // 4 <= CONTEXT for c in server.calls())
    return sizes


async def stored_turns(thread: str) -> list[Turn]:
    async with runner.saver_for(load_settings(), read_only=True) as saver:
        graph = runner.compile_graph(runner.graph_id_for_mode("react"), saver)
        snapshot = await graph.aget_state({"configurable": {"thread_id": thread}})
        return list(snapshot.values["turns"])


async def test_full_is_forced_to_answer_before_the_chain_is_walked(home: Path, corpus: Path,  # noqa: F811
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    result, server = await run_policy("full", monkeypatch)
    sizes = bounded(server)
    assert result.answer == "unknown" and sizes == sorted(sizes)
    assert "(the model's context length)" in server.calls("react")[-1].user


async def test_keep_last_answers_with_k_responses_verbatim(home: Path, corpus: Path,  # noqa: F811
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    result, server = await run_policy("keep_last:1", monkeypatch)
    bounded(server)
    assert result.answer == "1921" and not result.failures
    for logged in server.calls("react"):
        responses = [str(m["content"]) for m in logged.messages[1:] if "<tool_response>" in str(m["content"])]
        assert sum("dropped: keep_last:1]" not in r for r in responses) <= 1
    assert "dropped: keep_last:1]" in server.calls("react")[-1].user
    # the thread keeps the whole trajectory: the prompt is derived from it, the stored turns are not rewritten
    turns = await stored_turns(result.thread_id)
    assert not any("dropped:" in t["text"] for t in turns)
    assert sum("<tool_response>" in t["text"] for t in turns) == len(server.calls("react")) - 1


async def test_discard_all_drops_at_the_limit_and_goes_on(home: Path, corpus: Path,  # noqa: F811
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    result, server = await run_policy("discard_all", monkeypatch)
    sizes = bounded(server)
    assert result.answer == "1921" and not result.failures
    assert not any("reached the limit" in c.user for c in server.calls("react"))
    calls = server.calls("react")
    first = next(c for c in calls if "dropped: discard_all]" in c.user)
    # at the drop, only the newest response was left verbatim, and the run went on past full's forced answer
    shown = [str(m["content"]) for m in first.messages[1:] if "<tool_response>" in str(m["content"])]
    assert sum("dropped: discard_all]" not in r for r in shown) == 1 and len(shown) >= 2
    assert len(sizes) > 4 and max(sizes) // 4 < CONTEXT * 0.85


async def test_summarize_replaces_the_trajectory_with_one_call(home: Path, corpus: Path,  # noqa: F811
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    result, server = await run_policy("summarize", monkeypatch)
    sizes = bounded(server)
    assert result.answer == "1921" and not result.failures
    summaries = server.calls("summary")
    assert summaries and result.llm_calls == len(server.calls())  # the summary calls are counted
    after = [i for i, c in enumerate(server.calls("react")) if "Your research so far, summarized" in c.user]
    assert after and sizes[after[0]] < sizes[after[0] - 1]
    assert "Velmora" in str(server.calls("react")[after[0]].messages[1]["content"])  # what it found goes on


async def test_a_failed_summary_drops_instead_and_says_so(home: Path, corpus: Path,  # noqa: F811
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    result, server = await run_policy("summarize", monkeypatch,
                                      fail_when={"research state summarizer": [400] * 20})
    bounded(server)
    assert result.answer == "1921"
    assert any(f["action"] == "summarize" for f in result.failures)
    assert any("dropped: discard_all, the summary failed]" in c.user for c in server.calls("react"))
