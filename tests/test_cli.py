"""The `deepresearch` command as a user runs it, against the toy model over HTTP.

Most commands run in this process through the entry point (`main`); the few things only a real process
shows (the installed command starting, its exit codes and the absence of tracebacks) run in subprocesses.
"""

import json
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from deepresearch import __version__
from tests.cli_helpers import InProcess, cli, cli_env
from tests.conftest import QUESTION


def test_run_json_then_threads_and_show(env: dict[str, str], tmp_path: Path, run_cli: InProcess) -> None:
    out = tmp_path / "report.md"
    done = run_cli(env, "run", QUESTION, "--thread", "t-json", "--json", "--out", str(out), "--set",
                   "pages_per_round=2")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"thread_id", "answer", "report", "sources", "rounds", "llm_calls", "tokens", "stop_reason",
                         "gave_up", "model_failures", "citations_checked", "citations_reattributed",
                         "claims_unsupported"}
    # every cited sentence was checked against its source's text, and each held
    assert data["citations_checked"] >= 3 and data["citations_reattributed"] == data["claims_unsupported"] == 0
    assert "citations checked" in done.stderr
    assert data["stop_reason"] == "the evidence answers the question" and data["gave_up"] == ""
    assert data["model_failures"] == {}
    assert data["thread_id"] == thread_id_for("t-json") and data["answer"] == "1921"
    assert [Path(s["url"]).name for s in data["sources"]] == [
        "glass_harbor.md", "velmora_town_guide.pdf", "ilse_marrow.html"]
    assert [s["n"] for s in data["sources"]] == [1, 2, 3]
    assert out.read_text() == data["report"]
    assert "round 2" in done.stderr and "backtrack" in done.stderr and "tokens" in done.stderr

    listing = run_cli(env, "threads")
    assert listing.returncode == 0
    row = next(line for line in listing.stdout.splitlines() if line.startswith(data["thread_id"]))
    assert "done" in row and "[t-json] " + QUESTION[:30] in row

    for ref in ("t-json", data["thread_id"], data["thread_id"][:8]):  # name, id, or a unique start of the id
        shown = run_cli(env, "show", ref)
        assert shown.returncode == 0 and shown.stdout.strip() == data["report"].strip()

    again = run_cli(env, "run", QUESTION, "--thread", "t-json")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_ingest_again_is_a_noop(env: dict[str, str], corpus_dir: Path, run_cli: InProcess) -> None:
    done = run_cli(env, "ingest", str(corpus_dir))
    assert done.stdout.startswith("added 0, updated 0, unchanged 8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "   "], "the question is empty"),
        (["run", "q", "--mode", "fast"], "'fast' is not one of"),
        (["run", "q", "--search", "bing"], "'bing' is not one of"),
        (["run", "q", "--max-rounds", "zero"], "--max-rounds"),
        (["run", "q", "--max-rounds", "51"], "max_rounds: input should be less than or equal to 50"),
        (["run", "q", "--set", "nope=1"], "--set expects KEY=VALUE"),
        (["run", "q", "--out", "/no/such/dir/r.md"], "folder does not exist"),
        (["run", "q", "--frobnicate"], "No such option"),
        (["run", "q", "--thread", "[/bold]"], "--thread takes"),
        (["run", "q", "--set", "temperature=nan"], "temperature: input should be a finite number"),
        (["resume", "no-such-thread"], "unknown thread 'no-such-thread'"),
        (["show", "no-such-thread"], "unknown thread"),
        (["ingest", "/no/such/path"], "no such file or folder"),
        (["ingest", "pyproject.toml"], "no .md, .txt, .html, .pdf, .docx or .csv files"),
        (["threads", "prune", "--keep", "0"], "see `deepresearch threads prune --help`"),
    ],
)
def test_bad_input_gets_one_line_and_nonzero_exit(home: Path, run_cli: InProcess, args: list[str],
                                                  message: str) -> None:
    done = run_cli(cli_env(home), *args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("deepresearch: error:") and message in lines[0]


@pytest.mark.parametrize(("variable", "value"), [("DEEPRESEARCH_TIMEOUT", "soon"), ("DEEPRESEARCH_MAX_RETRIES", "-1"),
                                                 ("DEEPRESEARCH_BASE_URL", "localhost:8000"),
                                                 ("DEEPRESEARCH_ALLOW_PRIVATE_NETWORK", "intranet")])
def test_bad_environment_gets_one_line_naming_the_variable(home: Path, run_cli: InProcess, variable: str,
                                                           value: str) -> None:
    done = run_cli(cli_env(home, **{variable: value}), "threads")
    assert done.returncode == 1
    assert done.stderr.startswith(f"deepresearch: error: {variable} ") and done.stderr.count("\n") == 1


def test_the_installed_command_starts_and_fails_cleanly(home: Path, corpus_dir: Path) -> None:
    """Subprocesses: what only a real process shows (imports at start, exit codes, no traceback)."""
    env = cli_env(home, "http://127.0.0.1:9/v1")
    version = cli(env, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"deepresearch {__version__}"
    for args in ([], ["-h"], ["--help"]):
        shown = cli(env, *args)
        assert shown.returncode == 0 and "Usage: deepresearch" in shown.stdout and "run" in shown.stdout, args
    bad = cli(env, "run", "q", "--frobnicate")
    assert bad.returncode == 2 and bad.stderr.startswith("deepresearch: error: No such option")
    assert cli(env, "ingest", str(corpus_dir)).returncode == 0
    done = cli(env, "run", QUESTION)  # nothing answers at the endpoint
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "DEEPRESEARCH_BASE_URL" in done.stderr
    assert "vllm serve Alibaba-NLP/Tongyi-DeepResearch-30B-A3B" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("question", "message"), [
    ("x" * 120_000, "the question has 120,000 characters, over the 4,000 allowed (max_question_chars)"),
    ("\u200b\u200d\ufeff  \u2060", "the question is empty"),
    ("caf\udce9 au lait?", "the question is not valid UTF-8 text"),  # bytes that were not UTF-8 (surrogateescape)
])
def test_questions_that_cannot_be_researched(env: dict[str, str], run_cli: InProcess, question: str,
                                             message: str) -> None:
    done = run_cli(env, "run", question)
    assert done.returncode == 1 and done.stderr.strip() == f"deepresearch: error: {message}"
    assert "no threads yet" in run_cli(env, "threads").stderr  # nothing was created


def test_a_model_the_endpoint_does_not_serve_creates_no_thread(env: dict[str, str], run_cli: InProcess) -> None:
    done = run_cli(env, "run", QUESTION, "--set", "model=no-such-model")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "model 'no-such-model' is not served at" in done.stderr and "Tongyi-DeepResearch-30B-A3B" in done.stderr
    assert "no threads yet" in run_cli(env, "threads").stderr


def test_help_names_every_run_setting_and_its_bounds(home: Path, run_cli: InProcess) -> None:
    from state.context import MAX_ROUNDS, Context

    shown = run_cli({**cli_env(home), "COLUMNS": "400"}, "run", "--help").stdout
    assert all(key in shown for key in Context.run_settings()) and f"at most {MAX_ROUNDS}" in shown
    assert "default: local" in shown and "default 8" in shown


def test_threads_as_json_and_ids_given_in_part(env: dict[str, str], run_cli: InProcess) -> None:
    done = run_cli(env, "run", QUESTION, "--thread", "listed", "--set", "max_rounds=1", "--json")
    thread_id = json.loads(done.stdout)["thread_id"]
    rows = json.loads(run_cli(env, "threads", "--json").stdout)
    assert [(r["thread_id"], r["name"], r["status"]) for r in rows] == [(thread_id, "listed", "done")]
    part = run_cli(env, "threads", "delete", thread_id[:8])
    assert part.returncode == 1 and f"is part of thread id {thread_id}: give the full id" in part.stderr


def test_doctor(env: dict[str, str], run_cli: InProcess) -> None:
    done = run_cli(env, "doctor")
    assert done.returncode == 0, done.stdout
    assert "reachable" in done.stdout and "max context 131,072 tokens" in done.stdout
    assert "8 documents" in done.stdout
    down = run_cli({**env, "DEEPRESEARCH_BASE_URL": "http://127.0.0.1:9/v1"}, "doctor")
    assert down.returncode == 2 and "UNREACHABLE" in down.stdout


def test_corrupt_databases_get_one_line(home: Path, run_cli: InProcess) -> None:
    home.mkdir(parents=True)
    for name in ("checkpoints.db", "corpus.db"):
        (home / name).write_bytes(b"this is not a database" * 100)
    env = cli_env(home)
    for args in (["threads"], ["show", "x"], ["run", "q"]):
        done = run_cli(env, *args)
        assert done.returncode != 0 and "Traceback" not in done.stderr, (args, done.stderr)
        assert "not a database" in done.stderr.strip().splitlines()[-1]
    doctor = run_cli(env, "doctor")  # reports each database (tests/test_stores.py)
    assert doctor.returncode != 0 and "Traceback" not in doctor.stderr
    assert ("integrity   corpus.db DAMAGED: not a SQLite database; pages.db none yet; "
            "checkpoints.db DAMAGED: not a SQLite database") in doctor.stdout


def test_report_that_cannot_be_written_stays_in_the_thread(env: dict[str, str], run_cli: InProcess) -> None:
    done = run_cli(env, "run", QUESTION, "--thread", "t-out", "--out", "/proc/version", "-q")
    assert done.returncode == 1
    assert f"deepresearch show {thread_id_for('t-out')}" in done.stderr.strip().splitlines()[-1]
    assert run_cli(env, "show", "t-out").stdout.startswith("# " + QUESTION)


def test_run_with_plan_review_in_the_terminal(env: dict[str, str], run_cli: InProcess) -> None:
    answers = "goal: find where Glass Harbor opened | Glass Harbor drama premiered\n" + "\n" * 8
    done = run_cli(env, "run", QUESTION, "--review", "--json", "--set", "pages_per_round=2", stdin=answers)
    assert done.returncode == 0, done.stderr
    assert "plan for round 1" in done.stderr and "1. Glass Harbor film premiere" in done.stderr
    assert "edited  goal: find where Glass Harbor opened" in done.stderr
    assert "hits    2 for Glass Harbor drama premiered" in done.stderr  # the search ran the edited query
    assert "search  Glass Harbor film premiere" not in done.stderr  # the proposal was never shown as searched
    assert json.loads(done.stdout)["answer"] == "1921"


def test_flags_and_set_together(env: dict[str, str], run_cli: InProcess) -> None:
    done = run_cli(env, "run", QUESTION, "--set", "search=tavily")
    assert done.returncode == 1 and "TAVILY_API_KEY" in done.stderr  # --set search is not overridden
    one = run_cli(env, "run", QUESTION, "--thread", "one-round", "--set", "max_rounds=1", "--json")
    assert one.returncode == 0 and json.loads(one.stdout)["rounds"] == 1


def test_review_with_no_input_leaves_the_plan_waiting(env: dict[str, str], run_cli: InProcess) -> None:
    done = run_cli(env, "run", QUESTION, "--review", "--thread", "wait", stdin="")
    assert done.returncode == 0, done.stderr
    assert "end of input" in done.stderr and "waiting for plan review" in done.stderr
    listing = run_cli(env, "threads")
    assert any(" review " in line and "[wait]" in line for line in listing.stdout.splitlines())


def test_thread_references(env: dict[str, str], run_cli: InProcess) -> None:
    done = run_cli(env, "run", QUESTION, "--thread", "refs", "--json", "--set", "max_rounds=1")
    thread_id = json.loads(done.stdout)["thread_id"]
    assert run_cli(env, "show", thread_id[-6:]).returncode == 0  # a unique end of the id
    short = run_cli(env, "show", "4b0b")  # too short to be taken as an id fragment
    assert short.returncode == 1 and "unknown thread '4b0b'" in short.stderr
    fragment_delete = run_cli(env, "threads", "delete", thread_id[:8])  # deletion needs the full id or the name
    assert fragment_delete.returncode == 1 and "give the full id or the name" in fragment_delete.stderr
    assert run_cli(env, "threads", "delete", "refs").returncode == 0
    assert run_cli(env, "show", "refs").returncode == 1
