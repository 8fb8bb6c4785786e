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
class Settings:
    """Process-wide settings: where data lives and how to reach the model."""

    home: Path
    base_url: str
    model: str
    api_key: str
    structured_output: StructuredMethod
    request_timeout: float
    max_retries: int

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
    return Settings(
        home=Path(home).expanduser(),
        base_url=base_url.rstrip("/"),
        model=env.get("DEEPRESEARCH_MODEL", "").strip() or DEFAULT_MODEL,
        api_key=env.get("DEEPRESEARCH_API_KEY", "").strip() or "EMPTY",
        structured_output=cast(StructuredMethod, method),
        request_timeout=_number(env, "DEEPRESEARCH_TIMEOUT", 300.0, 1.0),
        max_retries=int(_number(env, "DEEPRESEARCH_MAX_RETRIES", 4, 0)),
    )
