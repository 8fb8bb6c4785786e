"""Document collections in one file (BrowseComp-Plus style): JSONL or Parquet records, each one document.

A record holds its text (``text``, ``contents`` or ``content``), an id (``docid``, ``id`` or ``doc_id``)
and optionally a ``title`` and ``url``. Each is stored under ``NAME:ID`` (NAME: the file's name without
its suffix), read from the corpus like any ingested document, never fetched: its URL only names it.
Parquet is read with pyarrow (``pip install "deepresearch[parquet]"``), a batch at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from core.errors import DocumentError, UserInputError
from core.limits import ParseLimits
from tools.charsets import check_text
from tools.corpus import Corpus, IngestReport

TEXT_KEYS = ("text", "contents", "content", "body")
ID_KEYS = ("docid", "id", "doc_id", "_id")


def _first(record: dict[str, object], keys: tuple[str, ...]) -> str:
    return next((str(record[k]) for k in keys if record.get(k) not in (None, "")), "")


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, object] | str]]:
    """(line number, record or why it is not one) of a JSONL file."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"cannot read {path.resolve()}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, f"not JSON ({exc.msg})"
                continue
            yield number, record if isinstance(record, dict) else "not an object"


def _parquet(path: Path) -> Iterator[tuple[int, dict[str, object] | str]]:
    """(row number, record) of a Parquet file, read a batch at a time."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise UserInputError(f"{path.resolve()}: reading Parquet needs pyarrow (pip install "
                             "'deepresearch[parquet]'), or convert it to JSONL") from exc
    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=1000)
        number = 0
        for batch in batches:
            for record in batch.to_pylist():
                number += 1
                yield number, record
    except (OSError, ValueError) as exc:  # pyarrow's errors for a file that is not Parquet subclass these
        raise UserInputError(f"{path.resolve()} is not a readable Parquet file ({exc})") from exc


def ingest_collection(corpus: Corpus, path: Path, limits: ParseLimits) -> IngestReport:
    """Store every record of a JSONL or Parquet collection; a bad record is reported (its line), the rest go in."""
    report = IngestReport()
    name, full = path.stem, path.resolve()
    parquet = path.suffix.lower() == ".parquet"
    records = _parquet(path) if parquet else _jsonl(path)
    with corpus.writer() as put:  # one connection for the whole collection
        for number, record in records:
            where = f"{full} {'row' if parquet else 'line'} {number}"
            if isinstance(record, str):
                report.failed.append((where, record))
                continue
            text, doc_id = _first(record, TEXT_KEYS).strip(), _first(record, ID_KEYS) or str(number)
            if not text:
                report.failed.append((where, f"no text ({', '.join(TEXT_KEYS)})"))
                continue
            try:
                check_text(text.encode("utf-8", errors="replace")[:65_536])
            except DocumentError as exc:  # a binary "text" is one failed record, not a stopped ingest
                report.failed.append((where, str(exc)))
                continue
            title = _first(record, ("title",)) or _first(record, ("url",)) or f"{name} {doc_id}"
            key = f"{name}:{doc_id}"
            getattr(report, put(key, title.strip(), "text", text[: limits.max_chars])).append(key)
    return report
