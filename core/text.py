"""Text keys shared across layers."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")
# C0 and C1 control characters and DEL: terminal escapes, bells, cursor moves (tab and line feed are text)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def squash(text: str) -> str:
    """Lower-case words joined by single spaces: texts that differ only in case, spacing or punctuation match.

    Two queries with the same key are the same query; a quote whose key is inside a page's key is on the page.
    """
    return " ".join(_WORD.findall(text.lower()))


def printable(text: str) -> str:
    """Text safe to show on a terminal: control characters (escape sequences among them) become spaces."""
    return _CONTROLS.sub(" ", text)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with a mark that says how long it was (unchanged if it fits).

    What a model or a backend hands over can be any length; what is stored or printed of it is bounded.
    """
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} chars)"
