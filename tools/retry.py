"""Retries with exponential backoff and jitter for transient network failures."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Transient(Exception):
    """A failure worth retrying (timeout, dropped connection, 429, 5xx); ``retry_after`` in seconds if known."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


def retry_after(value: str | None, cap: float = 30.0) -> float | None:
    """Seconds from a Retry-After header (numeric form), capped."""
    try:
        return min(cap, max(0.0, float(value))) if value else None
    except ValueError:
        return None


async def retrying(call: Callable[[], Awaitable[T]], attempts: int = 3, base: float = 0.5, cap: float = 8.0) -> T:
    """Run ``call``; on Transient, wait (base * 2^n with jitter, or Retry-After) and try again."""
    for attempt in range(attempts):
        try:
            return await call()
        except Transient as exc:
            if attempt == attempts - 1:
                raise
            delay = exc.retry_after if exc.retry_after is not None else base * 2**attempt
            await asyncio.sleep(min(cap, delay) * random.uniform(0.8, 1.2))
    raise AssertionError("unreachable")
