"""What a run may start from: the question's rules, the context's URLs, and threads that hold a bad question.

The server refuses such runs before storing anything (tests/test_langgraph_dev.py); here, the same rules
as each graph's first step applies them, and the CLI's one line for threads an older version stored.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from core.errors import UserInputError
from core.settings import load_settings
from state.queries import input_problem, question_problem
from tests.cli_helpers import InProcess, cli_env
from tests.conftest import QUESTION, run_context

BAD_QUESTIONS = [
    (5, "the question must be a string, not a number"),
    (["a", "b"], "the question must be a string, not an array"),
    ({"text": "why?"}, "the question must be a string, not an object"),
    (None, "the input has no question"),
    (True, "the question must be a string, not a boolean"),
    ("", "the question is empty"),
    ("\u200b\u2060 \ufeff\n", "the question is empty"),
    ("why? " * 801, "the question has 4,005 characters, over the 4,000 allowed (max_question_chars)"),
]


@pytest.mark.parametrize(("question", "message"), BAD_QUESTIONS)
def test_what_a_question_may_be(question: Any, message: str) -> None:
    assert (question_problem(question, 4000) or "").startswith(message)
    assert input_problem({"question": question}, 4000) == question_problem(question, 4000)


@pytest.mark.parametrize(("value", "message"), [
    (7, 'the input must be an object such as {"question": "..."}, not a number'),
    ("why?", 'the input must be an object such as {"question": "..."}, not a string'),
    ({}, "the input has no question"),
    ({"messages": [{"role": "user", "content": "why?"}]}, "the input has no question"),
    ({"question": "why?", "x" * 1000: 1}, 'the input takes only a question (it also has "' + "x" * 40 + '")'),
])
def test_what_a_run_input_may_be(value: Any, message: str) -> None:
    assert (input_problem(value, 4000) or "").startswith(message)


def test_the_limit_is_the_runs() -> None:
    assert input_problem({"question": "why? " * 801}, 5000) is None
    assert input_problem({"question": "why?" * 10}, 20) == ("the question has 40 characters, over the 20 allowed "
                                                            "(max_question_chars)")


async def _stored_by_an_older_version(graph_id: str, thread_id: str, question: Any) -> None:
    """A thread whose input checkpoint holds ``question`` (as older versions stored API runs): its first step refuses
    it now, with the one line the CLI and the server show, and the thread stays as it was."""
    from deepresearch import runner

    inputs = {} if question is None else {"question": question}
    async with runner.saver_for(load_settings()) as saver:
        graph = runner.compile_graph(graph_id, saver)
        config: Any = {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": graph_id}}
        with pytest.raises(UserInputError) as refused:
            await graph.ainvoke(inputs, config, context=run_context(), durability="sync")
        assert str(refused.value) == question_problem(question, 4000)
        assert (await graph.aget_state(config)).values.get("question") == question


@pytest.mark.parametrize("graph_id", ["iterresearch", "react", "heavy"])
@pytest.mark.parametrize(("question", "message"), [(5, "the question must be a string, not a number"),
                                                   (None, "the input has no question"),
                                                   ("x" * 10_000, "the question has 10,000 characters")])
async def test_a_thread_holding_a_bad_question_gets_one_line(home: Path, run_cli: InProcess, graph_id: str,
                                                             question: Any, message: str) -> None:
    thread_id = f"01a25166-0000-7000-8000-00000000000{['iterresearch', 'react', 'heavy'].index(graph_id)}"
    await _stored_by_an_older_version(graph_id, thread_id, question)
    env = cli_env(home)
    for command, doing in (("resume", "resumed"), ("show", "shown"), ("resume", "resumed")):
        done = await asyncio.to_thread(run_cli, env, command, thread_id)
        assert done.returncode == 1, done.stdout
        assert done.stderr.startswith(f"deepresearch: error: thread {thread_id} cannot be {doing}: {message}")
        assert done.stderr.count("\n") == 1 and len(done.stderr) < 400 and not done.stdout
    listing = await asyncio.to_thread(run_cli, env, "threads")
    assert listing.returncode == 0 and thread_id in listing.stdout


async def test_a_resume_may_raise_the_limit_the_thread_was_refused_by(home: Path, run_cli: InProcess) -> None:
    thread_id = "01a25166-0000-7000-8000-0000000000aa"
    await _stored_by_an_older_version("iterresearch", thread_id, QUESTION + " " + "x" * 4000)
    done = await asyncio.to_thread(run_cli, cli_env(home), "resume", thread_id, "--set", "max_question_chars=5000")
    assert "cannot be resumed" not in done.stderr and "resuming thread" in done.stderr  # (no model here: exit 2)


@pytest.mark.parametrize(("value", "message"), [
    ("http://" + "a" * 100_000, "base_url: must be at most 2,048 characters (this one has 100,007)"),
    ("http://", "base_url: must be a valid URL (empty host)"),
    ("http:///v1", "base_url: must be a valid URL (empty host)"),
    ("http://localhost:99999/v1", "base_url: must be a valid URL (invalid port number)"),
    ("http://my host:8000/v1", "base_url: must not contain spaces or control characters"),
    ("localhost:8000/v1", "base_url: must start with http:// or https://"),
])
def test_a_bad_base_url_is_named_in_one_line(home: Path, run_cli: InProcess, value: str, message: str) -> None:
    done = run_cli(cli_env(home), "run", QUESTION, "--set", f"base_url={value}")
    assert done.returncode != 0
    assert done.stderr.startswith(f"deepresearch: error: {message}"), done.stderr[:300]
    assert done.stderr.count("\n") == 1 and len(done.stderr) < 400
    environment = run_cli(cli_env(home, value), "threads")
    assert environment.returncode == 1 and environment.stderr.startswith("deepresearch: error: DEEPRESEARCH_BASE_URL ")
    assert environment.stderr.count("\n") == 1 and len(environment.stderr) < 400


def test_a_good_base_url_is_kept_as_given() -> None:
    for url in ("http://localhost:8000/v1", "https://api.example.com/v1", "http://[::1]:8000/v1",
                "https://user:pw@host.example/v1?x=1"):
        assert run_context(base_url=url + "/").base_url == url
