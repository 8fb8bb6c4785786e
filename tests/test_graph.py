"""The graph's wiring, as a Mermaid snapshot: a change to nodes or edges shows up here."""

from pathlib import Path

from deepresearch.server import iterresearch as graph
from graphs.iterresearch import build_graph, recursion_limit
from state.context import MAX_ROUNDS
from tests.cli_helpers import InProcess, cli_env

SNAPSHOT = Path(__file__).parent / "data" / "iterresearch.mmd"


def test_mermaid_snapshot() -> None:
    assert graph.get_graph().draw_mermaid() == SNAPSHOT.read_text()


def test_studio_graph_has_no_checkpointer_and_typed_schemas() -> None:
    assert graph.checkpointer is None
    # the longest run any context allows ends by its budgets, never by LangGraph's step limit
    assert graph.config is not None and graph.config["recursion_limit"] == recursion_limit(MAX_ROUNDS)
    compiled = build_graph().compile()
    assert list(compiled.get_input_jsonschema()["properties"]) == ["question"]
    assert set(compiled.get_output_jsonschema()["properties"]) == {"answer", "report", "sources"}
    context = compiled.get_context_jsonschema()["properties"]
    assert context["max_rounds"]["default"] == 8 and context["max_rounds"]["description"]


def test_graph_command_prints_the_mermaid(tmp_path: Path, run_cli: InProcess) -> None:
    done = run_cli(cli_env(tmp_path / "home"), "graph", "--mode", "iterresearch")
    assert done.returncode == 0 and done.stdout == SNAPSHOT.read_text()
