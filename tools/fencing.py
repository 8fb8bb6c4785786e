"""Page text is data, never instructions: neutralise anything in it that could pass for our prompt tags."""

from __future__ import annotations

import re

# every section tag our prompts use; text from pages must not be able to open or close one
_SECTION_TAG = re.compile(
    r"<\s*(/?)\s*(document|question|goal|report|findings|sources|last_round|dead_ends|file)\b", re.I
)


def fence(text: str) -> str:
    """Neutralise tags in untrusted text that could open or close our prompt sections (``<`` becomes ``&lt;``)."""
    return _SECTION_TAG.sub(r"&lt;\1\2", text)


def attribute(text: str) -> str:
    """Text safe inside a double-quoted tag attribute (titles, URLs)."""
    return fence(text).replace('"', "'").replace("\n", " ")
