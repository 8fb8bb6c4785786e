"""Run the `deepresearch` command: in this process (fast: input checks, output, whole runs) or in a
subprocess (for what only a real process shows: exit codes of the installed entry point, signals, kill -9)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli_env(home: Path, base_url: str = "http://127.0.0.1:9/v1", **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPRESEARCH_")}
    env.update({"DEEPRESEARCH_HOME": str(home), "DEEPRESEARCH_BASE_URL": base_url,
                "DEEPRESEARCH_MAX_RETRIES": "1", "DEEPRESEARCH_TIMEOUT": "30", "COLUMNS": "200", **extra})
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 120, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "deepresearch", *args], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout, input=stdin)


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "deepresearch", *args], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@dataclass(frozen=True)
class Done:
    """What one command did: its exit code and output, as a subprocess would show them."""

    returncode: int
    stdout: str
    stderr: str


class InProcess:
    """``run_cli(env, *args, stdin=...)``: the command's entry point called here, with that environment."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, env: dict[str, str], *args: str, stdin: str | None = None) -> Done:
        from deepresearch.cli import main

        with pytest.MonkeyPatch.context() as patch:
            for name in [n for n in os.environ if n.startswith(("DEEPRESEARCH_", "SERPER_", "TAVILY_", "JINA_",
                                                                 "SEARXNG_")) and n not in env]:
                patch.delenv(name)
            for name, value in env.items():
                patch.setenv(name, value)
            patch.setattr(sys, "stdin", io.StringIO(stdin or ""))
            self.capsys.readouterr()
            try:
                main(list(args))
                code: int | str | None = 0
            except SystemExit as exc:
                code = exc.code
            captured = self.capsys.readouterr()
        return Done(code if isinstance(code, int) else 1, captured.out, captured.err)


@contextmanager
def langgraph_dev(cwd: Path, env: dict[str, str], *flags: str) -> Iterator[str]:
    """`langgraph dev` (with ``flags``) on a free port of 127.0.0.1 with ``env``, from ``cwd``; its URL once up."""
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = (cwd / "server.log").open("w")  # a file, not a pipe: an unread pipe fills up and stalls the server
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "langgraph"), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1",
         "--port", str(port), "--config", str(ROOT / "langgraph.json"), *flags],
        cwd=cwd, env={**env, "LANGGRAPH_NO_ANALYTICS": "1"}, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"langgraph dev did not start: {(cwd / 'server.log').read_text()[-3000:]}")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
