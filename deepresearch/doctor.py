"""`deepresearch doctor`: checks that everything a run needs is in place."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from checkpoints.langgraph_private import CHECKPOINT_TABLE, COUNTS
from core.errors import EndpointError, ModelCallError, StorageError
from core.redact import redact_url
from core.settings import Settings
from core.sqlite import BUSY, quick_check, read_only, tables
from tools.corpus.store import Corpus
from tools.model.capabilities import Capabilities, probe
from tools.model.capability_store import recall
from tools.model.endpoint import list_models
from tools.search import resolve_backend
from tools.web.pages import PageStore


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _checkpoint_stats(path: Path) -> str:
    if not path.exists():
        return "no checkpoints yet"
    with read_only(path) as conn:
        if CHECKPOINT_TABLE not in tables(conn):
            return "no checkpoints yet"
        threads, rows = conn.execute(COUNTS).fetchone()
    with path.open("rb") as file:  # the header, not PRAGMA journal_mode: that says 'delete' for a file read immutable
        mode = "wal" if file.read(20)[18:20] == b"\x02\x02" else "rollback"
    return f"{threads} threads, {rows} checkpoints, {_mb(path.stat().st_size)}, journal {mode}"


def _corpus_stats(path: Path) -> str:
    corpus = Corpus(path).stats()
    return (f"{corpus['documents']} documents, {corpus['passages']} passages, {_mb(corpus['bytes'])}"
            + ("" if corpus["documents"] else " (add some with `deepresearch ingest PATH`)"))


def _pages_stats(path: Path) -> str:
    pages = PageStore(path).stats()
    return f"{pages['pages']} pages stored for {pages['urls']} URLs ({pages['chars']:,} chars)"


def _databases(settings: Settings) -> tuple[bool, list[str]]:
    """Each database's stats, then one line with each one's integrity: ok, none yet, or its first problem.

    A database that fails SQLite's quick check (or is not SQLite at all) gets one line saying so instead of
    its stats, and makes the report fail.
    """
    ok = True
    lines: list[str] = []
    verdicts: list[str] = []
    databases: list[tuple[str, Path, Callable[[Path], str]]] = [
        ("corpus", settings.corpus_db, _corpus_stats), ("pages", settings.pages_db, _pages_stats)]
    if settings.checkpoint_url:  # the thread store is a server's: say which, never with its password
        lines.append(f"checkpoints in Postgres ({redact_url(settings.checkpoint_url)}; DEEPRESEARCH_CHECKPOINT_URL)")
    else:
        databases.append(("checkpoints", settings.checkpoints_db, _checkpoint_stats))
    for label, path, stats in databases:
        problem = quick_check(path) if path.exists() else None
        if problem == BUSY:  # in use by a writer: not checked, not damaged
            lines.append(f"{label:<11} not read: {path.name} is busy (another process is writing to it)")
            verdicts.append(f"{path.name} busy, not checked")
            continue
        if problem is None:
            try:
                lines.append(f"{label:<11} {stats(path)}")
            except StorageError as exc:  # sound, yet unreadable (e.g. locked for longer than the busy timeout)
                problem = str(exc)
        if problem is not None:
            ok = False
            lines.append(f"{label:<11} not read: {path.name} is damaged")
        verdict = f"DAMAGED: {problem}" if problem is not None else "ok" if path.exists() else "none yet"
        verdicts.append(f"{path.name} {verdict}")
    return ok, [*lines, "integrity   " + "; ".join(verdicts)]


def _structured(settings: Settings, found: Capabilities | None, why_not: str) -> str:
    """The structured-output line: forced, or auto and what it resolves to (remembered, or what a probe now chooses).

    Doctor only reads: a probe's finding is shown, never saved (the first run saves its own).
    """
    now = found.choose() if found else None
    force = "force with DEEPRESEARCH_STRUCTURED_OUTPUT"
    if settings.structured_output != "auto":
        probed = f"; the probe chooses {now}" if now and now != settings.structured_output else ""
        return f"structured  {settings.structured_output} (forced by DEEPRESEARCH_STRUCTURED_OUTPUT{probed})"
    path = settings.capabilities_file
    known = recall(path, settings.base_url, settings.model)
    if known is None:
        if now is None:
            return f"structured  auto (not probed: {why_not}; {force})"
        return f"structured  auto -> {now} (probed now; the first run remembers it in {path}; {force})"
    how = f"switched {known.day}: {known.note}" if known.note else f"probed {known.day}"
    differs = f"; a probe now chooses {now}: delete the file to probe again" if now and now != known.chosen else ""
    return f"structured  auto -> {known.chosen} ({how}, remembered in {path}{differs}; {force})"


async def doctor_report(settings: Settings) -> tuple[int, list[str]]:
    """Lines describing each check, and the exit code: 0 if a run could start, 2 if the endpoint or model cannot.

    1 if a database is damaged or the home is not a folder. The checks only read: they work in a read-only home,
    which is said on the home line (it is for reading: its databases are sound, so no failure).
    """
    ok = True
    home_ok = settings.home.is_dir() or not settings.home.exists()  # read-only commands do not create it
    read_only = settings.home.is_dir() and not os.access(settings.home, os.W_OK | os.X_OK)
    lines = [f"home        {settings.home}" + ("" if home_ok else ": NOT a folder (DEEPRESEARCH_HOME)")
             + (" (read-only: `threads`, `show` and `corpus list` work; `run`, `resume` and `ingest` need to write)"
                if read_only else "")]
    found: Capabilities | None = None
    why_not = "the endpoint cannot be used"
    key = settings.api_key.get_secret_value()
    try:
        served = await list_models(settings.base_url, key)
        lines.append(f"endpoint    {redact_url(settings.base_url)}: reachable")
        match = next((m for m in served if m.id == settings.model), None)
        if match is not None:
            ctx = f", max context {match.max_model_len:,} tokens" if match.max_model_len else ""
            lines.append(f"model       {settings.model}: served{ctx}")
        else:
            ok = False
            others = ", ".join(m.id for m in served[:5]) or "nothing"
            lines.append(f"model       {settings.model}: NOT served (endpoint lists {others}); set DEEPRESEARCH_MODEL")
    except EndpointError as exc:
        ok = False
        lines.append(f"endpoint    UNREACHABLE: {exc}")
    if ok:
        try:
            found = await probe(settings.base_url, settings.model, key, min(settings.request_timeout, 60))
            lines.append(f"capabilities {found.describe()}")
        except (EndpointError, ModelCallError) as exc:
            why_not = str(exc)
            lines.append(f"capabilities NOT probed: {exc}")
    lines.append(_structured(settings, found, why_not))
    web = settings.web
    configured = [name for name, value in (("serper", web.serper_api_key), ("tavily", web.tavily_api_key),
                                           ("searxng", web.searxng_url)) if value]
    lines.append(f"search      web backends configured: {', '.join(configured) or 'none (duckduckgo needs no key)'}; "
                 f"--search auto uses {resolve_backend('auto', web)}")
    reader = "Jina reader (JINA_API_KEY)" if web.jina_api_key else "built-in fetcher"
    robots = "respected" if web.respect_robots else "ignored"
    lines.append(f"web         pages read by the {reader}; robots.txt {robots}; "
                 f"private addresses: {web.allow_private_network or 'refused'}")
    sound, stats = _databases(settings)
    return 2 if not ok else 0 if sound and home_ok else 1, lines + stats
