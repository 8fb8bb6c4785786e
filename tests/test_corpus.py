from pathlib import Path

import pytest

from core.errors import UserInputError
from core.settings import ParseLimits
from tests.fakes.pdf import make_pdf
from tools.corpus.store import Corpus, fts_query, iter_files
from tools.documents.formats import ParsedDocument, read_document
from tools.documents.parse_pool import parse_limited
from tools.documents.passages import split_passages


def test_ingest_all_kinds_and_search(tmp_path: Path, corpus_dir: Path) -> None:
    corpus = Corpus(tmp_path / "corpus.db")
    assert corpus.is_empty()
    report = corpus.ingest([corpus_dir])
    assert len(report.added) == 8 and not report.failed and not corpus.is_empty()
    kinds = {Path(p).suffix for p in report.added}
    assert kinds == {".md", ".txt", ".html", ".pdf"}
    hits = corpus.search("Velmora public library designed by", 3)
    assert hits[0]["url"].endswith("velmora_town_guide.pdf")
    assert hits[0]["title"] == "Velmora Town Guide"
    assert "designed" in hits[0]["snippet"].lower()
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert len({h["url"] for h in hits}) == 3


def test_reingest_unchanged_is_a_noop_and_changed_replaces(tmp_path: Path, corpus_dir: Path) -> None:
    corpus = Corpus(tmp_path / "corpus.db")
    corpus.ingest([corpus_dir])
    before = corpus.stats()
    again = corpus.ingest([corpus_dir])
    assert len(again.unchanged) == 8 and not again.added and not again.updated
    assert corpus.stats()["passages"] == before["passages"]
    note = corpus_dir / "coastal_towns.md"
    note.write_text("# Coastal towns\n\nQuillhaven is famous for amber.\n")
    changed = corpus.ingest([corpus_dir])
    assert changed.updated == [str(note.resolve())]
    assert corpus.search("amber Quillhaven", 1)[0]["url"] == str(note.resolve())
    assert corpus.search("Tromsholm shipyard", 5) == [] or all(
        "coastal" not in h["url"] for h in corpus.search("shipyard", 5)
    )


def test_bad_files_are_reported_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nUseful words here.")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "secret.md").write_text("# Secret")
    (folder / "image.png").write_bytes(b"\x89PNG")
    report = Corpus(tmp_path / "c.db").ingest([folder])
    assert [Path(p).name for p in report.added] == ["good.md"]
    assert [Path(p).name for p, _ in report.failed] == ["broken.pdf"]
    with pytest.raises(UserInputError, match="no such file"):
        Corpus(tmp_path / "c.db").ingest([tmp_path / "missing"])


@pytest.mark.parametrize("query", ['"unbalanced', "NEAR(a b)", "a AND OR NOT", "*", "title:x", "-", "C++ / ü"])
def test_queries_with_fts_syntax_are_safe(tmp_path: Path, corpus_dir: Path, query: str) -> None:
    corpus = Corpus(tmp_path / "corpus.db")
    corpus.ingest([corpus_dir])
    assert isinstance(corpus.search(query, 5), list)
    assert fts_query("the") == '"the"'


def test_long_documents_are_cut_around_the_focus(tmp_path: Path) -> None:
    pages = [[f"Filler paragraph {i} about harbours and boats."] * 20 for i in range(30)]
    pages[17] = ["The lighthouse keeper Arvid Sund was born in 1899."]
    (tmp_path / "book.pdf").write_bytes(make_pdf(pages, "Long Book"))
    corpus = Corpus(tmp_path / "c.db")
    corpus.ingest([tmp_path / "book.pdf"])
    assert corpus.documents()[0].chars > 20_000
    doc = corpus.excerpt(str((tmp_path / "book.pdf").resolve()), "Arvid Sund born", 3000)
    assert doc is not None
    cut = doc.text
    assert len(cut) <= 3000
    assert "Arvid Sund was born in 1899" in cut
    assert cut.startswith("Filler paragraph 0")


def parse_file(path: Path, limits: ParseLimits) -> ParsedDocument:
    kind, data = read_document(path, limits)
    return parse_limited(data, kind, path.name, limits)


def test_html_text_and_title(corpus_dir: Path) -> None:
    doc = parse_file(corpus_dir / "ilse_marrow.html", ParseLimits())
    assert doc.title.startswith("Ilse Marrow")
    assert "born in 1921" in doc.text and "Home | Architects" not in doc.text


def test_non_utf8_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Café au lait à Genève, très célèbre, déjà vu.".encode("cp1252"))
    assert "Genève" in parse_file(path, ParseLimits()).text


def test_split_passages_respects_limit() -> None:
    text = "\n\n".join(["word " * 100] * 5) + "\n\n" + "x. " * 900
    parts = split_passages(text, 600)
    assert all(len(p) <= 600 for p in parts)
    assert "".join(parts).count("word") == 500


def test_tiny_page_limit_still_reads_the_best_passage(tmp_path: Path, corpus_dir: Path) -> None:
    corpus = Corpus(tmp_path / "c.db")
    corpus.ingest([corpus_dir])
    doc = corpus.excerpt(str((corpus_dir / "glass_harbor.md").resolve()), "premiered Velmora", 150)
    assert doc is not None
    cut = doc.text
    assert 0 < len(cut) <= 150 and "premiered" in cut


def test_a_file_that_turns_unreadable_loses_its_old_passages(tmp_path: Path) -> None:
    paper = tmp_path / "paper.pdf"
    paper.write_bytes(make_pdf([["Zanzibar spice routes were mapped in 1850."]], "Paper"))
    corpus = Corpus(tmp_path / "c.db")
    corpus.ingest([paper])
    assert corpus.search("Zanzibar spice", 1)
    paper.write_bytes(b"%PDF-1.4 garbage")
    report = corpus.ingest([paper])
    assert report.failed and corpus.search("Zanzibar spice", 1) == []
    assert corpus.stats()["documents"] == 0 and corpus.is_empty()


def test_special_files_are_not_opened(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    assert list(iter_files([fifo])) == []


def test_a_full_disk_mid_ingest_leaves_no_half_document(tmp_path: Path) -> None:
    """The disk fills while a document's passages are written: that document is not half-stored (and then
    "unchanged" for good); the next ingest, with room again, adds it whole."""
    import subprocess
    import sys

    from tests.cli_helpers import ROOT

    db = tmp_path / "c.db"
    small = tmp_path / "small"
    small.mkdir()
    (small / "a.md").write_text("# A\n\nA small note about harbours.")
    Corpus(db).ingest([small])
    big = tmp_path / "big"
    big.mkdir()
    (big / "big.md").write_text("# Big\n\n" + "\n\n".join(f"Paragraph {i} " + "harbour " * 150 for i in range(2000)))
    full_disk = ("import resource, signal, sys\nfrom pathlib import Path\nfrom tools.corpus.store import Corpus\n"
                 "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
                 "resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, 2_000_000))\n"
                 "Corpus(Path(sys.argv[1])).ingest([Path(sys.argv[2])])\n")
    done = subprocess.run([sys.executable, "-c", full_disk, str(db), str(big)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and ("full" in done.stderr or "too large" in done.stderr.lower()), done.stderr
    corpus = Corpus(db)
    assert corpus.stats()["documents"] == 1 and corpus.search("Paragraph harbour", 3)[0]["url"].endswith("a.md")
    again = corpus.ingest([big])
    assert [Path(p).name for p in again.added] == ["big.md"]
    assert corpus.stats()["passages"] > 100
