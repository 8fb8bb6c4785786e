import json

import pytest
from pydantic import BaseModel

from tools.model.structured import ParseError, find_json, parse_reply, strip_think


class Verdict(BaseModel):
    answered: bool
    answer: str = ""


def test_strip_think_removes_blocks_and_unclosed_prefix() -> None:
    assert strip_think("<think>hmm {\"a\": 1}</think>final") == "final"
    assert strip_think("reasoning without opening tag</think>\n{}") == "{}"
    assert strip_think("<think>never closed") == ""
    assert strip_think("text mentioning <think> later") == "text mentioning <think> later"


@pytest.mark.parametrize(
    "reply",
    [
        '{"answered": true, "answer": "1921"}',
        '<think>maybe {"answered": false}</think>{"answered": true, "answer": "1921"}',
        'Sure! Here it is:\n```json\n{"answered": true, "answer": "1921"}\n```\nAnything else?',
        'Result: {"answered": true, "answer": "1921",}',
        'noise {not json} then {"answered": true, "answer": "1921"}',
    ],
)
def test_parse_reply_finds_the_object(reply: str) -> None:
    assert parse_reply(reply, Verdict) == Verdict(answered=True, answer="1921")


def test_braces_inside_strings_do_not_break_the_scan() -> None:
    assert find_json('{"answer": "use {x} and }", "answered": true}')["answer"] == "use {x} and }"


def test_errors_say_what_is_wrong() -> None:
    with pytest.raises(ParseError, match="no valid JSON"):
        parse_reply("I could not decide.", Verdict)
    with pytest.raises(ParseError, match="answered"):
        parse_reply('{"answer": "x"}', Verdict)


def test_the_answer_wins_over_an_echoed_template() -> None:
    reply = 'Format: {"answered": true, "answer": "..."} My answer: {"answered": true, "answer": "1921"}'
    assert parse_reply(reply, Verdict).answer == "1921"
    with pytest.raises(ParseError, match="placeholders"):
        parse_reply('{"answered": true, "answer": "..."}', Verdict)


def test_think_handling_keeps_json_that_mentions_the_tags() -> None:
    reply = '<think>plan</think>{"answered": true, "answer": "use </think> tags"}'
    assert parse_reply(reply, Verdict).answer == "use </think> tags"
    assert strip_think("<think>cut off mid-thought {\"answered\": true") == ""


def test_pathological_nesting_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_reply('{"a":' * 3000 + "1" + "}" * 3000, Verdict)


def test_a_not_relevant_reading_may_leave_the_templates_placeholders() -> None:
    """{"relevant": false, "evidence": "..."} says "nothing here"; the template copied whole says nothing."""
    from nodes.read import Extraction

    reading = parse_reply('{"relevant": false, "evidence": "...", "quote": "..."}', Extraction)
    assert reading == Extraction(relevant=False, evidence="", quote="")
    with pytest.raises(ParseError, match="placeholders"):
        parse_reply('{"relevant": true, "evidence": "...", "quote": "..."}', Extraction)


def test_reply_schemas_bound_their_query_lists() -> None:
    """An enforced schema ends a runaway list ("1", "2", ... "155"); a server that does not enforce it is cut."""
    from nodes.plan import Plan
    from nodes.synthesize import Synthesis
    from state.context import MAX_QUERIES_PER_ROUND

    assert Plan.model_json_schema()["properties"]["queries"]["maxItems"] == MAX_QUERIES_PER_ROUND
    assert Synthesis.model_json_schema()["properties"]["next_queries"]["maxItems"] == MAX_QUERIES_PER_ROUND
    runaway = json.dumps({"goal": "g", "queries": [str(i) for i in range(155)]})
    plan = parse_reply(runaway, Plan)
    assert plan.queries == [str(i) for i in range(MAX_QUERIES_PER_ROUND)]


def test_no_prompt_shows_a_json_example_to_copy() -> None:
    """A model under a schema copied the prompt's example verbatim: the prompts name the keys instead."""
    from prompts import heavy, iterresearch

    for prompt in (iterresearch.READER_SYSTEM, iterresearch.PLANNER_SYSTEM, iterresearch.REPORT_SYSTEM, heavy.SYSTEM):
        assert '"..."' not in prompt and "Reply with one JSON object with the keys" in prompt
