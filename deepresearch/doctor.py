"""`deepresearch doctor`: checks that everything a run needs is in place."""

from __future__ import annotations

from core.errors import EndpointError
from core.settings import Settings
from core.sqlite import read_only, tables
from tools.corpus import Corpus
from tools.endpoint import list_models
from tools.pages import PageStore
from tools.search import resolve_backend


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _checkpoint_stats(settings: Settings) -> str:
    path = settings.checkpoints_db
    if not path.exists():
        return "no checkpoints yet"
    with read_only(path) as conn:
        if "checkpoints" not in tables(conn):
            return "no checkpoints yet"
        threads, rows = conn.execute("SELECT count(DISTINCT thread_id), count(*) FROM checkpoints").fetchone()
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    return f"{threads} threads, {rows} checkpoints, {_mb(path.stat().st_size)}, journal {mode}"


async def doctor_report(settings: Settings) -> tuple[bool, list[str]]:
    """Lines describing each check, and whether a run could start."""
    ok = True
    lines = [f"home        {settings.home}"]
    try:
        served = await list_models(settings.base_url, settings.api_key.get_secret_value())
        lines.append(f"endpoint    {settings.base_url}: reachable")
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
    lines.append(f"structured  {settings.structured_output} (DEEPRESEARCH_STRUCTURED_OUTPUT)")
    web = settings.web
    configured = [name for name, value in (("serper", web.serper_api_key), ("tavily", web.tavily_api_key),
                                           ("searxng", web.searxng_url)) if value]
    lines.append(f"search      web backends configured: {', '.join(configured) or 'none (duckduckgo needs no key)'}; "
                 f"--search auto uses {resolve_backend('auto', web)}")
    reader = "Jina reader (JINA_API_KEY)" if web.jina_api_key else "built-in fetcher"
    robots = "respected" if web.respect_robots else "ignored"
    lines.append(f"web         pages read by the {reader}; robots.txt {robots}; "
                 f"private addresses: {web.allow_private_network or 'refused'}")
    corpus = Corpus(settings.corpus_db).stats()
    lines.append(f"corpus      {corpus['documents']} documents, {corpus['passages']} passages, {_mb(corpus['bytes'])}"
                 + ("" if corpus["documents"] else " (add some with `deepresearch ingest PATH`)"))
    pages = PageStore(settings.pages_db).stats()
    lines.append(f"pages       {pages['pages']} pages stored for {pages['urls']} URLs ({pages['chars']:,} chars)")
    lines.append(f"checkpoints {_checkpoint_stats(settings)}")
    return ok, lines
