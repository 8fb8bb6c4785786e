"""What parsing one document may take (a module of its own: parser workers import it without the settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParseLimits:
    """What parsing one document may take: parsers run in a worker process held to these."""

    timeout: float = 30.0  # wall seconds per document
    memory_mb: int = 1024  # address space of a parser process
    max_chars: int = 2_000_000  # characters of text kept per document
    max_document_bytes: int = 50_000_000  # size of a file taken into the corpus
    max_pdf_pages: int = 500
    max_html_elements: int = 30_000  # more and the page is read by a simpler, linear extractor
    max_docx_bytes: int = 20_000_000  # what a DOCX may expand to
    max_table_rows: int = 500  # rows of a table or CSV kept
