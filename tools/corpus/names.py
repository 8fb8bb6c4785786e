"""How the corpus names its documents to a user, and finds them again by those names.

A file is named by its full path; a record of a collection by ``NAME:ID`` (NAME: its file's name without
the suffix), and it remembers that file (its ``source``; records stored before it did have none). `corpus
list` shows a name with its control characters escaped, so each document is one row whatever is stored;
`corpus remove` takes a name as shown or as stored, a folder (whole path components), a collection's file
or a collection's NAME.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserInputError

COLLECTION_SUFFIXES = (".jsonl", ".parquet")
EMPTY_TARGET = ("an empty path names no document: give a file, a folder, a collection's file, NAME or NAME:ID "
                "as `deepresearch corpus list` shows it (is a shell variable empty?)")
_UNSEEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # C0, DEL, C1 and Unicode's line separators
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SEEN = re.compile(r"\\(?:([nrt])|x([0-9a-f]{2})|u([0-9a-f]{4}))")


def shown(text: str) -> str:
    r"""``text`` on one line and harmless on a terminal: each control character as an escape (``\n``, ``\x1b``)."""
    return _UNSEEN.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def unshown(text: str) -> str:
    """What ``shown`` turned into ``text``: its escapes of control characters back (anything else as it is)."""
    def back(match: re.Match[str]) -> str:
        if match[1]:
            return {"n": "\n", "r": "\r", "t": "\t"}[match[1]]
        char = chr(int(match[2] or match[3], 16))
        return char if _UNSEEN.fullmatch(char) else match[0]

    return _SEEN.sub(back, text)


@dataclass(frozen=True)
class Selection:
    """The documents one target names (their keys, sorted), and the full path it stands for as a path."""

    target: str
    keys: list[str]
    place: str  # the target as a full path (symlinks resolved), as ingest names files
    by_place: bool  # whether any document matched as a file, under a folder, or as a collection's file


def _place(target: str) -> str:
    expanded = os.path.expanduser(target)
    try:
        return str(Path(expanded).resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL: the path as written, made absolute
        return os.path.abspath(expanded)


def select(rows: Iterable[tuple[str, str | None]], target: str) -> Selection:
    """Which of the documents ``rows`` (key, source) ``target`` names, as a path or as a name.

    As a path (resolved, as ingest resolves it): the file, every document under the folder (whole path
    components: /a/b holds /a/b/c, not /a/bc), every record of the collection file. As a name: the key
    (``NAME:ID``, a path as `corpus list` shows it), or every record of the collection NAME (a target
    without ":" or "/").
    """
    if not target.strip():
        raise UserInputError(EMPTY_TARGET)
    place = _place(target)
    under = os.path.join(place, "")  # the folder and a separator ("/" stays "/")
    # records stored before they knew their file: a collection's file names them by its NAME
    stem = Path(place).stem if place.lower().endswith(COLLECTION_SUFFIXES) else None
    names = {target, unshown(target)}
    # a collection's NAME alone holds neither ":" nor "/" (NAME:ID is one record; a/b is a path); a record's
    # key never starts with "/", so that stands for no collection
    collection = tuple(f"{name}:" for name in names if ":" not in name and "/" not in name) or ("/",)
    keys, by_place = [], False
    for key, source in rows:
        origin = source or key
        record = not key.startswith("/")
        if origin == place or origin.startswith(under) or (stem and source is None and record
                                                           and key.startswith(f"{stem}:")):
            keys.append(key)
            by_place = True
        elif key in names or (record and key.startswith(collection)):
            keys.append(key)
    return Selection(target, sorted(keys), place, by_place)
