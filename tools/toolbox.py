"""What a run talks to: model endpoints, search backend, page readers and stores.

Built from the run's context and the settings it was bound to, once per event loop and configuration
(HTTP clients and semaphores belong to one loop), and closed when the run ends.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field, replace

from core.settings import Settings
from core.vocabulary import StructuredMethod
from state.context import Context
from tools.corpus.store import Corpus
from tools.model.capability_store import Asking, structured_method
from tools.model.llm import Endpoint, close_models
from tools.net.http import Clients, make_clients, tls
from tools.net.netsafety import AddressPolicy
from tools.quorum import Quorums
from tools.reader import CorpusReader, JinaReader, Reader, RoutingReader, WebReader
from tools.search import SearchBackend, make_backend
from tools.web.fetch import Fetcher
from tools.web.loads import PageLoads
from tools.web.pages import PageStore


@dataclass(frozen=True)
class Toolbox:
    """Clients and stores a run uses."""

    endpoint: Endpoint
    extraction: Endpoint
    agent: Endpoint  # ReAct's: the main model with the model card's sampling
    search: SearchBackend
    reader: Reader
    pages: PageStore
    clients: Clients
    fetcher: Fetcher  # the safe page fetcher (the parse_file tool's)
    loads: PageLoads  # pages loading, those left behind by late reads included (the web reader's)
    stragglers: Quorums = field(default_factory=Quorums)  # the round's reads and searches in flight


def web_reader(settings: Settings, clients: Clients, pages: PageStore, fetcher: Fetcher, loads: PageLoads) -> Reader:
    """Jina's reader when JINA_API_KEY is set, else our own safe fetcher (the run's one)."""
    web = settings.web
    if web.jina_api_key:
        return JinaReader(clients.api, web.jina_base_url, web.jina_api_key,
                          AddressPolicy.parse(web.allow_private_network), pages, web.page_ttl, settings.parsing,
                          loads)
    return WebReader(fetcher, pages, web.page_ttl, settings.parsing, loads)


def build(ctx: Context, settings: Settings, asking: dict[str, Asking] | None = None) -> Toolbox:
    """Everything a run needs, from its context, the process settings and each model's structured-output method.

    The environment's model key goes only where ``Settings.api_key_for`` allows: a base URL given for one run
    (``--set base_url=...``, a Studio or API run's context) gets none. A model not in ``asking`` asks as the
    context says, and with json_schema for auto (which falls back at the first refusal).
    """
    api_key = settings.api_key_for(ctx.base_url)
    forced: StructuredMethod = "json_schema" if ctx.structured_output == "auto" else ctx.structured_output

    def endpoint(model: str) -> Endpoint:  # the main model and the extraction model share the base URL and its key
        how = (asking or {}).get(model, Asking(forced))
        return Endpoint(ctx.base_url, model, api_key, how.method, ctx.temperature, ctx.max_output_tokens,
                        settings.request_timeout, settings.max_retries, capabilities_file=settings.capabilities_file,
                        output_limit=how.output_limit)

    settings.ensure_home()
    clients = make_clients(settings.web)
    pages = PageStore(settings.pages_db)
    fetcher = Fetcher(clients.pages, settings.web)  # one per client: its per-host limits and robots.txt cache
    # late pages loading in the background: as many per host as the round's own reads, half the client's in all
    loads = PageLoads(per_host=settings.web.per_host, most=settings.web.max_connections // 2)
    web = web_reader(settings, clients, pages, fetcher, loads)
    reader = RoutingReader(CorpusReader(Corpus(settings.corpus_db)), web)
    search = make_backend(ctx.search, settings, clients.api)
    main = endpoint(ctx.model)
    agent = replace(main, temperature=ctx.react_temperature, presence_penalty=ctx.presence_penalty)
    return Toolbox(main, endpoint(ctx.extraction_model), agent, search, reader, pages, clients, fetcher, loads)


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[object, ...], Toolbox]] = (
    weakref.WeakKeyDictionary()
)
# one toolbox built at a time per loop: parallel branches (Heavy's agents) wait for it rather than probe alike
_BUILDING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def toolbox(ctx: Context) -> Toolbox:
    """The toolbox for this run's context, the settings it is bound to, and the running event loop.

    Built in a worker thread: creating the home folder and TLS contexts touches the disk, which must
    not block the event loop (`langgraph dev` refuses blocking calls). With ``structured_output=auto``, each
    model's method is the one remembered for it in the home, or probed from the server now and remembered.
    """
    settings = ctx.settings
    key = (ctx.base_url, ctx.model, ctx.extraction_model, ctx.structured_output, ctx.temperature,
           ctx.max_output_tokens, ctx.search, ctx.react_temperature, ctx.presence_penalty, settings)
    loop = asyncio.get_running_loop()
    per_loop = _BY_LOOP.setdefault(loop, {})
    async with _BUILDING.setdefault(loop, asyncio.Lock()):
        if key not in per_loop:
            # the home holds the probe's findings; the TLS context (it reads the CA bundle) is built off the loop
            await asyncio.to_thread(lambda: (settings.ensure_home(), tls()))
            api_key = settings.api_key_for(ctx.base_url)
            asking = {model: await structured_method(ctx.structured_output, ctx.base_url, model, api_key,
                                                      settings.capabilities_file, min(settings.request_timeout, 60))
                       for model in dict.fromkeys((ctx.model, ctx.extraction_model))}
            per_loop[key] = await asyncio.to_thread(build, ctx, settings, asking)
    return per_loop[key]


async def close_toolboxes() -> None:
    """End the page loads still running on this event loop, then close the HTTP clients it opened."""
    for box in _BY_LOOP.pop(asyncio.get_running_loop(), {}).values():
        await box.loads.close()
        await box.clients.pages.aclose()
        await box.clients.api.aclose()
    await close_models()
