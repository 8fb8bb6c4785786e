"""`ingest` and `corpus list` / `corpus remove`: the local document corpus."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from core.errors import UserInputError
from deepresearch.cli.common import app, err, listed_elsewhere, settings

if TYPE_CHECKING:
    from tools.corpus.names import Selection

corpus_app = typer.Typer(help="List and remove the documents of the local corpus.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


PREVIEW = 20  # the documents a target that names many lists before "and N more"


def _refuse_empty(targets: list[str], what: str) -> None:
    """An empty argument (an unset shell variable) is an error, never the current folder."""
    if any(not target.strip() for target in targets):
        raise UserInputError(what)


@app.command()
def ingest(paths: Annotated[list[str], typer.Argument(
        help="Files or folders (recursive), or .jsonl or .parquet collections (one document per record).",
        show_default=False)]) -> None:
    """Index .md, .txt, .html, .pdf, .docx and .csv files into the local corpus (unchanged files are skipped).

    A .jsonl or .parquet file given by name is a collection (BrowseComp-Plus style): each record a document,
    with its text, an id, and a title or URL; a bad record is named by its line or row and skipped. Every file
    is named by its full path. Exit 1 if any file or record could not be indexed (the others are), else 0.

    Example: deepresearch ingest ~/papers notes.md
    """
    from tools.corpus.collections import ingest_collection
    from tools.corpus.names import COLLECTION_SUFFIXES, shown
    from tools.corpus.store import Corpus, IngestReport, iter_files

    _refuse_empty(paths, "an empty path is no file or folder (is a shell variable empty?)")
    loaded = settings()
    targets = [Path(p).expanduser() for p in paths]
    for path in targets:
        if not path.exists():
            raise UserInputError(f"no such file or folder: {path.absolute()}")
    collections = [p for p in targets if p.is_file() and p.suffix.lower() in COLLECTION_SUFFIXES]
    files = [p for p in targets if p not in collections]
    if files and not any(True for _ in iter_files(files)):
        raise UserInputError("no .md, .txt, .html, .pdf, .docx or .csv files found in "
                             + ", ".join(str(p.absolute()) for p in files))
    corpus = Corpus(loaded.corpus_db)
    report = corpus.ingest(files, loaded.parsing) if files else IngestReport()
    for collection in collections:
        part = ingest_collection(corpus, collection, loaded.parsing)
        for name in ("added", "updated", "unchanged", "failed", "warnings"):
            getattr(report, name).extend(getattr(part, name))
    for file, warning in report.warnings:  # one line each, whatever a file's name holds
        err.print(f"[yellow]warning[/] {escape(shown(file))}: {escape(shown(warning))}")
    for file, reason in report.failed:
        err.print(f"[red]failed[/]  {escape(shown(file))}: {escape(shown(reason))}")
    stats = corpus.stats()
    print(f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
          f"failed {len(report.failed)}; corpus: {stats['documents']} documents, {stats['passages']} passages")
    if report.failed:
        raise typer.Exit(1)


@corpus_app.command("list")
def list_documents(as_json: Annotated[bool, typer.Option(
        "--json", help="Print a JSON list instead of the table.")] = False) -> None:
    r"""List the corpus's documents: kind, characters, passages, when ingested, name and title.

    A file is named by its full path, a record of a collection by NAME:ID (and the file it came from), each
    as `corpus remove` takes it; control characters are shown as escapes (\n), so each is one row.

    Example: deepresearch corpus list
    """
    from tools.corpus.names import shown
    from tools.corpus.store import Corpus

    documents = Corpus(settings(create_home=False).corpus_db).documents()
    if listed_elsewhere(documents, as_json, "the corpus is empty; add documents with `deepresearch ingest PATH`"):
        return
    print(f"{'KIND':<8} {'CHARS':>10} {'PASSAGES':>8}  {'INGESTED':<16}  PATH — TITLE")
    for d in documents:
        when = dt.datetime.fromtimestamp(d.ingested_at).strftime("%Y-%m-%d %H:%M")
        source = f" (from {shown(d.source)})" if d.source else ""
        print(f"{shown(d.kind):<8} {d.chars:>10,} {d.passages:>8}  {when:<16}  {shown(d.path)} — {shown(d.title)}"
              f"{source}")


def _named(selection: Selection) -> str:
    """The target as typed, and the full path it stood for when that is what matched (or nothing did)."""
    from tools.corpus.names import shown

    target = selection.target  # one that named nothing: as a path too, unless it reads as NAME:ID
    as_path = selection.by_place or (not selection.keys and ("/" in target or ":" not in target))
    if as_path and selection.place != target:
        return f"{shown(target)} ({shown(selection.place)})"
    return shown(target)


@corpus_app.command("remove")
def remove(
    targets: Annotated[list[str], typer.Argument(
        help="A file or folder as ingested (it need not exist any more), a collection's file or NAME, or one "
             "record's NAME:ID, as `corpus list` shows them.", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Remove every document a target names; without it, "
                                      "a target that names more than one lists them and nothing is removed.")
                   ] = False,
) -> None:
    """Remove documents: a file, everything ingested from under a folder, a collection, or one record.

    A target that names more than one document (a folder, a collection) lists them and removes nothing
    unless --yes is given. A target that names nothing is an error, and then nothing is removed.

    Example: deepresearch corpus remove ~/papers/old.pdf; deepresearch corpus remove ~/papers --yes
    """
    from tools.corpus.names import EMPTY_TARGET, shown
    from tools.corpus.store import Corpus

    _refuse_empty(targets, EMPTY_TARGET)
    corpus = Corpus(settings().corpus_db)
    chosen = [corpus.select(target) for target in targets]
    missing = [selection for selection in chosen if not selection.keys]
    if missing:
        raise UserInputError(f"nothing in the corpus was ingested from {', '.join(map(_named, missing))} "
                             "(see `deepresearch corpus list`)")
    many = [selection for selection in chosen if len(selection.keys) > 1]
    if many and not yes:
        for selection in many:
            print(f"{_named(selection)} matches {len(selection.keys):,} documents:")
            for key in selection.keys[:PREVIEW]:
                print(f"  {shown(key)}")
            if len(selection.keys) > PREVIEW:
                print(f"  and {len(selection.keys) - PREVIEW:,} more")
        total = len({key for selection in many for key in selection.keys})
        raise UserInputError(f"nothing removed: {total:,} documents would go; add --yes to remove them")
    corpus.delete(sorted({key for selection in chosen for key in selection.keys}))
    said: set[str] = set()
    for selection in chosen:
        fresh = [key for key in selection.keys if key not in said]
        said.update(fresh)
        if len(selection.keys) == 1 and fresh:
            print(f"removed {shown(fresh[0])}")
        elif len(selection.keys) > 1:
            print(f"removed {len(fresh):,} documents: {_named(selection)}")
