"""robots.txt per site (RFC 9309, parsed by protego: wildcards, longest match), fetched through the page fetcher."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from protego import Protego

from core.errors import ReadError, RefusedURL

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least the first 500 KiB
AGENT = "deepresearch"


class RawResponse(Protocol):
    """What the fetcher hands back for robots.txt."""

    @property
    def status(self) -> int:
        """HTTP status."""
        ...

    @property
    def data(self) -> bytes:
        """Body (the first 500 KiB)."""
        ...


@dataclass(frozen=True)
class Verdict:
    """A site's robots.txt: everything allowed, nothing allowed, or its rules."""

    allow: bool
    rules: Protego | None = None

    def allows(self, url: str) -> bool:
        """Whether our agent may fetch ``url``."""
        return bool(self.rules.can_fetch(url, AGENT)) if self.rules is not None else self.allow


class Robots:
    """Checks URLs against their site's robots.txt; one fetch per site, shared by concurrent readers."""

    def __init__(self, get: Callable[[str], Awaitable[RawResponse]]) -> None:
        self._get = get  # fetches a robots.txt URL (no robots check of its own, first 500 KiB)
        self._verdicts: dict[str, Verdict] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def check(self, url: str) -> None:
        """ReadError if robots.txt disallows ``url`` (or, transiently, if it cannot be had)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._verdicts:
            async with self._locks.setdefault(origin, asyncio.Lock()):
                if origin not in self._verdicts:
                    self._verdicts[origin] = await self._load(origin)
        if not self._verdicts[origin].allows(url):
            raise ReadError(f"robots.txt of {parts.netloc} disallows {url}")

    async def _load(self, origin: str) -> Verdict:
        """Missing (4xx) allows everything; a server error (5xx) allows nothing; a network failure is not cached."""
        try:
            raw = await self._get(f"{origin}/robots.txt")
        except RefusedURL:
            return Verdict(allow=True)  # the site itself is refused: the page fetch says so
        except ReadError as exc:
            if exc.status is not None and exc.status >= 500:
                return Verdict(allow=False)
            raise ReadError(f"robots.txt of {urlsplit(origin).netloc} could not be fetched: {exc}",
                            transient=exc.transient) from exc
        if raw.status >= 500:
            return Verdict(allow=False)
        if raw.status >= 400:
            return Verdict(allow=True)
        return Verdict(allow=True, rules=Protego.parse(raw.data.decode("utf-8", errors="replace")))
