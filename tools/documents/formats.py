"""Parse documents (Markdown, text, HTML, PDF, DOCX, CSV) into a title and plain text, within limits.

Every parser stops early where a hostile document would make it work without end: PDF pages and
characters, DOCX expanded size and table rows, HTML elements (beyond the limit a linear extractor
reads the page), CSV rows. Time and memory as a whole are bounded by the worker process that runs the
PDF, DOCX and HTML parsers (``tools.documents.parse_pool``); text, Markdown and CSV are read in linear time here.
The parsers are imported when first used: a command that parses nothing does not pay for them.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from core.errors import DocumentError
from core.limits import ParseLimits
from core.text import printable
from tools.documents.charsets import check_chars, check_text, decode_text, strip_controls

KINDS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
         ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".csv": "csv"}
ISOLATED = frozenset({"html", "pdf", "docx"})  # kinds whose parsers run in the worker process
ZIP_MAX_RATIO = 100
# the notes a capped parser leaves at the end of the text (a document read only in part says so)
_CUT_NOTE = re.compile(r"[\[(]((?:cut at [\d,]+ characters|only the first \d+ of \d+ pages read: [a-z ]+"
                       r"|\d+ more rows not shown))[\])]\s*\Z")
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]{0,200}\?>")  # lxml refuses it in a string it parses
_BLOCKS = ("p", "div", "li", "tr", "br", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "pre",
           "blockquote", "table", "ul", "ol", "dt", "dd", "header", "footer")


@dataclass(frozen=True)
class ParsedDocument:
    """A document's title and clean text, and what its parser complained about."""

    title: str
    text: str
    kind: str
    warnings: tuple[str, ...] = ()


class _Room:
    """How much more a parser may produce (characters) and until when it may work (soft deadline)."""

    def __init__(self, limits: ParseLimits, stop_at: float | None) -> None:
        self.chars = limits.max_chars
        self.stop_at = stop_at

    def late(self) -> bool:
        return self.stop_at is not None and time.monotonic() > self.stop_at

    def take(self, text: str) -> str:
        kept = text[: max(self.chars, 0)]
        self.chars -= len(text)
        return kept


def clip(text: str, limits: ParseLimits) -> str:
    """Text within the character limit, ending with a note that says where it was cut if it was.

    Text a parser cut already keeps its note (cut again, it would lose it: the reader would never learn).
    """
    note = cut_note(text)
    body = text[: len(text) - len(note)].rstrip() if note else text
    if len(body) <= limits.max_chars:
        return text
    return body[: limits.max_chars] + f"\n\n[cut at {limits.max_chars:,} characters]"


def cut_note(text: str) -> str:
    """The note a capped parser left at the end of ``text`` ("[cut at 2,000,000 characters]"), or ''."""
    found = _CUT_NOTE.search(text[-160:])
    return found.group(0) if found else ""


def _stem_title(name: str) -> str:
    return Path(name).stem.replace("_", " ").replace("-", " ").strip() or name


def _heading(text: str) -> str:
    """The first ATX heading (``# Title``) of Markdown, read line by line (no regex to backtrack on)."""
    for line in text[:100_000].splitlines():
        body = line.lstrip(" ")
        hashes = len(body) - len(body.lstrip("#"))
        if len(line) - len(body) <= 3 and 1 <= hashes <= 6 and body[hashes : hashes + 1] in (" ", "\t"):
            title = body[hashes:].strip().rstrip("#").strip()
            if title:
                return title
    return ""


def _parse_markdown(text: str, name: str) -> ParsedDocument:
    return ParsedDocument(_heading(text) or _stem_title(name), text.strip(), "markdown")


def _html_elements(data: bytes) -> int:
    """An upper bound on the elements of an HTML page, counted without parsing it."""
    return data.count(b"<") - data.count(b"</")


def _linear_html(html: str) -> tuple[str, str]:
    """(title, text) of a page too big for trafilatura (whose time grows with the square of its elements)."""
    import lxml.html
    from lxml import etree

    root = lxml.html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    title = (root.findtext(".//title") or "").strip()
    etree.strip_elements(root, "script", "style", "noscript", "template", "head", with_tail=False)
    for element in root.iter(*_BLOCKS):
        element.tail = "\n\n" + (element.tail or "")
    for cell in root.iter("td", "th"):  # a table row stays one line, its cells apart
        cell.tail = " | " + (cell.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return title, re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def _parse_html(data: bytes, name: str, limits: ParseLimits, charset: str | None) -> ParsedDocument:
    check_text(data, charset)
    html = decode_text(data, charset)
    if _html_elements(data) > limits.max_html_elements:
        title, text = _linear_html(html)
    else:
        import trafilatura

        text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True) or ""
        if not text:
            text = trafilatura.html2txt(html) or ""
        meta = trafilatura.extract_metadata(html)
        title = meta.title if meta is not None and meta.title else ""
    return ParsedDocument(title.strip() or _stem_title(name), clip(text.strip(), limits), "html")


def _parse_pdf(data: bytes, name: str, limits: ParseLimits, stop_at: float | None) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    room = _Room(limits, stop_at)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError("the PDF is encrypted")
        total, texts, note = len(reader.pages), [], ""
        for number, page in enumerate(reader.pages):
            stop = ("page limit" if number >= limits.max_pdf_pages else "character limit" if room.chars <= 0
                    else "time limit" if room.late() else "")
            if stop:
                note = f"\n\n[only the first {number} of {total} pages read: {stop}]"
                break
            texts.append(room.take((page.extract_text() or "").strip()))
        title = reader.metadata.title if reader.metadata is not None and reader.metadata.title else ""
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"not a readable PDF ({exc})") from exc
    text = "\n\n".join(t for t in texts if t)
    return ParsedDocument(str(title).strip() or _stem_title(name), text + note if text else "", "pdf")


def _check_zip(data: bytes, limits: ParseLimits) -> None:
    """Refuse zip bombs before a parser inflates them: total size and compression ratio are bounded."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise DocumentError(f"not a readable DOCX file ({exc})") from exc
    if total > limits.max_docx_bytes or total > ZIP_MAX_RATIO * max(len(data), 1):
        raise DocumentError(f"refused: it would expand to {total:,} bytes (the limit is "
                            f"{limits.max_docx_bytes:,}, or {ZIP_MAX_RATIO}x its size)")


def _parse_docx(data: bytes, name: str, limits: ParseLimits, stop_at: float | None) -> ParsedDocument:
    import docx
    from lxml import etree

    _check_zip(data, limits)
    try:
        doc = docx.Document(io.BytesIO(data))
    except (ValueError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise DocumentError(f"not a readable DOCX file ({exc})") from exc
    room = _Room(limits, stop_at)
    blocks = []
    for paragraph in doc.paragraphs:
        if room.chars <= 0 or room.late():
            break
        if paragraph.text.strip():
            blocks.append(room.take(paragraph.text.strip()))
    for table in doc.tables:
        if room.chars <= 0 or room.late():
            break
        rows = [[cell.text.strip() for cell in row.cells]
                for row in itertools.islice(table.rows, limits.max_table_rows + 1)]
        if rows:
            more = len(table.rows) - len(rows)
            blocks.append(room.take(markdown_table(rows) + (f"\n\n({more} more rows not shown)" if more else "")))
    title = (doc.core_properties.title or "").strip() or _stem_title(name)
    return ParsedDocument(title, clip("\n\n".join(blocks), limits), "docx")


def markdown_table(rows: list[list[str]]) -> str:
    """Rows (the first is the header) as a markdown table."""
    width = max(len(r) for r in rows)
    cells = [[c.replace("|", "\\|").replace("\n", " ") for c in r] + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def _parse_csv(text: str, name: str, limits: ParseLimits) -> ParsedDocument:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    try:  # the rows shown are kept; the rest are only counted
        rows = (row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row))
        shown = list(itertools.islice(rows, limits.max_table_rows + 1))
        more = sum(1 for _ in rows)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise DocumentError(f"not a readable CSV file ({exc})") from exc
    if not shown:
        return ParsedDocument(_stem_title(name), "", "csv")
    note = f"\n\n({more} more rows not shown)" if more else ""
    return ParsedDocument(_stem_title(name), clip(markdown_table(shown), limits) + note, "csv")


def parse_bytes(data: bytes, kind: str, name: str, limits: ParseLimits, charset: str | None = None,
                stop_at: float | None = None) -> ParsedDocument:
    """Parse a document's bytes given its kind (markdown, text, html, pdf, docx or csv), in this process.

    ``stop_at`` (a ``time.monotonic()`` value) is when parsers that work page by page stop and return what
    they have. Any failure of a parser on these (untrusted) bytes is a DocumentError with the reason only
    (the caller names the document).
    """
    try:
        doc = _parse_kind(data, kind, name, limits, charset, stop_at)
        # control characters no text holds: a parser's flawed extraction (a PDF's unmapped glyphs come out as
        # NULs), or a stray few in a text file (more and it was refused as binary)
        text, controls = strip_controls(doc.text)
        stripped = (f"{controls:,} control character{'s' * (controls != 1)} removed",) if controls else ()
        cut = _CUT_NOTE.search(text[-160:])
        return replace(doc, title=" ".join(printable(doc.title).split())[:300], text=text,
                       warnings=doc.warnings + stripped + ((cut.group(1),) if cut else ()))
    except DocumentError:
        raise
    except MemoryError:
        raise DocumentError("refused: parsing it needs more memory than the parser may use") from None
    except Exception as exc:  # noqa: BLE001 - third-party parsers on untrusted bytes can raise anything
        raise DocumentError(f"could not be parsed as {kind} ({type(exc).__name__}: {exc})") from exc


def _parse_kind(data: bytes, kind: str, name: str, limits: ParseLimits, charset: str | None,
                stop_at: float | None) -> ParsedDocument:
    if kind == "pdf":
        return _parse_pdf(data, name, limits, stop_at)
    if kind == "html":
        return _parse_html(data, name, limits, charset)
    if kind == "docx":
        return _parse_docx(data, name, limits, stop_at)
    check_text(data, charset)
    text = decode_text(data, charset)
    check_chars(text)  # the whole text again: UTF-16 and UTF-32 bytes pass the byte check with their NULs
    if kind == "csv":
        return _parse_csv(text, name, limits)
    text = clip(text, limits)
    if kind == "markdown":
        return _parse_markdown(text, name)
    return ParsedDocument(_stem_title(name), text.strip(), "text")


def read_document(path: Path, limits: ParseLimits) -> tuple[str, bytes]:
    """A local document's kind and bytes; unsupported, unreadable or too large files raise DocumentError."""
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise DocumentError(f"unsupported file type (use {', '.join(sorted(KINDS))})")
    try:
        size = path.stat().st_size
        if size > limits.max_document_bytes:
            raise DocumentError(f"{size:,} bytes is over the {limits.max_document_bytes:,}-byte limit for one "
                                "document")
        with path.open("rb") as handle:  # never more than the limit, even if the file grows meanwhile
            return kind, handle.read(limits.max_document_bytes + 1)[: limits.max_document_bytes]
    except OSError as exc:
        raise DocumentError(f"cannot read ({exc.strerror})") from exc
