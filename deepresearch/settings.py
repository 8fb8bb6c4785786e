"""The one place that reads the environment and converts it to typed settings."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from deepresearch.errors import ConfigError

StructuredMethod = Literal["json_schema", "tool_calling", "text"]
STRUCTURED_METHODS: tuple[StructuredMethod, ...] = ("json_schema", "tool_calling", "text")

DEFAULT_BASE_URL = "http://localhost:8000/v1"
DEFAULT_MODEL = "Alibaba-NLP/Tongyi-DeepResearch-30B-A3B"


@dataclass(frozen=True)
class WebSettings:
    """Search backends' endpoints and keys, and the limits of page fetching."""

    searxng_url: str = ""
    serper_api_key: str = ""
    serper_base_url: str = "https://google.serper.dev"
    tavily_api_key: str = ""
    tavily_base_url: str = "https://api.tavily.com"
    jina_api_key: str = ""
    jina_base_url: str = "https://r.jina.ai"
    allow_private_network: str = ""  # "", "1" (everything) or a comma list of addresses / networks
    respect_robots: bool = True
    max_page_bytes: int = 10_000_000
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    fetch_timeout: float = 45.0  # one page, redirects and retries included
    max_redirects: int = 5
    page_ttl: float = 7 * 24 * 3600.0
    max_connections: int = 16
    per_host: int = 4
    user_agent: str = "deepresearch/0.1 (research agent; +https://github.com/Alibaba-NLP/DeepResearch)"


@dataclass(frozen=True)
class Settings:
    """Process-wide settings: where data lives, how to reach the model, how to reach the web."""

    home: Path
    base_url: str
    model: str
    api_key: str
    structured_output: StructuredMethod
    request_timeout: float
    max_retries: int
    web: WebSettings = WebSettings()

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

    def ensure_home(self) -> Path:
        """Create the data home if needed and return it."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create DEEPRESEARCH_HOME {self.home}: {exc.strerror}") from exc
        return self.home


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value > 1e9:
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip().rstrip("/")
    if raw and not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://, got {raw!r}")
    return raw or default


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (or the mapping given), validating every value."""
    env = os.environ if env is None else env
    method = env.get("DEEPRESEARCH_STRUCTURED_OUTPUT", "").strip() or "json_schema"
    if method not in STRUCTURED_METHODS:
        raise ConfigError(
            f"DEEPRESEARCH_STRUCTURED_OUTPUT must be one of {', '.join(STRUCTURED_METHODS)}, got {method!r}"
        )
    base_url = env.get("DEEPRESEARCH_BASE_URL", "").strip() or DEFAULT_BASE_URL
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"DEEPRESEARCH_BASE_URL must start with http:// or https://, got {base_url!r}")
    home = env.get("DEEPRESEARCH_HOME", "").strip() or str(Path.home() / ".deepresearch")
    web = WebSettings(
        searxng_url=_url(env, "SEARXNG_URL", ""),
        serper_api_key=env.get("SERPER_API_KEY", "").strip(),
        serper_base_url=_url(env, "SERPER_BASE_URL", WebSettings.serper_base_url),
        tavily_api_key=env.get("TAVILY_API_KEY", "").strip(),
        tavily_base_url=_url(env, "TAVILY_BASE_URL", WebSettings.tavily_base_url),
        jina_api_key=env.get("JINA_API_KEY", "").strip(),
        jina_base_url=_url(env, "JINA_BASE_URL", WebSettings.jina_base_url),
        allow_private_network=env.get("DEEPRESEARCH_ALLOW_PRIVATE_NETWORK", "").strip(),
        respect_robots=_flag(env, "DEEPRESEARCH_ROBOTS", True),
        max_page_bytes=int(_number(env, "DEEPRESEARCH_MAX_PAGE_MB", 10, 0.001) * 1_000_000),
        fetch_timeout=_number(env, "DEEPRESEARCH_FETCH_TIMEOUT", WebSettings.fetch_timeout, 1),
        page_ttl=_number(env, "DEEPRESEARCH_PAGE_TTL_HOURS", WebSettings.page_ttl / 3600, 0) * 3600,
        per_host=int(_number(env, "DEEPRESEARCH_FETCH_PER_HOST", WebSettings.per_host, 1)),
    )
    return Settings(
        home=Path(home).expanduser(),
        base_url=base_url.rstrip("/"),
        model=env.get("DEEPRESEARCH_MODEL", "").strip() or DEFAULT_MODEL,
        api_key=env.get("DEEPRESEARCH_API_KEY", "").strip() or "EMPTY",
        structured_output=cast(StructuredMethod, method),
        request_timeout=_number(env, "DEEPRESEARCH_TIMEOUT", 300.0, 1.0),
        max_retries=int(_number(env, "DEEPRESEARCH_MAX_RETRIES", 4, 0)),
        web=web,
    )
