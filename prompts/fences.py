"""What every prompt shares: the date, the fences that keep page text data (never instructions), and the frames.

``fence`` and ``attribute`` are applied to every page-derived value before a prompt is formatted with it.
"""

from __future__ import annotations

import datetime as dt
import html
import re

# every section tag our prompts use; text from pages must not be able to open or close one
_SECTION_TAG = re.compile(  # (\s*/)? then \s*: each space is tried once per '<' (no quadratic backtracking)
    r"<(\s*/)?\s*(document|question|goal|report|findings|sources|last_round|dead_ends|file|tools?|tool_call"
    r"|tool_response|answer|think|backtrack|trajectory|summary)\b", re.I
)


def fence(text: str) -> str:
    """Neutralise tags in untrusted text that could open or close our prompt sections (``<`` becomes ``&lt;``)."""
    return _SECTION_TAG.sub(lambda m: "&lt;" + ("/" if m.group(1) else "") + m.group(2), text)


_BREAKS = re.compile(r"[\r\n\t\v\f]+")


def attribute(text: str) -> str:
    """Text safe inside a double-quoted tag attribute (titles, URLs, paths): ``&<>"'`` escaped, one line.

    Nothing in it can close the attribute or the tag, so it cannot step out of the fence it labels.
    """
    return _BREAKS.sub(" ", html.escape(text, quote=True))


EMPTY = "(empty)"  # an empty report, as a prompt shows it
NONE = "(none)"  # an empty list (sources, dead ends, queries)
SOURCE_LINE = "[{n}] {title} — {url}"  # one numbered source in a <sources> listing

# prompt parts the planner and the report writer share
QUESTION_AND_REPORT = """<question>
{question}
</question>

<report>
{report}
</report>"""
LAST_ROUND_AND_DEAD_ENDS = """<last_round>
{last_round}
</last_round>

<dead_ends>
{dead_ends}
</dead_ends>"""


def today() -> str:
    """The current date, as the model's system prompts carry it."""
    return dt.date.today().isoformat()
