"""How the toy model server answers the capability probe, and which token limit it reads."""

from __future__ import annotations

from typing import Any

PROBE_REPLY = "Hello!"  # what the toy model says to a capability probe (asked to say hello)


def read_limit(body: dict[str, Any], ignore_max_completion_tokens: bool) -> int | None:
    """The completion-token limit the server reads: llama-cpp-python's reads only max_tokens."""
    if ignore_max_completion_tokens:
        return body.get("max_tokens")
    return body.get("max_completion_tokens") or body.get("max_tokens")


def counted(limit: int | None) -> dict[str, Any]:
    """The output-limit probe's reply: one number a token, cut at the limit the server reads."""
    numbers = [str(n) for n in range(1, 31)][: limit or None]
    return {"role": "assistant", "content": "\n".join(numbers), "_tokens": len(numbers),
            **({"_finish": "length"} if len(numbers) < 30 else {})}
