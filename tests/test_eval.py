"""`deepresearch eval`: rollouts through a mode, judged, stored as they finish, resumed without redoing any."""

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli_helpers import InProcess
from tests.conftest import QUESTION
from tests.fakes.model_server import ModelServer


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Two items in the field names public files use: one gold answer right, one wrong (the model says 1921)."""
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps({"question": QUESTION, "answer": "1921"}) + "\n"
                    + json.dumps({"problem": QUESTION + " Give the year.", "Answer": "1899"}) + "\n")
    return path



def test_eval_scores_stores_and_resumes(env: dict[str, str], dataset: Path, tmp_path: Path,
                                        model_server: ModelServer, run_cli: InProcess) -> None:
    out = tmp_path / "run"
    first = run_cli(env, "eval", str(dataset), "--k", "2", "--limit", "1", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert "| **Avg@k** | **100.0%** |" in first.stdout
    # stderr is no terminal here (a log, CI): no bar, a line per rollout
    assert "eval 1/2: line 1, rollout " in first.stderr and "eval 2/2: line 1, rollout " in first.stderr
    planned = len(model_server.calls("planner"))
    done = run_cli(env, "eval", str(dataset), "--k", "2", "--out", str(out), "--concurrency", "2")
    assert done.returncode == 0, done.stderr
    assert "| **Avg@k** | **50.0%** |" in done.stdout and "| Pass@k | 50.0% |" in done.stdout
    # item 1's two rollouts were stored and not run again: only item 2's planner calls are new
    assert len(model_server.calls("planner")) == 2 * planned
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(results) == 4 and {r["answer"] for r in results} == {"1921"}
    assert all(r["citations"] >= 3 and r["invented"] == 0 for r in results)
    with sqlite3.connect(out / "results.db") as conn:
        assert conn.execute("SELECT count(*), sum(correct) FROM results").fetchone() == (4, 2)
    assert "citations that are retrieved sources | 100.0%" in (out / "summary.md").read_text()
    # every cited sentence was checked against its source, and the toy model's citations all hold
    assert all(r["checked"] >= 3 and r["reattributed"] == r["unsupported"] == 0 for r in results)
    assert "| citations re-attributed | 0.0% |" in (out / "summary.md").read_text()
    assert "| sentences no source supports (unverified) | 0.0% |" in (out / "summary.md").read_text()
    for plot in ("accuracy_by_rounds.png", "accuracy_by_calls.png"):
        assert (out / plot).read_bytes().startswith(b"\x89PNG") and (out / plot).stat().st_size > 5000


def test_an_llm_judge_and_an_ungraded_verdict(env: dict[str, str], dataset: Path, tmp_path: Path,
                                              model_server: ModelServer, run_cli: InProcess) -> None:
    done = run_cli(env, "eval", str(dataset), "--judge", "browsecomp", "--out", str(tmp_path / "bc"))
    assert done.returncode == 0, done.stderr
    judged = model_server.calls("judge")
    assert len(judged) == 2 and any("[correct_answer]: 1899" in c.user for c in judged)
    assert "| **Avg@k** | **50.0%** |" in done.stdout
    model_server.faults.fail_when = {"Judge whether": [500] * 20}  # the judge is down: ungraded, never right
    done = run_cli(env, "eval", str(dataset), "--judge", "browsecomp", "--out", str(tmp_path / "down"))
    assert done.returncode == 0, done.stderr
    assert "| **Avg@k** | **0.0%** |" in done.stdout and "| ungraded | 2 |" in done.stdout


@pytest.mark.parametrize(("content", "message"), [
    ('{"question": "q"}\n', "line 1: needs an answer"),
    ('\n{"answer": "a"}\n', "line 2: needs a question"),
    ("not json at all\n", "neither JSONL nor a JSON list"),
    ("[]", "holds no questions"),
    ("[" * 100_000, "JSON nested too deeply (line 1)"),  # a JSON list
    ('{"question": ' * 100_000, "line 1: JSON nested too deeply"),  # JSONL
    ('[{"question": "q", "answer": "a"},\n {"question": "q" "answer": "a"}]', "Expecting ',' delimiter at line 2"),
    ('{"question": " \\u200b ", "answer": "a"}\n{"question": "q", "answer": NaN}',
     "holds no usable question (line 1, question: the question is empty; 1 more bad record)"),
])
def test_bad_eval_files_get_one_line(env: dict[str, str], tmp_path: Path, run_cli: InProcess, content: str,
                                     message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    done = run_cli(env, "eval", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 1 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_normalised_exact_match() -> None:
    from deepresearch.evaluation.judges import exact, normalize

    assert normalize("The Café-Lantern, 1958!") == "cafe lantern 1958"
    assert exact("the answer: 1921.", "answer 1921").correct and not exact("1921", "1912").correct
    assert exact("玻璃港。", "玻璃港").correct


def test_compare_two_evals(env: dict[str, str], dataset: Path, tmp_path: Path, run_cli: InProcess) -> None:
    assert run_cli(env, "eval", str(dataset), "--out", str(tmp_path / "iter")).returncode == 0
    assert run_cli(env, "eval", str(dataset), "--mode", "react", "--out", str(tmp_path / "react")).returncode == 0
    done = run_cli(env, "eval", "--compare", str(tmp_path / "iter"), str(tmp_path / "react"), "--out",
                   str(tmp_path / "cmp"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cmp" / "compare-iter-react.png").read_bytes().startswith(b"\x89PNG")
    assert "| metric | iter | react |" in done.stdout and "| Avg@k | 50.0% | 50.0% |" in done.stdout
    assert "2 questions in both: 0 right (in some rollout) only in iter, 0 only in react." in done.stdout
    missing = run_cli(env, "eval", "--compare", str(tmp_path / "iter"), str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "holds no eval results" in missing.stderr


def test_a_killed_eval_redoes_no_finished_rollout(env: dict[str, str], dataset: Path, tmp_path: Path,
                                                  model_server: ModelServer, run_cli: InProcess) -> None:
    """kill -9 in the middle of the third rollout: two are stored, the third resumes from its checkpoints."""
    import signal
    import threading

    from tests.cli_helpers import spawn
    from tests.test_resume import killed

    release = threading.Event()
    first_plans = lambda: [c for c in model_server.calls("planner") if "(first round)" in c.user]  # noqa: E731
    model_server.faults.gates["writer"] = (5, release)  # rollouts 1 and 2 take two report calls each
    proc = spawn(env, "eval", str(dataset), "--k", "2", "--concurrency", "1", "--out", str(tmp_path / "k"))
    with killed(proc, release):
        assert model_server.blocked.wait(90), "the eval never reached the gated call"
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(tmp_path / "k" / "results.db") as conn:
        assert conn.execute("SELECT count(*) FROM results").fetchone()[0] == 2
    assert len(first_plans()) == 3
    done = run_cli(env, "eval", str(dataset), "--k", "2", "--concurrency", "1", "--out", str(tmp_path / "k"))
    assert done.returncode == 0, done.stderr
    assert "| **Avg@k** | **50.0%** |" in done.stdout
    # rollouts 1 and 2 were not run again; rollout 3 was not planned again (it resumed); rollout 4 was new
    assert len(first_plans()) == 4


@pytest.mark.parametrize(("cited", "invented", "shown"), [(0, 0, "none cited"), (3, 1, "75.0%"), (2, 0, "100.0%")])
def test_the_citation_share_is_never_full_marks_for_no_citation(cited: int, invented: int, shown: str) -> None:
    from deepresearch.evaluation.metrics import markdown, summarize
    from deepresearch.evaluation.store import Result

    results = [Result("line:1", 1, "Q?", "1921", "1921", True, {}, 2, 5, 900, 1.0, cited, invented, "t")]
    assert f"| citations that are retrieved sources | {shown} |" in markdown(summarize(results), "t")


def test_the_grounding_rates_per_eval_and_an_older_results_file() -> None:
    """Unverified and re-attributed shares are of the sentences checked; a results.db from before has its columns
    added (its rollouts: nothing checked, shown as none)."""
    import sqlite3
    import tempfile

    from deepresearch.evaluation.metrics import markdown, summarize
    from deepresearch.evaluation.store import Result, ResultStore

    results = [Result("line:1", 1, "Q?", "1921", "1921", True, {}, 2, 5, 900, 1.0, 4, 0, "t", checked=8,
                      reattributed=2, unsupported=1)]
    shown = markdown(summarize(results), "t")
    assert "| citations re-attributed | 25.0% |" in shown
    assert "| sentences no source supports (unverified) | 12.5% |" in shown
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "results.db"
        with sqlite3.connect(db) as conn:  # as this version wrote it before citations were checked
            conn.execute("""CREATE TABLE results (item TEXT NOT NULL, rollout INTEGER NOT NULL, question TEXT,
                gold TEXT, answer TEXT, correct INTEGER, verdict TEXT, rounds INTEGER, llm_calls INTEGER,
                tokens INTEGER, wall REAL, citations INTEGER, invented INTEGER, thread_id TEXT, finished_at REAL,
                error TEXT, PRIMARY KEY (item, rollout))""")
            conn.execute("PRAGMA user_version = 2")
            conn.execute("INSERT INTO results VALUES ('line:1', 1, 'Q?', '1921', '1921', 1, '{}', 2, 5, 900, 1.0, "
                         "3, 0, 't', 0, NULL)")
        conn.close()
        store = ResultStore(db)
        store.check_writable()
        old = store.all()
        assert [(r.checked, r.unsupported) for r in old] == [(0, 0)]
        assert "| sentences no source supports (unverified) | none cited |" in markdown(summarize(old), "t")
        store.add(results[0])
        assert [r.checked for r in store.all()] == [8]
