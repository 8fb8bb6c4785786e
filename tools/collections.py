"""Document collections in one file (BrowseComp-Plus style): JSONL records, each one document of the corpus.

A record holds its text (``text``, ``contents`` or ``content``), an id (``docid``, ``id`` or ``doc_id``) and
optionally a ``title`` and ``url``. Each is stored under ``NAME:ID`` (NAME: the file's name without its
suffix), read from the corpus like any ingested document, never fetched: its URL only names it.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.errors import UserInputError
from core.settings import ParseLimits
from tools.charsets import check_text
from tools.corpus import Corpus, IngestReport

TEXT_KEYS = ("text", "contents", "content", "body")
ID_KEYS = ("docid", "id", "doc_id", "_id")


def _first(record: dict[str, object], keys: tuple[str, ...]) -> str:
    return next((str(record[k]) for k in keys if record.get(k) not in (None, "")), "")


def ingest_collection(corpus: Corpus, path: Path, limits: ParseLimits) -> IngestReport:
    """Store every record of a JSONL collection; a bad record is reported (by its line), the rest go in."""
    report = IngestReport()
    name = path.stem
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"cannot read {path.resolve()}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path.resolve()} line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                report.failed.append((where, f"not JSON ({exc.msg})"))
                continue
            if not isinstance(record, dict):
                report.failed.append((where, "not an object"))
                continue
            text, doc_id = _first(record, TEXT_KEYS).strip(), _first(record, ID_KEYS) or str(number)
            if not text:
                report.failed.append((where, f"no text ({', '.join(TEXT_KEYS)})"))
                continue
            try:
                check_text(text.encode("utf-8", errors="replace")[:65_536])
            except Exception as exc:  # noqa: BLE001 - a binary "text" is one failed record, not a stopped ingest
                report.failed.append((where, str(exc)))
                continue
            title = _first(record, ("title",)) or _first(record, ("url",)) or f"{name} {doc_id}"
            key = f"{name}:{doc_id}"
            getattr(report, corpus.put(key, title.strip(), "text", text[: limits.max_chars])).append(key)
    return report
