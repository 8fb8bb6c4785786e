"""Bounded decoding of HTTP bodies: a small compressed body may never expand past the byte limit."""

from __future__ import annotations

import zlib

from core.errors import ReadError, TooLarge

ACCEPT_ENCODING = "gzip, deflate"


class BoundedDecoder:
    """Decodes one content-encoding layer (identity, gzip or deflate), never producing more than ``limit`` bytes.

    Other encodings (br, zstd, stacked layers) are refused: we never ask for them.
    """

    def __init__(self, encoding: str, limit: int, url: str) -> None:
        layers = [e.strip().lower() for e in encoding.split(",") if e.strip() and e.strip().lower() != "identity"]
        if len(layers) > 1 or (layers and layers[0] not in ("gzip", "x-gzip", "deflate")):
            raise ReadError(f"{url}: unsupported content encoding {encoding!r}")
        self.kind = layers[0] if layers else ""
        self.inflater = None if not self.kind else zlib.decompressobj(
            16 + zlib.MAX_WBITS if self.kind in ("gzip", "x-gzip") else zlib.MAX_WBITS)
        self.limit = limit
        self.size = 0
        self.url = url
        self.started = False

    def feed(self, chunk: bytes) -> bytes:
        """Decoded bytes of one network chunk; TooLarge once the output would pass the limit."""
        if self.inflater is None:
            out = chunk
        else:
            try:
                out = self.inflater.decompress(chunk, self.limit - self.size + 1)
            except zlib.error as exc:
                if self.kind == "deflate" and not self.started:  # some servers send raw deflate
                    self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    self.kind = "raw-deflate"
                    return self.feed(chunk)
                raise ReadError(f"{self.url}: corrupt {self.kind} body ({exc})") from exc
            if self.inflater.unconsumed_tail:
                raise TooLarge
        self.started = True
        self.size += len(out)
        if self.size > self.limit:
            raise TooLarge
        return out
