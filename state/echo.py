"""Replies that are no report: a weak model echoes its prompt's own frame, or its chat template's tokens.

Seen with a 270M model: the final writer's reply was the prompt's `<question>`, `<report>` and `<sources>`
blocks over and over, with `<|im_end|>` between them. Such text is never shown as a report or an answer.
Page text reaches prompts fenced (`<` escaped), so a report drawn from pages never holds these tags itself.
"""

from __future__ import annotations

import re

# the tags that frame this project's prompts (a report never writes them)
_FRAME = re.compile(r"<(?:question|report|sources|findings|document|last_round|dead_ends|goal|tool_response|tools)"
                    r"\b[^>]{0,200}>", re.I)
# the special tokens of common chat templates (ChatML, Llama 3, Gemma), which a server normally strips
_TOKENS = re.compile(r"<\|(?:im_start|im_end|endoftext|eot_id|start_header_id|end_header_id)\|>"
                     r"|<(?:start|end)_of_turn>", re.I)


def echo_problem(text: str) -> str | None:
    """Why ``text`` is an echo and not a report (template tokens, the prompt's frame), or None if it is not."""
    if _TOKENS.search(text):
        return "it holds the chat template's special tokens (an echo of the prompt, not a report)"
    if _FRAME.search(text):
        return "it echoes the tags that frame the prompt (question, report, sources), not a report"
    return None
