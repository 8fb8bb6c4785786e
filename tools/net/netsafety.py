"""Safe fetching: only http(s), and never a loopback, private, link-local, multicast or metadata address.

The address check runs where the socket is opened (an httpcore network backend), so it covers the
first request, every redirect and every DNS answer, including a name that resolves differently the
second time (DNS rebinding): the connection goes to the very address that was checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from core.errors import ConfigError, RefusedURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# cloud metadata services answer on these (most are also link-local or private; named for the message)
METADATA = {ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200",
                                              "fd00:ec2::254")}
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, not the public internet


class UnsafeAddress(httpcore.ConnectError):
    """A connection to an address the policy refuses (raised before any packet is sent)."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which non-public addresses may be fetched anyway (DEEPRESEARCH_ALLOW_PRIVATE_NETWORK)."""

    allow_all: bool = False
    allowed: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, value: str) -> AddressPolicy:
        """``""``: public addresses only; ``"1"``: anything; else a comma list of addresses or networks."""
        value = value.strip()
        if not value or value.lower() in ("0", "false", "no", "off"):
            return cls()
        if value.lower() in ("1", "true", "yes", "on"):
            return cls(allow_all=True)
        try:
            nets = tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())
        except ValueError as exc:
            raise ConfigError(
                f"DEEPRESEARCH_ALLOW_PRIVATE_NETWORK must be 1 or a list of addresses/networks: {exc}"
            ) from None
        return cls(allowed=nets)

    def refusal(self, ip: IPAddress) -> str | None:
        """Why a connection to ``ip`` is refused, or None if it may go ahead."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        kind = _non_public_kind(ip)
        if kind is None or self.allow_all or any(ip in net for net in self.allowed):
            return None
        return f"{ip} is a {kind} address (set DEEPRESEARCH_ALLOW_PRIVATE_NETWORK to allow it)"


def _non_public_kind(ip: IPAddress) -> str | None:
    if ip in METADATA:
        return "cloud metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return "site-local"
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)  # 6to4 and Teredo carry an IPv4 address
        if embedded is not None and _non_public_kind(embedded) is not None:
            return f"tunnelled {_non_public_kind(embedded)}"
    checks = (("loopback", ip.is_loopback), ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
              ("unspecified", ip.is_unspecified), ("private", ip.is_private),
              ("shared (CGNAT)", isinstance(ip, ipaddress.IPv4Address) and ip in SHARED),
              ("reserved", ip.is_reserved))
    return next((name for name, hit in checks if hit), None)


def check_url(url: str) -> str:
    """The URL's host if it may be fetched at all (http or https with a host), else RefusedURL."""
    # parsers disagree on backslashes and control characters (WHATWG reads "\\" as "/"): refuse them
    if "\\" in url or any(ord(c) < 32 for c in url):
        raise RefusedURL(f"refused {url!r}: malformed URL (backslash or control character)")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise RefusedURL(f"refused {url!r}: malformed URL ({exc})") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise RefusedURL(f"refused {url}: only http and https URLs are fetched")
    if not parts.hostname:
        raise RefusedURL(f"refused {url}: no host")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise RefusedURL(f"refused {url}: bad port") from exc
    problem = _host_problem(parts.hostname)
    if problem:
        raise RefusedURL(f"refused {url!r}: malformed host ({problem})")
    return parts.hostname


_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.I)


def _host_problem(host: str) -> str | None:
    """Why a host name can never be a real one, or None: refused here rather than failing in DNS."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # 0177.0.0.1, 0x7f.1, 2130706433: resolvers read these as IPv4 addresses, each their own way
        return "a numeric address in a non-standard form"
    if len(host) > 253 or any(not label or len(label) > 63 for label in labels):
        return "empty or overlong label"
    for label in labels:
        if label.lower().startswith("xn--"):
            try:
                label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                return f"invalid punycode label {label!r}"
            if not label[4:]:
                return f"invalid punycode label {label!r}"
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address a host name resolves to (a literal address resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from exc
    except UnicodeError as exc:  # a host name IDNA cannot encode
        raise httpcore.ConnectError(f"cannot resolve {host!r}: not a valid host name") from exc
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


class SafeBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address against the policy, and connects to an address it checked."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        """Open a TCP connection only to an allowed address of ``host``."""
        addresses = await resolve(host, port)
        refusals = [r for r in (self.policy.refusal(ip) for ip in addresses) if r]
        if refusals:  # one bad answer is enough: a name that mixes public and private addresses is suspect
            raise UnsafeAddress(f"refused {host}: {refusals[0]}")
        return await self.inner.connect_tcp(str(addresses[0]), port, timeout=timeout, local_address=local_address,
                                            socket_options=socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        """Unix sockets are never used for page fetching."""
        raise UnsafeAddress("refused: unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        """Delegate to the wrapped backend."""
        await self.inner.sleep(seconds)


class SafeTransport(httpx.AsyncHTTPTransport):
    """httpx transport whose connection pool opens sockets only through SafeBackend.

    httpx has no public hook for the network backend, so the pool it builds is replaced by an
    identical one (same TLS context and limits) that uses SafeBackend; tests/test_netsafety.py
    checks the replacement is the pool requests actually go through.
    """

    def __init__(self, policy: AddressPolicy, limits: httpx.Limits, tls: ssl.SSLContext) -> None:
        super().__init__(verify=tls, limits=limits, trust_env=False, retries=0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=SafeBackend(policy),
        )


def refused_by_policy(exc: BaseException) -> str | None:
    """The refusal message if an httpx error came from the address policy."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UnsafeAddress):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return None
