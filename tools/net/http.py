"""HTTP clients: a safe client for pages and a plain one for search APIs.

Search APIs and the Jina reader are endpoints the user configured (a self-hosted SearXNG often lives
on a private address), so only page fetching goes through the address policy. The API client follows no
redirect: httpx drops only ``Authorization`` when a redirect leaves the origin, so a key sent in another
header (Serper's ``X-API-KEY``) would go wherever the redirect points.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx

from core.errors import Transient
from core.settings import WebSettings
from tools.net.netsafety import AddressPolicy, SafeTransport
from tools.net.retry import retry_after, retrying


@dataclass(frozen=True)
class Clients:
    """The two clients a run uses."""

    pages: httpx.AsyncClient
    api: httpx.AsyncClient


@cache
def tls() -> ssl.SSLContext:
    """One TLS context for every client of the process (building one reads the CA bundle: tens of ms).

    It trusts the system's CAs plus SSL_CERT_FILE / SSL_CERT_DIR when set, as httpx does by default.
    """
    return httpx.create_ssl_context(trust_env=True)


def timeouts(web: WebSettings) -> httpx.Timeout:
    """Explicit connect/read/write/pool timeouts for every request."""
    return httpx.Timeout(connect=web.connect_timeout, read=web.read_timeout, write=10.0, pool=web.fetch_timeout)


def make_clients(web: WebSettings) -> Clients:
    """Fresh clients: connection reuse, bounded pools, no environment proxies for page fetching.

    Neither follows redirects by itself: the page fetcher checks every hop, and the API client carries keys.
    """
    limits = httpx.Limits(max_connections=web.max_connections, max_keepalive_connections=web.max_connections)
    headers = {"User-Agent": web.user_agent}
    policy = AddressPolicy.parse(web.allow_private_network)
    pages = httpx.AsyncClient(transport=SafeTransport(policy, limits, tls()),
                              timeout=timeouts(web), headers=headers, follow_redirects=False)
    api = httpx.AsyncClient(timeout=timeouts(web), headers=headers, limits=limits, follow_redirects=False,
                            verify=tls())
    return Clients(pages, api)


async def request_json(client: httpx.AsyncClient, method: str, url: str, *, service: str,
                    fail: Callable[[str, bool], Exception], unreachable: Callable[[str], Exception] | None = None,
                    **kwargs: Any) -> Any:
    """One call to a JSON API (search backends, Jina), retrying 429, 5xx, timeouts and dropped connections.

    Failures are raised as ``fail(message, transient)``, so each caller keeps its own error type; when no
    connection could be made at all and ``unreachable`` is given, as ``unreachable(message)``. A redirect is
    not followed (it would take the key along): the base URL is not the service's own address, so every
    call would fail alike, and it is raised as ``unreachable(message)`` if given, else as a lasting failure.
    """

    async def attempt() -> Any:
        try:
            response = await client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(f"connection failed ({_cause(exc)})", unreachable=True) from exc
        except httpx.TimeoutException as exc:
            raise Transient("timed out") from exc
        except httpx.TransportError as exc:
            raise Transient(f"connection failed ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:  # redirect loops, undecodable bodies
            raise fail(f"{service} answered unusably ({type(exc).__name__})", False) from exc
        if 300 <= response.status_code < 400:
            message = (f"{service} answered with a redirect (HTTP {response.status_code}) to "
                       f"{redirect_target(str(response.url), response.headers.get('location', ''))}; set its base URL "
                       "to the final address")
            raise unreachable(message) if unreachable is not None else fail(message, False)
        if response.status_code == 429 or response.status_code >= 500:
            raise Transient(f"HTTP {response.status_code}", retry_after(response.headers.get("retry-after")))
        if response.status_code in (401, 403):
            raise fail(f"{service} refused the request (HTTP {response.status_code}): check its key or settings",
                       False)
        if response.status_code >= 400:
            raise fail(f"{service} answered HTTP {response.status_code}", False)
        try:
            return response.json()
        except ValueError as exc:
            raise fail(f"{service} did not answer with JSON", False) from exc

    try:
        return await retrying(attempt)
    except Transient as exc:
        if exc.unreachable and unreachable is not None:
            raise unreachable(str(exc)) from exc
        raise fail(f"{service} failed after retries: {exc}", True) from exc


def redirect_target(url: str, location: str) -> str:
    """Where a redirect from ``url`` points, for a message: without its query or credentials (they may be secret)."""
    if not location:
        return "nowhere (no Location header)"
    try:
        target = httpx.URL(url).join(location).copy_with(query=None, fragment=None, userinfo=b"")
    except (httpx.InvalidURL, ValueError, TypeError):
        return "an invalid address"
    shown = str(target)
    return shown if len(shown) <= 200 else shown[:199] + "…"


def _cause(exc: httpx.HTTPError) -> str:
    """The short reason of a connection failure (name resolution, refusal), or its type."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__
