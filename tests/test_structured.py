import pytest
from pydantic import BaseModel

from tools.structured import ParseError, find_json, parse_reply, strip_think


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
