"""`ingest` and `corpus list` / `corpus remove`: the local document corpus."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from core.errors import UserInputError
from deepresearch.cli.common import app, err, listed_elsewhere, say, settings

corpus_app = typer.Typer(help="List and remove the documents of the local corpus.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursive), or .jsonl "
                                                     "collections (one document per line).")]) -> None:
    """Index .md, .txt, .html, .pdf, .docx and .csv files into the local corpus (unchanged files are skipped).

    A .jsonl or .parquet file given by name is a collection (BrowseComp-Plus style): each record a document,
    with its text, an id, and a title or URL. Every file is named by its full path. Exit 1 if any file or
    record could not be indexed (the others are), else 0.

    Example: deepresearch ingest ~/papers notes.md
    """
    from tools.collections import ingest_collection
    from tools.corpus import Corpus, IngestReport, iter_files

    loaded = settings()
    paths = [p.expanduser() for p in paths]
    for path in paths:
        if not path.exists():
            raise UserInputError(f"no such file or folder: {path.absolute()}")
    collections = [p for p in paths if p.is_file() and p.suffix.lower() in (".jsonl", ".parquet")]
    files = [p for p in paths if p not in collections]
    if files and not any(True for _ in iter_files(files)):
        raise UserInputError("no .md, .txt, .html, .pdf, .docx or .csv files found in "
                             + ", ".join(str(p.absolute()) for p in files))
    corpus = Corpus(loaded.corpus_db)
    report = corpus.ingest(files, loaded.parsing) if files else IngestReport()
    for collection in collections:
        part = ingest_collection(corpus, collection, loaded.parsing)
        for name in ("added", "updated", "unchanged", "failed", "warnings"):
            getattr(report, name).extend(getattr(part, name))
    for file, warning in report.warnings:
        err.print(f"[yellow]warning[/] {escape(file)}: {escape(warning)}")
    for file, reason in report.failed:
        err.print(f"[red]failed[/]  {escape(file)}: {escape(reason)}")
    stats = corpus.stats()
    print(f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
          f"failed {len(report.failed)}; corpus: {stats['documents']} documents, {stats['passages']} passages")
    if report.failed:
        raise typer.Exit(1)


@corpus_app.command("list")
def list_documents(as_json: Annotated[bool, typer.Option(
        "--json", help="Print a JSON list instead of the table.")] = False) -> None:
    """List the corpus's documents: path, kind, characters, passages, when ingested, title.

    Example: deepresearch corpus list
    """
    from tools.corpus import Corpus

    documents = Corpus(settings(create_home=False).corpus_db).documents()
    if listed_elsewhere(documents, as_json, "the corpus is empty; add documents with `deepresearch ingest PATH`"):
        return
    print(f"{'KIND':<8} {'CHARS':>10} {'PASSAGES':>8}  {'INGESTED':<16}  PATH — TITLE")
    for d in documents:
        when = dt.datetime.fromtimestamp(d.ingested_at).strftime("%Y-%m-%d %H:%M")
        say(f"{d.kind:<8} {d.chars:>10,} {d.passages:>8}  {when:<16}  {d.path} — {d.title}")


@corpus_app.command("remove")
def remove(paths: Annotated[list[Path], typer.Argument(
        help="Files or folders, as ingested (the files need not exist any more).")]) -> None:
    """Remove documents from the corpus: a file, or every document ingested from under a folder.

    Example: deepresearch corpus remove ~/papers/old.pdf
    """
    from tools.corpus import Corpus

    corpus = Corpus(settings().corpus_db)
    missing = []
    for path in paths:
        removed = corpus.remove(path)
        for gone in removed:
            print(f"removed {gone}")
        if not removed:
            missing.append(str(path.expanduser().resolve()))
    if missing:
        raise UserInputError(f"nothing in the corpus was ingested from {', '.join(missing)} "
                             "(see `deepresearch corpus list`)")
