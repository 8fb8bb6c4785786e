"""The graph's wiring, as a Mermaid snapshot: a change to nodes or edges shows up here."""

from pathlib import Path

from graphs.iterresearch import build_graph, graph

SNAPSHOT = Path(__file__).parent / "data" / "iterresearch.mmd"


def test_mermaid_snapshot() -> None:
    assert graph.get_graph().draw_mermaid() == SNAPSHOT.read_text()


def test_studio_graph_has_no_checkpointer_and_typed_schemas() -> None:
    assert graph.checkpointer is None
    compiled = build_graph().compile()
    assert list(compiled.get_input_jsonschema()["properties"]) == ["question"]
    assert set(compiled.get_output_jsonschema()["properties"]) == {"answer", "report", "sources"}
    context = compiled.get_context_jsonschema()["properties"]
    assert context["max_rounds"]["default"] == 8 and context["max_rounds"]["description"]


def test_graph_command_prints_the_mermaid(tmp_path: Path) -> None:
    from tests.cli_helpers import cli, cli_env

    done = cli(cli_env(tmp_path / "home"), "graph", "--mode", "iter")
    assert done.returncode == 0 and done.stdout == SNAPSHOT.read_text()
