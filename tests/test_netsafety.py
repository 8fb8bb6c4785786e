"""Safe fetching against a local web server: every unsafe request is refused, every fault is contained."""

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from core.errors import ConfigError, ReadError, RefusedURL
from core.settings import WebSettings
from tests.fakes.web_server import Route, WebServer
from tools.net.http import make_clients
from tools.net.netsafety import AddressPolicy
from tools.web.fetch import Fetcher

LOCAL = WebSettings(allow_private_network="127.0.0.1", fetch_timeout=4, read_timeout=1, connect_timeout=1)


@pytest.fixture
async def site(web: WebServer) -> AsyncIterator[WebServer]:
    yield web


async def fetcher(settings: WebSettings = LOCAL) -> Fetcher:
    return Fetcher(make_clients(settings).pages, settings)


@pytest.mark.parametrize(
    ("address", "kind"),
    [("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.5", "private"), ("169.254.169.254",
     "cloud metadata"), ("100.100.100.200", "cloud metadata"), ("100.64.1.1", "shared"), ("224.0.0.1",
     "multicast"), ("0.0.0.0", "unspecified"), ("::1", "loopback"), ("fe80::1", "link-local"),
     ("::ffff:127.0.0.1", "loopback"), ("fd00:ec2::254", "cloud metadata")],
)
def test_non_public_addresses_are_refused_by_default(address: str, kind: str) -> None:
    reason = AddressPolicy().refusal(ipaddress.ip_address(address))
    assert reason is not None and kind in reason and "DEEPRESEARCH_ALLOW_PRIVATE_NETWORK" in reason
    assert AddressPolicy().refusal(ipaddress.ip_address("93.184.216.34")) is None


def test_policy_parsing() -> None:
    assert AddressPolicy.parse("1").allow_all and not AddressPolicy.parse("").allow_all
    narrow = AddressPolicy.parse("127.0.0.1, 10.0.0.0/8")
    assert narrow.refusal(ipaddress.ip_address("10.9.9.9")) is None
    assert narrow.refusal(ipaddress.ip_address("192.168.1.1")) is not None
    with pytest.raises(ConfigError, match="DEEPRESEARCH_ALLOW_PRIVATE_NETWORK"):
        AddressPolicy.parse("not-an-address")


async def test_loopback_is_refused_without_the_setting(site: WebServer) -> None:
    f = await fetcher(replace(LOCAL, allow_private_network=""))
    with pytest.raises(RefusedURL, match="loopback"):
        await f.fetch(site.url("/wiki/Glass_Harbor"))
    assert site.hits("/wiki/Glass_Harbor") == 0  # refused before connecting


@pytest.mark.parametrize(
    ("target", "reason"),
    [("http://10.1.2.3/admin", "private"), ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
     ("file:///etc/passwd", "only http and https"), ("http://[::1]:{port}/wiki/Glass_Harbor", "loopback")],
)
async def test_redirects_to_unsafe_places_are_refused(site: WebServer, target: str, reason: str) -> None:
    target = target.format(port=site.base.rsplit(":", 1)[1])
    f = await fetcher()
    with pytest.raises(RefusedURL, match=reason):  # refused (a connection that timed out would be a ReadError)
        await f.fetch(site.url(f"/redirect?to={target}"))


async def test_schemes_other_than_http_are_refused() -> None:
    f = await fetcher()
    for url in ("ftp://example.com/x", "file:///etc/passwd", "gopher://x", "http:///nohost"):
        with pytest.raises(RefusedURL):
            await f.fetch(url)


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
async def test_a_20_mb_page_is_refused(site: WebServer, path: str) -> None:
    f = await fetcher()
    with pytest.raises(ReadError, match="limit") as info:
        await f.fetch(site.url(path))
    assert not info.value.transient


async def test_a_page_that_never_finishes_times_out(site: WebServer) -> None:
    f = await fetcher(replace(LOCAL, fetch_timeout=2.5))
    with pytest.raises(ReadError) as info:  # not a TimeoutError: the page hangs for a minute
        await asyncio.wait_for(f.fetch(site.url("/hang")), 30)
    assert info.value.transient


async def test_transient_errors_are_retried_and_dead_pages_are_not(site: WebServer) -> None:
    site.flaky["/wiki/Glass_Harbor"] = 2
    f = await fetcher()
    page = await f.fetch(site.url("/wiki/Glass_Harbor"))
    assert page.kind == "html" and b"premiered in Velmora" in page.data
    with pytest.raises(ReadError, match="HTTP 404") as info:
        await f.fetch(site.url("/no-such-page"))
    assert not info.value.transient and site.hits("/no-such-page") == 1


async def test_content_types(site: WebServer) -> None:
    site.routes["/image.png"] = Route(b"\x89PNG....", "image/png")
    site.routes["/data.bin"] = Route(b"%PDF-1.4 ...", "application/octet-stream")
    f = await fetcher()
    with pytest.raises(ReadError, match="unsupported content type"):
        await f.fetch(site.url("/image.png"))
    assert (await f.fetch(site.url("/guide.pdf"))).kind == "pdf"
    with pytest.raises(ReadError, match="unsupported"):
        await f.fetch(site.url("/data.bin"))  # octet-stream without a known suffix


async def test_robots_txt(site: WebServer) -> None:
    site.robots = Route(b"User-agent: *\nDisallow: /people/\n", "text/plain")
    f = await fetcher()
    with pytest.raises(ReadError, match="robots.txt"):
        await f.fetch(site.url("/people/ilse-marrow"))
    assert (await f.fetch(site.url("/wiki/Glass_Harbor"))).kind == "html"
    assert site.hits("/robots.txt") == 1  # cached per site
    ignoring = await fetcher(replace(LOCAL, respect_robots=False))
    assert (await ignoring.fetch(site.url("/people/ilse-marrow"))).charset == "windows-1252"


@pytest.mark.parametrize(("rules", "allowed", "disallowed"), [
    (b"Disallow: /*.pdf$\n", ["/wiki/Glass_Harbor", "/guide.pdf?page=2"], ["/guide.pdf"]),  # RFC 9309 wildcards
    (b"Disallow: /\nAllow: /wiki/\n", ["/wiki/Glass_Harbor"], ["/guide.pdf", "/people/ilse-marrow"]),  # longest
    (b"Allow: /people/ilse\nDisallow: /people/\n", ["/people/ilse-marrow"], ["/people/other"]),
])
async def test_robots_txt_as_rfc_9309_reads_it(site: WebServer, rules: bytes, allowed: list[str],
                                                disallowed: list[str]) -> None:
    site.robots = Route(b"User-agent: *\n" + rules, "text/plain")
    site.routes["/people/other"] = Route(b"<p>other</p>")
    f = await fetcher()
    for path in allowed:
        assert (await f.fetch(site.url(path))).data, path
    for path in disallowed:
        with pytest.raises(ReadError, match="robots.txt"):
            await f.fetch(site.url(path))


async def test_robots_unreachable_means_disallow(site: WebServer) -> None:
    site.robots = Route(b"oops", "text/plain", status=500)
    f = await fetcher()
    with pytest.raises(ReadError, match="robots.txt"):
        await f.fetch(site.url("/wiki/Glass_Harbor"))


async def test_per_host_concurrency_limit(site: WebServer) -> None:
    for i in range(8):
        site.routes[f"/slow/{i}"] = Route(b"<p>slow page</p>", delay=0.2)
    f = await fetcher(replace(LOCAL, per_host=2))
    await asyncio.gather(*(f.fetch(site.url(f"/slow/{i}")) for i in range(8)))
    assert site.max_in_flight == 2


@pytest.mark.parametrize("url", ["http://[::1/", "http://0177.0.0.1/", "http://a..b/", "http://xn--/",
                                 "http://x\\@127.0.0.1/", "http://example.com/a\nb", "http://" + "a" * 70 + ".com/",
                                 "http://2130706433/", "http://0x7f.1/"])
async def test_malformed_urls_are_refused_not_raised(url: str) -> None:
    f = await fetcher()  # 127.0.0.1 is allowed here: a host read as 127.0.0.1 some other way must still be refused
    with pytest.raises(RefusedURL, match="refused"):
        await f.fetch(url)


@pytest.mark.parametrize("location", ["http:127.0.0.1:1/x", "http://a..b/", "http://[::1/"])
async def test_malformed_redirects_are_refused_not_raised(site: WebServer, location: str) -> None:
    f = await fetcher()
    with pytest.raises(ReadError):
        await f.fetch(site.url(f"/redirect?to={location}"))


def test_tunnelled_and_site_local_addresses() -> None:
    assert "tunnelled private" in (AddressPolicy().refusal(ipaddress.ip_address("2002:a00:1::1")) or "")
    assert "site-local" in (AddressPolicy().refusal(ipaddress.ip_address("fec0::1")) or "")
    assert AddressPolicy().refusal(ipaddress.ip_address("2002:5db8:d822::1")) is None  # 6to4 of a public address


async def test_compressed_bodies_cannot_expand_past_the_limit(site: WebServer) -> None:
    import gzip

    page = b"<html><body><p>" + b"word " * 2000 + b"</p></body></html>"
    site.routes["/gz"] = Route(gzip.compress(page), headers={"Content-Encoding": "gzip"})
    site.routes["/bomb"] = Route(gzip.compress(b"\0" * 50_000_000), headers={"Content-Encoding": "gzip"})
    site.routes["/double"] = Route(gzip.compress(gzip.compress(page)), headers={"Content-Encoding": "gzip, gzip"})
    site.routes["/brotli"] = Route(b"\x1b\x00", headers={"Content-Encoding": "br"})
    site.routes["/notgzip"] = Route(b"plain bytes, not gzip", headers={"Content-Encoding": "gzip"})
    f = await fetcher()
    assert (await f.fetch(site.url("/gz"))).data == page
    with pytest.raises(ReadError, match="limit"):
        await f.fetch(site.url("/bomb"))
    for path, message in (("/double", "unsupported content encoding"), ("/brotli", "unsupported content encoding"),
                          ("/notgzip", "corrupt gzip")):
        with pytest.raises(ReadError, match=message):
            await f.fetch(site.url(path))


async def test_robots_txt_applies_after_redirects_and_when_large(site: WebServer) -> None:
    site.robots = Route(b"User-agent: *\nDisallow: /people/\n" + b"# padding\n" * 70_000, "text/plain")
    f = await fetcher()
    with pytest.raises(ReadError, match="robots.txt"):
        await f.fetch(site.url(f"/redirect?to={site.url('/people/ilse-marrow')}"))
    with pytest.raises(ReadError, match="robots.txt"):
        await f.fetch(site.url("/people/ilse-marrow"))  # a 700 KB robots.txt is read, not ignored
