"""`langgraph dev` for real: the server on 127.0.0.1 with our SQLite checkpointer, driven over HTTP with
langgraph-sdk, against the toy model; threads pass between the API and the CLI both ways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.schema import Command

from checkpoints.threads import thread_id_for
from tests.cli_helpers import InProcess
from tests.conftest import QUESTION
from tests.server_stack import CONTEXT, checkpoint_rows, command, stream


async def test_studio_schemas(stack: dict[str, Any]) -> None:
    client = get_client(url=stack["url"])
    assistant = (await client.assistants.search(graph_id="iterresearch"))[0]
    schemas = await client.assistants.get_schemas(assistant["assistant_id"])
    assert list(schemas["input_schema"]["properties"]) == ["question"]
    assert set(schemas["output_schema"]["properties"]) == {"answer", "report", "sources"}
    form = schemas["context_schema"]["properties"]
    for field in ("model", "base_url", "search", "max_rounds", "queries_per_round", "pages_per_round",
                  "max_llm_calls", "max_tokens", "deadline_seconds", "review_plan"):
        assert field in form and form[field].get("description"), field
    assert form["max_rounds"]["default"] == 8 and form["review_plan"]["default"] is False
    # endpoint defaults are the server's environment, read once when it started
    assert form["base_url"]["default"] == stack["model"].base_url and "started_at" not in form


async def test_api_run_streams_progress_and_tokens_into_sqlite(stack: dict[str, Any]) -> None:
    client = get_client(url=stack["url"])
    thread = await client.threads.create()
    events, shown = await stream(client, thread["thread_id"], input={"question": QUESTION})
    kinds = [e["event"] for e in events]
    for kind in ("plan", "search", "select", "read", "synthesize", "decide", "backtrack", "answer"):
        assert kind in kinds, kind
    assert all("round" in e for e in events) and events[-1]["tokens"] > 0
    # the messages stream carries the report as shown, not the planner's or readers' JSON or raw thinking
    assert [node for node, _ in shown] == ["answer"] and "<think>" not in shown[0][1]
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["answer"] == "1921" and state["next"] == []
    assert "[3]" in state["values"]["report"] and "page_text" not in json.dumps(state["values"])
    assert checkpoint_rows(stack["home"], thread["thread_id"]) > 10
    assert shown[0][1] == state["values"]["report"]  # streamed exactly as it is shown


async def test_plan_review_interrupt_and_edited_resume(stack: dict[str, Any]) -> None:
    client = get_client(url=stack["url"])
    thread_id = (await client.threads.create())["thread_id"]
    await stream(client, thread_id, input={"question": QUESTION}, context={"review_plan": True})
    state = await client.threads.get_state(thread_id)
    assert state["next"] == ["review"]
    proposal = state["tasks"][0]["interrupts"][0]["value"]
    assert proposal["queries"] == ["Glass Harbor film premiere"] and proposal["round"] == 1
    events, _ = await stream(client, thread_id, command=Command(resume={"queries": ["Glass Harbor drama premiered"]}),
                             context={"review_plan": True})
    assert [e["query"] for e in events if e["event"] == "search"] == ["Glass Harbor drama premiered"]
    for _ in range(6):  # approve the remaining rounds
        state = await client.threads.get_state(thread_id)
        if not state["next"]:
            break
        await stream(client, thread_id, command=Command(resume={"approve": True}), context={"review_plan": True})
    state = await client.threads.get_state(thread_id)
    assert state["values"]["answer"] == "1921"
    assert "Glass Harbor film premiere" not in state["values"]["queries_run"]


async def test_cli_thread_is_listed_inspected_and_resumed_through_the_api(stack: dict[str, Any],
        run_cli: InProcess) -> None:
    stack["model"].faults.drop = {"writer"}  # the model dies mid-run: the CLI thread stays unfinished
    done = await command(run_cli, stack, "run", QUESTION, "--thread", "from-cli", "--set", "pages_per_round=2")
    stack["model"].faults.drop = set()
    assert done.returncode == 2
    thread_id = thread_id_for("from-cli")
    client = get_client(url=stack["url"])
    await client.http.post("/deepresearch/sync", json={})
    listed = {t["thread_id"]: t for t in await client.threads.search(limit=100)}
    assert thread_id in listed and listed[thread_id]["metadata"]["thread_name"] == "from-cli"
    state = await client.threads.get_state(thread_id)
    assert state["values"]["question"] == QUESTION and state["next"]
    await client.runs.wait(thread_id, "iterresearch", input=None, context=CONTEXT)
    assert (await client.threads.get_state(thread_id))["values"]["answer"] == "1921"
    shown = await command(run_cli, stack, "show", "from-cli")
    assert shown.returncode == 0 and "**Answer:** 1921" in shown.stdout


async def test_api_thread_is_listed_and_resumed_by_the_cli(stack: dict[str, Any],
        run_cli: InProcess) -> None:
    client = get_client(url=stack["url"])
    thread_id = (await client.threads.create())["thread_id"]
    await stream(client, thread_id, input={"question": QUESTION}, context={"review_plan": True})
    listing = await command(run_cli, stack, "threads")
    assert any(line.startswith(thread_id) and " review " in line for line in listing.stdout.splitlines())
    resumed = await command(run_cli, stack, "resume", thread_id[-8:], "--json", stdin="\n" * 10)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["answer"] == "1921"
    assert "plan for round 1" in resumed.stderr and "plan for round 2" in resumed.stderr  # its settings came along
    state = await client.threads.get_state(thread_id)
    assert state["values"]["done"] and state["values"]["question"] == QUESTION  # resumed, and past the review


async def test_prune_bounds_the_database_and_threads_still_resume(stack: dict[str, Any],
        run_cli: InProcess) -> None:
    client = get_client(url=stack["url"])
    thread_id = (await client.threads.create())["thread_id"]
    await stream(client, thread_id, input={"question": QUESTION}, context={"review_plan": True})
    await stream(client, thread_id, command=Command(resume={"approve": True}), context={"review_plan": True})
    before = checkpoint_rows(stack["home"], thread_id)
    pruned = await command(run_cli, stack, "threads", "prune", "--keep", "2", thread_id)
    assert pruned.returncode == 0, pruned.stderr
    assert checkpoint_rows(stack["home"], thread_id) == 2 < before
    for _ in range(6):
        state = await client.threads.get_state(thread_id)
        if not state["next"]:
            break
        await stream(client, thread_id, command=Command(resume={"approve": True}), context={"review_plan": True})
    final = (await client.threads.get_state(thread_id))["values"]
    assert final["answer"] == "1921" and "velmora_town_guide.pdf" in final["report"]
    deleted = await command(run_cli, stack, "threads", "delete", thread_id)
    assert deleted.returncode == 0 and checkpoint_rows(stack["home"], thread_id) == 0


async def test_custom_routes_list_and_sync_the_threads_of_both_sides(stack: dict[str, Any],
        run_cli: InProcess) -> None:
    """Under the server's guard against blocking calls: the routes read SQLite off the event loop."""
    assert (await command(run_cli, stack, "run", QUESTION, "--thread", "listed-by-route", "--set",
                          "max_rounds=1")).returncode == 0
    client = get_client(url=stack["url"])
    in_review = (await client.threads.create())["thread_id"]
    await stream(client, in_review, input={"question": QUESTION}, context={"review_plan": True})
    edited = (await client.threads.create())["thread_id"]
    await stream(client, edited, input={"question": QUESTION}, context={"review_plan": True})
    # an edit (as in Studio) is a checkpoint the quick listing leaves to LangGraph: that path is listed too
    await client.threads.update_state(edited, {"goal": "edited in Studio"}, as_node="plan")
    async with httpx.AsyncClient(base_url=stack["url"], timeout=60) as http:
        listed = await http.get("/deepresearch/threads")
        assert listed.status_code == 200, listed.text
        rows = {row["thread_id"]: row for row in listed.json()}
        from_cli = rows[thread_id_for("listed-by-route")]
        assert from_cli["name"] == "listed-by-route" and from_cli["status"] == "done" and from_cli["answer"]
        assert rows[in_review]["status"] == "review" and rows[edited]["status"] == "unfinished"
        assert rows[edited]["question"] == QUESTION
        synced = await http.post("/deepresearch/sync")
        assert synced.status_code == 200, synced.text
        assert set(synced.json()) == {"registered", "removed"}
    assert thread_id_for("listed-by-route") in {t["thread_id"] for t in await client.threads.search(limit=100)}


async def test_deleting_in_the_cli_removes_the_thread_from_the_server(stack: dict[str, Any],
        run_cli: InProcess) -> None:
    client = get_client(url=stack["url"])
    one_round = ("run", QUESTION, "--thread", "short-lived", "--set", "max_rounds=1")
    assert (await command(run_cli, stack, *one_round)).returncode == 0
    thread_id = thread_id_for("short-lived")

    async def on_server() -> bool:
        await client.http.post("/deepresearch/sync", json={})  # (the background sync may have been first)
        return thread_id in {t["thread_id"] for t in await client.threads.search(limit=100)}

    assert await on_server()
    assert (await command(run_cli, stack, "threads", "delete", "short-lived")).returncode == 0
    assert not await on_server()
    assert (await command(run_cli, stack, *one_round)).returncode == 0
    assert await on_server()  # the name comes back


async def test_react_runs_through_the_api_and_resumes_in_the_cli(stack: dict[str, Any], run_cli: InProcess) -> None:
    client = get_client(url=stack["url"])
    assert (await client.assistants.search(graph_id="react"))
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "react", input={"question": QUESTION})
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["answer"] == "1921" and "[7]" in state["values"]["report"]  # its search result's number
    assert any("<tool_response>" in t["text"] for t in state["values"]["turns"])  # Studio shows the conversation
    shown = await command(run_cli, stack, "show", thread["thread_id"], "--json")
    assert json.loads(shown.stdout)["answer"] == "1921"
    again = await command(run_cli, stack, "resume", thread["thread_id"])
    assert again.returncode == 0 and "nothing to resume" in again.stderr


async def test_heavy_runs_through_the_api_and_studio_sees_its_agents(stack: dict[str, Any]) -> None:
    client = get_client(url=stack["url"])
    assistant = (await client.assistants.search(graph_id="heavy"))[0]
    subgraphs = await client.assistants.get_subgraphs(assistant["assistant_id"])
    assert subgraphs, "Studio shows the agents' IterResearch subgraph"
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "heavy", input={"question": QUESTION},
                           context={**CONTEXT, "heavy_agents": 2})
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["answer"] == "1921" and len(state["values"]["agent_reports"]) == 2


async def test_eval_through_the_server_resumes_without_redoing(stack: dict[str, Any], run_cli: InProcess,
                                                               tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": QUESTION, "answer": "1921"}) + "\n"
                         + json.dumps({"question": QUESTION + " (the year)", "answer": "1899"}) + "\n")
    out = tmp_path / "served"
    done = await command(run_cli, stack, "eval", str(questions), "--server", stack["url"], "--k", "2", "--out",
                         str(out), "--set", "pages_per_round=2")
    assert done.returncode == 0, done.stderr
    assert "| **Avg@k** | **50.0%** |" in done.stdout
    threads = [json.loads(line)["thread_id"] for line in (out / "results.jsonl").read_text().splitlines()]
    client = get_client(url=stack["url"])
    for thread_id in threads:  # the rollouts ran on the server, as its threads
        assert (await client.threads.get_state(thread_id))["values"]["answer"] == "1921"
    calls = len(stack["model"].calls())
    (out / "results.db").unlink()  # the results are lost, the server's threads are not
    again = await command(run_cli, stack, "eval", str(questions), "--server", stack["url"], "--k", "2", "--out",
                          str(out))
    assert again.returncode == 0 and "| **Avg@k** | **50.0%** |" in again.stdout
    assert len(stack["model"].calls()) == calls  # finished threads were read back, not run again


async def test_eval_through_the_server_stores_a_failed_run_and_goes_on(stack: dict[str, Any], run_cli: InProcess,
                                                                      tmp_path: Path) -> None:
    """A run the server reports as failed is that rollout's failure: stored with its reason, run again next time."""
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": QUESTION, "answer": "1921"}) + "\n"
                         + json.dumps({"question": QUESTION + " (refused)", "answer": "1921"}) + "\n")
    out = tmp_path / "served"
    args = ("eval", str(questions), "--server", stack["url"], "--out", str(out), "--set", "pages_per_round=2")
    stack["model"].faults.fail_when = {"(refused)": [404] * 100}  # the endpoint refuses that question's calls
    try:
        done = await command(run_cli, stack, *args)
    finally:
        stack["model"].faults.fail_when = {}
    assert done.returncode == 1, done.stderr
    assert "failed line 2, rollout 1: ServerRunError: EndpointError: model 'Alibaba-NLP/Tongyi-DeepResearch-30B-A3B" \
           "' is not served at" in done.stderr
    assert "| failed | 1 |" in done.stdout and "| **Avg@k** | **50.0%** |" in done.stdout
    again = await command(run_cli, stack, *args)
    assert again.returncode == 0, again.stderr
    assert "| failed | 0 |" in again.stdout and "| **Avg@k** | **100.0%** |" in again.stdout
