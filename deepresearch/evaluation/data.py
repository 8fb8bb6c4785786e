"""Evaluation items from the files public benchmarks ship: JSONL or a JSON list, their field names.

Every record is checked as it is read, by the rules `run` applies to a question; a bad one is reported by
its line in the file and the field at fault, and the rest are kept. An item is named by its id field when
it has one, else by where it stands (its line in a JSONL file, its index in a JSON list): two records
with the same question are two items.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserInputError
from state.queries import question_problem

QUESTION_KEYS = ("question", "problem", "Prompt", "prompt", "query", "Question")
ANSWER_KEYS = ("answer", "Answer", "gold", "final_answer", "Final answer", "ground_truth")  # GAIA: Final answer
# the id fields of public files: HLE and xbench (id), HotpotQA and 2Wiki (_id), GAIA (task_id), BrowseComp-Plus
# (query_id), TriviaQA (question_id), Natural Questions (example_id)
ID_KEYS = ("id", "_id", "task_id", "qid", "query_id", "question_id", "example_id", "uid")
MAX_ID_CHARS = 200
_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's own whitespace


@dataclass(frozen=True)
class Item:
    """One question with its gold answer; ``key`` names it (``id:...``, ``line:N`` or ``index:N``) for good."""

    key: str
    question: str
    answer: str


@dataclass
class Loaded:
    """The usable items of a file, and one line for each record left out (where, which field, what is wrong)."""

    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    where: str  # "FILE line N" (and "(index I)" in a JSON list), for messages
    key: str  # the item's name when it has no id
    record: object = None
    problem: str = ""  # the row could not be read at all


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("nan", "NaN").replace("inf", "Infinity")
    kinds = {list: "a list", dict: "an object", int: "a number", float: "a number", str: "text"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _text_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: no database or file can hold it
        return "is not valid UTF-8 text"
    if not any(ch.isprintable() and not ch.isspace() for ch in text):
        return "is empty"
    return None


def _pick(record: dict[str, object], keys: tuple[str, ...]) -> tuple[str, object] | None:
    """The first of ``keys`` the record has (and not null): its name and value."""
    return next(((k, record[k]) for k in keys if record.get(k) is not None), None)


def _answer(name: str, value: object) -> str | tuple[str, str]:
    """The gold answer as text (a number as Python writes it: 1921, 3.5), or (field, what is wrong)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)
    if not isinstance(value, str):
        return name, f"must be text or a number, not {_kind(value)}"
    problem = _text_problem(value)
    return (name, f"the answer {problem}") if problem else value.strip()


def _identity(name: str, value: object) -> str | tuple[str, str]:
    """The item's key from its id field, or (field, what is wrong)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"id:{value}"
    if not isinstance(value, str):
        return name, f"must be text or a whole number, not {_kind(value)}"
    problem = _text_problem(value) or (f"has {len(value.strip()):,} characters, over {MAX_ID_CHARS}"
                                       if len(value.strip()) > MAX_ID_CHARS else None)
    return (name, f"the id {problem}") if problem else f"id:{value.strip()}"


def _item(row: _Row, max_question_chars: int, seen: dict[str, str]) -> Item | tuple[str, str]:
    """The row's item, or (field, what is wrong): the same rules as `run` for the question; ids are unique."""
    record = row.record
    if not isinstance(record, dict):
        return "", f"not a JSON object but {_kind(record)}"
    found = _pick(record, QUESTION_KEYS)
    if found is None:
        return "", f"needs a question ({'/'.join(QUESTION_KEYS[:5])})"
    name, question = found
    if not isinstance(question, str):
        return name, f"must be text, not {_kind(question)}"
    problem = question_problem(question.strip(), max_question_chars)
    if problem:
        return name, problem
    found = _pick(record, ANSWER_KEYS)
    if found is None:
        return "", f"needs an answer ({'/'.join(ANSWER_KEYS[:3])})"
    answer = _answer(*found)
    if isinstance(answer, tuple):
        return answer
    found = _pick(record, ID_KEYS)
    key = _identity(*found) if found else row.key
    if isinstance(key, tuple):
        return key
    if found and key in seen:
        return found[0], f"{key.removeprefix('id:')!r} is the id of {seen[key]} too"
    return Item(key, question.strip(), answer)


def _skip_space(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def _jsonl(path: Path, data: bytes) -> Iterator[_Row]:
    """One row per non-blank line, numbered as the file's lines are (blank ones counted)."""
    # split on \n only: U+2028 or U+0085 may stand raw inside a JSON string, and str.splitlines() cuts there
    for number, raw in enumerate(data.removeprefix(codecs.BOM_UTF8).split(b"\n"), 1):
        if not raw.strip():
            continue
        where, key = f"{path} line {number}", f"line:{number}"
        try:
            yield _Row(where, key, json.loads(raw.decode("utf-8")))
        except UnicodeDecodeError:
            yield _Row(where, key, problem="not UTF-8 text")
        except json.JSONDecodeError as exc:
            yield _Row(where, key, problem=f"not JSON ({exc.msg} at column {exc.colno})")
        except ValueError as exc:  # an integer of more than 4,300 digits
            yield _Row(where, key, problem=f"not usable JSON ({exc})")
        except RecursionError:
            yield _Row(where, key, problem="JSON nested too deeply")


def _json_list(path: Path, data: bytes) -> Iterator[_Row]:
    """One row per element, with the line it starts on; a list that cannot be read is one error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
        raise UserInputError(f"{path} is not UTF-8 text (line {bad_line})") from None
    decoder, pos, index = json.JSONDecoder(), _skip_space(text, text.index("[") + 1), 0
    line, counted = 1, 0  # the line of ``pos``, counted on from where the last element started
    try:
        ended = text.startswith("]", pos)  # an empty list
        while not ended:
            line, counted = line + text.count("\n", counted, pos), pos
            record, end = decoder.raw_decode(text, pos)
            yield _Row(f"{path} line {line} (index {index})", f"index:{index}", record)
            index, pos = index + 1, _skip_space(text, end)
            ended = text.startswith("]", pos)
            if not ended and not text.startswith(",", pos):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
            pos = pos if ended else _skip_space(text, pos + 1)
        if text[pos + 1:].strip(" \t\n\r"):
            raise json.JSONDecodeError("Extra data", text, pos + 1)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{path} is not a valid JSON list ({exc.msg} at line {exc.lineno}, "
                             f"column {exc.colno})") from None
    except ValueError as exc:
        raise UserInputError(f"{path}: not usable JSON at line {line} ({exc})") from None
    except RecursionError:
        raise UserInputError(f"{path}: JSON nested too deeply (line {line})") from None


def load_items(path: Path, limit: int | None = None, max_question_chars: int = 4000) -> Loaded:
    """The items of a JSONL file or a JSON list (the first ``limit`` records), and a line per bad record.

    A file that cannot be read, or holds no usable record, is one UserInputError.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserInputError(f"cannot read {path}: {exc.strerror}") from exc
    is_list = data.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\n\r").startswith(b"[")
    loaded, rows, unreadable = Loaded(), 0, 0
    seen: dict[str, str] = {}  # id key -> where it was first
    for row in (_json_list if is_list else _jsonl)(path, data):
        if limit is not None and rows == limit:
            break
        rows += 1
        unreadable += bool(row.problem)
        found = ("", row.problem) if row.problem else _item(row, max_question_chars, seen)
        if isinstance(found, Item):
            seen[found.key] = row.where.removeprefix(f"{path} ")
            loaded.items.append(found)
        else:
            name, problem = found
            loaded.problems.append(f"{row.where}{', ' + name if name else ''}: {problem}")
    if not rows:
        raise UserInputError(f"{path} holds no questions")
    if not loaded.items:
        first = loaded.problems[0].removeprefix(f"{path} ")
        extra = len(loaded.problems) - 1
        more = f"; {extra} more bad record{'s' * (extra > 1)}" if extra else ""
        raise UserInputError(f"{path} is neither JSONL nor a JSON list ({first}{more})" if unreadable == rows
                             else f"{path} holds no usable question ({first}{more})")
    return loaded
