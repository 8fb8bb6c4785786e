"""Shared fixtures: an isolated data home, the test corpus, and the toy model behind a real HTTP server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.model_server import ModelServer
from tests.fakes.pdf import make_pdf
from tests.fakes.toy_model import Hop, Scenario, ToyModel

DATA = Path(__file__).parent / "data"

TOWN_GUIDE = [
    ["Velmora Town Guide", "Velmora sits on the north coast. Its harbour is busy in summer.",
     "The Velmora Public Library on Harbour Street was designed by Ilse Marrow and opened in 1962."],
    ["Markets are held on Saturdays in Velmora, and the lighthouse is open in July."],
]

QUESTION = ("In what year was the architect born who designed the public library of the town "
            "where the film Glass Harbor premiered?")


def glass_harbor(**options: object) -> Scenario:
    """Three hops: film -> town -> library architect -> birth year (answer 1921)."""
    hops = [
        Hop("premiere town", r"Glass Harbor[^.]*premiered in (?P<town>[A-Z][a-z]+)", "Glass Harbor film premiere",
            alt_query="Glass Harbor drama premiered"),
        Hop("library architect", r"{town} Public Library[^.]*designed by (?P<architect>[A-Z][a-z]+ [A-Z][a-z]+)",
            "{town} library architect", alt_query="{town} public library designed by"),
        Hop("birth year", r"{architect}[^.]*\bborn (?:in )?(?P<year>\d{{4}})", "{architect} architect born"),
    ]
    return Scenario(hops=hops, answer="{year}", **options)  # type: ignore[arg-type]


def write_corpus(target: Path) -> Path:
    shutil.copytree(DATA / "corpus", target)
    (target / "velmora_town_guide.pdf").write_bytes(make_pdf(TOWN_GUIDE, "Velmora Town Guide"))
    return target


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("DEEPRESEARCH_HOME", str(path))
    for name in ("DEEPRESEARCH_MODEL", "DEEPRESEARCH_API_KEY", "DEEPRESEARCH_STRUCTURED_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DEEPRESEARCH_MAX_RETRIES", "1")
    monkeypatch.setenv("DEEPRESEARCH_TIMEOUT", "20")
    return path


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def model_server(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    with ModelServer(ToyModel(glass_harbor())) as server:
        monkeypatch.setenv("DEEPRESEARCH_BASE_URL", server.base_url)
        yield server
