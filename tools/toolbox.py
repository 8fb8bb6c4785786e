"""What a run talks to: model endpoints, search backend, page readers and stores.

Built from the run's context and the settings it was bound to, once per owner and configuration (``Toolboxes``:
a run, the runs of an eval, a server), and closed when the owner ends.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from core.settings import Settings
from core.vocabulary import SearchBackendName, StructuredMethod, StructuredSetting
from state.context import Context
from tools.corpus.store import Corpus
from tools.model.capability_store import Asking, structured_method
from tools.model.llm import FIRST_METHOD, Endpoint, close_models
from tools.model.session import ModelSession, using
from tools.model.session import current as current_session
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


@dataclass(frozen=True)
class ToolboxSpec:
    """Everything a toolbox is built from, and so the key toolboxes are kept by: nothing it uses can be left out.

    The endpoints ask with FIRST_METHOD for ``structured_output=auto`` until each model's method is known.
    """

    main: Endpoint
    extraction: Endpoint
    agent: Endpoint  # ReAct's: the main model with the model card's sampling
    structured: StructuredSetting  # how each model's method is found: forced, or remembered or probed (auto)
    search: SearchBackendName
    settings: Settings

    @classmethod
    def of(cls, ctx: Context) -> ToolboxSpec:
        """The spec of this run's context and the settings it is bound to.

        The environment's model key goes only where ``Settings.api_key_for`` allows: a base URL given for one
        run (``--set base_url=...``, a Studio or API run's context) gets none.
        """
        settings = ctx.settings
        api_key = settings.api_key_for(ctx.base_url)
        method: StructuredMethod = FIRST_METHOD if ctx.structured_output == "auto" else ctx.structured_output

        def endpoint(model: str) -> Endpoint:  # the main and extraction models share the base URL and its key
            return Endpoint(ctx.base_url, model, api_key, method, ctx.temperature, ctx.max_output_tokens,
                            settings.request_timeout, settings.max_retries,
                            capabilities_file=settings.capabilities_file)

        main = endpoint(ctx.model)
        agent = replace(main, temperature=ctx.react_temperature, presence_penalty=ctx.presence_penalty)
        return cls(main, endpoint(ctx.extraction_model), agent, ctx.structured_output, ctx.search, settings)

    @property
    def models(self) -> list[str]:
        """The models this run calls, each once."""
        return list(dict.fromkeys((self.main.model, self.extraction.model)))


def asked(endpoint: Endpoint, asking: dict[str, Asking]) -> Endpoint:
    """The endpoint with how its model is asked (method, output-limit name), when that is known."""
    how = asking.get(endpoint.model)
    return endpoint if how is None else replace(endpoint, structured_output=how.method,
                                                output_limit=how.output_limit)


def build(spec: ToolboxSpec, asking: dict[str, Asking] | None = None) -> Toolbox:
    """Everything a run needs, from its spec and each model's structured-output method.

    A model not in ``asking`` asks as the spec says (for auto, FIRST_METHOD: it falls back at the first refusal).
    """
    settings, asking = spec.settings, asking or {}
    settings.ensure_home()
    clients = make_clients(settings.web)
    pages = PageStore(settings.pages_db)
    fetcher = Fetcher(clients.pages, settings.web)  # one per client: its per-host limits and robots.txt cache
    # late pages loading in the background: as many per host as the round's own reads, half the client's in all
    loads = PageLoads(per_host=settings.web.per_host, most=settings.web.max_connections // 2)
    web = web_reader(settings, clients, pages, fetcher, loads)
    reader = RoutingReader(CorpusReader(Corpus(settings.corpus_db)), web)
    search = make_backend(spec.search, settings, clients.api)
    return Toolbox(asked(spec.main, asking), asked(spec.extraction, asking), asked(spec.agent, asking), search,
                   reader, pages, clients, fetcher, loads)


class Toolboxes:
    """The toolboxes one owner built (a run, the runs of an eval, a server) and the model session they share.

    Built from each run context's settings once (HTTP clients and semaphores belong to the owner's event loop),
    and closed together when the owner ends: another owner's runs in the same process are not touched.
    """

    def __init__(self, models: ModelSession | None = None) -> None:
        self.models = models or ModelSession()
        self._boxes: dict[ToolboxSpec, Toolbox] = {}
        # one toolbox built at a time: parallel branches (Heavy's agents) wait for it rather than probe alike
        self._building = asyncio.Lock()

    async def get(self, ctx: Context) -> Toolbox:
        """The toolbox for this run context and the settings it is bound to.

        Built in a worker thread: creating the home folder and TLS contexts touches the disk, which must
        not block the event loop (`langgraph dev` refuses blocking calls). With ``structured_output=auto``, each
        model's method is the one remembered for it in the home, or probed from the server now and remembered.
        """
        spec = ToolboxSpec.of(ctx)
        settings, main = spec.settings, spec.main
        async with self._building:
            if spec not in self._boxes:
                # the home holds the probe's findings; the TLS context (it reads the CA bundle) is built off the loop
                await asyncio.to_thread(lambda: (settings.ensure_home(), tls()))
                with using(self.models):
                    asking = {model: await structured_method(spec.structured, main.base_url, model, main.api_key,
                                                              settings.capabilities_file, min(main.timeout, 60))
                              for model in spec.models}
                self._boxes[spec] = await asyncio.to_thread(build, spec, asking)
        return self._boxes[spec]

    async def close(self) -> None:
        """End the page loads still running, then close the HTTP clients (the model clients' too)."""
        boxes, self._boxes = list(self._boxes.values()), {}
        for box in boxes:
            await box.loads.close()
            await box.clients.pages.aclose()
            await box.clients.api.aclose()
        await self.models.aclose()


_OWNER: ContextVar[Toolboxes | None] = ContextVar("toolboxes", default=None)
# the toolboxes of code run by no owner (the graphs `langgraph dev` serves), one per event loop: the server's
_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Toolboxes] = weakref.WeakKeyDictionary()


def owner() -> Toolboxes:
    """The owner of the code running now, else the event loop's (which shares the loop's model session)."""
    return _OWNER.get() or _BY_LOOP.setdefault(asyncio.get_running_loop(), Toolboxes(current_session()))


async def toolbox(ctx: Context) -> Toolbox:
    """The toolbox for this run's context, of the owner running it (see ``owned``)."""
    return await owner().get(ctx)


@asynccontextmanager
async def owned(share: bool = False) -> AsyncIterator[Toolboxes]:
    """A new owner for the code run inside (the graph's tasks inherit it), closed when the block ends.

    With ``share``, an owner already running this code is used instead, and left open: a run inside an eval
    shares the eval's clients, which the eval closes.
    """
    present = _OWNER.get()
    if share and present is not None:
        yield present
        return
    boxes = Toolboxes()
    token = _OWNER.set(boxes)
    try:
        with using(boxes.models):
            yield boxes
    finally:
        _OWNER.reset(token)
        await boxes.close()


async def close_toolboxes() -> None:
    """Close the toolboxes that this event loop's code built under no owner."""
    boxes = _BY_LOOP.pop(asyncio.get_running_loop(), None)
    if boxes is not None:
        await boxes.close()
    await close_models()
