"""Run configuration (LangGraph ``context_schema``): every field has a default and a description.

Studio renders these as the run's form; the CLI builds one from its flags. Fields left at ``None``
take their value from the environment (see ``deepresearch.settings``) when the run starts.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args, get_origin, get_type_hints

from deepresearch.errors import ConfigError
from deepresearch.settings import STRUCTURED_METHODS, StructuredMethod, load_settings

SearchBackendName = Literal["local", "duckduckgo", "searxng", "serper", "tavily", "auto"]
SEARCH_BACKENDS: tuple[str, ...] = get_args(SearchBackendName)
ENDPOINT_FIELDS = ("model", "base_url", "extraction_model", "structured_output")


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


def _convert(key: str, raw: str, hint: Any) -> Any:
    """Convert a command-line string to the field's type (int, float, bool, str or a Literal)."""
    kinds = [hint] if get_origin(hint) is Literal else [a for a in get_args(hint) if a is not type(None)] or [hint]
    if get_origin(kinds[0]) is Literal:
        choices = get_args(kinds[0])
        if raw not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {raw!r}")
        return raw
    kind = kinds[0]
    try:
        if kind is bool:
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1", "yes")
        value = kind(raw)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(raw)
        return value
    except ValueError:
        raise ConfigError(f"{key} must be {getattr(kind, '__name__', kind)}, got {raw!r}") from None


@dataclass
class Context:
    """How one research run behaves: endpoint, search, limits and budgets."""

    model: str | None = field(
        default=None,
        metadata=_doc("Model name served by the endpoint. Empty: DEEPRESEARCH_MODEL "
                      "(default Alibaba-NLP/Tongyi-DeepResearch-30B-A3B)."),
    )
    base_url: str | None = field(
        default=None,
        metadata=_doc("OpenAI-compatible base URL. Empty: DEEPRESEARCH_BASE_URL (default http://localhost:8000/v1)."),
    )
    extraction_model: str | None = field(
        default=None, metadata=_doc("Model that reads pages and extracts evidence. Empty: the main model."),
    )
    structured_output: StructuredMethod | None = field(
        default=None,
        metadata=_doc("How JSON replies are requested: json_schema, tool_calling or text. "
                      "Empty: DEEPRESEARCH_STRUCTURED_OUTPUT (default json_schema)."),
    )
    search: SearchBackendName = field(
        default="local",
        metadata=_doc("Search backend: local (the ingested corpus), duckduckgo (no key), searxng (SEARXNG_URL), "
                      "serper (SERPER_API_KEY), tavily (TAVILY_API_KEY), or auto (the first configured of "
                      "serper, tavily, searxng, else duckduckgo)."),
    )
    max_rounds: int = field(default=8, metadata=_doc("Research rounds before a forced answer."))
    queries_per_round: int = field(default=3, metadata=_doc("Search queries the planner may issue per round."))
    results_per_query: int = field(default=5, metadata=_doc("Search results kept per query."))
    pages_per_round: int = field(default=4, metadata=_doc("Pages read (in parallel) per round."))
    max_stalls: int = field(
        default=2, metadata=_doc("Rounds in a row without new evidence before answering with what is known."),
    )
    max_llm_calls: int = field(default=60, metadata=_doc("Budget: model calls per thread."))
    max_tokens: int = field(default=500_000, metadata=_doc("Budget: prompt + completion tokens per thread."))
    deadline_seconds: float = field(
        default=1800.0, metadata=_doc("Budget: wall-clock seconds per run or resume."),
    )
    max_page_chars: int = field(default=24_000, metadata=_doc("Characters of one page shown to the reader."))
    report_max_words: int = field(default=500, metadata=_doc("Length limit of the evolving report."))
    temperature: float = field(default=0.6, metadata=_doc("Sampling temperature."))
    max_output_tokens: int = field(default=8192, metadata=_doc("Completion tokens per model call."))
    review_plan: bool = field(
        default=False, metadata=_doc("Stop after each plan so a person can edit or approve the queries."),
    )
    started_at: float = field(
        default=0.0, metadata=_doc("Unix time the deadline counts from; 0 means when the run starts."),
    )

    def __post_init__(self) -> None:
        settings = load_settings()
        self.model = self.model or settings.model
        self.base_url = (self.base_url or settings.base_url).rstrip("/")
        self.extraction_model = self.extraction_model or self.model
        self.structured_output = self.structured_output or settings.structured_output
        self.started_at = self.started_at or time.time()
        self.validate()

    def validate(self) -> None:
        """Reject values no run could use, with a message naming the field."""
        self._check_types()
        if self.structured_output not in STRUCTURED_METHODS:
            raise ConfigError(f"structured_output must be one of {', '.join(STRUCTURED_METHODS)}, "
                              f"got {self.structured_output!r}")
        if self.search not in SEARCH_BACKENDS:
            raise ConfigError(f"unknown search backend {self.search!r} (choose from {', '.join(SEARCH_BACKENDS)})")
        for name in ("max_rounds", "queries_per_round", "results_per_query", "pages_per_round",
                     "max_llm_calls", "max_tokens", "max_page_chars", "report_max_words", "max_output_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_stalls < 1:
            raise ConfigError(f"max_stalls must be at least 1, got {self.max_stalls}")
        if not (math.isfinite(self.deadline_seconds) and self.deadline_seconds > 0):
            raise ConfigError(f"deadline_seconds must be a positive number, got {self.deadline_seconds}")
        if not (math.isfinite(self.temperature) and 0 <= self.temperature <= 2):
            raise ConfigError(f"temperature must be between 0 and 2, got {self.temperature}")
        if not str(self.base_url).startswith(("http://", "https://")):
            raise ConfigError(f"base_url must start with http:// or https://, got {self.base_url!r}")

    def _check_types(self) -> None:
        """Values from an API client arrive as JSON: each must already have its field's type."""
        for name, hint in get_type_hints(type(self)).items():
            value = getattr(self, name)
            kinds = [hint] if get_origin(hint) is Literal else [a for a in get_args(hint) if a is not type(None)]
            kind = kinds[0] if kinds else hint
            if get_origin(kind) is Literal:
                continue  # checked against its choices in validate()
            ok = (value is None and type(None) in get_args(hint)) or (
                isinstance(value, bool) if kind is bool
                else isinstance(value, int | float) and not isinstance(value, bool) if kind is float
                else isinstance(value, int) and not isinstance(value, bool) if kind is int
                else isinstance(value, kind))
            if not ok:
                raise ConfigError(f"{name} must be {getattr(kind, '__name__', kind)}, got {value!r}")

    @property
    def deadline_at(self) -> float:
        """Unix time this run's wall-clock budget ends."""
        return self.started_at + self.deadline_seconds

    def to_dict(self) -> dict[str, Any]:
        """The settings saved with a thread for resume.

        Endpoint fields are kept only when they were set for this run; those that came from the
        environment are left out, so a resumed thread reads the environment again.
        """
        data = asdict(self)
        data.pop("started_at")
        env = load_settings()
        from_env = {"model": env.model, "base_url": env.base_url, "extraction_model": self.model,
                    "structured_output": env.structured_output}
        for name in ENDPOINT_FIELDS:
            if data[name] == from_env[name]:
                data.pop(name)
        return data

    @classmethod
    def parse_assignments(cls, items: list[str]) -> dict[str, Any]:
        """Turn ``KEY=VALUE`` strings into typed field values (for `--set` on the command line)."""
        hints = get_type_hints(cls)
        names = [f.name for f in fields(cls) if f.name != "started_at"]
        out: dict[str, Any] = {}
        for item in items:
            key, sep, raw = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in names:
                raise ConfigError(f"--set expects KEY=VALUE with KEY one of: {', '.join(names)} (got {item!r})")
            out[key] = _convert(key, raw.strip(), hints[key])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], **overrides: Any) -> Context:
        """Rebuild from ``to_dict`` output, ignoring unknown keys, then apply non-None overrides."""
        known = {f.name for f in fields(cls)} - {"started_at"}
        given = {**data, **{k: v for k, v in overrides.items() if v is not None}}
        values = {k: v for k, v in given.items() if k in known and v is not None}
        return cls(**values)
