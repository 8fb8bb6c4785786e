"""The corpus from the command line: one exit-code rule, full paths, one warning line per file, list, remove."""

import json
import os
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import InProcess, cli_env
from tests.fakes.pdf import make_pdf


def damaged_pdf() -> bytes:
    """A PDF whose cross-reference offsets are wrong: pypdf reads it, complaining as it goes."""
    pdf = make_pdf([["Damaged but readable lighthouse notes."]] * 3, "Damaged")
    return pdf.replace(b"startxref\n", b"startxref\n9").replace(b"0000000009 00000 n", b"0000000001 00000 n")


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nUseful words about lighthouses.")
    (folder / "notes.txt").write_text("Plain notes about harbours.")
    return folder


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_any_failed_file_exits_1_and_is_named_by_its_full_path(docs: Path, home: Path, run_cli: InProcess,
                                                              monkeypatch: pytest.MonkeyPatch, bad: int) -> None:
    for i in range(bad):
        (docs / f"bad{i}.md").write_bytes(os.urandom(5000))
    monkeypatch.chdir(docs.parent)
    done = run_cli(cli_env(home), "ingest", "docs")  # a relative path
    assert done.returncode == (1 if bad else 0), done.stderr
    assert done.stdout.startswith(f"added 2, updated 0, unchanged 0, failed {bad};")
    lines = done.stderr.strip().splitlines()
    assert len(lines) == bad
    for i, line in enumerate(sorted(lines)):
        assert line == f"failed  {(docs / f'bad{i}.md').resolve()}: binary content, not text (refused)"


def test_library_warnings_become_one_line_per_file(docs: Path, home: Path, run_cli: InProcess) -> None:
    (docs / "damaged.pdf").write_bytes(damaged_pdf())
    (docs / "damaged2.pdf").write_bytes(damaged_pdf())
    done = run_cli(cli_env(home), "ingest", str(docs))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert sorted(lines) == [f"warning {(docs / name).resolve()}: 2 warnings, the first: incorrect startxref "
                             "pointer(2)" for name in ("damaged.pdf", "damaged2.pdf")]


def test_a_file_over_the_size_limit_is_refused(docs: Path, home: Path, run_cli: InProcess) -> None:
    (docs / "huge.txt").write_text("word " * 400_000)
    done = run_cli(cli_env(home, DEEPRESEARCH_MAX_DOCUMENT_MB="1"), "ingest", str(docs))
    assert done.returncode == 1
    assert done.stderr.strip() == (f"failed  {(docs / 'huge.txt').resolve()}: 2,000,000 bytes is over the "
                                   "1,000,000-byte limit for one document")


def test_corpus_list_and_remove(docs: Path, home: Path, run_cli: InProcess) -> None:
    env = cli_env(home)
    empty = run_cli(env, "corpus", "list")
    assert empty.returncode == 0 and "the corpus is empty" in empty.stderr
    sub = docs / "sub"
    sub.mkdir()
    (sub / "deep.md").write_text("# Deep\n\nA note in a subfolder.")
    (docs / "sub-sibling.md").write_text("# Sibling\n\nNot under sub/.")
    assert run_cli(env, "ingest", str(docs)).returncode == 0
    listed = json.loads(run_cli(env, "corpus", "list", "--json").stdout)
    assert [Path(d["path"]).name for d in listed] == ["good.md", "notes.txt", "sub-sibling.md", "deep.md"]
    assert listed[0]["title"] == "Good" and listed[0]["kind"] == "markdown" and listed[0]["passages"] == 1
    table = run_cli(env, "corpus", "list").stdout
    assert f"{(docs / 'good.md').resolve()} — Good" in table
    # a folder removes what was ingested from under it, and nothing that merely shares its name's prefix
    done = run_cli(env, "corpus", "remove", str(sub))
    assert done.returncode == 0 and done.stdout.strip() == f"removed {(sub / 'deep.md').resolve()}"
    (docs / "notes.txt").unlink()  # a file that is gone can still be removed
    done = run_cli(env, "corpus", "remove", str(docs / "notes.txt"))
    assert done.returncode == 0 and "notes.txt" in done.stdout
    listed = json.loads(run_cli(env, "corpus", "list", "--json").stdout)
    assert [Path(d["path"]).name for d in listed] == ["good.md", "sub-sibling.md"]
    missing = run_cli(env, "corpus", "remove", str(docs / "never.md"))
    assert missing.returncode == 1 and "nothing in the corpus was ingested from" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_parse_exits_1_when_any_source_fails(tmp_path: Path, home: Path, run_cli: InProcess) -> None:
    (tmp_path / "a.md").write_text("# A\n\nText.")
    (tmp_path / "b.txt").write_bytes(Path(sys.executable).read_bytes()[:100_000])
    done = run_cli(cli_env(home), "parse", str(tmp_path / "a.md"), str(tmp_path / "b.txt"))
    assert done.returncode == 1 and 'title="A"' in done.stdout
    assert done.stderr.strip() == f"failed {tmp_path / 'b.txt'}: binary content, not text (refused)"


def test_a_jsonl_collection_is_a_corpus_of_its_own(tmp_path: Path, home: Path, run_cli: InProcess) -> None:
    """BrowseComp-Plus style: one document per line, read from the corpus (its URL only names it)."""
    from tests.conftest import QUESTION, glass_harbor
    from tests.fakes.model_server import ModelServer
    from tests.fakes.toy_model import ToyModel

    corpus_dir = Path(__file__).parent / "data" / "corpus"
    lines = [{"docid": f"d{i}", "url": f"https://example.org/{p.stem}", "text": p.read_text()}
             for i, p in enumerate(sorted(corpus_dir.glob("*.md")))]
    lines.append({"docid": "guide", "title": "Velmora Town Guide", "text": "The Velmora Public Library on Harbour "
                  "Street was designed by Ilse Marrow and opened in 1962."})
    lines.append({"docid": "arch", "title": "Ilse Marrow", "text": "Ilse Marrow was born in 1921 in Tromsholm."})
    collection = tmp_path / "plus.jsonl"
    collection.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n" + json.dumps({"id": 9})
                          + "\n")
    with ModelServer(ToyModel(glass_harbor())) as server:
        env = cli_env(home, server.base_url)
        done = run_cli(env, "ingest", str(collection))
        assert done.returncode == 1  # two bad records, reported by line; the rest are in
        assert done.stdout.startswith(f"added {len(lines)}, updated 0, unchanged 0, failed 2;")
        assert f"{collection.resolve()} line {len(lines) + 1}: not JSON" in done.stderr
        assert f"{collection.resolve()} line {len(lines) + 2}: no text" in done.stderr
        again = run_cli(env, "ingest", str(collection))
        assert again.stdout.startswith(f"added 0, updated 0, unchanged {len(lines)},")
        listed = json.loads(run_cli(env, "corpus", "list", "--json").stdout)
        assert {d["path"] for d in listed} >= {"plus:guide", "plus:arch", "plus:d0"}
        result = run_cli(env, "run", QUESTION, "--json", "--set", "pages_per_round=3")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["answer"] == "1921" and all(s["url"].startswith("plus:") for s in data["sources"])


def test_a_parquet_collection(tmp_path: Path, home: Path, run_cli: InProcess) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"docid": ["a", "b"], "url": ["https://example.org/a", "https://example.org/b"],
                      "text": ["Glass Harbor premiered in Velmora in 1958.", ""]})
    pq.write_table(table, tmp_path / "plus.parquet")
    done = run_cli(cli_env(home), "ingest", str(tmp_path / "plus.parquet"))
    assert done.returncode == 1 and done.stdout.startswith("added 1,")
    assert f"{(tmp_path / 'plus.parquet').resolve()} row 2: no text" in done.stderr
    listed = json.loads(run_cli(cli_env(home), "corpus", "list", "--json").stdout)
    assert [(d["path"], d["title"]) for d in listed] == [("plus:a", "https://example.org/a")]
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    broken = run_cli(cli_env(home), "ingest", str(tmp_path / "broken.parquet"))
    assert broken.returncode == 1 and "not a readable Parquet file" in broken.stderr
