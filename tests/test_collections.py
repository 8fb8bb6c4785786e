"""Collections (JSONL, Parquet) at ingest: a bad record is named by its line or row and skipped, the rest go in;
nothing binary, cut or unprintable goes in unsaid. Files the tests write, through the CLI's entry point."""

import codecs
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli_helpers import InProcess, cli_env


def stored(home: Path) -> dict[str, tuple[str, str]]:
    """Key -> (title, text) of every document of the corpus, read straight from its database."""
    with closing(sqlite3.connect(home / "corpus.db")) as conn:
        rows = conn.execute("SELECT d.path, d.title, group_concat(p.text, '') FROM documents d "
                            "JOIN passages p ON p.doc_id = d.id GROUP BY d.id").fetchall()
    return {path: (title, text) for path, title, text in rows}


def failures(stderr: str, source: Path) -> dict[int, str]:
    """Line (or row) number -> reason, from ingest's `failed` lines about one collection."""
    out = {}
    for line in stderr.strip().splitlines():
        head, _, reason = line.partition(": ")
        assert head.startswith(f"failed  {source.resolve()} "), line
        out[int(head.rsplit(" ", 1)[1])] = reason
    return out


def test_every_bad_jsonl_line_is_named_and_skipped_and_the_rest_go_in(tmp_path: Path, home: Path,
                                                                     run_cli: InProcess) -> None:
    good = [json.dumps({"id": i, "text": f"Record {i} about the harbour of Velmora."}).encode() for i in range(3)]
    lines = [
        codecs.BOM_UTF8 + good[0],  # 1: a byte-order mark on the first line is not part of the JSON
        b'{"id": "latin", "text": "caf\xe9 au lait"}',  # 2: a Latin-1 byte
        b"[" * 50_000 + b"]" * 50_000,  # 3: nested 50,000 deep
        b'{"id": "deep", "text": "x", "meta": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,  # 4: an object too
        good[1],
        b"",  # a blank line is no record
        json.dumps({"id": "list", "text": ["a", "list"]}).encode(),  # 7
        b"9" * 5000,  # 8: an integer over Python's digit limit
        json.dumps({"id": "two\nlines", "text": "An id with a line break."}).encode(),  # 9
        json.dumps({"id": ["x"], "text": "An id that is a list."}).encode(),  # 10
        b"[1, 2]",  # 11
        b'{"id": "big", "text": "' + b"word " * 250_000 + b'"}',  # 12: over the 1 MB a document may have
        b"not json at all",  # 13
        good[2],
    ]
    collection = tmp_path / "plus.jsonl"
    collection.write_bytes(b"\n".join(lines) + b"\n")
    done = run_cli(cli_env(home, DEEPRESEARCH_MAX_DOCUMENT_MB="1"), "ingest", str(collection))
    assert done.returncode == 1
    assert done.stdout.startswith("added 3, updated 0, unchanged 0, failed 10;")
    assert failures(done.stderr, collection) == {
        2: "not UTF-8 (byte 0xe9 at column 29)",
        3: "JSON nested too deep",
        4: "JSON nested too deep",
        7: "text is a list, not a string",
        8: "not JSON (Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; "
           "use sys.set_int_max_str_digits() to increase the limit)",
        9: "the id 'two\\nlines' holds a line break or another control character",
        10: "id is a list, not a string",
        11: "not a JSON object",
        12: f"{len(lines[11]):,} bytes is over the 1,000,000-byte limit for one document",
        13: "not JSON (Expecting value)",
    }
    assert sorted(stored(home)) == ["plus:0", "plus:1", "plus:2"]


def test_binary_anywhere_in_a_record_is_refused_and_no_nul_is_stored(tmp_path: Path, home: Path,
                                                                     run_cli: InProcess) -> None:
    records = [
        {"id": "late-nul", "text": "Plain words about harbours. " * 3000 + "\x00\x00\x00 and more words"},  # past 64 KB
        {"id": "controls", "text": "".join(f"word{i}\x01\x02 " for i in range(20_000))},
        {"id": "fine", "text": "The keeper Arvid Sund was born in 1899.\tTabs\fand form feeds are text."},
    ]
    collection = tmp_path / "mixed.jsonl"
    collection.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    done = run_cli(cli_env(home), "ingest", str(collection))
    assert done.returncode == 1 and done.stdout.startswith("added 1,")
    assert failures(done.stderr, collection) == {1: "binary content, not text (refused)",
                                                2: "binary content, not text (refused)"}
    assert list(stored(home)) == ["mixed:fine"]
    assert all("\x00" not in text for _, text in stored(home).values())


def test_a_parquet_binary_column_is_decoded_or_the_record_refused(tmp_path: Path, home: Path,
                                                                  run_cli: InProcess) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({
        "docid": pa.array([b"p1", b"p2", b"\xff\xfe", b"p4"], pa.binary()),
        "title": pa.array([b"Glass Harbor", b"Two", b"Three", "Vier \u00fcber".encode()], pa.large_binary()),
        "text": pa.array([b"Glass Harbor premiered in Velmora in 1958.", b"\x89PNG\r\n\x1a\n\x00\x00\xff",
                          b"Valid text with a bad id.", "Caf\u00e9 in Gen\u00e8ve.".encode()], pa.binary()),
    })
    pq.write_table(table, tmp_path / "bin.parquet")
    done = run_cli(cli_env(home), "ingest", str(tmp_path / "bin.parquet"))
    assert done.returncode == 1 and done.stdout.startswith("added 2,")
    assert failures(done.stderr, tmp_path / "bin.parquet") == {2: "text is binary data, not UTF-8 text",
                                                              3: "id is binary data, not UTF-8 text"}
    assert stored(home) == {"bin:p1": ("Glass Harbor", "Glass Harbor premiered in Velmora in 1958."),
                            "bin:p4": ("Vier \u00fcber", "Caf\u00e9 in Gen\u00e8ve.")}


def test_a_record_cut_at_the_character_limit_says_so(tmp_path: Path, home: Path, run_cli: InProcess) -> None:
    collection = tmp_path / "long.jsonl"
    collection.write_text(json.dumps({"id": "book", "text": "harbour " * 300_000}) + "\n"  # 2.4M characters
                          + json.dumps({"id": "short", "text": "A short record."}) + "\n")
    done = run_cli(cli_env(home), "ingest", str(collection))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"warning {collection.resolve()} line 1 (long:book): cut at 2,000,000 characters"
    with closing(sqlite3.connect(home / "corpus.db")) as conn:
        chars = dict(conn.execute("SELECT path, chars FROM documents"))
    assert 2_000_000 < chars["long:book"] < 2_000_100 and chars["long:short"] == len("A short record.")
    assert stored(home)["long:book"][1].endswith("[cut at 2,000,000 characters]")


def test_titles_are_one_printable_line(tmp_path: Path, home: Path, run_cli: InProcess) -> None:
    collection = tmp_path / "t.jsonl"
    collection.write_text(json.dumps({"id": "a", "title": "Two\nlines \x1b[31mred\x1b[0m", "text": "Body."}) + "\n")
    assert run_cli(cli_env(home), "ingest", str(collection)).returncode == 0
    assert stored(home)["t:a"][0] == "Two lines [31mred [0m"


def test_an_unreadable_collection_is_one_failed_file_and_the_others_go_in(tmp_path: Path, home: Path,
                                                                         run_cli: InProcess) -> None:
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    (tmp_path / "ok.jsonl").write_text(json.dumps({"id": 1, "text": "Fine."}) + "\n")
    done = run_cli(cli_env(home), "ingest", str(tmp_path / "broken.parquet"), str(tmp_path / "ok.jsonl"))
    assert done.returncode == 1 and done.stdout.startswith("added 1, updated 0, unchanged 0, failed 1;")
    assert done.stderr.startswith(f"failed  {(tmp_path / 'broken.parquet').resolve()}: not a readable Parquet file")


def test_records_stored_before_they_knew_their_file_learn_it_unchanged(tmp_path: Path, home: Path,
                                                                       run_cli: InProcess) -> None:
    from tools.corpus.store import Corpus

    collection = tmp_path / "plus.jsonl"
    collection.write_text(json.dumps({"id": "a", "text": "Record a."}) + "\n")
    home.mkdir()
    Corpus(home / "corpus.db").put("plus:a", "plus a", "text", "Record a.")  # as an older version stored it
    again = run_cli(cli_env(home), "ingest", str(collection))
    assert again.returncode == 0 and again.stdout.startswith("added 0, updated 0, unchanged 1,")
    listed = json.loads(run_cli(cli_env(home), "corpus", "list", "--json").stdout)
    assert [(d["path"], d["source"]) for d in listed] == [("plus:a", str(collection.resolve()))]
