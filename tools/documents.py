"""Parse documents (Markdown, text, HTML, PDF, DOCX, CSV) into a title and plain text.

The parsers are imported when first used: a command that parses nothing does not pay for them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.errors import DocumentError

KINDS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
         ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".csv": "csv"}
CSV_MAX_ROWS = 500
ZIP_MAX_BYTES = 100_000_000
ZIP_MAX_RATIO = 100
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)


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


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _decode_as(data: bytes, charset: str | None) -> str | None:
    """Decode with a declared charset if it names a real text encoding (not e.g. 'punycode' or 'rot13')."""
    if not charset:
        return None
    try:
        info = codecs.lookup(charset.strip().strip("'\""))
        if not getattr(info, "_is_text_encoding", True) or info.name in ("punycode", "idna"):
            return None
        return data.decode(info.name, errors="replace")
    except (LookupError, UnicodeError):
        return None


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode bytes: UTF-8 if valid, else the declared charset, else the detected one.

    The declared charset comes from the HTTP header, then from an HTML meta tag.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        meta = _META_CHARSET.search(data[:4096])
        for charset in (declared, meta.group(1).decode("ascii") if meta else None):
            text = _decode_as(data, charset)
            if text is not None:
                return text
        from charset_normalizer import from_bytes

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


def _parse_html(data: bytes, name: str, charset: str | None = None) -> ParsedDocument:
    import trafilatura

    html = decode_text(data, charset)
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if not text:
        text = trafilatura.html2txt(html) or ""
    meta = trafilatura.extract_metadata(html)
    title = (meta.title if meta is not None and meta.title else "") or _stem_title(name)
    return ParsedDocument(title.strip(), text.strip(), "html")


def _parse_pdf(data: bytes, name: str) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

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


def _check_zip(data: bytes, name: str) -> None:
    """Refuse zip bombs before a parser inflates them: total size and compression ratio are bounded."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise DocumentError(f"{name}: not a readable DOCX file ({exc})") from exc
    if total > ZIP_MAX_BYTES or total > ZIP_MAX_RATIO * max(len(data), 1):
        raise DocumentError(f"{name}: refused, it would expand to {total:,} bytes")


def _parse_docx(data: bytes, name: str) -> ParsedDocument:
    import docx
    from lxml import etree

    _check_zip(data, name)
    try:
        doc = docx.Document(io.BytesIO(data))
    except (ValueError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise DocumentError(f"{name}: not a readable DOCX file ({exc})") from exc
    blocks = [p.text.strip() for p in doc.paragraphs if p.text.strip()]
    for table in doc.tables:
        rows = [[cell.text.strip() for cell in row.cells] for row in table.rows]
        if rows:
            blocks.append(markdown_table(rows))
    title = (doc.core_properties.title or "").strip() or _stem_title(name)
    return ParsedDocument(title, "\n\n".join(blocks), "docx")


def markdown_table(rows: list[list[str]]) -> str:
    """Rows (the first is the header) as a markdown table."""
    width = max(len(r) for r in rows)
    cells = [[c.replace("|", "\\|").replace("\n", " ") for c in r] + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def _parse_csv(data: bytes, name: str, charset: str | None = None) -> ParsedDocument:
    text = decode_text(data, charset)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    try:
        rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise DocumentError(f"{name}: not a readable CSV file ({exc})") from exc
    if not rows:
        return ParsedDocument(_stem_title(name), "", "csv")
    shown = rows[: CSV_MAX_ROWS + 1]
    note = f"\n\n({len(rows) - len(shown)} more rows not shown)" if len(rows) > len(shown) else ""
    return ParsedDocument(_stem_title(name), markdown_table(shown) + note, "csv")


def parse_bytes(data: bytes, kind: str, name: str, charset: str | None = None) -> ParsedDocument:
    """Parse a document's bytes given its kind (markdown, text, html, pdf, docx or csv).

    Any failure of a parser on these (untrusted) bytes is a DocumentError.
    """
    try:
        return _parse_kind(data, kind, name, charset)
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - third-party parsers on untrusted bytes can raise anything
        raise DocumentError(f"{name}: could not be parsed as {kind} ({type(exc).__name__}: {exc})") from exc


def _parse_kind(data: bytes, kind: str, name: str, charset: str | None) -> ParsedDocument:
    if kind == "pdf":
        return _parse_pdf(data, name)
    if kind == "html":
        return _parse_html(data, name, charset)
    if kind == "docx":
        return _parse_docx(data, name)
    if kind == "csv":
        return _parse_csv(data, name, charset)
    text = decode_text(data, charset)
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
