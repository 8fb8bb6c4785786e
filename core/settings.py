"""Process settings, read from the environment once, at the edge (CLI, server), and validated by pydantic.

Everything below the edge takes a ``Settings`` (or the ``WebSettings`` inside it) as an argument and
never reads the environment itself.
"""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError, StorageError
from core.limits import ParseLimits
from core.redact import redact_text, shown_value
from core.urls import http_url, origins, url_origin
from core.vocabulary import StructuredSetting

DEFAULT_BASE_URL = "http://localhost:8000/v1"
DEFAULT_MODEL = "Alibaba-NLP/Tongyi-DeepResearch-30B-A3B"
USER_AGENT = "deepresearch/0.1 (research agent; +https://github.com/Alibaba-NLP/DeepResearch)"
NO_KEY = "EMPTY"  # the model key sent where none may go: what a vLLM started without --api-key accepts
BYTES_PER_MB = 1_000_000
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class WebSettings:
    """Search backends' endpoints and keys, and the limits of page fetching."""

    searxng_url: str = ""
    serper_api_key: str = field(default="", repr=False)
    serper_base_url: str = "https://google.serper.dev"
    tavily_api_key: str = field(default="", repr=False)
    tavily_base_url: str = "https://api.tavily.com"
    jina_api_key: str = field(default="", repr=False)
    jina_base_url: str = "https://r.jina.ai"
    allow_private_network: str = ""  # "", "1" (everything) or a comma list of addresses / networks
    respect_robots: bool = True
    max_page_bytes: int = 10_000_000
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    fetch_timeout: float = 45.0  # one page, redirects and retries included
    max_redirects: int = 5
    page_ttl: float = 7 * 24 * float(SECONDS_PER_HOUR)
    max_connections: int = 16
    per_host: int = 4
    user_agent: str = USER_AGENT


def _http_url(value: str) -> str:
    value = value.strip()
    return http_url(value).rstrip("/") if value else value


def _finite(value: float) -> float:
    if not math.isfinite(value) or value > 1e9:
        raise ValueError("must be a finite number")
    return value


def _networks(value: str) -> str:
    """``""``/``0``: none; ``1``: every address; else a comma list of addresses or networks."""
    value = value.strip()
    if value.lower() in ("", "0", "false", "no", "off", "1", "true", "yes", "on"):
        return value
    for part in (p.strip() for p in value.split(",")):
        if part:
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                raise ValueError(f"must be 1 or a list of addresses/networks ({exc})") from None
    return value


def _postgres_url(value: str) -> str:
    value = value.strip()
    if value and not value.startswith(("postgres://", "postgresql://")):
        raise ValueError("must be a postgres:// or postgresql:// URL (empty: checkpoints.db in DEEPRESEARCH_HOME)")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
# finite numbers, each named for its unit: the variable's name says the unit, the type says it again
Seconds = Annotated[float, AfterValidator(_finite)]
Megabytes = Annotated[float, AfterValidator(_finite)]
Hours = Annotated[float, AfterValidator(_finite)]


class Settings(BaseSettings):
    """Process-wide settings: where data lives, how to reach the model, how to reach the web."""

    model_config = SettingsConfigDict(frozen=True, env_ignore_empty=True, extra="ignore", case_sensitive=True)

    home: Path = Field(default_factory=lambda: Path.home() / ".deepresearch", validation_alias="DEEPRESEARCH_HOME")
    base_url: HttpUrl = Field(DEFAULT_BASE_URL, validation_alias="DEEPRESEARCH_BASE_URL")
    model: str = Field(DEFAULT_MODEL, validation_alias="DEEPRESEARCH_MODEL")
    api_key: SecretStr = Field(SecretStr(NO_KEY), validation_alias="DEEPRESEARCH_API_KEY")
    api_key_origins: Annotated[str, AfterValidator(origins)] = Field(
        "", validation_alias="DEEPRESEARCH_API_KEY_ORIGINS")
    structured_output: StructuredSetting = Field("auto", validation_alias="DEEPRESEARCH_STRUCTURED_OUTPUT")
    request_timeout: Seconds = Field(300.0, ge=1, validation_alias="DEEPRESEARCH_TIMEOUT")
    max_retries: int = Field(4, ge=0, le=100, validation_alias="DEEPRESEARCH_MAX_RETRIES")
    searxng_url: HttpUrl = Field("", validation_alias="SEARXNG_URL")
    sandbox_url: HttpUrl = Field("", validation_alias="SANDBOX_FUSION_ENDPOINT")
    checkpoint_url: Annotated[str, AfterValidator(_postgres_url)] = Field(
        "", validation_alias="DEEPRESEARCH_CHECKPOINT_URL")
    judge_base_url: HttpUrl = Field("", validation_alias="DEEPRESEARCH_JUDGE_BASE_URL")
    judge_model: str = Field("", validation_alias="DEEPRESEARCH_JUDGE_MODEL")
    judge_api_key: SecretStr = Field(SecretStr(""), validation_alias="DEEPRESEARCH_JUDGE_API_KEY")
    # the only key `eval --server` sends (langgraph-sdk would send LANGGRAPH_/LANGSMITH_API_KEY to any URL)
    server_api_key: SecretStr = Field(SecretStr(""), validation_alias="DEEPRESEARCH_SERVER_API_KEY")
    serper_api_key: SecretStr = Field(SecretStr(""), validation_alias="SERPER_API_KEY")
    serper_base_url: HttpUrl = Field(WebSettings.serper_base_url, validation_alias="SERPER_BASE_URL")
    tavily_api_key: SecretStr = Field(SecretStr(""), validation_alias="TAVILY_API_KEY")
    tavily_base_url: HttpUrl = Field(WebSettings.tavily_base_url, validation_alias="TAVILY_BASE_URL")
    jina_api_key: SecretStr = Field(SecretStr(""), validation_alias="JINA_API_KEY")
    jina_base_url: HttpUrl = Field(WebSettings.jina_base_url, validation_alias="JINA_BASE_URL")
    allow_private_network: Annotated[str, AfterValidator(_networks)] = Field(
        "", validation_alias="DEEPRESEARCH_ALLOW_PRIVATE_NETWORK")
    respect_robots: bool = Field(WebSettings.respect_robots, validation_alias="DEEPRESEARCH_ROBOTS")
    max_page_mb: Megabytes = Field(WebSettings.max_page_bytes / BYTES_PER_MB, ge=0.001,
                                   validation_alias="DEEPRESEARCH_MAX_PAGE_MB")
    fetch_timeout: Seconds = Field(WebSettings.fetch_timeout, ge=1, validation_alias="DEEPRESEARCH_FETCH_TIMEOUT")
    page_ttl_hours: Hours = Field(WebSettings.page_ttl / SECONDS_PER_HOUR, ge=0,
                                  validation_alias="DEEPRESEARCH_PAGE_TTL_HOURS")
    fetch_per_host: int = Field(WebSettings.per_host, ge=1, le=1000, validation_alias="DEEPRESEARCH_FETCH_PER_HOST")
    parse_timeout: Seconds = Field(ParseLimits.timeout, ge=1, validation_alias="DEEPRESEARCH_PARSE_TIMEOUT")
    parse_memory_mb: int = Field(ParseLimits.memory_mb, ge=256, validation_alias="DEEPRESEARCH_PARSE_MEMORY_MB")
    max_document_mb: Megabytes = Field(ParseLimits.max_document_bytes / BYTES_PER_MB, ge=0.001,
                                       validation_alias="DEEPRESEARCH_MAX_DOCUMENT_MB")
    max_document_chars: int = Field(ParseLimits.max_chars, ge=1000, validation_alias="DEEPRESEARCH_MAX_DOCUMENT_CHARS")

    @field_validator("model", mode="after")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("home", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @cached_property
    def parsing(self) -> ParseLimits:
        """The limits of document parsing, as the readers, the parse tool and ingest take them."""
        return ParseLimits(timeout=self.parse_timeout, memory_mb=self.parse_memory_mb,
                           max_chars=self.max_document_chars,
                           max_document_bytes=int(self.max_document_mb * BYTES_PER_MB))

    @cached_property
    def web(self) -> WebSettings:
        """The web part, as the fetcher, readers and search backends take it."""
        return WebSettings(
            searxng_url=self.searxng_url, serper_api_key=self.serper_api_key.get_secret_value().strip(),
            serper_base_url=self.serper_base_url, tavily_api_key=self.tavily_api_key.get_secret_value().strip(),
            tavily_base_url=self.tavily_base_url, jina_api_key=self.jina_api_key.get_secret_value().strip(),
            jina_base_url=self.jina_base_url, allow_private_network=self.allow_private_network.strip(),
            respect_robots=self.respect_robots, max_page_bytes=int(self.max_page_mb * BYTES_PER_MB),
            fetch_timeout=self.fetch_timeout, page_ttl=self.page_ttl_hours * SECONDS_PER_HOUR,
            per_host=self.fetch_per_host)

    def api_key_for(self, base_url: str) -> str:
        """The key to send to the model endpoint at ``base_url``.

        DEEPRESEARCH_API_KEY goes only to the origin (scheme, host, port) of DEEPRESEARCH_BASE_URL and to the
        origins in DEEPRESEARCH_API_KEY_ORIGINS; any other base URL (``--set base_url=...``, the context of a
        Studio or API run) gets ``NO_KEY``.
        """
        origin = url_origin(base_url)
        keyed = {url_origin(self.base_url), *self.api_key_origins.split(",")}
        return self.api_key.get_secret_value() if origin is not None and origin in keyed else NO_KEY

    def judge(self) -> tuple[str, str, str]:
        """(base URL, model, key) of the LLM judge: its own endpoint and key, or the research endpoint's."""
        if self.judge_base_url:
            return self.judge_base_url, self.judge_model or self.model, self.judge_api_key.get_secret_value() or NO_KEY
        return self.base_url, self.judge_model or self.model, self.api_key_for(self.base_url)

    @property
    def checkpoints_db(self) -> Path:
        """SQLite file holding LangGraph checkpoints (shared by the CLI and `langgraph dev`)."""
        return self.home / "checkpoints.db"

    @property
    def corpus_db(self) -> Path:
        """SQLite FTS5 index of the local document corpus."""
        return self.home / "corpus.db"

    @property
    def pages_db(self) -> Path:
        """Content-addressed store of page text (kept out of checkpoints)."""
        return self.home / "pages.db"

    @property
    def capabilities_file(self) -> Path:
        """What each model server was probed to support, and the structured-output method chosen, per endpoint+model."""
        return self.home / "capabilities.json"

    def ensure_home(self) -> Path:
        """Create the data home if needed and return it; one this process may not write is refused before any work."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create DEEPRESEARCH_HOME {self.home}: {exc.strerror}") from exc
        if not os.access(self.home, os.W_OK | os.X_OK):  # a read-only mount, or a folder without write permission
            raise StorageError(f"DEEPRESEARCH_HOME {self.home} is read-only, and this command writes there "
                               "(`threads`, `show`, `corpus list` and `doctor` only read it)")
        return self.home


def one_line(exc: ValidationError, after_name: str = " ") -> str:
    """The first problem of a validation error as one line: the field's name, what is wrong, what was given."""
    first = exc.errors()[0]
    name = ".".join(str(p) for p in first["loc"]) or "a setting"
    message = redact_text(str(first["msg"]).removeprefix("Value error, "))
    return f"{name}{after_name}{message[0].lower() + message[1:]} (got {shown_value(first.get('input'))})"


def load_settings() -> Settings:
    """Read and validate the environment; a bad value is one ConfigError naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(one_line(exc)) from None


_CHILD_ENV = ("PATH", "LANG", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT")


def child_environment(python_path: str) -> dict[str, str]:
    """The environment a helper process (a parser) gets: locale, paths and ``python_path``; no keys, no settings."""
    import os

    env = {k: v for k, v in os.environ.items() if k in _CHILD_ENV or k.startswith("LC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [python_path, os.environ.get("PYTHONPATH", "")]))
    return env
