"""Secrets out of everything the program prints, logs and stores: the one home of redaction.

A configured URL may carry a password (``http://user:pass@host``, ``postgresql://u@h/db?password=...``) or a key
(``?api_key=...``), and any message may quote one: an exception's text, a libpq error, a log line. What leaves
the program goes through ``redact_text`` (free text) or ``redact_url`` (one URL), which keep what helps a
reader (scheme, user name, host, path) and put ``***`` in place of each secret. They never raise: a malformed
URL comes back masked, not as an error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MASK = "***"

# names of parameters that hold a secret, as whole words of the name (api_key, X-Amz-Signature, sslPassword) ...
_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "key", "apikey", "auth",
                    "authorization", "sig", "signature", "credential", "credentials", "session", "sessionid", "jwt"})
# ... or as the end or start of one written as a single word (sslpassword, accesstoken, clientsecret, passwordhash)
_ENDS = ("password", "passwd", "pwd", "passphrase", "secret", "token", "key", "auth", "signature", "credential",
         "credentials")
_STARTS = ("password", "passwd", "secret", "token", "apikey", "credential")
# too common alone in prose ("KEY=VALUE") to mask there; in a URL's query they still are
_BARE = frozenset({"key", "sig", "auth", "session", "pass"})

# a URL: scheme://, then up to whitespace or a quote; the look-behind starts a match only where a scheme can
# start, which keeps the search linear on long runs of letters
_URL = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^\s'\"<>`]+", re.IGNORECASE)
# name=value, as in a libpq connection string (password='a b'), a query, or a message quoting one
_PAIR = re.compile(r"(?<![\w.-])([a-z_][\w.-]*)(\s*=\s*)('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&'\",;)]+)",
                   re.IGNORECASE)
# "name": "value", as in JSON or a Python repr of a mapping
_QUOTED_PAIR = re.compile(r"(['\"])([\w.-]{1,100})\1(\s*:\s*)(['\"])((?:(?!\4)[^\\]|\\.){0,10000})\4")
# a quoted fragment of a message ("invalid percent-encoded token: \"...\"")
_QUOTED = re.compile(r"\"([^\"]{1,10000})\"|'([^']{1,10000})'")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# a bearer token, as an Authorization header quoted in a message or a debug log shows it
_BEARER = re.compile(r"\b(Bearer\s+)[\w.~+/=-]{6,}", re.IGNORECASE)


def secret_name(name: str) -> bool:
    """Whether a parameter called ``name`` holds a secret (password, token, key, signature, ...)."""
    words = [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if w]
    joined = "".join(words)
    return (any(w in _WORDS for w in words) or joined.endswith(_ENDS) or joined.startswith(_STARTS))


def _prose_secret(name: str) -> bool:
    """Whether ``name=value`` in free text holds a secret (the bare words of _BARE do not there)."""
    return name.lower() not in _BARE and secret_name(name)


def _pairs(text: str, separator: str = "&") -> str:
    """``name=value`` items of a query (or fragment) with each secret value masked; the rest as it was."""
    items = []
    for item in text.split(separator):
        name, eq, _value = item.partition("=")
        items.append(f"{name}={MASK}" if eq and secret_name(unquote(name)) else item)
    return separator.join(items)


def _userinfo(authority: str) -> tuple[str, str]:
    """(user info with its password masked, the rest) of ``user:password@host:port``; ("", authority) if none."""
    info, at, host = authority.rpartition("@")
    if not at:
        return "", authority
    user, colon, password = info.partition(":")
    return f"{user}{colon}{MASK if password else ''}@", host


def _hidden_userinfo(rest: str) -> int:
    """Where the host starts in ``rest`` (what follows ``scheme://``) when a password hides it, else 0.

    A ``/``, ``?`` or ``#`` left unencoded in a password ends the authority early for a URL parser, which then
    sees ``user:pa`` as a host and a port; the user info really runs to the last ``@``.
    """
    head = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in head or ":" not in head or head.startswith("[") or "@" not in rest:
        return 0
    port = head.partition(":")[2]
    return 0 if port.isdigit() else rest.rindex("@") + 1  # host:port, or user:password cut short


def redact_url(url: str) -> str:
    """``url`` with the password of its user info and the values of its secret-looking parameters as ``***``.

    ``postgresql://u:pw@db/x?sslmode=require&password=pw`` -> ``postgresql://u:***@db/x?sslmode=require&password=***``.
    Without ``://`` the text is taken as ``user:password@host...`` (a URL missing its scheme). What cannot be
    parsed keeps its scheme and user name and loses the rest.
    """
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    hidden = _hidden_userinfo(rest)
    if hidden:  # the password's end is past a / ? or #: mask up to the last @, then read the rest as usual
        after = redact_url(f"{scheme}://{rest[hidden:]}").partition("://")[2]
        return f"{scheme}{sep}{_userinfo(rest[:hidden])[0]}{after}"
    try:
        parts = urlsplit("//" + rest)
    except ValueError:  # an unclosed [ of an IPv6 address
        user = rest.partition("@")[0].partition(":")[0] if "@" in rest else ""
        return f"{scheme}{sep}{user + ':' + MASK + '@' if user else ''}{MASK}"
    info, host = _userinfo(parts.netloc)
    if not sep and not info and not parts.query:  # no scheme, no user info: not a URL at all
        return text
    query = f"?{_pairs(parts.query)}" if "?" in rest else ""
    fragment = f"#{_pairs(parts.fragment)}" if "#" in rest else ""
    return f"{scheme}{sep}{info}{host}{parts.path}{query}{fragment}"


def url_secrets(url: str) -> list[str]:
    """The secrets written in ``url`` (its password, secret parameters' values), as written and decoded.

    For messages that quote them outside any URL, as libpq's parse errors do (``invalid percent-encoded
    token: "pa%zz"``). A connection string of ``name=value`` items gives the values of secret names.
    """
    text = str(url)
    _, sep, rest = text.partition("://")
    if not sep:
        values = [m[3] for m in _PAIR.finditer(text) if secret_name(m[1])]
        found = values + [v[1:-1] for v in values if v[:1] in "'\""]  # password='a b': a b, as libpq reads it
    else:
        hidden = _hidden_userinfo(rest)
        info = rest[:hidden - 1] if hidden else re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[0]
        query = rest.partition("?")[2].partition("#")[0]
        found = [info.partition(":")[2]] + [value for name, eq, value in (i.partition("=") for i in query.split("&"))
                                            if eq and secret_name(unquote(name))]
    return sorted({s for f in found for s in (f, unquote(f)) if s}, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text (an exception's message, a log line) with every URL, connection string and key in it redacted.

    ``secrets`` are values known to be secret (``url_secrets`` of the URL a failing library was given): they
    are masked wherever they appear, and so is any quoted fragment of one.
    """
    text = str(text)
    known = [s for s in secrets if s]
    for secret in known:
        text = text.replace(secret, MASK)
    if known:
        text = _QUOTED.sub(lambda m: f'"{MASK}"' if any((m[1] or m[2]) in s for s in known) else m[0], text)
    text = _URL.sub(lambda m: redact_url(m[0]), text)
    text = _BEARER.sub(lambda m: f"{m[1]}{MASK}", text)
    text = _PAIR.sub(lambda m: f"{m[1]}{m[2]}{MASK}" if _prose_secret(m[1]) and m[3] != MASK else m[0], text)
    return _QUOTED_PAIR.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{MASK}{m[4]}" if secret_name(m[2]) else m[0],
                            text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (httpx logs every request's URL, user info included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its redacted text; the record is always kept."""
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = RedactingFilter()
# the libraries that log the URLs they call (the project's own log lines are redacted where they are written)
LOGGERS = ("httpx", "httpcore", "openai", "langchain_openai")


def redact_logs(names: Iterable[str] = LOGGERS) -> None:
    """Redact what these loggers write (idempotent): the edges (CLI, server) call it once."""
    for name in names:
        logging.getLogger(name).addFilter(_FILTER)


SHOWN_CHARS = 120  # of a bad value, echoed back in its error: enough to recognise it, never a whole document


def shown_value(value: object) -> str:
    """A value given for a setting, as an error echoes it: secrets masked, cut to SHOWN_CHARS.

    The value may be a URL or a connection string missing a part (often why it was refused): it is read as one.
    """
    shown = repr(redact_text(redact_url(value))) if isinstance(value, str) else redact_text(repr(value))
    return shown if len(shown) <= SHOWN_CHARS else shown[:SHOWN_CHARS - 1] + "…"
