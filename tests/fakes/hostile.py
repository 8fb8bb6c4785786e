"""Hostile documents, built at test time: heavy PDFs, expanding DOCX files, huge HTML, binary "text"."""

from __future__ import annotations

import io
import os
import zipfile

from tests.fakes.pdf import pdf_of_streams


def heavy_pdf(pages: int, ops_per_page: int, title: str = "Heavy") -> bytes:
    """A small file whose pages hold huge (compressed) content streams: cheap to send, slow to extract."""
    stream = b"BT /F1 11 Tf 50 760 Td 14 TL " + b"(page text here) Tj T* " * ops_per_page + b"ET"
    return pdf_of_streams([stream] * pages, title, flate=True)


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_with_body(body: bytes) -> bytes:
    """A minimal valid DOCX whose document body is ``body`` (WordprocessingML)."""
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
        b'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"'
        b"/></Types>",
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W}><w:body>'.encode() + body
        + b"</w:body></w:document>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def paragraphs(n: int, words: int = 8) -> bytes:
    """WordprocessingML paragraphs of varied words (they do not compress 100x)."""
    rng = os.urandom(n * words)
    return b"".join(b"<w:p><w:r><w:t>" + b" ".join(b"w%d" % rng[i * words + j] for j in range(words))
                    + b"</w:t></w:r></w:p>" for i in range(n))


def table(rows: int) -> bytes:
    """A one-table body of ``rows`` rows of two cells of varied text."""
    cell = b"<w:tc><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:tc>"
    return b"<w:tbl>" + b"".join(b"<w:tr>" + cell % os.urandom(6).hex().encode() + cell % b"%d" % i + b"</w:tr>"
                                 for i in range(rows)) + b"</w:tbl>"


def many_elements_html(n: int) -> bytes:
    """An HTML page of ``n`` paragraphs (trafilatura's time grows with the square of this)."""
    body = b"".join(b"<p>para %d text here</p>" % i for i in range(n))
    return b"<html><head><title>Many</title></head><body>" + body + b"</body></html>"
