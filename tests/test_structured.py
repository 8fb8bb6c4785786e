import pytest
from pydantic import BaseModel

from tools.structured import ParseError, find_json, parse_reply, strip_think


class Verdict(BaseModel):
    answered: bool
    answer: str = ""


def test_strip_think_removes_blocks_and_unclosed_prefix() -> None:
    assert strip_think("<think>hmm {\"a\": 1}</think>final") == "final"
    assert strip_think("reasoning without opening tag</think>\n{}") == "{}"
    assert strip_think("text <think>never closed") == "text"


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
