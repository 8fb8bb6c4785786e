"""Secrets never printed: planted in every setting that can hold one, then looked for in everything a run, doctor,
eval, the thread commands and their error paths print, write or store."""

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli_helpers import Done, InProcess, cli_env, langgraph_dev
from tests.conftest import QUESTION, glass_harbor, glass_harbor_site
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.fakes.web_server import WebServer

MARK = "S3CR3T"  # every planted secret starts with it: it must appear nowhere


def planted(purpose: str) -> str:
    return f"{MARK}-{purpose}"


@dataclass
class Stack:
    """The fake model and web, the user's configuration with a secret in each place one can go, and all seen."""

    model: ModelServer
    web: WebServer
    home: Path
    env: dict[str, str]
    run_cli: InProcess
    logs: pytest.LogCaptureFixture
    seen: list[tuple[str, str]] = field(default_factory=list)

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Done:
        """The command run through the CLI's entry point, with what it printed kept to look at."""
        done = self.run_cli(env or self.env, *args)
        where = " ".join(a if len(a) < 40 else a[:40] + "..." for a in args)
        self.seen += [(f"{where} (stdout)", done.stdout), (f"{where} (stderr)", done.stderr)]
        return done

    def look_in(self, folder: Path) -> None:
        """Every file under ``folder`` (databases too: their bytes, as any reader of the file sees them)."""
        for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []:
            self.seen.append((str(path), path.read_bytes().decode("latin-1")))

    def leaks(self) -> list[str]:
        """Where a planted secret was seen (the log records included), with the text around it."""
        found = []
        for where, text in [*self.seen, ("log records", self.logs.text)]:
            for match in re.finditer(MARK, text):
                found.append(f"{where}: ...{text[max(0, match.start() - 80):match.end() + 40]!r}...")
        return found


def endpoint(server: ModelServer, user: str, port: int | None = None) -> str:
    """The model's base URL with a user name and password (``user``-pass) in it, as for a proxy in front of it."""
    host, real_port = server.base_url.removeprefix("http://").split("/")[0].split(":")
    return f"http://{user}:{planted(user + '-pass')}@{host}:{port or real_port}/v1"


@pytest.fixture
def stack(tmp_path: Path, caplog: pytest.LogCaptureFixture, run_cli: InProcess) -> Iterator[Stack]:
    caplog.set_level(logging.INFO)
    with ModelServer(ToyModel(glass_harbor())) as model, WebServer(glass_harbor_site()) as web:
        web.keys = {"serper": planted("serper"), "tavily": planted("tavily"), "jina": planted("jina")}
        home = tmp_path / "home"
        env = cli_env(home, endpoint(model, "research"), DEEPRESEARCH_API_KEY=planted("api-key"),
                      DEEPRESEARCH_JUDGE_BASE_URL=endpoint(model, "judge"), DEEPRESEARCH_JUDGE_API_KEY=planted("judge"),
                      DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                      SEARXNG_URL=web.url("/searxng").replace("//", f"//sx:{planted('searxng')}@"),
                      SERPER_API_KEY=planted("serper"), SERPER_BASE_URL=web.url("/serper"),
                      TAVILY_API_KEY=planted("tavily"), TAVILY_BASE_URL=web.url("/tavily"),
                      JINA_API_KEY=planted("jina"), JINA_BASE_URL=web.url("/jina"),
                      SANDBOX_FUSION_ENDPOINT=f"http://box:{planted('sandbox')}@127.0.0.1:9")
        yield Stack(model, web, home, env, run_cli, caplog)


def questions(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text(json.dumps({"question": QUESTION, "answer": "1921"}) + "\n"
                    + json.dumps({"question": QUESTION + " Give the year.", "answer": "1899"}) + "\n")
    return path


def test_runs_eval_and_the_thread_commands_show_no_secret(stack: Stack, tmp_path: Path) -> None:
    """Every backend and key in use at once, each with its secret; the work succeeds and prints none of them."""
    threads = []
    for backend in ("searxng", "serper", "tavily"):
        done = stack.cli("run", QUESTION, "--search", backend, "--json", "--set", "pages_per_round=2")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["sources"]
        threads.append(json.loads(done.stdout)["thread_id"])
    assert stack.web.hits("/jina/") > 0  # the pages were read by the keyed reader (which cannot read the PDF)
    done = stack.cli("run", QUESTION, "--mode", "react", "--search", "searxng")
    assert done.returncode == 0, done.stderr
    # a run's own endpoint, given with --set: stored with its thread without its password, asked for on resume
    own = endpoint(stack.model, "own")
    done = stack.cli("run", QUESTION, "--search", "searxng", "--thread", "own", "--set", f"base_url={own}",
                     "--set", "max_rounds=1")
    assert done.returncode == 0, done.stderr
    again = stack.cli("resume", "own", "--set", "max_rounds=2")
    assert again.returncode == 1 and "resume it with --set base_url=URL" in again.stderr
    again = stack.cli("resume", "own", "--set", f"base_url={own}", "--set", "max_rounds=2")
    assert again.returncode == 0, again.stderr
    for args in (["threads"], ["threads", "--json"], ["show", threads[0]], ["show", threads[1], "--json"], ["doctor"]):
        done = stack.cli(*args)
        assert done.returncode == 0, done.stderr
    out = tmp_path / "eval-out"
    done = stack.cli("eval", str(questions(tmp_path)), "--judge", "browsecomp", "--search", "searxng",
                     "--out", str(out), "--set", "pages_per_round=2")
    assert done.returncode == 0, done.stderr
    assert "Avg@k" in done.stdout and len(stack.model.calls("judge")) == 2  # graded, through the judge's endpoint
    stack.look_in(out)
    stack.look_in(stack.home)
    assert not (leaks := stack.leaks()), "\n".join(leaks)


@dataclass(frozen=True)
class ErrorPath:
    """One error path: what the configuration has instead, the command, and words that show it was taken."""

    env: dict[str, str]
    args: tuple[str, ...]
    shows: str
    code: int | None = 1


UNREACHABLE = "127.0.0.1:9"  # nothing listens there
ERROR_PATHS = {
    "unreachable endpoint (run)": ErrorPath(
        {"DEEPRESEARCH_BASE_URL": f"http://research:{planted('research-pass')}@{UNREACHABLE}/v1"
                                  f"?api_key={planted('model-query')}"},
        ("run", QUESTION, "--search", "searxng"), "cannot reach the model endpoint at", 2),
    "unreachable endpoint (doctor)": ErrorPath(
        {"DEEPRESEARCH_BASE_URL": f"http://research:{planted('research-pass')}@{UNREACHABLE}/v1"
                                  f"?api_key={planted('model-query')}"},
        ("doctor",), "UNREACHABLE", 2),
    "a model the endpoint does not serve": ErrorPath(
        {"DEEPRESEARCH_MODEL": "no-such-model"}, ("run", QUESTION, "--search", "searxng"), "is not served at", 2),
    "a key as a query parameter of the base URL": ErrorPath(
        {"DEEPRESEARCH_BASE_URL": "{model}?api_key=" + planted("model-query")}, ("doctor",), "answered HTTP 404", 2),
    "unreachable Postgres (run)": ErrorPath(
        {"DEEPRESEARCH_CHECKPOINT_URL": f"postgresql://u:{planted('pg-pass')}@{UNREACHABLE}/db"},
        ("run", QUESTION, "--search", "searxng"), "cannot use the checkpoint database"),
    "a Postgres password as a parameter (doctor)": ErrorPath(
        {"DEEPRESEARCH_CHECKPOINT_URL": f"postgresql://u@{UNREACHABLE}/db?sslmode=disable&password={planted('pg')}"},
        ("doctor",), "checkpoints in Postgres", None),
    "a Postgres password as a parameter (threads)": ErrorPath(
        {"DEEPRESEARCH_CHECKPOINT_URL": f"postgresql://u@{UNREACHABLE}/db?password={planted('pg')}"},
        ("threads",), "cannot use the checkpoint database"),
    "a % that psycopg rejects": ErrorPath(
        {"DEEPRESEARCH_CHECKPOINT_URL": f"postgresql://u:{planted('pg')}%zz@{UNREACHABLE}/db"},
        ("threads",), "percent-encoded"),
    "a space that psycopg rejects": ErrorPath(
        {"DEEPRESEARCH_CHECKPOINT_URL": f"postgresql://u:{planted('pg')} x@{UNREACHABLE}/db"},
        ("show", "anything"), "cannot use the checkpoint database"),
    "an invalid checkpoint URL": ErrorPath(
        {"DEEPRESEARCH_CHECKPOINT_URL": f"mysql://u:{planted('invalid')}@db.example/db"},
        ("threads",), "DEEPRESEARCH_CHECKPOINT_URL must be a postgres"),
    "an invalid SearXNG URL": ErrorPath(
        {"SEARXNG_URL": f"ftp://sx:{planted('invalid')}@search.example"}, ("doctor",), "SEARXNG_URL must start"),
    "an invalid judge URL": ErrorPath(
        {"DEEPRESEARCH_JUDGE_BASE_URL": f"judge:{planted('invalid')}@judge.example/v1"}, ("doctor",),
        "DEEPRESEARCH_JUDGE_BASE_URL must start"),
    "an invalid key origin": ErrorPath(
        {"DEEPRESEARCH_API_KEY_ORIGINS": f"https://u:{planted('invalid')}@api.example.com"}, ("doctor",),
        "DEEPRESEARCH_API_KEY_ORIGINS must be"),
    "an invalid --set base_url": ErrorPath(
        {}, ("run", QUESTION, "--set", f"base_url=ftp://u:{planted('invalid')}@model.example/v1"), "base_url"),
    "a / left unencoded in the model's password": ErrorPath(
        {"DEEPRESEARCH_BASE_URL": f"http://research:{planted('pa')}/ss@{UNREACHABLE}/v1"}, ("doctor",),
        "DEEPRESEARCH_BASE_URL", None),
    "a / left unencoded in SearXNG's password": ErrorPath(
        {"SEARXNG_URL": f"http://sx:{planted('pa')}/ss@{{web}}/searxng"}, ("run", QUESTION, "--search", "searxng"),
        "SEARXNG_URL", None),
    "a / left unencoded in the Postgres password": ErrorPath(
        {"DEEPRESEARCH_CHECKPOINT_URL": f"postgresql://u:{planted('pa')}/ss@{UNREACHABLE}/db"}, ("threads",),
        "cannot use the checkpoint database"),
    "a # left unencoded in the Postgres password": ErrorPath(
        {"DEEPRESEARCH_CHECKPOINT_URL": f"postgresql://u:{planted('pa')}#ss@{UNREACHABLE}/db"}, ("threads",),
        "cannot use the checkpoint database"),
    "an unreachable search backend": ErrorPath(
        {"SEARXNG_URL": f"http://sx:{planted('searxng')}@{UNREACHABLE}/searxng"},
        ("run", QUESTION, "--search", "searxng"), "cannot reach the search backend searxng", 2),
    "an unreachable reader": ErrorPath(
        {"JINA_BASE_URL": f"http://reader:{planted('jina-pass')}@{UNREACHABLE}"},
        ("run", QUESTION, "--search", "searxng", "--set", "max_rounds=2"), "the Jina reader failed", 0),
    "an unreachable judge": ErrorPath(
        {"DEEPRESEARCH_JUDGE_BASE_URL": f"http://judge:{planted('judge-pass')}@{UNREACHABLE}/v1"},
        ("eval", "{questions}", "--judge", "browsecomp", "--search", "searxng", "--limit", "1", "--out", "{out}"),
        "ungraded", 0),
}


@pytest.mark.parametrize("case", list(ERROR_PATHS))
def test_error_paths_show_no_secret(stack: Stack, tmp_path: Path, case: str) -> None:
    """Each fails (or degrades) with a clear message, and no secret in it, in a log or in what it stored."""
    path = ERROR_PATHS[case]
    env = {**stack.env, **{k: v.replace("{model}", endpoint(stack.model, "research")).replace(
        "{web}", stack.web.base.removeprefix("http://")) for k, v in path.env.items()}}
    out = tmp_path / "eval-out"
    args = [a.replace("{questions}", str(questions(tmp_path))).replace("{out}", str(out)) for a in path.args]
    done = stack.cli(*args, env=env)
    if path.code is not None:
        assert done.returncode == path.code, done.stderr
    assert "Traceback" not in done.stderr
    stack.look_in(out)
    stack.look_in(stack.home)
    assert path.shows in "".join(text for _, text in stack.seen)
    assert not (leaks := stack.leaks()), "\n".join(leaks)


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pgserver = pytest.importorskip("pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server.get_uri()


def stored_rows(url: str) -> str:
    """Every value of every checkpoint table, as text."""
    import psycopg

    values: list[Any] = []
    with psycopg.connect(url) as conn:
        for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
            for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():  # noqa: S608 - names from the catalogue
                values += [bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v) for v in row]
    return "\n".join(values)


@pytest.mark.parametrize("where", ["userinfo", "parameter"])
def test_a_postgres_thread_store_shows_no_secret(stack: Stack, postgres: str, where: str) -> None:
    """pgserver trusts local connections: any password works, and each is planted where a user would put it."""
    url = (postgres.replace("postgres:@", f"postgres:{planted('pg-pass')}@", 1) if where == "userinfo"
           else postgres + f"&password={planted('pg-param')}")
    env = {**stack.env, "DEEPRESEARCH_CHECKPOINT_URL": url}
    done = stack.cli("run", QUESTION, "--search", "searxng", "--json", "--set", "pages_per_round=2", env=env)
    assert done.returncode == 0, done.stderr
    thread = json.loads(done.stdout)["thread_id"]
    for args in (["threads"], ["show", thread, "--json"], ["doctor"]):
        done = stack.cli(*args, env=env)
        assert done.returncode == 0, done.stderr
    assert "checkpoints in Postgres" in done.stdout
    stack.seen.append(("the Postgres tables", stored_rows(postgres)))
    stack.look_in(stack.home)
    assert not (leaks := stack.leaks()), "\n".join(leaks)


async def test_the_server_logs_and_answers_no_secret(stack: Stack, tmp_path: Path) -> None:
    """`langgraph dev` logs every request at INFO; a run's context may bring its own endpoint with a password."""
    from langgraph_sdk import get_client

    context = {"search": "searxng", "pages_per_round": 2}
    refused = []
    with langgraph_dev(tmp_path, stack.env) as url:
        client = get_client(url=url)
        thread = await client.threads.create()
        done = await client.runs.wait(thread["thread_id"], "iterresearch", input={"question": QUESTION},
                                      context=context)
        assert isinstance(done, dict) and done.get("report")
        for base_url in (f"http://own:{planted('context')}@{UNREACHABLE}/v1",  # unreachable, and not a URL at all
                         f"ftp://own:{planted('context')}@model.example/v1"):
            thread = await client.threads.create()
            with pytest.raises(Exception) as failed:  # noqa: PT011 - whatever the SDK raises, its text is looked at
                await client.runs.wait(thread["thread_id"], "iterresearch", input={"question": QUESTION},
                                       context={**context, "base_url": base_url}, raise_error=True)
            # runs.wait raises httpx's error for a 422, with the server's reason in its notes
            refused.append("\n".join([str(failed.value), *getattr(failed.value, "__notes__", [])]))
        listed = httpx.get(f"{url}/deepresearch/threads", timeout=60).text
    assert "cannot reach the model endpoint at http://own:***@" in refused[0] and "base_url" in refused[1]
    stack.seen += [("the API's errors", "\n".join(refused)), ("GET /deepresearch/threads", listed),
                   ("the server's log", (tmp_path / "server.log").read_text())]
    stack.look_in(stack.home)
    assert not (leaks := stack.leaks()), "\n".join(leaks)
