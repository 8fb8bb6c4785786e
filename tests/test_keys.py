"""Keys go only where they belong: the model key to its own endpoint, API keys never through a redirect."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.errors import ConfigError, EndpointError, ReadError, SearchUnavailable
from core.settings import Settings, WebSettings, load_settings
from state.context import Context
from tests.cli_helpers import InProcess, cli_env
from tests.conftest import QUESTION, glass_harbor
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel
from tests.fakes.web_server import Route, WebServer
from tools.net.http import make_clients
from tools.net.netsafety import AddressPolicy
from tools.reader import JinaReader
from tools.web.engines import SearXNG, Serper, Tavily
from tools.web.pages import PageStore

SECRET = "sk-secret"


def keyed(**env: str) -> Settings:
    given = {"DEEPRESEARCH_API_KEY": SECRET, "DEEPRESEARCH_BASE_URL": "http://localhost:8000/v1",
             "DEEPRESEARCH_API_KEY_ORIGINS": "", **env}
    return Settings(**given)  # type: ignore[arg-type]


def test_the_model_key_goes_to_its_own_origin_only() -> None:
    settings = keyed(DEEPRESEARCH_BASE_URL="http://LocalHost:8000/v1/")
    assert settings.api_key_for("http://localhost:8000/v1") == SECRET
    assert settings.api_key_for("http://localhost:8000/other/v1/") == SECRET  # same origin, another path
    assert settings.api_key_for("HTTP://LOCALHOST:8000") == SECRET  # scheme and host in any case
    for elsewhere in ("http://localhost:8001/v1", "https://localhost:8000/v1", "http://127.0.0.1:8000/v1",
                      "http://localhost:8000@evil.example/v1",  # credentials, not the host
                      "http://localhost:8000.evil.example/v1", "http://evil.example/v1?http://localhost:8000",
                      "not a url", ""):
        assert settings.api_key_for(elsewhere) == "EMPTY", elsewhere
    https = keyed(DEEPRESEARCH_BASE_URL="https://api.example.com/v1")
    assert https.api_key_for("https://api.example.com:443/v2") == SECRET  # the default port, written out
    assert https.api_key_for("https://api.example.com:8443/v1") == "EMPTY"


def test_origins_the_operator_allows_get_the_key_too() -> None:
    settings = keyed(DEEPRESEARCH_API_KEY_ORIGINS=" https://API.example.com/ , http://[::1]:9000,http://10.0.0.5:80")
    assert settings.api_key_origins == "https://api.example.com:443,http://[::1]:9000,http://10.0.0.5:80"
    assert settings.api_key_for("https://api.example.com/v1") == SECRET
    assert settings.api_key_for("http://[0:0::1]:9000/v1") == SECRET
    assert settings.api_key_for("http://10.0.0.5/v1") == SECRET
    assert settings.api_key_for("http://api.example.com/v1") == "EMPTY"  # another scheme is another origin
    assert settings.api_key_for("http://10.0.0.5:8000/v1") == "EMPTY"
    assert settings.api_key_for("http://localhost:8000/v1") == SECRET  # DEEPRESEARCH_BASE_URL's, as before


@pytest.mark.parametrize("value", ["api.example.com", "https://api.example.com/v1", "https://user@api.example.com",
                                   "https://api.example.com:0", "https://api.example.com:70000", "ftp://x",
                                   "http://[not-ipv6]:1", "https://a.example.com https://b.example.com"])
def test_bad_origins_are_refused_naming_the_variable(home: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DEEPRESEARCH_API_KEY_ORIGINS", value)
    with pytest.raises(ConfigError, match="^DEEPRESEARCH_API_KEY_ORIGINS must be a comma list of origins"):
        load_settings()


def test_a_runs_own_base_url_gets_no_key(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a Studio or API run builds from its context (the server binds Context to its settings as here)."""
    from tools.toolbox import ToolboxSpec, build

    monkeypatch.setenv("DEEPRESEARCH_BASE_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("DEEPRESEARCH_API_KEY", SECRET)
    settings = load_settings()
    bound = Context.bind(settings)
    own = build(ToolboxSpec.of(bound.build()))
    assert own.endpoint.api_key == own.extraction.api_key == SECRET
    other = build(ToolboxSpec.of(bound.build({"base_url": "http://elsewhere.example:8000/v1",
                                              "extraction_model": "reader"})))
    assert other.endpoint.api_key == other.extraction.api_key == "EMPTY"


@pytest.fixture
def elsewhere() -> Iterator[WebServer]:
    """A second server on another port: another origin, where no key may go."""
    with WebServer() as server:
        yield server


def redirect(web: WebServer, path: str, to: str, status: int = 302) -> None:
    web.routes[path] = Route(b"", "text/plain", status=status, headers={"Location": to}, searchable=False)


async def test_the_fake_redirect_would_leak_a_search_key(web: WebServer, elsewhere: WebServer) -> None:
    """The tests below can fail: a client that follows this redirect sends X-API-KEY to the other origin."""
    redirect(web, "/serper/search", elsewhere.url("/serper/search"), 307)
    async with httpx.AsyncClient(follow_redirects=True) as following:
        await following.post(web.url("/serper/search"), headers={"X-API-KEY": "serper-key"}, json={})
    assert [r[2].get("X-API-KEY") for r in elsewhere.requests] == ["serper-key"]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_search_apis_never_follow_a_redirect(web: WebServer, elsewhere: WebServer, status: int) -> None:
    api = make_clients(WebSettings()).api
    for backend in (Serper(api, web.url("/moved/serper"), "serper-key"),
                    Tavily(api, web.url("/moved/tavily"), "tavily-key"), SearXNG(api, web.url("/moved/searxng"))):
        path = f"/moved/{backend.name}/search"
        redirect(web, path, elsewhere.url(path) + "?key=serper-key", status)
        with pytest.raises(SearchUnavailable, match=rf"{backend.name}: {backend.name} answered with a redirect "
                           rf"\(HTTP {status}\) to {elsewhere.url(path)}; set its base URL") as failed:
            await backend.search("Glass Harbor", 2)
        assert "serper-key" not in str(failed.value)  # the query of the Location is left out
        assert web.hits(path) == 1  # not retried
    assert elsewhere.requests == []


async def test_the_jina_reader_never_follows_a_redirect(web: WebServer, elsewhere: WebServer, tmp_path: Path) -> None:
    redirect(web, "/jina/", elsewhere.url("/jina/"), 307)
    jina = JinaReader(make_clients(WebSettings()).api, web.url("/jina"), "jina-key", AddressPolicy.parse("127.0.0.1"),
                      PageStore(tmp_path / "pages.db"), 0)
    with pytest.raises(ReadError, match=r"the Jina reader answered with a redirect \(HTTP 307\) to "
                       rf"{elsewhere.url('/jina/')}; set its base URL to the final address") as failed:
        await jina.read(web.url("/wiki/Glass_Harbor"), "", 5000)
    assert not failed.value.transient
    assert elsewhere.requests == []


def test_a_redirecting_search_backend_stops_the_run(model_server: ModelServer, web: WebServer, elsewhere: WebServer,
                                                    home: Path, run_cli: InProcess) -> None:
    """A configuration problem every query would meet: one line, exit 2, as an unreachable backend."""
    redirect(web, "/serper/search", elsewhere.url("/serper/search"))
    env = cli_env(home, model_server.base_url, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1",
                  SERPER_API_KEY="serper-key", SERPER_BASE_URL=web.url("/serper"))
    done = run_cli(env, "run", QUESTION, "--search", "serper", "--thread", "redirected")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("deepresearch: error: cannot reach the search backend serper: serper answered with a "
                           f"redirect (HTTP 302) to {elsewhere.url('/serper/search')}; set its base URL")
    assert "deepresearch resume redirected" in last
    assert elsewhere.requests == []


@pytest.fixture
def other_model(home: Path) -> Iterator[ModelServer]:
    with ModelServer(ToyModel(glass_harbor())) as server:
        yield server


def headers_sent(server: ModelServer) -> list[str]:
    return [f"{name}: {value}" for _, _, headers in server.requests for name, value in headers.items()]


def authorizations(server: ModelServer) -> set[str]:
    return {value for _, _, headers in server.requests for name, value in headers.items()
            if name.lower() == "authorization"}


def test_the_cli_sends_the_key_only_to_its_endpoint(model_server: ModelServer, other_model: ModelServer, home: Path,
                                                    corpus_dir: Path, run_cli: InProcess) -> None:
    env = cli_env(home, model_server.base_url, DEEPRESEARCH_API_KEY=SECRET)
    assert run_cli(env, "ingest", str(corpus_dir)).returncode == 0
    done = run_cli(env, "run", QUESTION, "--set", f"base_url={other_model.base_url}")
    assert done.returncode == 0, done.stderr
    assert other_model.calls() and model_server.requests == []
    assert not any(SECRET in header for header in headers_sent(other_model))
    assert authorizations(other_model) == {"Bearer EMPTY"}
    # the environment's endpoint gets it
    assert run_cli(env, "run", QUESTION).returncode == 0
    assert model_server.requests and authorizations(model_server) == {f"Bearer {SECRET}"}
    # and so does an origin the operator allowed
    other_model.requests.clear()
    allowed = {**env, "DEEPRESEARCH_API_KEY_ORIGINS": other_model.base_url.removesuffix("/v1")}
    assert run_cli(allowed, "run", QUESTION, "--set", f"base_url={other_model.base_url}").returncode == 0
    assert other_model.requests and authorizations(other_model) == {f"Bearer {SECRET}"}


async def test_the_model_client_never_follows_a_redirect(model_server: ModelServer, other_model: ModelServer) -> None:
    """The OpenAI SDK sends through our httpx client, which follows no redirect (per request it sets none)."""
    from langchain_core.messages import HumanMessage

    from tools.model.endpoint import list_models
    from tools.model.llm import Endpoint, close_models, complete_text

    model_server.faults.redirect_to = other_model.base_url.removesuffix("/v1")
    with pytest.raises(EndpointError, match=rf"answered with a redirect \(HTTP 307\) to {other_model.base_url}/models"):
        await list_models(model_server.base_url, SECRET)
    endpoint = Endpoint(model_server.base_url, model_server.model, SECRET, max_retries=0)
    try:
        with pytest.raises(EndpointError, match=rf"redirect \(HTTP 307\) to {other_model.base_url}/chat/completions; "
                           "set DEEPRESEARCH_BASE_URL"):
            await complete_text(endpoint, [HumanMessage("hello")])
    finally:
        await close_models()
    assert len(model_server.requests) == 2 and other_model.requests == []
