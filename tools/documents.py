"""Parse local files (Markdown, text, HTML, PDF) into a title and plain text, and split text into passages."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import trafilatura
from charset_normalizer import from_bytes
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from deepresearch.errors import DocumentError

KINDS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
         ".html": "html", ".htm": "html", ".pdf": "pdf"}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


@dataclass(frozen=True)
class ParsedDocument:
    """A document's title and clean text."""

    title: str
    text: str
    kind: str


# among near-equal detections, the encodings most used on the web win (short Western text is
# otherwise often taken for a Baltic or Central European code page)
_COMMON = ("cp1252", "iso8859_1", "iso8859_15", "cp1251", "gb18030", "big5", "cp932", "euc_jp", "euc_kr")
_NEAR = 0.05


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8, else as the charset detected from the bytes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        matches = list(from_bytes(data))
        if not matches:
            return data.decode("utf-8", errors="replace")
        least = min(m.chaos for m in matches)
        near = [m for m in matches if m.chaos <= least + _NEAR]
        common = sorted((m for m in near if m.encoding in _COMMON), key=lambda m: _COMMON.index(m.encoding))
        return str(common[0] if common else near[0])


def _stem_title(name: str) -> str:
    return Path(name).stem.replace("_", " ").replace("-", " ").strip() or name


def _parse_markdown(text: str, name: str) -> ParsedDocument:
    heading = _HEADING.search(text)
    return ParsedDocument(heading.group(1).strip() if heading else _stem_title(name), text.strip(), "markdown")


def _parse_html(data: bytes, name: str) -> ParsedDocument:
    html = decode_text(data)
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if not text:
        text = trafilatura.html2txt(html) or ""
    meta = trafilatura.extract_metadata(html)
    title = (meta.title if meta is not None and meta.title else "") or _stem_title(name)
    return ParsedDocument(title.strip(), text.strip(), "html")


def _parse_pdf(data: bytes, name: str) -> ParsedDocument:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{name}: the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata is not None and reader.metadata.title else ""
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"{name}: not a readable PDF ({exc})") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    return ParsedDocument(str(title).strip() or _stem_title(name), text, "pdf")


def parse_bytes(data: bytes, kind: str, name: str) -> ParsedDocument:
    """Parse a document's bytes given its kind (markdown, text, html or pdf)."""
    if kind == "pdf":
        return _parse_pdf(data, name)
    if kind == "html":
        return _parse_html(data, name)
    text = decode_text(data)
    if kind == "markdown":
        return _parse_markdown(text, name)
    return ParsedDocument(_stem_title(name), text.strip(), "text")


def parse_file(path: Path) -> ParsedDocument:
    """Read and parse one file; unsupported or unreadable files raise DocumentError."""
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise DocumentError(f"{path}: unsupported file type (use {', '.join(sorted(KINDS))})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_bytes(data, kind, path.name)


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:
            parts.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if current and len(current) + len(sentence) + 1 > max_chars:
            parts.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        parts.append(current)
    return parts


def split_passages(text: str, max_chars: int = 1200) -> list[str]:
    """Split text into passages of whole paragraphs, each at most ``max_chars`` long."""
    passages: list[str] = []
    current = ""
    for para in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not para:
            continue
        pieces = _split_long(para, max_chars) if len(para) > max_chars else [para]
        for piece in pieces:
            if current and len(current) + len(piece) + 2 > max_chars:
                passages.append(current)
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
    if current:
        passages.append(current)
    return passages
