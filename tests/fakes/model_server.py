"""A small OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks.

It speaks /v1/models and /v1/chat/completions (plain, json_schema, tool calls, streaming with usage)
and answers through a ``brain`` that sees only the request's messages. Faults can be injected:
HTTP errors, a refused response_format, malformed JSON before a repair, delays, and gates that hold
a request until the test releases it.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prompts.model import COUNT
from tests.fakes.model_faults import Faults, Logged  # Logged: re-exported, tests import it from here
from tests.fakes.model_grammar import instance
from tests.fakes.model_probe import PROBE_REPLY, counted, read_limit
from tools.model.probe_requests import is_probe

Brain = Callable[[list[dict[str, Any]]], tuple[str, Any]]  # messages -> (role, reply: dict | str)


class ModelServer:
    """Run with ``with ModelServer(brain) as server: server.base_url``."""

    def __init__(self, brain: Brain, model: str = "Alibaba-NLP/Tongyi-DeepResearch-30B-A3B",
                 max_model_len: int = 131072, port: int = 0, flavour: str = "vllm") -> None:
        self.brain = brain
        self.model = model
        self.max_model_len = max_model_len
        # "vllm": /models says max_model_len; "llamacpp": meta.n_ctx, and a prompt over it is refused as llama.cpp's
        # server refuses it (HTTP 400, exceed_context_size_error)
        self.flavour = flavour
        self.faults = Faults()
        self.log: list[Logged] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers of every request
        self.blocked = threading.Event()  # set while a gated request is waiting
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        # a short poll interval: shutdown() waits up to one interval, and tests start and stop many servers
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for _, event in self.faults.gates.values():
            event.set()
        for event in self.faults.hold_when.values():
            event.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def calls(self, role: str | None = None) -> list[Logged]:
        """The chat requests with ``role``; without one, every call a run counts (capability probes left out)."""
        with self._lock:
            return [c for c in self.log if c.role == role or (role is None and c.role != "probe")]

    # --- request handling -------------------------------------------------------------------
    def _reply(self, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None, str]:
        """(status, completion message or None, error text)."""
        messages = body.get("messages", [])
        text = "\n".join(str(m.get("content", "")) for m in messages)
        probe = is_probe(messages)  # the injected faults are aimed at a run's calls, not at the capability probe
        status, error, garbage = (0, "", False) if probe else self._injected(text)
        if status:
            return status, None, error
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema" and self.faults.reject_json_schema:
            return self.faults.json_schema_refusal[0], None, self.faults.json_schema_refusal[1]
        if body.get("tools") and self.faults.reject_tools:
            return self.faults.tools_refusal[0], None, self.faults.tools_refusal[1]
        role, reply = ("probe", PROBE_REPLY) if probe else self.brain(messages)
        limit = read_limit(body, self.faults.ignore_max_completion_tokens)
        if probe and COUNT in text:  # the output-limit probe
            return 200, counted(limit), ""
        method = ("json_schema" if response_format.get("type") == "json_schema"
                  else "tool_calling" if body.get("tools") else "text")
        if self.flavour == "llamacpp" and method == "tool_calling" and isinstance(body.get("tool_choice"), dict):
            method = "text"  # llama.cpp: "Wrong type supplied for parameter 'tool_choice'", then auto: a text reply
        with self._lock:
            self.log.append(Logged(role, messages, sum(len(str(m.get("content", ""))) for m in messages),
                                   method, bool(body.get("stream")), time.time(), body.get("tool_choice"),
                                   limit, tuple(k for k in ("max_completion_tokens", "max_tokens") if k in body)))
            nth = sum(1 for c in self.log if c.role == role)
        if role in self.faults.drop:
            return -1, None, "connection dropped"
        gate = self.faults.gates.get(role)
        if gate and nth >= gate[0]:
            self.blocked.set()
            gate[1].wait()
        for needle, release in self.faults.hold_when.items():
            if needle in text:
                self.blocked.set()
                release.wait()
        if role in self.faults.delay:
            time.sleep(self.faults.delay[role])
        repaired = any("could not be used" in str(m.get("content", "")) for m in messages if m.get("role") == "user")
        broken = garbage or (role in self.faults.malformed_until_repair and not repaired)
        if role in self.faults.cut_off:
            return 200, {**self._message(reply, method, True, body), "_finish": "length"}, ""
        return 200, self._message(reply, method, broken, body), ""

    def _injected(self, text: str) -> tuple[int, str, bool]:
        """(status to answer or 0, its error text, whether to send broken JSON) from the injected faults."""
        with self._lock:
            return self.faults.roll(text)

    def _message(self, reply: Any, method: str, broken: bool, body: dict[str, Any]) -> dict[str, Any]:
        message = self._content(reply, method, broken, body)
        if self.faults.reasoning_field:  # as vLLM's reasoning parser and llama.cpp send the thinking
            message["reasoning_content"] = "The user asks for a short reply."
        return message

    def _constrained(self, method: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The schema the server forces the reply into, if any (an enforced json_schema, a forced tool call)."""
        if method == "json_schema" and not self.faults.ignore_json_schema:
            return body["response_format"]["json_schema"]["schema"]
        choice = body.get("tool_choice")
        if method == "tool_calling" and (choice == "required" or isinstance(choice, dict)):
            return body["tools"][0]["function"]["parameters"]
        return None

    def _content(self, reply: Any, method: str, broken: bool, body: dict[str, Any]) -> dict[str, Any]:
        # text cannot come out under the constraint: a schema-valid object does. Only for the probe's greeting: the
        # brains' text replies under a schema stand for a model that gets past it (tests of unusable replies)
        schema = self._constrained(method, body) if reply == PROBE_REPLY else None
        if schema is not None:
            reply = instance(schema)
        if isinstance(reply, str):
            call = re.search(r"<tool_call>\s*(\{.*\})\s*</tool_call>", reply, re.S)
            if body.get("tools") and call:  # as vLLM's tool parser does: the call leaves the content
                parsed = json.loads(call.group(1))
                return {"role": "assistant", "content": reply[: call.start()].strip(), "tool_calls": [
                    {"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function",
                     "function": {"name": parsed["name"], "arguments": json.dumps(parsed["arguments"])}}]}
            return {"role": "assistant", "content": reply}
        text = json.dumps(reply, ensure_ascii=False)
        if broken:
            text = text[: max(1, len(text) // 2)] + " ...(cut off)"
        if method == "tool_calling" and not broken:
            name = body["tools"][0]["function"]["name"]
            return {"role": "assistant", "content": "", "tool_calls": [
                {"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function",
                 "function": {"name": name, "arguments": text}}]}
        if method == "text":
            think = "<think>Let me work through what the prompt shows.</think>\n" if self.faults.think else ""
            text = f"{think}Here is my reply:\n```json\n{text}\n```"
        return {"role": "assistant", "content": text}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body writes

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):  # the client went away (a killed run)
                    return

            def _send_json(self, status: int, payload: dict[str, Any]) -> None:
                self._send_body(status, json.dumps(payload).encode())

            def _send_body(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status in (429, 500, 502, 503):  # as busy servers do; keeps the client's retries quick
                    self.send_header("retry-after-ms", "10")
                self.end_headers()
                self.wfile.write(data)

            def _recorded_or_redirected(self) -> bool:
                """Record the request's headers; True if it was answered with the injected redirect (or dropped)."""
                with server._lock:
                    server.requests.append((self.command, self.path, dict(self.headers)))
                self.served = getattr(self, "served", 0) + 1
                if server.faults.close_reused and self.served > 1:
                    self.close_connection = True
                    return True
                if not server.faults.redirect_to:
                    return False
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(307)
                self.send_header("Location", server.faults.redirect_to.rstrip("/") + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True

            def do_GET(self) -> None:
                if self._recorded_or_redirected():
                    return
                if self.path.rstrip("/") == "/props" and server.flavour == "llamacpp":  # at the root, not under /v1
                    self._send_json(200, {"default_generation_settings": {"n_ctx": server.max_model_len},
                                          "total_slots": 1, "model_path": f"/models/{server.model}.gguf"})
                elif self.path.rstrip("/") == "/v1/models":
                    listed: dict[str, Any] = {"id": server.model, "object": "model"}
                    if server.flavour == "llamacpp":
                        listed |= {"owned_by": "llamacpp",
                                   "meta": {"n_ctx": server.max_model_len, "n_ctx_train": 32768}}
                    else:
                        listed["max_model_len"] = server.max_model_len
                    self._send_json(200, {"object": "list", "data": [listed]})
                else:
                    self._send_json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                if self._recorded_or_redirected():
                    return
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send_json(404, {"error": {"message": "not found"}})
                    return
                if body.get("model") != server.model:
                    self._send_json(404, {"error": {"message": f"model {body.get('model')} does not exist"}})
                    return
                with server._lock:
                    probe = is_probe(body.get("messages", []))
                    junk = server.faults.junk.pop(0) if server.faults.junk and not probe else None
                if junk is not None:
                    self._send_body(200, junk.encode())
                    return
                asked = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
                if server.flavour == "llamacpp" and asked > server.max_model_len:
                    self._send_json(400, {"error": {"code": 400, "type": "exceed_context_size_error", "message": (
                        f"request ({asked} tokens) exceeds the available context size ({server.max_model_len} "
                        "tokens), try increasing it")}})
                    return
                status, message, error = server._reply(body)
                if status == -1:  # a crashed server: no response at all
                    self.close_connection = True
                    return
                if message is None:
                    self._send_json(status, {"error": {"message": error, "type": "server_error"}})
                    return
                finish = message.pop("_finish", None)
                prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
                completion = message.pop("_tokens", None) or len(json.dumps(message)) // 4
                usage = {"prompt_tokens": prompt, "completion_tokens": completion,
                         "total_tokens": prompt + completion}
                if body.get("stream"):
                    self._stream(message, usage, body)
                else:
                    self._send_json(200, {"id": "chatcmpl-fake", "object": "chat.completion",
                                          "created": int(time.time()), "model": server.model,
                                          "choices": [{"index": 0, "message": message,
                                                       "finish_reason": finish or ("tool_calls"
                                                                                   if message.get("tool_calls")
                                                                                   else "stop")}],
                                          "usage": usage})

            def _chunk(self, payload: dict[str, Any] | str) -> None:
                data = ("data: " + (payload if isinstance(payload, str) else json.dumps(payload)) + "\n\n").encode()
                self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")

            def _stream(self, message: dict[str, Any], usage: dict[str, int], body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": server.model}
                content = message.get("content") or ""
                # like vLLM and OpenAI: the first chunk names the role
                self._chunk({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                  "finish_reason": None}]})
                if message.get("tool_calls"):
                    delta: dict[str, Any] = {"role": "assistant", "tool_calls": [
                        {**message["tool_calls"][0], "index": 0}]}
                    self._chunk({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                for i in range(0, len(content), 16):
                    self._chunk({**base, "choices": [{"index": 0, "delta": {"content": content[i:i + 16]},
                                                      "finish_reason": None}]})
                self._chunk({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._chunk({**base, "choices": [], "usage": usage})
                self._chunk("[DONE]")
                self.wfile.write(b"0\r\n\r\n")

        return Handler
