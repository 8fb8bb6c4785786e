"""Hostile documents, built by the tests: every parse ends within its time and memory, big outputs are capped,
binary data is refused, and a killed parse leaves nothing running."""

import gzip
import os
import sys
from pathlib import Path

import pytest

from core.errors import DocumentError
from core.settings import ParseLimits
from tests.cli_helpers import InProcess, cli_env
from tests.fakes.hostile import docx_with_body, heavy_pdf, many_elements_html, paragraphs, table
from tests.fakes.pdf import make_pdf
from tools.corpus.store import Corpus
from tools.documents.charsets import check_text
from tools.documents.parse_pool import parse_limited
from tools.documents.parse_process import TimeLimit


def test_a_pdf_that_would_take_minutes_is_stopped_at_its_time_limit() -> None:
    limits = ParseLimits(timeout=2)
    with pytest.raises(TimeLimit, match="not parsed within 2s") as caught:  # not parsed for a minute
        parse_limited(heavy_pdf(2, 100_000), "pdf", "heavy.pdf", limits)  # about 30 s of pypdf per page
    assert caught.value.permanent  # it had the document's whole limit
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


def test_pathological_markdown_and_tags_are_read_in_linear_time() -> None:
    # each took minutes with backtracking regexes (heading: cubic; fence: quadratic)
    from prompts.fences import fence

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


def test_no_nul_reaches_the_corpus_from_a_wide_text_or_a_parsers_output(tmp_path: Path, home: Path,
                                                                         run_cli: InProcess) -> None:
    """UTF-16 passes the byte check with its NULs, so the decoded text is checked too, past 64 KB; a PDF whose
    glyphs extract as NULs is text with a flawed extraction: the controls go, and ingest says how many."""
    import sqlite3
    from contextlib import closing

    wide = "Plain words about harbours. " * 3000 + "\x00" * 10 + " tail"  # the NULs past 64 KB
    (tmp_path / "wide.txt").write_bytes(wide.encode("utf-16"))
    (tmp_path / "glyphs.pdf").write_bytes(make_pdf([["Unmapped \x00 glyphs \x01 about harbours."]], "Glyphs"))
    (tmp_path / "utf16.txt").write_bytes("Genève, a wide text without NULs.".encode("utf-16"))
    done = run_cli(cli_env(home), "ingest", str(tmp_path))
    assert done.returncode == 1 and done.stdout.startswith("added 2,")
    assert sorted(done.stderr.strip().splitlines()) == [
        f"failed  {(tmp_path / 'wide.txt').resolve()}: binary content, not text (refused)",
        f"warning {(tmp_path / 'glyphs.pdf').resolve()}: 2 control characters removed"]
    with closing(sqlite3.connect(home / "corpus.db")) as conn:
        texts = [row[0] for row in conn.execute("SELECT text FROM passages")]
    assert sorted(texts) == ["Genève, a wide text without NULs.", "Unmapped  glyphs  about harbours."]


def test_ingest_says_it_on_one_line_whatever_a_file_is_named(tmp_path: Path, home: Path, run_cli: InProcess) -> None:
    (tmp_path / "two\nlines.md").write_text("# Long\n\n" + "word " * 2000)
    (tmp_path / "bell\x07.txt").write_bytes(os.urandom(5000))
    done = run_cli(cli_env(home, DEEPRESEARCH_MAX_DOCUMENT_CHARS="1000"), "ingest", str(tmp_path))
    folder = tmp_path.resolve()
    assert done.returncode == 1 and done.stderr.splitlines() == [
        f"warning {folder}/two\\nlines.md: cut at 1,000 characters",
        f"failed  {folder}/bell\\x07.txt: binary content, not text (refused)"]
