"""Reading web pages: parsing by content type, the page-store cache, and Jina's reader."""

from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import ReadError, RefusedURL
from core.settings import WebSettings
from tests.fakes.web_server import Route, WebServer
from tools.net.http import make_clients
from tools.net.netsafety import AddressPolicy
from tools.reader import JinaReader, WebReader
from tools.web.fetch import Fetcher
from tools.web.pages import PageStore

LOCAL = WebSettings(allow_private_network="127.0.0.1", fetch_timeout=4, read_timeout=1)


def reader(tmp_path: Path, ttl: float = 3600, settings: WebSettings = LOCAL) -> WebReader:
    return WebReader(Fetcher(make_clients(settings).pages, settings), PageStore(tmp_path / "pages.db"), ttl)


async def test_html_pdf_and_windows_1252(web: WebServer, tmp_path: Path) -> None:
    r = reader(tmp_path)
    page = await r.read(web.url("/wiki/Glass_Harbor"), "premiere", 5000)
    assert page.title == "Glass Harbor (film)" and "premiered in Velmora" in page.text
    assert "Home | About" not in page.text
    pdf = await r.read(web.url("/guide.pdf"), "library", 5000)
    assert pdf.title == "Velmora Town Guide" and "designed by Ilse Marrow" in pdf.text
    latin = await r.read(web.url("/people/ilse-marrow"), "born", 5000)
    assert "née Åberg" in latin.text and "born in 1921" in latin.text


async def test_meta_charset_and_undeclared_encodings(web: WebServer, tmp_path: Path) -> None:
    body = "<html><head><meta charset='iso-8859-1'><title>Café</title></head><body><p>Genève célèbre</p></body></html>"
    web.routes["/meta"] = Route(body.encode("latin-1"), "text/html")
    web.routes["/plain"] = Route("Ærlig talt, Tromsø og Ålesund ligger i Norge. Bjørn så på fjordene.".encode("cp1252"),
                                 "text/plain")
    r = reader(tmp_path)
    assert "Genève célèbre" in (await r.read(web.url("/meta"), "", 5000)).text
    assert "Tromsø" in (await r.read(web.url("/plain"), "", 5000)).text


async def test_docx_and_csv(web: WebServer, tmp_path: Path) -> None:
    import io

    import docx

    document = docx.Document()
    document.core_properties.title = "Minutes"
    document.add_paragraph("The council approved the library extension in 1962.")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "year", (0, 1): "cost", (1, 0): "1962", (1, 1): "40k"}.items():
        table.cell(row, col).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    web.routes["/minutes.docx"] = Route(buffer.getvalue(),
                                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    web.routes["/budget.csv"] = Route(b"year;cost\n1962;40k\n1963;12k\n", "text/csv")
    r = reader(tmp_path)
    minutes = await r.read(web.url("/minutes.docx"), "", 5000)
    assert minutes.title == "Minutes" and "library extension in 1962" in minutes.text
    assert "| 1962 | 40k |" in minutes.text
    assert "| 1963 | 12k |" in (await r.read(web.url("/budget.csv"), "", 5000)).text


async def test_pages_are_cached_by_url_with_a_ttl(web: WebServer, tmp_path: Path) -> None:
    first = await reader(tmp_path).read(web.url("/wiki/Glass_Harbor"), "", 5000)
    again = await reader(tmp_path).read(web.url("/wiki/Glass_Harbor"), "", 5000)  # a new process, same store
    assert web.hits("/wiki/Glass_Harbor") == 1 and again.page_hash == first.page_hash
    await reader(tmp_path, ttl=0).read(web.url("/wiki/Glass_Harbor"), "", 5000)
    assert web.hits("/wiki/Glass_Harbor") == 2


async def test_long_pages_are_cut_around_the_goal(web: WebServer, tmp_path: Path) -> None:
    filler = "".join(f"<p>Paragraph {i} about harbour boats and weather in the north.</p>" for i in range(400))
    web.routes["/long"] = Route(f"<html><body><article>{filler}<p>The keeper Arvid Sund was born in 1899.</p>"
                                f"{filler}</article></body></html>".encode())
    page = await reader(tmp_path).read(web.url("/long"), "Arvid Sund born", 2000)
    assert len(page.text) <= 2000 and "Arvid Sund was born in 1899" in page.text


async def test_jina_reader(web: WebServer, tmp_path: Path) -> None:
    settings = replace(LOCAL, jina_api_key="jina-key")
    clients = make_clients(settings)
    jina = JinaReader(clients.api, web.url("/jina"), "jina-key", AddressPolicy.parse("127.0.0.1"),
                      PageStore(tmp_path / "pages.db"), 3600)
    page = await jina.read(web.url("/wiki/Glass_Harbor"), "", 5000)
    assert page.title == "Glass Harbor (film)" and "premiered in Velmora" in page.text
    assert web.requests[-1][2]["Authorization"] == "Bearer jina-key"
    with pytest.raises(ReadError, match="HTTP 422"):
        await jina.read(web.url("/missing"), "", 5000)
    strict = JinaReader(clients.api, web.url("/jina"), "jina-key", AddressPolicy(), PageStore(tmp_path / "p2.db"), 0)
    before = len(web.requests)
    with pytest.raises(RefusedURL, match="loopback"):
        await strict.read(web.url("/wiki/Glass_Harbor"), "", 5000)
    assert len(web.requests) == before  # a private URL is never sent to the reader service


def test_hostile_documents_are_document_errors() -> None:
    import io
    import zipfile

    from core.errors import DocumentError
    from core.settings import ParseLimits
    from tools.documents.charsets import decode_text
    from tools.documents.formats import parse_bytes

    limits = ParseLimits()
    with pytest.raises(DocumentError, match="CSV"):
        parse_bytes(b'a,b\n"' + b"x" * 200_000 + b'",1\n', "csv", "big.csv", limits)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document>" + b" " * 150_000_000 + b"</w:document>")
    with pytest.raises(DocumentError, match="expand"):
        parse_bytes(bomb.getvalue(), "docx", "bomb.docx", limits)
    with pytest.raises(DocumentError):
        parse_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> trailer <<>>", "pdf", "broken.pdf", limits)
    assert "Genève" in decode_text("Genève".encode("latin-1"), "punycode")  # a non-text codec is ignored


async def test_jina_refuses_ambiguous_urls(web: WebServer, tmp_path: Path) -> None:
    settings = replace(LOCAL, jina_api_key="jina-key")
    jina = JinaReader(make_clients(settings).api, web.url("/jina"), "jina-key", AddressPolicy(),
                      PageStore(tmp_path / "pages.db"), 0)
    before = len(web.requests)
    with pytest.raises(RefusedURL, match="backslash"):
        await jina.read("http://127.0.0.1\\@93.184.216.34/", "", 5000)
    assert len(web.requests) == before


async def test_a_page_cut_at_the_character_limit_says_so_to_the_reader(web: WebServer, tmp_path: Path) -> None:
    """The parser's note that it cut the page reaches the reader model (and the store), not cut off in its turn."""
    from core.limits import ParseLimits

    filler = "".join(f"<p>Paragraph {i} about harbour boats and weather in the north.</p>" for i in range(400))
    web.routes["/long"] = Route(f"<html><body><article><p>The keeper Arvid Sund was born in 1899.</p>{filler}"
                                "</article></body></html>".encode())
    r = WebReader(Fetcher(make_clients(LOCAL).pages, LOCAL), PageStore(tmp_path / "pages.db"), 3600,
                  ParseLimits(max_chars=5000))
    page = await r.read(web.url("/long"), "Arvid Sund born", 2000)
    assert "Arvid Sund was born in 1899" in page.text and page.text.endswith("[cut at 5,000 characters]")
    stored = PageStore(tmp_path / "pages.db").get(page.page_hash)
    assert stored is not None and stored.endswith("[cut at 5,000 characters]") and len(stored) < 5100
