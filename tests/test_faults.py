"""Research under faults: a flaky endpoint, a server that refuses response formats its own way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.model_server import ModelServer
from tests.test_iterresearch import kinds, research

CITED = {"glass_harbor.md", "velmora_town_guide.pdf", "ilse_marrow.html"}


@pytest.fixture
def corpus(home: Path, corpus_dir: Path) -> Path:
    from tools.corpus.store import Corpus

    home.mkdir(parents=True, exist_ok=True)
    Corpus(home / "corpus.db").ingest([corpus_dir])
    return corpus_dir


@pytest.mark.parametrize("seed", [1, 2, 3, 9])
async def test_a_flaky_endpoint_is_not_a_dead_end(model_server: ModelServer, corpus: Path, seed: int) -> None:
    """20% HTTP 500, 10% 429 and 10% broken JSON (the client retries once): the agent rides it out."""
    import random

    model_server.faults.chaos = {500: 0.2, 429: 0.1, "garbage": 0.1}
    model_server.faults.rng = random.Random(seed)
    result, rec = await research(f"flaky-{seed}", max_llm_calls=80)
    assert result.answer == "1921", (result.report, [e for e in rec.events if e["event"] == "decide"])
    assert {Path(s["url"]).name for s in result.sources} == CITED
    assert kinds(rec, "answer")


@pytest.mark.parametrize("refusal", [(500, "1 validation error: response_format.type Input should be 'text' or "
                                            "'json_object'"),
                                     (422, "Input should be 'text' or 'json_object'"),
                                     (400, "guided decoding backend does not support this schema")])
async def test_a_refused_response_format_switches_to_text_whatever_the_status(
        model_server: ModelServer, corpus: Path, refusal: tuple[int, str]) -> None:
    """llama.cpp's Python server answers HTTP 500 with pydantic's message: still a refusal, not an outage.

    json_schema forced: with auto, the probe would have seen the refusal and chosen tool_calling before the run.
    """
    model_server.faults.reject_json_schema = True
    model_server.faults.json_schema_refusal = refusal
    result, rec = await research(f"format-{refusal[0]}", structured_output="json_schema")
    assert result.answer == "1921" and {Path(s["url"]).name for s in result.sources} == CITED
    assert {c.method for c in model_server.calls() if c.role != "final"} == {"text"}
    assert not [f for f in result.failures if "reach" in f["error"]]
