"""HTTP clients: a safe client for pages and a plain one for search APIs.

Search APIs and the Jina reader are endpoints the user configured (a self-hosted SearXNG often lives
on a private address), so only page fetching goes through the address policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from deepresearch.settings import WebSettings
from tools.netsafety import AddressPolicy, SafeTransport


@dataclass(frozen=True)
class Clients:
    """The two clients a run uses."""

    pages: httpx.AsyncClient
    api: httpx.AsyncClient


def timeouts(web: WebSettings) -> httpx.Timeout:
    """Explicit connect/read/write/pool timeouts for every request."""
    return httpx.Timeout(connect=web.connect_timeout, read=web.read_timeout, write=10.0, pool=web.fetch_timeout)


def make_clients(web: WebSettings) -> Clients:
    """Fresh clients: connection reuse, bounded pools, no environment proxies for page fetching."""
    limits = httpx.Limits(max_connections=web.max_connections, max_keepalive_connections=web.max_connections)
    headers = {"User-Agent": web.user_agent}
    pages = httpx.AsyncClient(transport=SafeTransport(AddressPolicy.parse(web.allow_private_network), limits),
                              timeout=timeouts(web), headers=headers, follow_redirects=False)
    api = httpx.AsyncClient(timeout=timeouts(web), headers=headers, limits=limits, follow_redirects=True)
    return Clients(pages, api)
