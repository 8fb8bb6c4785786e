"""Text keys shared across layers."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")


def squash(text: str) -> str:
    """Lower-case words joined by single spaces: texts that differ only in case, spacing or punctuation match.

    Two queries with the same key are the same query; a quote whose key is inside a page's key is on the page.
    """
    return " ".join(_WORD.findall(text.lower()))
