"""Evaluation items from the files public benchmarks ship: JSONL or a JSON list, their field names."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserInputError

QUESTION_KEYS = ("question", "problem", "Prompt", "prompt", "query", "Question")
ANSWER_KEYS = ("answer", "Answer", "gold", "final_answer", "ground_truth")


@dataclass(frozen=True)
class Item:
    """One question with its gold answer; ``key`` names it stably (its text), whatever its line."""

    key: str
    question: str
    answer: str


def _pick(record: dict[str, object], keys: tuple[str, ...]) -> str:
    return next((str(record[k]).strip() for k in keys if record.get(k) not in (None, "")), "")


def load_items(path: Path, limit: int | None = None) -> list[Item]:
    """Items of a JSONL file or a JSON list; a record without a question or an answer is one clear error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UserInputError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UserInputError(f"{path} is not UTF-8 text") from exc
    try:
        records = json.loads(text) if text.lstrip().startswith("[") else [
            json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{path} is neither JSONL nor a JSON list ({exc.msg} at line {exc.lineno})") from exc
    items = []
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise UserInputError(f"{path}: record {number} is not an object")
        question, answer = _pick(record, QUESTION_KEYS), _pick(record, ANSWER_KEYS)
        if not question or not answer:
            raise UserInputError(f"{path}: record {number} needs a question ({'/'.join(QUESTION_KEYS[:5])}) "
                                 f"and an answer ({'/'.join(ANSWER_KEYS[:3])})")
        key = hashlib.sha256(question.encode("utf-8")).hexdigest()[:16]
        items.append(Item(key, question, answer))
    if not items:
        raise UserInputError(f"{path} holds no questions")
    return items[:limit] if limit else items
