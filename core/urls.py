"""URLs as the settings take them: an http(s) endpoint checked where it is given, and the origin a request goes to.

Origins decide where a key may be sent (DEEPRESEARCH_API_KEY_ORIGINS); a URL is read as httpx, which sends it,
reads it.
"""

from __future__ import annotations

import ipaddress
import re
from contextlib import suppress
from functools import lru_cache
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError, networks

from core.redact import shown_value

MAX_URL_CHARS = 2048  # the longest URL taken for an endpoint (browsers and proxies stop near there too)
_URL = TypeAdapter(networks.HttpUrl)
_UNREADABLE = ("has no host and port that can be read (a / ? # or @ in a user name or password must be "
               "percent-encoded, / as %2F)")


def http_url(value: str) -> str:
    """``value`` if it is an http(s) URL with a valid host and port, at most MAX_URL_CHARS long; else ValueError.

    Checked where the URL is given, so a bad one is named there, not by the HTTP client deep in a run.
    """
    if len(value) > MAX_URL_CHARS:
        raise ValueError(f"must be at most {MAX_URL_CHARS:,} characters (this one has {len(value):,})")
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        _URL.validate_python(value)
    except ValidationError as exc:
        if "@" in value and not _readable(value):  # a password's "/" read as the end of the host
            raise ValueError(_UNREADABLE) from None
        reason = str(exc.errors()[0]["msg"]).removeprefix("Input should be a valid URL, ")
        raise ValueError(f"must be a valid URL ({reason})") from None
    if url_origin(value) is None:  # as httpx reads it: "http:///v1" has no host there
        raise ValueError("must be a valid URL (empty host)")
    if not _readable(value):
        raise ValueError(_UNREADABLE)
    return value


def _readable(url: str) -> bool:
    """Whether a host, and a port if one is given, can be read from ``url`` (as the HTTP client will read them)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it (urllib's message would quote the URL: not shown)
    except ValueError:
        return False
    return bool(parts.hostname)


# an origin as DEEPRESEARCH_API_KEY_ORIGINS takes it: scheme, host and optional port, nothing more (no path, no
# credentials), so reading it cannot go two ways
_ORIGIN = re.compile(r"(https?)://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?/?", re.IGNORECASE)


def _origin(scheme: str, host: str, port: int | None) -> str:
    """``scheme://host:port`` in one spelling: lower case, IP addresses compressed, the default port written out."""
    scheme, host = scheme.lower(), host.strip("[]").lower()
    with suppress(ValueError):
        host = ipaddress.ip_address(host).compressed
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port or (443 if scheme == 'https' else 80)}"


@lru_cache(maxsize=256)
def url_origin(url: str) -> str | None:
    """The origin a request to ``url`` goes to, parsed as httpx (which sends it) parses it; None if it is no URL.

    Credentials in the URL are not part of it: ``http://localhost:8000@example.com`` goes to example.com.
    Remembered: every step of a run asks it of the same few URLs (the key's origin, its toolbox's key).
    """
    import httpx  # loaded only by the commands that talk to an endpoint

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        return None
    return _origin(parsed.scheme, parsed.raw_host.decode("ascii"), parsed.port)  # international names in IDNA


def _valid_host(host: str) -> bool:
    """A bracketed host must be an IPv6 address."""
    if not host.startswith("["):
        return True
    try:
        ipaddress.IPv6Address(host[1:-1])
    except ValueError:
        return False
    return True


def origins(value: str) -> str:
    """A comma list of origins such as ``https://api.example.com,http://10.0.0.5:8000``, kept normalised."""
    found: list[str] = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        match = _ORIGIN.fullmatch(part)
        port = int(match[3]) if match and match[3] else None
        if match is None or (port is not None and not 0 < port < 65536) or not _valid_host(match[2]):
            raise ValueError(f"must be a comma list of origins such as https://api.example.com "
                             f"({shown_value(part)} is not one)")
        found.append(_origin(match[1], match[2], port))
    return ",".join(found)
