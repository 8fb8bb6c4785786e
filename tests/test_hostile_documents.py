"""Hostile documents, built by the tests: every parse ends within its time and memory, big outputs are capped,
binary data is refused, and a killed parse leaves nothing running."""

import gzip
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from core.errors import DocumentError
from core.settings import ParseLimits, load_settings
from deepresearch import runner
from deepresearch.progress import Progress
from tests.cli_helpers import InProcess, cli_env, spawn
from tests.conftest import QUESTION, run_context
from tests.fakes.hostile import docx_with_body, heavy_pdf, many_elements_html, paragraphs, table
from tests.fakes.model_server import ModelServer
from tests.fakes.pdf import make_pdf
from tests.fakes.web_server import Route, WebServer
from tools.charsets import check_text
from tools.corpus import Corpus
from tools.parse_pool import TimeLimit, parse_async, parse_limited


def test_a_pdf_that_would_take_minutes_is_stopped_at_its_time_limit() -> None:
    limits = ParseLimits(timeout=2)
    started = time.monotonic()
    with pytest.raises(TimeLimit, match="not parsed within 2s") as caught:
        parse_limited(heavy_pdf(2, 100_000), "pdf", "heavy.pdf", limits)  # about 30 s of pypdf per page
    assert time.monotonic() - started < 6 and caught.value.permanent
    # the worker was replaced: the next document parses
    assert "hello" in parse_limited(make_pdf([["hello there"]]), "pdf", "ok.pdf", limits).text


def test_a_caller_deadline_shorter_than_the_limit_is_not_the_documents_fault() -> None:
    with pytest.raises(TimeLimit) as caught:
        parse_limited(heavy_pdf(1, 100_000), "pdf", "heavy.pdf", ParseLimits(timeout=30), seconds=1)
    assert not caught.value.permanent


def test_pdf_pages_and_characters_are_capped() -> None:
    pages = [[f"Page {i} says something."] for i in range(30)]
    doc = parse_limited(make_pdf(pages), "pdf", "long.pdf", ParseLimits(max_pdf_pages=5))
    assert "Page 4 says" in doc.text and "Page 5 says" not in doc.text
    assert doc.text.endswith("[only the first 5 of 30 pages read: page limit]")
    doc = parse_limited(make_pdf(pages), "pdf", "long.pdf", ParseLimits(max_chars=300))
    assert "character limit]" in doc.text and len(doc.text) < 400


def test_docx_expansion_and_tables_are_capped() -> None:
    with pytest.raises(DocumentError, match="expand to"):  # under 100x, over the size limit
        parse_limited(docx_with_body(paragraphs(30_000)), "docx", "big.docx", ParseLimits(max_docx_bytes=1_000_000))
    doc = parse_limited(docx_with_body(table(2_000)), "docx", "rows.docx", ParseLimits(max_table_rows=50))
    assert doc.text.count("\n|") == 51 and "(1949 more rows not shown)" in doc.text


def test_a_parse_over_the_memory_limit_is_refused_and_the_worker_replaced() -> None:
    limits = ParseLimits(memory_mb=256)
    with pytest.raises(DocumentError, match="memory"):
        parse_limited(docx_with_body(paragraphs(250_000)), "docx", "huge.docx", limits)
    assert parse_limited(docx_with_body(paragraphs(3)), "docx", "ok.docx", limits).text


def test_html_with_a_huge_number_of_elements_is_read_in_linear_time() -> None:
    # trafilatura would take minutes on this page (its time grows with the square of the elements)
    doc = parse_limited(many_elements_html(200_000), "html", "many.html", ParseLimits(timeout=15))
    assert doc.title == "Many" and "para 0 text here\n\npara 1 text here" in doc.text
    assert doc.text.endswith("[cut at 2,000,000 characters]")
    rows = b"".join(b"<tr><td>row %d</td><td>%d</td></tr>" % (i, i * 7) for i in range(60_000))
    doc = parse_limited(b"<html><body><table>" + rows + b"</table></body></html>", "html", "rows.html",
                        ParseLimits(timeout=15))
    assert "row 59999 | 419993 |" in doc.text


@pytest.mark.parametrize("data", [os.urandom(200_000), Path(sys.executable).read_bytes()[:300_000],
                                  gzip.compress(b"x" * 100_000), b"%PDF-1.4\n\x00\x01\x02 binary"])
def test_binary_content_is_not_text(data: bytes) -> None:
    with pytest.raises(DocumentError, match="binary content"):
        check_text(data)
    for kind in ("text", "markdown", "csv", "html"):
        with pytest.raises(DocumentError, match="binary content"):
            parse_limited(data, kind, "x", ParseLimits())


@pytest.mark.parametrize("text", ["plain ASCII\n", "Café à Genève, \x1b[1mbold\x1b[0m\tand tabs\f",
                                  "玻璃港首映于维尔莫拉。"])
def test_text_in_any_encoding_is_text(text: str) -> None:
    for encoding in ("utf-8", "utf-16", "gb18030" if "玻" in text else "cp1252"):
        check_text(text.encode(encoding) * 50)


def test_ingest_refuses_binary_and_oversized_files(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "random.md").write_bytes(os.urandom(100_000))
    (folder / "ls.txt").write_bytes(Path(sys.executable).read_bytes()[:200_000])
    (folder / "big.txt").write_text("word " * 300_000)
    (folder / "good.md").write_text("# Good\n\nUseful words here.")
    report = Corpus(tmp_path / "c.db").ingest([folder], ParseLimits(max_document_bytes=1_000_000))
    assert [Path(p).name for p in report.added] == ["good.md"]
    reasons = {Path(p).name: why for p, why in report.failed}
    assert reasons["random.md"].startswith("binary content") and reasons["ls.txt"].startswith("binary content")
    assert reasons["big.txt"] == "1,500,000 bytes is over the 1,000,000-byte limit for one document"
    assert Corpus(tmp_path / "c.db").stats()["passages"] == 1


def test_a_large_corpus_document_is_read_by_passage(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    filler = "\n\n".join(f"Paragraph {i} is about harbours, boats and nets." for i in range(20_000))
    big.write_text("# Big Book\n\nOpening words.\n\n" + filler + "\n\nThe keeper Arvid Sund was born in 1899.\n\n"
                   + filler)
    corpus = Corpus(tmp_path / "c.db")
    corpus.ingest([big])
    excerpt = corpus.excerpt(str(big.resolve()), "Arvid Sund born", 2000)
    assert excerpt is not None and len(excerpt.text) <= 2000
    assert excerpt.text.startswith("# Big Book") and "Arvid Sund was born in 1899" in excerpt.text


def _workers_of(parent: int) -> set[int]:
    """The parser processes whose parent is ``parent`` (Linux)."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"tools.parse_worker" in cmdline:
            found.add(int(pid))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
async def test_cancelling_a_parse_kills_its_worker_at_once() -> None:
    import asyncio

    before = _workers_of(os.getpid())
    limits = ParseLimits(timeout=60, max_pdf_pages=499)  # a pool of its own
    task = asyncio.ensure_future(parse_async(heavy_pdf(1, 100_000), "pdf", "heavy.pdf", limits))
    for _ in range(200):
        await asyncio.sleep(0.05)
        if _workers_of(os.getpid()) - before:
            break
    (worker,) = _workers_of(os.getpid()) - before
    await asyncio.sleep(0.3)  # parsing
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    while _running(worker) and time.monotonic() - started < 5:
        await asyncio.sleep(0.05)
    assert not _running(worker) and time.monotonic() - started < 2
    # a cancel that comes after the parse finished leaves the pooled worker alone
    from tools.parse_pool import Job, pool_for

    job = Job()
    pool_for(limits).parse(make_pdf([["done"]]), "pdf", "ok.pdf", None, time.monotonic() + 30, job)
    job.cancel()
    assert "next" in parse_limited(make_pdf([["next"]]), "pdf", "next.pdf", limits).text


HEAVY = "/velmora-library-architect.pdf"


def heavy_site(web: WebServer) -> None:
    """A page that search ranks first for the library hop, and that would take minutes to parse."""
    web.routes[HEAVY] = Route(heavy_pdf(3, 100_000), "application/pdf",
                              title="Velmora public library architect designed by")


async def test_a_page_over_the_parse_limit_is_a_permanent_failure(model_server: ModelServer, web: WebServer,
                                                                  home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    heavy_site(web)
    monkeypatch.setenv("DEEPRESEARCH_PARSE_TIMEOUT", "1")
    ctx = run_context(search="searxng", pages_per_round=3)
    started = time.monotonic()
    result = await runner.start(load_settings(), thread_id_for("heavy"), QUESTION, "iter", ctx,
                                Progress(enabled=False))
    assert result.answer == "1921" and time.monotonic() - started < 60
    failed = [f for f in result.failures if f["target"].endswith(HEAVY)]
    assert len(failed) == 1 and not failed[0]["transient"] and "not parsed within 1s" in failed[0]["error"]
    assert web.hits(HEAVY) == 1  # never fetched again: later rounds (and a resume) skip it


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_during_a_long_parse_stops_the_run_at_once(model_server: ModelServer, web: WebServer,
                                                          home: Path) -> None:
    heavy_site(web)
    env = cli_env(home, model_server.base_url, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                  SEARXNG_URL=web.url("/searxng"), DEEPRESEARCH_PARSE_TIMEOUT="300")
    process = spawn(env, "run", QUESTION, "--search", "searxng", "--thread", "interrupted",
                    "--set", "pages_per_round=3")
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while web.hits(HEAVY) == 0 or not workers:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        workers |= _workers_of(process.pid)
        time.sleep(0.05)
    time.sleep(0.5)  # the heavy page is being parsed
    workers |= _workers_of(process.pid)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert time.monotonic() - started < 2, "Ctrl-C stops the run within a second or two"
    assert process.returncode == 130 and "deepresearch resume interrupted" in stderr
    time.sleep(0.2)
    assert not any(_running(pid) for pid in workers), "no parser process outlives the run"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_worker_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    """kill -9 of the parent mid-parse: the worker notices it is orphaned and ends within a second."""
    import subprocess

    from tests.cli_helpers import ROOT

    (tmp_path / "heavy.pdf").write_bytes(heavy_pdf(1, 100_000))
    script = ("import sys; from pathlib import Path; from core.settings import ParseLimits; "
              "from tools.parse_pool import parse_limited; "
              "parse_limited(Path(sys.argv[1]).read_bytes(), 'pdf', 'heavy.pdf', ParseLimits(timeout=120))")
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "heavy.pdf")], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not (workers := _workers_of(parent.pid)):
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    parent.kill()
    parent.wait()
    killed = time.monotonic()
    while any(_running(pid) for pid in workers) and time.monotonic() - killed < 5:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in workers) and time.monotonic() - killed < 2


def test_the_worker_never_imports_from_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tools.py").write_text("open('PWNED', 'w').write('x')\n")
    monkeypatch.chdir(tmp_path)
    doc = parse_limited(b"<html><title>Safe</title><p>text</p></html>", "html", "a.html",
                        ParseLimits(max_pdf_pages=498))  # a fresh pool: its workers start here
    assert doc.title == "Safe" and not (tmp_path / "PWNED").exists()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_workers_get_no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPRESEARCH_API_KEY", "sk-secret-key")
    monkeypatch.setenv("SERPER_API_KEY", "serper-secret")
    before = _workers_of(os.getpid())
    parse_limited(b"<html><p>x</p></html>", "html", "a.html", ParseLimits(max_pdf_pages=497))
    (worker,) = _workers_of(os.getpid()) - before
    environ = Path(f"/proc/{worker}/environ").read_bytes()
    assert b"secret" not in environ and b"DEEPRESEARCH" not in environ


def test_pathological_markdown_and_tags_are_read_in_linear_time() -> None:
    # each took minutes with backtracking regexes (heading: cubic; fence: quadratic)
    from tools.prompts import fence

    heading = b"# a" + b" " * 4000 + b"###" + b" " * 4000 + b"x\n\nbody"
    assert parse_limited(heading, "markdown", "h.md", ParseLimits()).title.startswith("a")
    assert fence("<" + " " * 50_000).startswith("<")
    assert fence("< / document>") == "&lt;/document>"


def test_a_shorter_caller_deadline_never_yields_a_partial_page() -> None:
    pages = heavy_pdf(8, 40_000)  # about 1 s of pypdf per page: the soft stop would cut it
    with pytest.raises(TimeLimit) as caught:
        parse_limited(pages, "pdf", "pages.pdf", ParseLimits(timeout=30, max_pdf_pages=496), seconds=3)
    assert not caught.value.permanent


@pytest.mark.parametrize(("data", "charset"), [
    ("<html><title>Genève</title><p>Texte</p></html>".encode("utf-16-le"), "utf-16le"),
    ("<html><title>Genève</title><p>Texte</p></html>".encode("utf-32"), None),
])
def test_wide_encodings_are_text(data: bytes, charset: str | None) -> None:
    doc = parse_limited(data, "html", "w.html", ParseLimits(), charset)
    assert doc.title == "Genève" and "\x00" not in doc.text


def test_csv_line_breaks_and_trailing_binary() -> None:
    assert "x y" in parse_limited(b'a,b\n"x\x0by",1\n', "csv", "fm.csv", ParseLimits()).text.replace("\x0b", " ")
    with pytest.raises(DocumentError, match="binary"):
        parse_limited(b"plain text\n" * 10_000 + os.urandom(20_000), "text", "t.txt", ParseLimits())


def test_xhtml_with_a_declaration_and_many_elements() -> None:
    page = b'<?xml version="1.0" encoding="utf-8"?>' + many_elements_html(40_000)
    assert parse_limited(page, "html", "x.xhtml", ParseLimits()).title == "Many"


def test_titles_lose_their_control_characters(tmp_path: Path, home: Path, run_cli: InProcess) -> None:
    (tmp_path / "evil.md").write_text("# Click \x1b]8;;https://evil.example/\x1b\\here\x1b[31m\x07\n\n"
                                      + "Body text. " * 200)
    env = cli_env(home)
    assert run_cli(env, "ingest", str(tmp_path)).returncode == 0
    listed = run_cli(env, "corpus", "list")
    assert "\x1b" not in listed.stdout and "\x07" not in listed.stdout and "Click" in listed.stdout


def test_ingest_says_when_a_document_was_cut(tmp_path: Path, home: Path, run_cli: InProcess) -> None:
    (tmp_path / "long.md").write_text("# Long\n\n" + "word " * 2000)
    done = run_cli(cli_env(home, DEEPRESEARCH_MAX_DOCUMENT_CHARS="1000"), "ingest", str(tmp_path))
    assert done.returncode == 0
    assert done.stderr.strip() == f"warning {(tmp_path / 'long.md').resolve()}: cut at 1,000 characters"
