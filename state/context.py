"""Run configuration (LangGraph ``context_schema``): a validated pydantic model.

Every field has a default and a description, which Studio renders as the run's form. The edge (CLI,
server) reads the environment once and binds it with ``Context.bind(settings)``: the bound class takes
its endpoint defaults from those settings and hands them to the nodes, which never read the
environment. Every value a node sees is resolved; nothing is left to be looked up later.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from core.errors import ConfigError
from core.settings import Settings, one_line
from core.urls import http_url
from core.vocabulary import PromptFormat, ReactToolFormat, ReportLength, SearchBackendName, StructuredSetting

MAX_ROUNDS = 50  # the recursion limit is derived from this bound (graphs.iterresearch.recursion_limit)
MAX_REACT_CALLS = 300  # and for ReAct from this one
MAX_QUESTION_CHARS = 100_000  # the longest question any run may be allowed (max_question_chars)
# the fields whose defaults are the process settings of the same name (Context.bind), DEEPRESEARCH_* as the
# CLI or server started
FROM_SETTINGS = ("model", "base_url", "structured_output")
# endpoint fields are kept with a thread only when given for the run: a resumed thread reads the rest afresh
ENDPOINT_FIELDS = (*FROM_SETTINGS, "extraction_model")


MAX_QUERIES_PER_ROUND = 20  # and so the most a reply schema lets a model list
REACT_CONTEXTS = ("full", "discard_all", "summarize")  # and keep_last:K, with 1 <= K <= MAX_KEEP_LAST
MAX_KEEP_LAST = 50


def react_context_policy(value: str) -> tuple[str, int]:
    """(policy, K) of a ``react_context`` value (K: responses kept verbatim, for keep_last only, else 0).

    Raises ValueError, in one line, for any other value.
    """
    name, sep, count = value.partition(":")
    if not sep and name in REACT_CONTEXTS:
        return name, 0
    if name == "keep_last" and sep and count.isdigit() and 1 <= int(count) <= MAX_KEEP_LAST:
        return name, int(count)
    raise ValueError(f"must be full, keep_last:K (K from 1 to {MAX_KEEP_LAST}), discard_all or summarize")


def _settings_default(name: str) -> Any:
    """The default of the process setting ``name``: an unbound Context starts where the settings do."""
    return Settings.model_fields[name].get_default(call_default_factory=True)


class Context(BaseModel):
    """How one research run behaves: endpoint, search, limits and budgets."""

    # values from an API client arrive as JSON: each must already have its field's type (no "8" for 8); a
    # refused value is not echoed to the client (a base URL may hold a password: one_line shows it redacted)
    model_config = ConfigDict(strict=True, extra="forbid", title="Context", hide_input_in_errors=True)

    model: str = Field(_settings_default("model"), min_length=1, description="Model name served by the endpoint "
                       "(default: DEEPRESEARCH_MODEL as the CLI or server started).")
    base_url: str = Field(_settings_default("base_url"), description="OpenAI-compatible base URL "
                          "(default: DEEPRESEARCH_BASE_URL as the CLI or server started). The API key goes only "
                          "to that URL's origin and those in DEEPRESEARCH_API_KEY_ORIGINS; any other gets none.")
    extraction_model: str = Field("", description="Model that reads pages and extracts evidence. "
                                  "Empty: the main model.")
    structured_output: StructuredSetting = Field(
        _settings_default("structured_output"), description="How JSON replies are requested: json_schema, "
        "tool_calling or text, or auto (the method the server was probed to support, remembered in the home) "
        "(default: DEEPRESEARCH_STRUCTURED_OUTPUT as the CLI or server started).")
    search: SearchBackendName = Field(
        "local", description="Search backend: local (the ingested corpus), duckduckgo (no key), searxng "
        "(SEARXNG_URL), serper (SERPER_API_KEY), tavily (TAVILY_API_KEY), or auto (the first configured of "
        "serper, tavily, searxng, else duckduckgo).")
    max_rounds: int = Field(8, ge=1, le=MAX_ROUNDS, description="Research rounds before a forced answer.")
    max_question_chars: int = Field(4000, ge=1, le=MAX_QUESTION_CHARS, description="Longest question accepted (every "
                                    "prompt carries it).")
    queries_per_round: int = Field(3, ge=1, le=MAX_QUERIES_PER_ROUND,
                                   description="Search queries the planner may issue per round.")
    results_per_query: int = Field(5, ge=1, le=50, description="Search results kept per query.")
    pages_per_round: int = Field(4, ge=1, le=20, description="Pages read (in parallel) per round.")
    max_stalls: int = Field(2, ge=1, description="Rounds in a row without new evidence before answering "
                            "with what is known.")
    max_llm_calls: int = Field(60, ge=1, description="Budget: model calls per thread.")
    max_tokens: int = Field(500_000, ge=1, description="Budget: prompt + completion tokens per thread.")
    deadline_seconds: float = Field(1800.0, gt=0, allow_inf_nan=False,
                                    description="Budget: wall-clock seconds per run or resume.")
    read_deadline_seconds: float = Field(
        20.0, gt=0, allow_inf_nan=False,
        description="The longest one straggler may hold a round: once half of a round's reads (or searches) are "
        "in, one still running after three times their median time (at least 2 s), or this many seconds after "
        "that point if sooner, is cancelled and tried again in a later round; a page it was loading goes on "
        "loading in the background for that round.")
    max_page_chars: int = Field(24_000, ge=1, description="Characters of one page shown to the reader.")
    report_max_words: int = Field(500, ge=1, description="Length limit of the evolving report.")
    temperature: float = Field(0.6, ge=0, le=2, allow_inf_nan=False, description="Sampling temperature.")
    max_output_tokens: int = Field(8192, ge=1, description="Completion tokens per model call.")
    review_plan: bool = Field(False, description="Stop after each plan so a person can edit or approve the queries.")
    prompt_format: PromptFormat = Field(
        "json", description="How the round's main call is asked: json (a JSON reply per step) or native (the "
        "workspace format IterResearch was trained on: <report>, <tool_call>, <tool_response>, <answer>).")
    report_length: ReportLength = Field(
        "short", description="The final report: short is built from the evolving report when the research "
        "answered the question (no further model call); long is the final writer's report followed by "
        "sections: one call outlines them from the evidence, then one call per section writes it from only the "
        "sources cited under it, all in one numbering (the single final writer's report when the budget cannot "
        "pay for that).")
    section_concurrency: int = Field(3, ge=1, le=16, description="Long report: sections written at once.")
    unverified_marker: str = Field(
        "[unverified]", max_length=40, description="What marks a sentence of the final report whose cited source "
        "does not say it and that no other retrieved source supports (its citation is removed); empty: no mark.")
    react_max_calls: int = Field(100, ge=2, le=MAX_REACT_CALLS, description="ReAct: the agent's model calls "
                                 "before a forced answer (page readers not counted), as the original's 100.")
    react_context_tokens: int = Field(110_000, ge=1000, description="ReAct: the model's context in tokens when "
                                      "the endpoint does not say (it is read from /models); near it the agent "
                                      "is told to answer.")
    react_tool_format: ReactToolFormat = Field(
        "auto", description="ReAct: how tools are called: tags (<tool_call> in the reply, as the model was "
        "trained), openai (tools sent in the request, tool_calls read back), or auto (tags; tool_calls too when "
        "the server parses them).")
    react_context: str = Field(
        "full", description="ReAct: what the agent's prompt keeps of the trajectory: full (everything, until a "
        "forced answer near the model's context), keep_last:K (the last K tool responses verbatim, earlier ones "
        "replaced by a one-line stub), discard_all (near the context, every earlier tool response is dropped and "
        "the run goes on) or summarize (at half the context, the trajectory so far is replaced by a summary one "
        "model call writes). The thread keeps the full trajectory either way.")
    react_temperature: float = Field(0.85, ge=0, le=2, allow_inf_nan=False,
                                     description="ReAct: sampling temperature (the model card's 0.85).")
    presence_penalty: float = Field(1.1, ge=-2, le=2, allow_inf_nan=False,
                                    description="ReAct: presence penalty (the model card's 1.1; 0 sends none).")
    heavy_agents: int = Field(3, ge=1, le=16, description="Heavy: IterResearch agents run in parallel, each "
                              "from its own angle, before one synthesis (--agents).")
    heavy_concurrency: int = Field(3, ge=1, le=16, description="Heavy: agents running at once; the budgets "
                                   "(max_llm_calls, max_tokens) are split between all agents.")
    # when this run's deadline counts from: set as the context is built, never shown in forms
    started_at: SkipJsonSchema[float] = Field(default_factory=time.time, exclude=True)

    # the process settings this class was bound to (None: unbound, as in tests of pure nodes)
    bound_settings: ClassVar[Settings | None] = None

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        return http_url(value).rstrip("/")  # scheme, host, port and length, as for DEEPRESEARCH_BASE_URL

    @field_validator("react_context")
    @classmethod
    def _react_context(cls, value: str) -> str:
        react_context_policy(value)
        return value

    @model_validator(mode="after")
    def _reader_model(self) -> Context:
        if not self.extraction_model:
            # resolved here, once: the reader uses the main model unless told otherwise
            self.__dict__["extraction_model"] = self.model
        return self

    @property
    def settings(self) -> Settings:
        """The process settings (keys, data home, web limits) this run's context was bound to."""
        if self.bound_settings is None:
            raise ConfigError("this Context is not bound to settings: build it from Context.bind(settings)")
        return self.bound_settings

    @property
    def deadline_at(self) -> float:
        """Unix time this run's wall-clock budget ends."""
        return self.started_at + self.deadline_seconds

    @classmethod
    def bind(cls, settings: Settings) -> type[Context]:
        """A Context class whose endpoint defaults are these settings', and which hands them to the nodes."""
        fields = cls.model_fields
        defaults = {name: getattr(settings, name) for name in FROM_SETTINGS}
        overrides: dict[str, Any] = {
            name: (fields[name].annotation, Field(value, description=fields[name].description))
            for name, value in defaults.items()}
        bound = create_model("Context", __base__=cls, __doc__=cls.__doc__, __module__=cls.__module__, **overrides)
        bound.bound_settings = settings
        return bound

    @classmethod
    def run_settings(cls) -> list[str]:
        """The fields a run may set (`--set`, a saved thread, an API client): all but those kept out of forms."""
        return [name for name, info in cls.model_fields.items() if not info.exclude]

    @classmethod
    def build(cls, data: dict[str, Any] | None = None, **overrides: Any) -> Context:
        """Validate settings saved with a thread (unknown keys ignored) plus non-None overrides."""
        known = set(cls.run_settings())
        given = {**(data or {}), **{k: v for k, v in overrides.items() if v is not None}}
        try:
            return cls(**{k: v for k, v in given.items() if k in known and v is not None})
        except ValidationError as exc:
            raise ConfigError(one_line(exc, ": ")) from None

    @classmethod
    def parse_assignments(cls, items: list[str]) -> dict[str, Any]:
        """Turn ``KEY=VALUE`` strings into typed field values (for `--set` on the command line)."""
        names = cls.run_settings()
        raw: dict[str, str] = {}
        for item in items:
            key, sep, value = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in names:
                raise ConfigError(f"--set expects KEY=VALUE with KEY one of: {', '.join(names)} (got {item!r})")
            raw[key] = value.strip()
        try:  # strings are converted to each field's type, then checked as any context is
            parsed = cls.model_validate_strings(raw)
        except ValidationError as exc:
            raise ConfigError(one_line(exc, ": ")) from None
        return {key: getattr(parsed, key) for key in raw}

    def to_dict(self) -> dict[str, Any]:
        """The settings saved with a thread for resume.

        Endpoint fields are kept only when they were given for this run; those that came from the
        environment are left out, so a resumed thread reads the environment again.
        """
        data = self.model_dump()
        for name in ENDPOINT_FIELDS:
            if name not in self.model_fields_set:
                data.pop(name)
        if data.get("extraction_model") == self.model:
            data.pop("extraction_model", None)
        return data
