"""Links in a final report: only to the sources the run retrieved; page titles shown as text, never as links.

Text a report holds came, in part, from pages (through the reader's evidence and the writer's report),
so it can carry any link, image or HTML an attacker put there. Every markdown link and image, reference
definition, autolink, bare address and raw HTML tag is checked: what points to a retrieved source stays
(compared without scheme, fragment or trailing slash), the rest goes, and raw HTML is shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.text import printable
from state.records import Source

LINK_REMOVED = "(link removed)"
# a destination may hold balanced parentheses, as Wikipedia's do: /wiki/Foo_(bar)
_DEST = r"<?((?:[^()\s<>]|\([^()\s<>]*\))*)>?"
_MD_LINK = re.compile(r"(!?)\[([^\]\n]{0,300})\]\(\s*" + _DEST + r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]\n]{1,300}\]:[ \t]*<?(\S+?)>?(?:[ \t]+.*)?$", re.M)
_AUTOLINK = re.compile(r"<([a-z][a-z0-9+.-]{1,31}:[^<>\s]*)>", re.I)
_HTML = re.compile(r"<(?![a-z][a-z0-9+.-]{1,31}:[^<>\s]*>)(?=[a-z/!?])", re.I)  # a tag, not a kept autolink
_BARE = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)(?:[^\s<>()\[\]\"'`]|\([^\s<>()]*\))+", re.I)
_TRAILING = ".,;:!?*_~"
_SCHEME = re.compile(r"^(?:https?:)?//", re.I)


def _key(url: str) -> str:
    """A URL as compared: no scheme (http or https), fragment or trailing slash; lower case."""
    return _SCHEME.sub("", url.strip().split("#", 1)[0]).rstrip("/").lower()


def keep_source_links(text: str, sources: Iterable[Source]) -> tuple[str, int]:
    """Remove every link whose address is not a retrieved source's; returns the text and how many went.

    A markdown link to elsewhere keeps its words (a citation ``[n]`` stays a citation), an image, a
    reference definition or an address to elsewhere is dropped, and raw HTML is escaped to show as text.
    """
    allowed = {_key(src["url"]) for src in sources}
    removed = 0

    def judge(url: str) -> bool:
        nonlocal removed
        keep = _key(url) in allowed
        removed += not keep
        return keep

    def markdown(match: re.Match[str]) -> str:
        if judge(match.group(3)):
            return match.group(0)
        label = match.group(2)
        if match.group(1):
            return ""
        return f"[{label}]" if label.strip().isdigit() else label

    def bare(match: re.Match[str]) -> str:
        url = match.group(0).rstrip(_TRAILING)
        tail = match.group(0)[len(url):]
        return match.group(0) if judge(url) else LINK_REMOVED + tail

    text = _MD_LINK.sub(markdown, text)
    text = _REF_DEF.sub(lambda m: m.group(0) if judge(m.group(1)) else "", text)
    text = _AUTOLINK.sub(lambda m: m.group(0) if judge(m.group(1)) else LINK_REMOVED, text)
    text = _HTML.sub("&lt;", text)
    return _BARE.sub(bare, text), removed


def literal_title(title: str) -> str:
    """A page's title as markdown shows it literally: never a link, an image, a tag or an autolinked address."""
    title = " ".join(printable(title).split())
    for old, new in (("[", "\\["), ("]", "\\]"), ("<", "&lt;"), ("://", "\\://"), ("www.", "www\\.")):
        title = title.replace(old, new)
    return title
