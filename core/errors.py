"""The project's exceptions, in one place, and what each one means.

Every error a user can cause or meet has a one-line message; the CLI prints it and exits with
``exit_code`` instead of showing a traceback. The base class is a RuntimeError so that `langgraph dev`
shows its message to API clients (it hides the text of exception types it does not know).

Three classes are signals between the project's own layers, never shown to a user as they are:
``Transient`` (worth retrying), ``ParseError`` (a model reply to repair) and ``TooLarge`` (a body past
its limit). One more lives beside the socket code it must subclass: ``tools.net.netsafety.UnsafeAddress``
is an ``httpcore.ConnectError``, so httpx carries it up from the connection pool.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from core.redact import redact_text, redact_url


class DeepResearchError(RuntimeError):
    """Base class: a failure with a message fit to show the user as one line.

    The message is redacted as the error is made (core.redact): whatever URL or connection string it quotes
    (a base URL with a password, a key in a query), no password or key reaches a user, a log or a stored record.
    """

    exit_code = 1

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(redact_text(str(message)), *args)


class UserInputError(DeepResearchError):
    """The user asked for something invalid: empty question, unknown thread, bad path or value."""


class ThreadExists(UserInputError):
    """A new run was asked for under a thread id that already has checkpoints."""


class ConfigError(DeepResearchError):
    """A setting read from the environment or given on the command line is invalid."""


class EndpointError(DeepResearchError):
    """The model endpoint cannot be used (unreachable, refuses the model, rejects the key)."""

    exit_code = 2


class EndpointUnreachable(EndpointError):
    """Nothing answers at the configured base URL, even after retries."""

    def __init__(self, base_url: str, detail: str = "") -> None:
        hint = (
            f"cannot reach the model endpoint at {base_url} (DEEPRESEARCH_BASE_URL)"
            f"{': ' + detail if detail else ''}; start one with "
            "`vllm serve Alibaba-NLP/Tongyi-DeepResearch-30B-A3B --port 8000` (a GPU), "
            "`llama-server -m MODEL.gguf --jinja --port 8000` (llama.cpp, a CPU will do), "
            "or point DEEPRESEARCH_BASE_URL at any OpenAI-compatible server"
        )
        super().__init__(hint)
        self.base_url = redact_url(base_url)  # as shown: errors carry no password


class ModelCallError(DeepResearchError):
    """A model call failed for good (timeout after retries, server error, rejected request)."""

    exit_code = 2


class ResponseFormatUnsupported(ModelCallError):
    """The server does not accept ``response_format=json_schema`` (the client switches to text mode)."""


class ToolsUnsupported(ModelCallError):
    """The server does not accept a forced tool call (``tools``/``tool_choice``): the client asks another way."""


class ServerUnavailable(DeepResearchError):
    """The LangGraph server of `eval --server` cannot be used: unreachable, not a LangGraph server, no such graph.

    Every rollout would meet it alike, so the eval stops there (what is stored stays; run again to go on).
    """

    exit_code = 2


class ServerRunError(DeepResearchError):
    """One run on the LangGraph server of `eval --server` failed: the error it reported, or its error answer."""


class StructuredOutputError(DeepResearchError):
    """The model's reply could not be parsed into the requested schema, even after one repair."""

    def __init__(self, message: str, raw: str, calls: int, tokens: int) -> None:
        super().__init__(message)
        self.raw = raw
        self.calls = calls
        self.tokens = tokens


class StorageError(DeepResearchError):
    """A database under DEEPRESEARCH_HOME cannot be opened or written (corrupt, read-only, disk full)."""


class DamagedDatabase(StorageError):
    """A database of the home is not sound SQLite (random bytes, cut short, empty): refused, never written over.

    The message names the file and what to do; ``path`` is the file.
    """

    def __init__(self, path: Path, problem: str) -> None:
        aside = shlex.quote(f"{path}.damaged")
        super().__init__(f"{path} is damaged ({problem}): move it aside (`mv {shlex.quote(str(path))} {aside}`) and "
                         "the next command that writes starts a new one; `deepresearch doctor` checks every database")
        self.path = path


class DocumentError(DeepResearchError):
    """A file could not be read or parsed as a document."""


class SearchError(DeepResearchError):
    """A search backend failed for this query (the round goes on without its results).

    ``transient`` marks failures worth trying again later (timeouts, rate limits, server errors); a
    refused key or a malformed request is not.
    """

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class SearchUnavailable(DeepResearchError):
    """The search backend cannot be reached at all (no network, DNS failure, connection refused).

    Not a failed query (a SearchError): every query would fail the same way, so the run stops here,
    resumable once the backend is back.
    """

    exit_code = 2

    def __init__(self, backend: str, detail: str) -> None:
        super().__init__(f"cannot reach the search backend {backend}: {detail}")
        self.backend = backend
        self.detail = redact_text(detail)


class ReadError(DeepResearchError):
    """A page or document could not be read (the round goes on without it).

    ``transient`` marks failures worth trying again later (timeouts, server errors); a refused,
    missing, oversized or unsupported page is not.
    """

    def __init__(self, message: str, transient: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status


class RefusedURL(ReadError):
    """The URL is not fetched by policy: not http(s), or its address is private, loopback or metadata."""


class Transient(DeepResearchError):
    """A failure worth retrying (timeout, dropped connection, 429, 5xx); ``retry_after`` in seconds if known."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None,
                 unreachable: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.unreachable = unreachable  # no connection could be made at all (not a slow or failing answer)


class ParseError(DeepResearchError):
    """A model reply holds no JSON object matching the schema; the message says why (shown to the model)."""


class TooLarge(DeepResearchError):
    """A decoded body passed its byte limit."""
