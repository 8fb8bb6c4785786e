"""Write small, valid text PDFs for tests (one page per list of lines)."""

from __future__ import annotations


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], title: str = "") -> bytes:
    """A PDF with Helvetica text that pypdf can extract; ``title`` goes into the document info."""
    streams = [("BT /F1 11 Tf 50 760 Td 14 TL " + " ".join(f"({_escape(line)}) Tj T*" for line in lines)
                + " ET").encode() for lines in pages]
    return pdf_of_streams(streams, title)


def pdf_of_streams(streams: list[bytes], title: str = "", flate: bool = False) -> bytes:
    """A PDF of one page per content stream (compressed with FlateDecode when ``flate``)."""
    import zlib

    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(streams))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(streams)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, stream in enumerate(streams):
        body = zlib.compress(stream, 9) if flate else stream
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {page_ids[i] + 1} 0 R >>".encode())
        objects.append(f"<< /Length {len(body)}{' /Filter /FlateDecode' if flate else ''} >>\nstream\n".encode()
                       + body + b"\nendstream")
    info_id = len(objects) + 1
    objects.append(f"<< /Title ({_escape(title)}) >>".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
