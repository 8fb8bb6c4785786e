"""Retries with exponential backoff and jitter (tenacity) for transient network failures.

Only ``Transient`` is retried, after the server's Retry-After when it sent one; anything else passes
straight through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential_jitter

from core.errors import Transient

T = TypeVar("T")


def retry_after(value: str | None, cap: float = 30.0) -> float | None:
    """Seconds from a Retry-After header (numeric form), capped."""
    try:
        return min(cap, max(0.0, float(value))) if value else None
    except ValueError:
        return None


class _RetryAfterOrBackoff(wait_base):
    """The server's Retry-After when the failure carries one, else exponential backoff with jitter."""

    def __init__(self, base: float, cap: float) -> None:
        self.cap = cap
        self.backoff = wait_exponential_jitter(multiplier=base, max=cap, jitter=base / 2)

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(failure, Transient) and failure.retry_after is not None:
            return min(self.cap, failure.retry_after)
        return float(self.backoff(retry_state))


async def retrying(call: Callable[[], Awaitable[T]], attempts: int = 3, base: float = 0.5, cap: float = 8.0) -> T:
    """Run ``call``; on Transient, wait and try again, ``attempts`` times in all (the last failure is raised)."""
    async for attempt in AsyncRetrying(stop=stop_after_attempt(attempts), wait=_RetryAfterOrBackoff(base, cap),
                                       retry=retry_if_exception_type(Transient), reraise=True):
        with attempt:
            return await call()
    raise AssertionError("unreachable: the last failure is re-raised")
