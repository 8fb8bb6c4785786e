"""Run configuration (LangGraph ``context_schema``): every field has a default and a description.

Studio renders these as the run's form; the CLI builds one from its flags. Fields left at ``None``
take their value from the environment (see ``deepresearch.settings``) when the run starts.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from deepresearch.errors import ConfigError
from deepresearch.settings import StructuredMethod, load_settings

SearchBackendName = Literal["local"]
SEARCH_BACKENDS: tuple[str, ...] = ("local",)
ENDPOINT_FIELDS = ("model", "base_url", "extraction_model", "structured_output")


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


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
    search: SearchBackendName = field(default="local", metadata=_doc("Search backend."))
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
        if self.search not in SEARCH_BACKENDS:
            raise ConfigError(f"unknown search backend {self.search!r} (choose from {', '.join(SEARCH_BACKENDS)})")
        for name in ("max_rounds", "queries_per_round", "results_per_query", "pages_per_round",
                     "max_llm_calls", "max_tokens", "max_page_chars", "report_max_words", "max_output_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_stalls < 0 or self.deadline_seconds <= 0:
            raise ConfigError("max_stalls must be >= 0 and deadline_seconds > 0")

    def to_dict(self) -> dict[str, Any]:
        """The research settings saved with a thread for resume.

        Endpoint fields are left out: a resumed thread talks to the endpoint configured now.
        """
        data = asdict(self)
        for name in ENDPOINT_FIELDS + ("started_at",):
            data.pop(name)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], **overrides: Any) -> Context:
        """Rebuild from ``to_dict`` output, ignoring unknown keys, then apply non-None overrides."""
        known = {f.name for f in fields(cls)} - {"started_at", *ENDPOINT_FIELDS}
        values = {k: v for k, v in data.items() if k in known}
        values.update({k: v for k, v in overrides.items() if v is not None and (k in known or k in ENDPOINT_FIELDS)})
        return cls(**values)
