"""`corpus remove` does what was asked and no more, and `corpus list` names every document so that remove takes it."""

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli_helpers import InProcess, cli_env
from tools.corpus.store import Corpus


def keys(home: Path) -> list[str]:
    with closing(sqlite3.connect(home / "corpus.db")) as conn:
        return sorted(row[0] for row in conn.execute("SELECT path FROM documents"))


@pytest.fixture
def docs(tmp_path: Path, home: Path, run_cli: InProcess) -> Path:
    """An ingested folder: many/ holds 25 notes, sub/ one, and sub-x/ and subway.md only share sub's prefix."""
    folder = tmp_path / "docs"
    for rel in [f"many/note{i:02}.md" for i in range(25)] + ["sub/c.md", "sub-x/d.md", "subway.md", "top.md"]:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(f"# {rel}\n\nA note about harbours.")
    assert run_cli(cli_env(home), "ingest", str(folder)).returncode == 0
    return folder


@pytest.mark.parametrize("target", ["", " ", "\t\n"])
def test_an_empty_path_is_an_error_and_removes_nothing(docs: Path, home: Path, run_cli: InProcess,
                                                      monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    monkeypatch.chdir(docs)  # an empty shell variable, in the folder that was ingested
    before = keys(home)
    for args in (["corpus", "remove", target], ["corpus", "remove", target, "--yes"],
                 ["corpus", "remove", "top.md", target]):
        done = run_cli(cli_env(home), *args)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.startswith("deepresearch: error: an empty path names no document")
        assert len(done.stderr.strip().splitlines()) == 1
        assert keys(home) == before
    ingest = run_cli(cli_env(home), "ingest", target)
    assert ingest.returncode == 1 and "an empty path" in ingest.stderr


def test_a_folder_of_many_documents_is_listed_until_yes(docs: Path, home: Path, run_cli: InProcess,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    env = cli_env(home)
    before = keys(home)
    many = [str((docs / "many" / f"note{i:02}.md").resolve()) for i in range(25)]
    place = str((docs / "many").resolve())
    for target, named in [(place, place), (place + "/", f"{place}/ ({place})"), (place + "//", f"{place}// ({place})")]:
        done = run_cli(env, "corpus", "remove", target)
        assert done.returncode == 1 and keys(home) == before
        assert done.stdout.splitlines() == [f"{named} matches 25 documents:", *(f"  {k}" for k in many[:20]),
                                            "  and 5 more"]
        assert done.stderr.strip() == ("deepresearch: error: nothing removed: 25 documents would go; "
                                       "add --yes to remove them")
    for target in (".", "/", str(docs)):  # the folder, the root: listed, nothing removed
        monkeypatch.chdir(docs)
        done = run_cli(env, "corpus", "remove", target)
        assert done.returncode == 1 and keys(home) == before and "add --yes" in done.stderr
    monkeypatch.chdir(docs.parent)
    done = run_cli(env, "corpus", "remove", "docs/many/", "--yes")  # relative, with a trailing slash
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"removed 25 documents: docs/many/ ({(docs / 'many').resolve()})"
    assert keys(home) == [k for k in before if k not in many]


def test_a_folder_matches_whole_path_components_and_one_document_goes_at_once(docs: Path, home: Path,
                                                                            run_cli: InProcess) -> None:
    env = cli_env(home)
    done = run_cli(env, "corpus", "remove", str(docs / "sub"))
    assert done.returncode == 0 and done.stdout.strip() == f"removed {(docs / 'sub' / 'c.md').resolve()}"
    assert {Path(k).name for k in keys(home)} >= {"d.md", "subway.md"}
    missing = run_cli(env, "corpus", "remove", str(docs / "su"))  # a prefix that is no folder of its own
    assert missing.returncode == 1 and "nothing in the corpus was ingested from" in missing.stderr


def test_a_symlink_names_what_it_points_to(docs: Path, home: Path, run_cli: InProcess, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(docs / "many")
    (tmp_path / "top-link.md").symlink_to(docs / "top.md")
    env = cli_env(home)
    assert run_cli(env, "corpus", "remove", str(tmp_path / "top-link.md")).stdout.strip() == \
        f"removed {(docs / 'top.md').resolve()}"
    done = run_cli(env, "corpus", "remove", str(tmp_path / "link"), "--yes")
    assert done.returncode == 0 and done.stdout.startswith("removed 25 documents")
    assert sorted(Path(k).name for k in keys(home)) == ["c.md", "d.md", "subway.md"]


def test_collections_are_removed_as_list_shows_them(tmp_path: Path, home: Path, run_cli: InProcess,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    env = cli_env(home)
    collection = tmp_path / "plus.jsonl"
    collection.write_text("".join(json.dumps({"docid": d, "text": f"Record {d} about harbours."}) + "\n"
                                  for d in ("a", "b", "c")))
    assert run_cli(env, "ingest", str(collection)).returncode == 0
    table = run_cli(env, "corpus", "list").stdout.splitlines()
    assert [row.split("  ")[-1] for row in table[1:]] == [
        f"plus:{d} — plus {d} (from {collection.resolve()})" for d in ("a", "b", "c")]
    listed = json.loads(run_cli(env, "corpus", "list", "--json").stdout)
    assert {(d["path"], d["source"]) for d in listed} == {(f"plus:{d}", str(collection.resolve())) for d in "abc"}
    one = run_cli(env, "corpus", "remove", "plus:b")  # one record, by its id
    assert one.returncode == 0 and one.stdout.strip() == "removed plus:b"
    monkeypatch.chdir(tmp_path)
    for target in ("plus.jsonl", "plus"):  # the whole collection: by its file (as ingested), or by its name
        ask = run_cli(env, "corpus", "remove", target)
        assert ask.returncode == 1 and ask.stdout.splitlines()[1:] == ["  plus:a", "  plus:c"]
        assert keys(home) == ["plus:a", "plus:c"]
    gone = run_cli(env, "corpus", "remove", "plus.jsonl", "--yes")
    assert gone.returncode == 0 and gone.stdout.strip() == f"removed 2 documents: plus.jsonl ({collection.resolve()})"
    assert keys(home) == []
    assert run_cli(env, "ingest", str(collection)).returncode == 0
    assert run_cli(env, "corpus", "remove", "plus", "--yes").stdout.strip() == "removed 3 documents: plus"
    nothing = run_cli(env, "corpus", "remove", "plus:zz")
    assert nothing.returncode == 1 and "nothing in the corpus was ingested from plus:zz" in nothing.stderr


def test_a_parquet_collection_is_removed_by_its_file(tmp_path: Path, home: Path, run_cli: InProcess) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["x", "y"], "text": ["One record.", "Another record."]}), tmp_path / "set.parquet")
    env = cli_env(home)
    assert run_cli(env, "ingest", str(tmp_path / "set.parquet")).returncode == 0
    assert run_cli(env, "corpus", "remove", "set:y").stdout.strip() == "removed set:y"
    assert run_cli(env, "corpus", "remove", str(tmp_path / "set.parquet")).stdout.strip() == "removed set:x"
    assert keys(home) == []


def test_list_shows_one_row_per_document_whatever_an_older_version_stored(tmp_path: Path, home: Path,
                                                                          run_cli: InProcess) -> None:
    """Keys and titles with line breaks and escapes, stored before ingest refused them, in the schema of then."""
    env = cli_env(home)
    weird = tmp_path / "new\nline\x1b[2J.md"
    weird.write_text("# Title\n\nA file whose name holds a line break.")
    then = tmp_path / "then.db"  # built aside: this process prepares (migrates) a database once, when first opened
    corpus = Corpus(then)
    assert not corpus.ingest([weird]).failed
    for key, title in [("old:two\nlines", "A title\nover two lines"), ("old:tab\there", "Bell\x07"),
                       ("old:plain", "Plain")]:
        corpus.put(key, title, "text", f"Body of {key}.")
    with closing(sqlite3.connect(then)) as conn:  # the schema before documents knew their collection's file
        if "source" in [row[1] for row in conn.execute("PRAGMA table_info(documents)")]:
            conn.execute("ALTER TABLE documents DROP COLUMN source")
        conn.execute("PRAGMA user_version = 2")
        conn.commit()
    home.mkdir()
    shutil.copyfile(then, home / "corpus.db")
    table = run_cli(env, "corpus", "list").stdout
    assert len(table.splitlines()) == 1 + 4 and "\x1b" not in table and "\x07" not in table
    assert "  old:two\\nlines — A title\\nover two lines\n" in table
    shown = f"{str(weird.resolve())[:-len(weird.name)]}new\\nline\\x1b[2J.md"
    assert f"  {shown} — Title\n" in table
    assert run_cli(env, "corpus", "remove", "old:two\\nlines").stdout.strip() == "removed old:two\\nlines"
    assert run_cli(env, "corpus", "remove", shown).stdout.strip() == f"removed {shown}"
    assert run_cli(env, "corpus", "remove", "old:tab\there").returncode == 0  # as stored works too
    gone = run_cli(env, "corpus", "remove", str(tmp_path / "old.jsonl"))  # a record of then, by its file's name
    assert gone.returncode == 0 and gone.stdout.strip() == "removed old:plain"
    assert keys(home) == []
