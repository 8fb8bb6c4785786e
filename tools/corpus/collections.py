"""Document collections in one file (BrowseComp-Plus style): JSONL or Parquet records, each one document.

A record holds its text (``text``, ``contents``, ``content`` or ``body``), an id (``docid``, ``id``,
``doc_id`` or ``_id``) and optionally a ``title`` and ``url``. Each is stored under ``NAME:ID`` (NAME: the
file's name without its suffix) with the file's full path as its source, read from the corpus like any
ingested document, never fetched: its URL only names it. A record that cannot be one (a line that is not
UTF-8 or not JSON, JSON nested too deep, a field of the wrong type, binary text, an id with a line break) is
reported by its line or row number and skipped; the rest go in. Parquet is read with pyarrow
(``pip install "deepresearch[parquet]"``), a batch at a time; a binary column is text if it is UTF-8.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.errors import DocumentError
from core.limits import ParseLimits
from core.text import printable
from tools.corpus.names import shown
from tools.corpus.store import Corpus, IngestReport
from tools.documents.charsets import check_chars
from tools.documents.formats import clip

TEXT_KEYS = ("text", "contents", "content", "body")
ID_KEYS = ("docid", "id", "doc_id", "_id")
_UNSAFE_ID = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # a key is one line: `corpus list` shows it so
_TYPES = {"list": "a list", "dict": "an object", "int": "a number", "float": "a number", "bool": "a boolean"}

Numbered = tuple[int, dict[str, object] | str | None]  # a line or row: its record, why it is none, or blank


@dataclass(frozen=True)
class Record:
    """One record made a document: its key, title and text, and what was said about it."""

    key: str
    title: str
    text: str
    warning: str = ""


def _value(record: dict[str, object], keys: tuple[str, ...], what: str, numbers: bool = False) -> str:
    """The first of ``keys`` the record sets, as text; a value of another type is refused, never its repr."""
    for key in keys:
        value = record.get(key)
        if value is None or value == "" or value == b"":
            continue
        if isinstance(value, str):
            return value
        if isinstance(value, bytes | bytearray):  # Parquet's binary columns
            try:
                return bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                raise DocumentError(f"{what} is binary data, not UTF-8 text") from None
        if numbers and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        kind = type(value).__name__
        raise DocumentError(f"{what} is {_TYPES.get(kind, f'a {kind}')}, not a string")
    return ""


def _document(record: dict[str, object], number: int, name: str, limits: ParseLimits) -> Record:
    """The document a record stands for (``number``: its line or row, the id when it has none)."""
    text = _value(record, TEXT_KEYS, "text").strip()
    if not text:
        raise DocumentError(f"no text ({', '.join(TEXT_KEYS)})")
    check_chars(text)  # the whole text: binary anywhere in it, not only at its start
    doc_id = _value(record, ID_KEYS, "id", numbers=True) or str(number)
    if _UNSAFE_ID.search(doc_id):  # refused, not changed: other files (a benchmark's gold ids) name it as it is
        raise DocumentError(f"the id '{shown(doc_id)}' holds a line break or another control character")
    title = _value(record, ("title",), "title") or _value(record, ("url",), "url") or f"{name} {doc_id}"
    kept = clip(text, limits)
    return Record(f"{name}:{doc_id}", " ".join(printable(title).split())[:300], kept,
                  f"cut at {limits.max_chars:,} characters" if kept != text else "")


def _line(data: bytes, first: bool) -> dict[str, object] | str | None:
    """One JSONL line's record, or why it is none (None: a blank line); each line is decoded on its own."""
    if first and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if not data.strip():
        return None
    try:
        line = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 (byte 0x{data[exc.start]:02x} at column {exc.start + 1})"
    try:
        record = json.loads(line)
    except RecursionError:
        return "JSON nested too deep"
    except ValueError as exc:  # JSONDecodeError, or an integer over Python's digit limit
        return f"not JSON ({exc.msg if isinstance(exc, json.JSONDecodeError) else exc})"
    return record if isinstance(record, dict) else "not a JSON object"


def _skip_line(handle: BinaryIO, start: int) -> int:
    """Read past the rest of a line too long to keep; its length in bytes (without the line break)."""
    size = start
    while chunk := handle.readline(1 << 20):
        if chunk.endswith(b"\n"):
            return size + len(chunk) - 1
        size += len(chunk)
    return size


def _jsonl(path: Path, limits: ParseLimits) -> Iterator[Numbered]:
    """(line number, record or why it is none) of a JSONL file, read as bytes one line at a time."""
    most = limits.max_document_bytes
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DocumentError(f"cannot read ({exc.strerror})") from exc
    with handle:
        number = 0
        try:
            while data := handle.readline(most + 1):
                number += 1
                if len(data) > most and not data.endswith(b"\n"):
                    size = _skip_line(handle, len(data))
                    yield number, f"{size:,} bytes is over the {most:,}-byte limit for one document"
                    continue
                yield number, _line(data, number == 1)
        except OSError as exc:
            raise DocumentError(f"cannot read past line {number:,} ({exc.strerror})") from exc


def _parquet(path: Path) -> Iterator[Numbered]:
    """(row number, record) of a Parquet file, read a batch at a time."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise DocumentError("reading Parquet needs pyarrow (pip install 'deepresearch[parquet]'), "
                            "or convert it to JSONL") from exc
    number = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1000):
            for record in batch.to_pylist():
                number += 1
                yield number, record
    except (OSError, ValueError, pa.ArrowException) as exc:  # a file that is not Parquet, or damaged inside
        where = f"after row {number:,}: " if number else ""
        raise DocumentError(f"{where}not a readable Parquet file ({exc})") from exc


def ingest_collection(corpus: Corpus, path: Path, limits: ParseLimits) -> IngestReport:
    """Store every record of a JSONL or Parquet collection; a bad one is reported by its line or row.

    A file that cannot be read at all (or from some point on) is one failed entry; what was read is kept.
    """
    report = IngestReport()
    name, full = path.stem, path.resolve()
    parquet = path.suffix.lower() == ".parquet"
    with corpus.writer() as put:  # one connection for the whole collection
        try:
            for number, record in _parquet(path) if parquet else _jsonl(path, limits):
                where = f"{full} {'row' if parquet else 'line'} {number}"
                if isinstance(record, str):
                    report.failed.append((where, record))
                    continue
                if record is None:
                    continue
                try:
                    document = _document(record, number, name, limits)
                    outcome = put(document.key, document.title, "text", document.text, str(full))
                except DocumentError as exc:  # one bad record, not a stopped ingest
                    report.failed.append((where, str(exc)))
                    continue
                getattr(report, outcome).append(document.key)
                if document.warning:
                    report.warnings.append((f"{where} ({document.key})", document.warning))
        except DocumentError as exc:
            report.failed.append((str(full), str(exc)))
    return report
