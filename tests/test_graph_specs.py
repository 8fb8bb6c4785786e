"""Each graph declares what the runner must know of it; the runner, server and CLI name none of its nodes."""

import ast
import json
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from core.vocabulary import MODES
from graphs.iterresearch import STEPS_PER_ROUND
from graphs.registry import GRAPHS, SPECS, step_limit
from graphs.spec import GraphSpec, Restart
from state.context import Context

ROOT = Path(__file__).parent.parent
# strings in deepresearch/ that equal a node's name but name something else, with what they name
NOT_NODES = {("cli/common.py", "search"): "a run setting", ("cli/common.py", "review"): "a thread's status",
             ("evaluation/data.py", "answer"): "a data set's field"}
EVENTS = "progress.py"  # shows the nodes' progress events, which are named as the nodes; it never drives a graph


def restarts(spec: GraphSpec) -> list[Restart]:
    return [spec.restart] + ([spec.reopen.restart] if spec.reopen else [])


@pytest.mark.parametrize("graph_id", SPECS)
def test_each_spec_names_nodes_and_state_keys_of_its_graph(graph_id: str) -> None:
    spec = SPECS[graph_id]
    builder = spec.build(Context)
    for restart in restarts(spec):
        assert restart.as_node in builder.nodes
        assert set(restart.update) <= set(builder.channels)
    if spec.reopen:
        assert spec.reopen.before in builder.nodes


@pytest.mark.parametrize(("graph_id", "after"), [("iterresearch", ("plan",)), ("react", ("agent",)),
                                                 ("heavy", ("combine",))])
def test_a_restarted_thread_goes_on_with_the_step_after_the_restart_node(graph_id: str, after: tuple[str]) -> None:
    """Written as the spec says, a thread's next step is the one the graph wires after that node."""
    graph = SPECS[graph_id].build(Context).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": graph_id}}
    restart = SPECS[graph_id].restart
    graph.update_state(config, restart.values(), as_node=restart.as_node)
    assert graph.get_state(config).next == after


def test_only_iterresearch_threads_research_on_with_a_larger_budget() -> None:
    assert [graph_id for graph_id, spec in SPECS.items() if spec.reopen] == ["iterresearch"]
    reopen = SPECS["iterresearch"].reopen
    assert reopen is not None and reopen.settled({"answered": True}) and not reopen.settled({})


def test_the_registry_serves_every_mode_and_every_langgraph_json_graph() -> None:
    served = json.loads((ROOT / "langgraph.json").read_text())["graphs"]
    assert set(SPECS) == set(GRAPHS) == set(MODES) == set(served)


def test_a_round_is_every_iterresearch_node_but_the_answer() -> None:
    """The step limit counts the longest round: each node but the answer once."""
    assert STEPS_PER_ROUND == len(SPECS["iterresearch"].build(Context).nodes) - 1


def test_step_limits_follow_the_context_budgets() -> None:
    small, large = Context(max_rounds=2, react_max_calls=3), Context(max_rounds=20, react_max_calls=30)
    for graph_id in SPECS:
        assert step_limit(graph_id, small) < step_limit(graph_id, large) <= step_limit(graph_id)
    assert step_limit("heavy", small) == step_limit("iterresearch", small)  # the agents count their own steps


def node_names() -> set[str]:
    return {name for spec in SPECS.values() for name in spec.build(Context).nodes}


def _as_key(node: ast.Constant, parent: ast.AST) -> bool:
    """Whether the string is used as a key (of a state, an event or a dict), not as a value."""
    if isinstance(parent, ast.Dict):
        return node in parent.keys
    if isinstance(parent, ast.Subscript):
        return parent.slice is node
    if isinstance(parent, ast.Compare):
        return parent.left is node and isinstance(parent.ops[0], (ast.In, ast.NotIn))
    return (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute)
            and parent.func.attr in ("get", "pop", "setdefault") and bool(parent.args) and parent.args[0] is node)


def test_the_runner_server_and_cli_name_no_node() -> None:
    """Where a thread restarts or reopens is its graph's spec: no node name is spelled in deepresearch/."""
    names, package = node_names(), ROOT / "deepresearch"
    found = []
    for path in sorted(package.rglob("*.py")):
        where = path.relative_to(package).as_posix()
        if where == EVENTS:
            continue
        tree = ast.parse(path.read_text())
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        found += [f"{where}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in names and (where, node.value) not in NOT_NODES
                  and not _as_key(node, parents[node])]
    assert not found
