"""The short answer as the report's one ``**Answer:**`` line shows it, whatever label the model put on it.

Models often write the label themselves (``**Answer:** 1921``, ``Final answer: 1921``, ``答案：1921``), in
bold or in quotes, sometimes twice; the report writes its own label, so theirs goes, in every mode.
"""

from __future__ import annotations

import re

from core.text import squash

# "answer" as models label it, in the languages they answer in (longest first: the regex tries them in order)
LABELS = sorted([
    "answer", "final answer", "short answer", "the answer", "最终答案", "最終答案", "答案", "回答", "答", "最終回答",
    "答え", "解答", "정답", "답변", "최종 답변", "답", "réponse", "réponse finale", "antwort", "endgültige antwort",
    "respuesta", "respuesta final", "resposta", "resposta final", "risposta", "risposta finale", "ответ",
    "окончательный ответ",
], key=len, reverse=True)
_WORD = "|".join(re.escape(label).replace(r"\ ", r"[ \t]+") for label in LABELS)
_BOLD = r"(?:\*\*|__)"
# a label at the start: "Answer:", "**Answer:**", "**Answer**:", "## Final answer" or "**答案**" on a line of its own
_LABEL = re.compile(rf"^\s*(?:#{{1,6}}[ \t]*)?(?P<b>{_BOLD})?(?:{_WORD})[ \t]*(?(b){_BOLD}?)[ \t]*"
                    rf"(?:[:：](?(b)[ \t]*{_BOLD}?)|(?=[ \t]*\n))", re.I)
_BOLDED = re.compile(r"^(\*\*|__)((?:(?!\1).)+)\1$", re.S)
_QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’", "「": "」", "『": "』", "«": "»", "„": "“"}


def strip_answer_label(text: str) -> str:
    """Text without the answer labels it opens with (however many), stripped."""
    text = text.strip()
    while (stripped := _LABEL.sub("", text, count=1).strip()) != text:
        text = stripped
    return text


def _unwrapped(text: str) -> str:
    """Text without bold or a pair of quotes around all of it."""
    bolded = _BOLDED.match(text)
    if bolded:
        return bolded.group(2).strip()
    close = _QUOTES.get(text[:1])
    if close and len(text) > 1 and text.endswith(close) and text[0] not in text[1:-1] and close not in text[1:-1]:
        return text[1:-1].strip()
    return text


def short_answer(text: str) -> str:
    """The answer line's text: labels, bold around it, surrounding quotes and outer whitespace removed."""
    previous = None
    text = text.strip()
    while text != previous:
        previous, text = text, strip_answer_label(_unwrapped(text))
    return text


def answer_and_body(answer: str, body: str) -> tuple[str, str]:
    """The short answer, and the body without an answer line of its own at the top.

    A body that opens with the same answer loses that line; one that opens with a labelled answer of its
    own keeps the sentence without the label (and gives the short answer when there was none).
    """
    short = short_answer(answer)
    opened = strip_answer_label(body)
    if opened == body.strip():
        return short, body
    line, _, rest = opened.partition("\n")
    repeated = short_answer(line)
    if not short or squash(repeated) == squash(short):
        return short or repeated, rest.strip()
    return short, opened
