"""A small web on 127.0.0.1 for tests: pages, misbehaving pages, and the search APIs the agent speaks.

Search endpoints (SearXNG, Serper, Tavily) answer from the site's own pages, ranked by how many query
words each page holds; the Jina reader endpoint serves the site's pages as Jina would.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BIG = 20_000_000


@dataclass
class Route:
    """One page: status, content type, body, optional latency, or held until the test releases it."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    delay: float = 0.0
    title: str = ""
    searchable: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None  # the answer waits until this is set (or the server stops)


def html(title: str, *paragraphs: str) -> Route:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<nav>Home | About</nav><article><h1>{title}</h1>{body}</article><footer>Fake web</footer></body></html>")
    return Route(page.encode(), title=title)


class WebServer:
    """``with WebServer(routes) as web: web.url("/path")``."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.robots: Route | None = None
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []  # method, path, headers, body
        self.flaky: Counter[str] = Counter()  # path -> number of 503s still to send
        self.keys = {"serper": "serper-key", "tavily": "tavily-key", "jina": "jina-key"}
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        # a short poll interval: shutdown() waits up to one interval, and tests start and stop many servers
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> WebServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for _, p, _, _ in self.requests if urlsplit(p).path == path)

    # --- search over the site -------------------------------------------------------------------
    def _text(self, route: Route) -> str:
        raw = route.body.decode("utf-8", errors="replace") if "pdf" not in route.content_type else ""
        return " ".join(re.sub(r"<[^>]+>", " ", raw).split())

    def search(self, query: str, k: int) -> list[dict[str, str]]:
        words = set(re.findall(r"\w+", query.lower())) - {"the", "of", "a", "in", "by"}
        scored = []
        for path, route in self.routes.items():
            if not route.searchable:
                continue
            text = (route.title + " " + self._text(route)).lower()
            score = sum(1 for w in words if re.search(rf"\b{re.escape(w)}", text))
            if score:
                scored.append((-score, path, route))
        scored.sort(key=lambda t: (t[0], t[1]))
        return [{"title": r.title or p, "url": self.url(p), "content": self._text(r)[:200]} for _, p, r in scored[:k]]

    # --- HTTP -----------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body writes

            def log_message(self, *args: Any) -> None:
                return

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):  # the client went away mid-answer
                    return

            def _send(self, status: int, body: bytes, content_type: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, payload: Any) -> None:
                self._send(status, json.dumps(payload).encode())

            def _record(self, body: bytes = b"") -> None:
                with web._lock:
                    web.requests.append((self.command, self.path, dict(self.headers), body))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._record(body)
                path = urlsplit(self.path).path
                route = web.routes.get(path)  # a route set for an API path (a redirect, say) answers as it is
                if route is not None:
                    return self._send(route.status, route.body, route.content_type, route.headers)
                data = json.loads(body or b"{}")
                if path == "/serper/search":
                    if self.headers.get("X-API-KEY") != web.keys["serper"]:
                        return self._json(403, {"message": "bad key"})
                    items = web.search(data.get("q", ""), int(data.get("num", 10)))
                    return self._json(200, {"organic": [{"title": i["title"], "link": i["url"],
                                                         "snippet": i["content"], "position": n + 1}
                                                        for n, i in enumerate(items)]})
                if path == "/jina/":
                    return self._jina(str(data.get("url", "")))
                if path == "/tavily/search":
                    if self.headers.get("Authorization") != f"Bearer {web.keys['tavily']}":
                        return self._json(401, {"detail": "bad key"})
                    items = web.search(data.get("query", ""), int(data.get("max_results", 5)))
                    return self._json(200, {"results": [{**i, "score": 0.9} for i in items]})
                return self._json(404, {"error": "not found"})

            def do_GET(self) -> None:  # noqa: C901 - a route table, kept flat on purpose
                self._record()
                parts = urlsplit(self.path)
                path, query = parts.path, parse_qs(parts.query)
                with web._lock:
                    if web.flaky[path] > 0:
                        web.flaky[path] -= 1
                        return self._send(503, b"busy", "text/plain", {"Retry-After": "0"})
                if path == "/searxng/search":
                    if query.get("format") != ["json"]:
                        return self._send(403, b"Forbidden", "text/html")
                    return self._json(200, {"query": query["q"][0], "results": web.search(query["q"][0], 10)})
                if path == "/robots.txt":
                    robots = web.robots
                    if robots is None:
                        return self._send(404, b"not found", "text/plain")
                    return self._send(robots.status, robots.body, robots.content_type)
                if path == "/redirect":
                    return self._send(302, b"", "text/plain", {"Location": query["to"][0]})
                if path == "/big":
                    return self._big(declared=True)
                if path == "/big-chunked":
                    return self._big(declared=False)
                if path == "/hang":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b"<html><body>still loading")
                    self.wfile.flush()
                    web._stop.wait(60)
                    return None
                route = web.routes.get(path)
                if route is None:
                    return self._send(404, b"<h1>Not found</h1>", "text/html")
                with web._lock:
                    web.in_flight += 1
                    web.max_in_flight = max(web.max_in_flight, web.in_flight)
                try:
                    while route.hold is not None and not route.hold.wait(0.05) and not web._stop.is_set():
                        pass
                    if route.delay:
                        web._stop.wait(route.delay)  # a slow page still ends when the server does
                    return self._send(route.status, route.body, route.content_type, route.headers)
                finally:
                    with web._lock:
                        web.in_flight -= 1

            def _big(self, declared: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                if declared:
                    self.send_header("Content-Length", str(BIG))
                else:
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(BIG // len(chunk)):
                        if declared:
                            self.wfile.write(chunk)
                        else:
                            self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
                    if not declared:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    return

            def _jina(self, target: str) -> None:
                if self.headers.get("Authorization") != f"Bearer {web.keys['jina']}":
                    return self._json(401, {"code": 401, "message": "bad key"})
                route = web.routes.get(urlsplit(target).path)
                if route is None:
                    return self._json(422, {"code": 422, "message": "could not fetch"})
                return self._json(200, {"code": 200, "data": {"title": route.title, "url": target,
                                                              "content": web._text(route)}})

        return Handler
