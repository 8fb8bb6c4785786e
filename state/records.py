"""Records kept in graph state: small, JSON-friendly, never page text."""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict

from core.text import clip

URL_CHARS = 2_048  # the longest URL worth reading (browsers' and the sitemaps protocol's limit)
TITLE_CHARS = 300  # of a search result's title
ERROR_CHARS = 1_000  # of a failure's error message


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
    ``snippet``: a ReAct search result seen only as its snippet (no page read, ``page_hash`` empty): its
    text is the title and the snippet, until a visit of the URL reads the page (same number).
    """

    url: str
    title: str
    page_hash: str
    n: int | None
    round: int
    snippet: NotRequired[str]


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
    cannot be read at all is not tried again. ``model``: the model's own failure (an unusable reply), not a
    passing fault of the call.
    """

    round: int
    action: str
    target: str
    error: str
    transient: bool
    model: NotRequired[bool]


def failure(*, round: int, action: str, target: str, error: str, transient: bool, model: bool = False) -> Failure:
    """A failure record whose target (a URL, a query) and error are bounded, whoever wrote them.

    A target of up to ``URL_CHARS`` stays whole: rounds match it again to skip or retry that page or query.
    """
    record = Failure(round=round, action=action, target=clip(target, URL_CHARS), error=clip(error, ERROR_CHARS),
                     transient=transient)
    if model:
        record["model"] = True
    return record


class DeadEnd(TypedDict):
    """A line of inquiry that produced nothing new; the planner is told to steer away from it."""

    round: int
    goal: str
    queries: list[str]
