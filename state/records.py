"""Records kept in graph state: small, JSON-friendly, never page text."""

from __future__ import annotations

from typing_extensions import TypedDict


class Hit(TypedDict):
    """One search result, normalised across backends."""

    title: str
    url: str
    snippet: str
    rank: int
    backend: str
    query: str


class Source(TypedDict):
    """A page or document read in this thread.

    ``n`` is the citation number, given the first time the source yields evidence and never
    changed afterwards; a source read without useful evidence keeps ``n`` None (read, not cited).
    """

    url: str
    title: str
    page_hash: str
    n: int | None
    round: int


class Finding(TypedDict):
    """Evidence a reader extracted from one source for one round's goal."""

    url: str
    title: str
    evidence: str
    quote: str
    round: int


class Failure(TypedDict):
    """An action that failed (search error, dead page, unusable model reply); kept out of evidence.

    ``transient`` failures (a model call, a timeout) may be retried in a later round; a page that
    cannot be read at all is not tried again.
    """

    round: int
    action: str
    target: str
    error: str
    transient: bool


class DeadEnd(TypedDict):
    """A line of inquiry that produced nothing new; the planner is told to steer away from it."""

    round: int
    goal: str
    queries: list[str]
