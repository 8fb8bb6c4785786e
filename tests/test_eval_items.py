"""`deepresearch eval` and its items: a bad record is named by its line and skipped, duplicates stay apart,
a rollout that fails is stored as failed and retried, and a folder of the earlier version is not mixed in."""

import json
import sqlite3
from pathlib import Path

from tests.cli_helpers import InProcess
from tests.conftest import QUESTION
from tests.fakes.model_server import ModelServer


def rows(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().split("\n") if line]


def record(question: object = QUESTION, answer: object = "1921", **fields: object) -> str:
    return json.dumps({"question": question, "answer": answer, **fields}, ensure_ascii=False)


def test_every_bad_record_is_named_by_its_line_and_the_rest_run(env: dict[str, str], tmp_path: Path,
                                                               run_cli: InProcess) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_bytes(b"\n".join(line.encode() if isinstance(line, str) else line for line in [
        record(),                                            # 1
        "",                                                  # 2: blank lines count
        record("x" * 5000),                                  # 3
        record("   "),                                       # 4
        json.dumps({"problem": "\u200b\u2060\ufeff", "Answer": "x"}),  # 5: only invisible characters
        record(["a", "list"]),                               # 6
        '{"question": "a question", "answer": NaN}',         # 7
        "not JSON",                                          # 8
        "[" * 100_000,                                       # 9
        "[1, 2]",                                            # 10
        b'{"question": "caf\xe9?", "answer": "x"}',          # 11: Latin-1, not UTF-8
        record(QUESTION + "\u2028(the year)"),               # 12: a raw U+2028 is no line break in JSONL
        record(answer=1921),                                 # 13: a number is its JSON text
    ]))
    done = run_cli(env, "eval", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 1, done.stderr
    for line, problem in [(3, "question: the question has 5,000 characters, over the 4,000 allowed"),
                          (4, "question: the question is empty"), (5, "problem: the question is empty"),
                          (6, "question: must be text, not a list"), (7, "answer: must be text or a number, not NaN"),
                          (8, ": not JSON (Expecting value at column 1)"), (9, ": JSON nested too deeply"),
                          (10, ": not a JSON object but a list"), (11, ": not UTF-8 text")]:
        assert f"skipped {path} line {line}{',' if problem[0] != ':' else ''}" in done.stderr, line
        assert f"line {line}{', ' if problem[0] != ':' else ''}{problem}" in done.stderr, (line, done.stderr)
    assert "9 bad records skipped (named above), 0 rollouts failed" in done.stderr
    assert "| items × rollouts | 3 × 1 |" in done.stdout and "| **Avg@k** | **100.0%** |" in done.stdout
    assert "| bad records skipped | 9 |" in done.stdout
    stored = rows(tmp_path / "o")
    assert [(r["item"], r["gold"]) for r in stored] == [("line:1", "1921"), ("line:12", "1921"), ("line:13", "1921")]
    assert "\u2028" in str(stored[1]["question"])


def test_duplicate_questions_are_separate_items(env: dict[str, str], tmp_path: Path, model_server: ModelServer,
                                                run_cli: InProcess) -> None:
    """Three times the same question with two golds: three items, three threads, the same score every time."""
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join([record(), record(answer="1899"), record()]) + "\n")
    out = tmp_path / "o"
    done = run_cli(env, "eval", str(path), "--concurrency", "3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "| items × rollouts | 3 × 1 |" in done.stdout and "| **Avg@k** | **66.7%** |" in done.stdout
    stored = rows(out)
    assert [(r["item"], r["gold"], r["correct"]) for r in stored] == [
        ("line:1", "1921", True), ("line:2", "1899", False), ("line:3", "1921", True)]
    assert len({r["thread_id"] for r in stored}) == 3
    with sqlite3.connect(out / "results.db") as conn:
        assert conn.execute("SELECT count(*) FROM results").fetchone()[0] == 3
    planned = len(model_server.calls("planner"))
    again = run_cli(env, "eval", str(path), "--concurrency", "3", "--out", str(out))
    assert again.returncode == 0 and "| **Avg@k** | **66.7%** |" in again.stdout
    assert len(model_server.calls("planner")) == planned  # nothing was run again


def test_ids_name_items_and_a_repeated_id_is_refused(env: dict[str, str], tmp_path: Path,
                                                     run_cli: InProcess) -> None:
    path = tmp_path / "questions.jsonl"
    gaia = json.dumps({"task_id": "c61d22de", "Question": QUESTION, "Final answer": "1921", "Level": 2})
    path.write_text("\n".join([record(id="q1"), record(answer="1899", id="q2"), record(id="q1"),
                               record(task_id=["x"]), record(qid=7), gaia]) + "\n")
    done = run_cli(env, "eval", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 1
    assert f"{path} line 3, id: 'q1' is the id of line 1 too" in done.stderr
    assert f"{path} line 4, task_id: must be text or a whole number, not a list" in done.stderr
    assert [r["item"] for r in rows(tmp_path / "o")] == ["id:7", "id:c61d22de", "id:q1", "id:q2"]


def test_a_json_list_names_items_by_index_and_reports_real_lines(env: dict[str, str], tmp_path: Path,
                                                                 run_cli: InProcess) -> None:
    path = tmp_path / "questions.json"
    path.write_text(json.dumps([{"question": QUESTION, "answer": "1921"}, {"query": QUESTION, "gold": "1899"},
                                {"question": "", "answer": "x"}, {"query_id": "bc-9", "question": QUESTION,
                                                                   "answer": "1921"}], indent=2))
    done = run_cli(env, "eval", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 1
    assert f"{path} line 10 (index 2), question: the question is empty" in done.stderr  # as `grep -n` counts
    assert path.read_text().splitlines()[10 - 1].strip() == "{"
    assert [r["item"] for r in rows(tmp_path / "o")] == ["id:bc-9", "index:0", "index:1"]


def test_a_failed_rollout_is_stored_counted_and_run_again(env: dict[str, str], tmp_path: Path,
                                                          model_server: ModelServer, run_cli: InProcess) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join([record(), record(QUESTION + " Give the year."), record(QUESTION + " (3)")]) + "\n")
    out = tmp_path / "o"
    # the endpoint answers 404 to that question's calls: the rollout ends with an error, the others do not
    model_server.faults.fail_when = {"Give the year.": [404] * 100}
    done = run_cli(env, "eval", str(path), "--k", "2", "--out", str(out))
    assert done.returncode == 1, done.stderr
    assert "failed line 2, rollout 1: EndpointError: model 'Alibaba-NLP/Tongyi-DeepResearch-30B-A3B' is not " \
           "served at" in done.stderr
    assert "0 bad records skipped (named above), 2 rollouts failed (run the same command again" in done.stderr
    assert "| failed | 2 |" in done.stdout and "| **Avg@k** | **66.7%** |" in done.stdout
    assert "| items × rollouts | 3 × 2 |" in done.stdout and "| ungraded | 0 |" in done.stdout
    failed = [r for r in rows(out) if r["error"]]
    assert [(r["item"], r["rollout"], r["correct"]) for r in failed] == [("line:2", 1, None), ("line:2", 2, None)]
    assert all(str(r["error"]).startswith("EndpointError: ") and len(str(r["error"])) <= 300 for r in failed)
    model_server.faults.fail_when = {}
    planned = len(model_server.calls("planner"))
    again = run_cli(env, "eval", str(path), "--k", "2", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "| failed | 0 |" in again.stdout and "| **Avg@k** | **100.0%** |" in again.stdout
    assert not [r for r in rows(out) if r["error"]]
    assert len(model_server.calls("planner")) - planned <= 2  # only the two failed rollouts ran (each plans once)


def test_a_folder_of_the_earlier_version_is_not_mixed_in(env: dict[str, str], tmp_path: Path,
                                                         run_cli: InProcess) -> None:
    """Its items were named by a hash of their question: resuming into it is refused, reading it still works."""
    out = tmp_path / "old"
    out.mkdir()
    with sqlite3.connect(out / "results.db") as conn:
        conn.execute("""CREATE TABLE results (
            item TEXT NOT NULL, rollout INTEGER NOT NULL, question TEXT, gold TEXT, answer TEXT,
            correct INTEGER, verdict TEXT, rounds INTEGER, llm_calls INTEGER, tokens INTEGER, wall REAL,
            citations INTEGER, invented INTEGER, thread_id TEXT, finished_at REAL, PRIMARY KEY (item, rollout))""")
        conn.execute("INSERT INTO results VALUES ('0123456789abcdef', 1, ?, '1921', '1921', 1, '{}', 3, 7, 900, "
                      "1.0, 3, 0, 't', 0)", (QUESTION,))
    path = tmp_path / "questions.jsonl"
    path.write_text(record() + "\n")
    done = run_cli(env, "eval", str(path), "--out", str(out))
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert "was written by an earlier version" in done.stderr and "new --out" in done.stderr
    with sqlite3.connect(out / "results.db") as conn:
        assert conn.execute("SELECT item FROM results").fetchall() == [("0123456789abcdef",)]
    fresh = tmp_path / "new"
    assert run_cli(env, "eval", str(path), "--out", str(fresh)).returncode == 0
    compared = run_cli(env, "eval", "--compare", str(out), str(fresh), "--out", str(tmp_path / "cmp"))
    assert compared.returncode == 0 and "| Avg@k | 100.0% | 100.0% |" in compared.stdout


def test_a_line_that_now_holds_another_question_runs_again(env: dict[str, str], tmp_path: Path,
                                                           model_server: ModelServer, run_cli: InProcess) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text(record(answer="1899") + "\n")
    out = tmp_path / "o"
    assert "| **Avg@k** | **0.0%** |" in run_cli(env, "eval", str(path), "--out", str(out)).stdout
    first = rows(out)[0]
    planned = len(model_server.calls("planner"))
    path.write_text(record(answer="1921") + "\n")  # the gold was wrong: the finished thread is judged again
    done = run_cli(env, "eval", str(path), "--out", str(out))
    assert "line 1 holds another question or answer" in done.stderr and "| **Avg@k** | **100.0%** |" in done.stdout
    assert len(model_server.calls("planner")) == planned and rows(out)[0]["thread_id"] == first["thread_id"]
    path.write_text(record(QUESTION + " Give the year.") + "\n")  # line 1 is another question now
    done = run_cli(env, "eval", str(path), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "line 1 holds another question or answer than when its results were stored" in done.stderr
    assert "| **Avg@k** | **100.0%** |" in done.stdout
    now = rows(out)[0]
    assert now["question"] == QUESTION + " Give the year." and now["thread_id"] != first["thread_id"]


def test_an_endpoint_gone_for_every_rollout_stops_the_eval_in_one_line(env: dict[str, str], tmp_path: Path,
                                                                       model_server: ModelServer,
                                                                       run_cli: InProcess) -> None:
    """Nothing answers: every rollout would fail alike, so the eval stops (resumable) instead of storing failures."""
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join([record(), record(QUESTION + " (2)"), record(QUESTION + " (3)")]) + "\n")
    out = tmp_path / "o"
    model_server.faults.drop = {"writer"}  # the connection closes on every report call
    done = run_cli(env, "eval", str(path), "--concurrency", "2", "--out", str(out))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cannot reach the model endpoint" in done.stderr
    assert "0 rollouts are stored: run the same command again to go on" in done.stderr
    model_server.faults.drop = set()
    again = run_cli(env, "eval", str(path), "--concurrency", "2", "--out", str(out))
    assert again.returncode == 0 and "| **Avg@k** | **100.0%** |" in again.stdout and "| failed | 0 |" in again.stdout


def test_ctrl_c_still_stops_the_eval(env: dict[str, str], tmp_path: Path, model_server: ModelServer) -> None:
    import signal
    import threading

    from tests.cli_helpers import spawn

    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join([record(), record(QUESTION + " (2)")]) + "\n")
    release = threading.Event()
    model_server.faults.gates["writer"] = (1, release)
    proc = spawn(env, "eval", str(path), "--concurrency", "2", "--out", str(tmp_path / "o"))
    try:
        assert model_server.blocked.wait(90), "the eval never reached the gated call"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)  # generous: a bound for a hang, not a speed claim
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted; 0 rollouts are stored: run the same command again to go on" in stderr
    assert "Traceback" not in stderr
