"""`eval --server URL` against what may answer at a URL: nothing, a web server that is no LangGraph server, one
without the graph; each is one line and a nonzero exit. And which API key, if any, goes there."""

import json
import socket
from pathlib import Path

import pytest

from tests.cli_helpers import InProcess, cli_env
from tests.conftest import QUESTION
from tests.fakes.web_server import Route, WebServer


@pytest.fixture
def questions(tmp_path: Path) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": QUESTION, "answer": "1921"}) + "\n")
    return path


def one_line(done: object) -> str:
    stderr = str(getattr(done, "stderr", ""))
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
    return stderr


@pytest.mark.parametrize("url", ["127.0.0.1:2024", "localhost", "ftp://127.0.0.1:2024", "http://", "http:///path"])
def test_a_server_url_without_http_and_a_host_is_refused(home: Path, questions: Path, run_cli: InProcess,
                                                         tmp_path: Path, url: str) -> None:
    done = run_cli(cli_env(home), "eval", str(questions), "--server", url, "--out", str(tmp_path / "o"))
    assert done.returncode == 1
    assert "--server takes the http:// or https:// URL of a LangGraph server" in one_line(done)
    assert not (tmp_path / "o").exists()


def test_nothing_listening_is_one_line(home: Path, questions: Path, run_cli: InProcess, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = run_cli(cli_env(home), "eval", str(questions), "--server", f"http://127.0.0.1:{port}", "--out",
                   str(tmp_path / "o"))
    assert done.returncode == 2
    assert f"cannot reach the LangGraph server at http://127.0.0.1:{port} (--server)" in one_line(done)


def test_a_web_server_that_is_no_langgraph_server_is_one_line(home: Path, questions: Path, run_cli: InProcess,
                                                              tmp_path: Path) -> None:
    with WebServer() as web:  # it answers 404 to every API path
        done = run_cli(cli_env(home), "eval", str(questions), "--server", web.base + "/", "--out",
                       str(tmp_path / "o"))
    assert done.returncode == 2
    assert (f"{web.base} is not a LangGraph server that works (--server): the server answered "
            "POST /assistants/search with HTTP 404") in one_line(done)


@pytest.mark.parametrize(("body", "message"), [(b"[]", "has no graph 'react'"),
                                               (b"<html>hello</html>", "did not answer as a LangGraph server")])
def test_a_server_without_the_graph_is_one_line(home: Path, questions: Path, run_cli: InProcess, tmp_path: Path,
                                                body: bytes, message: str) -> None:
    with WebServer({"/assistants/search": Route(body, "application/json")}) as web:
        done = run_cli(cli_env(home), "eval", str(questions), "--server", web.base, "--mode", "react", "--out",
                       str(tmp_path / "o"))
    assert done.returncode == 2 and message in one_line(done)


def test_no_api_key_goes_to_the_server_unless_one_is_named_for_it(home: Path, questions: Path, run_cli: InProcess,
                                                                  tmp_path: Path) -> None:
    """langgraph-sdk sends LANGGRAPH_API_KEY or LANGSMITH_API_KEY to any URL; eval sends only its own."""
    keys = {"LANGSMITH_API_KEY": "lsv2-langsmith-secret", "LANGGRAPH_API_KEY": "langgraph-secret",
            "LANGCHAIN_API_KEY": "langchain-secret"}
    with WebServer({"/assistants/search": Route(b"[]", "application/json")}) as web:
        done = run_cli(cli_env(home, **keys), "eval", str(questions), "--server", web.base, "--out",
                       str(tmp_path / "o"))
        assert done.returncode == 2 and web.requests
        sent = json.dumps([headers for _, _, headers, _ in web.requests]).lower()
        assert "x-api-key" not in sent and not any(key in sent for key in keys.values())
        web.requests.clear()
        done = run_cli(cli_env(home, DEEPRESEARCH_SERVER_API_KEY="eval-server-key", **keys), "eval", str(questions),
                       "--server", web.base, "--out", str(tmp_path / "o"))
        assert done.returncode == 2 and web.requests
        for _, _, headers, _ in web.requests:
            assert {k.lower(): v for k, v in headers.items()}["x-api-key"] == "eval-server-key"
    assert "eval-server-key" not in done.stderr


def test_a_server_that_refuses_the_key_says_which_variable(home: Path, questions: Path, run_cli: InProcess,
                                                           tmp_path: Path) -> None:
    with WebServer({"/assistants/search": Route(b'{"detail": "Invalid API key"}', "application/json", 403)}) as web:
        done = run_cli(cli_env(home), "eval", str(questions), "--server", web.base, "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert "refused the request (HTTP 403): set DEEPRESEARCH_SERVER_API_KEY" in one_line(done)
