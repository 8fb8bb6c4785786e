"""Bytes to text: the right encoding, and refusal of bytes that are not text at all."""

from __future__ import annotations

import codecs
import re

from core.errors import DocumentError

# among near-equal detections, the encodings most used on the web win (short Western text is
# otherwise often taken for a Baltic or Central European code page)
_COMMON = ("cp1252", "iso8859_1", "iso8859_15", "cp1251", "gb18030", "big5", "cp932", "euc_jp", "euc_kr")
_NEAR = 0.05
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
# C0 control bytes that no text file holds (tab, line feed, vertical tab, form feed, carriage return and
# escape occur in text: FileMaker writes VT for line breaks inside a CSV field)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
_MAX_CONTROL_SHARE = 0.01
_CONTROL_CHARS = re.compile("[" + re.escape(_CONTROL.decode("ascii")) + "]")
# UTF-32 first: its little-endian mark starts with UTF-16's
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


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


def _wide(data: bytes, declared: str | None) -> str | None:
    """The UTF-16 or UTF-32 codec the bytes are in, by their byte-order mark or their declared charset."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    name = (declared or "").strip().strip("'\"").lower().replace("_", "-")
    return name if name.startswith(("utf-16", "utf-32", "ucs-2", "ucs-4")) and _decode_as(b"", name) is not None \
        else None


def check_text(data: bytes, declared: str | None = None) -> None:
    """Refuse bytes that are not text (an executable, an image, random data): DocumentError says so.

    Text holds no NUL bytes (unless it is UTF-16 or UTF-32, by its byte-order mark or declared charset)
    and almost no other control bytes, in any encoding. The whole document is checked: text followed by
    binary data is not text.
    """
    if _wide(data, declared):
        return
    controls = len(data) - len(data.translate(None, _CONTROL))
    if b"\x00" in data or controls > _MAX_CONTROL_SHARE * max(len(data), 1):
        raise DocumentError("binary content, not text (refused)")


def check_chars(text: str) -> None:
    """Refuse decoded text that is not text: a NUL character anywhere, or more than 1% other control characters.

    The same rule as ``check_text``, over characters: it holds for what no byte check sees (a JSON string's
    escapes, UTF-16 or UTF-32 bytes, a Parquet column), and over the whole text, wherever the binary starts.
    """
    if "\x00" in text or len(_CONTROL_CHARS.findall(text)) > _MAX_CONTROL_SHARE * max(len(text), 1):
        raise DocumentError("binary content, not text (refused)")


def strip_controls(text: str) -> tuple[str, int]:
    """Text without the control characters no text holds (NUL among them), and how many there were.

    For text a parser extracted (a PDF's unmapped glyphs come out as NULs): the document is text, its
    extraction is flawed; the corpus never stores a NUL.
    """
    return _CONTROL_CHARS.subn("", text)


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode bytes: UTF-8 if valid, else the declared charset, else the detected one.

    The declared charset comes from the HTTP header, then from an HTML meta tag.
    """
    wide = _wide(data, declared)
    if wide:
        return data.decode(wide, errors="replace").lstrip("\ufeff")
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
