"""The document-parsing tool on local files and fetched URLs."""

from pathlib import Path

from core.settings import WebSettings
from tests.agent_kit import kit_for
from tests.cli_helpers import InProcess, cli_env
from tests.fakes.pdf import make_pdf
from tests.fakes.web_server import WebServer
from tools.agent.registry import REGISTRY

LOCAL = WebSettings(allow_private_network="127.0.0.1", fetch_timeout=4)


async def test_parse_file_tool_on_files_and_urls(web: WebServer, tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("name,born\nIlse Marrow,1921\n")
    (tmp_path / "paper.pdf").write_bytes(make_pdf([["A paper about lighthouses."]], "Lighthouses"))
    kit = kit_for(tmp_path / "home", LOCAL, roots=[tmp_path])
    tool = REGISTRY.named("parse_file")
    assert tool is not None and tool.args_schema is not None
    ran = await REGISTRY.run("parse_file", {"files": [str(tmp_path / "notes.csv"), str(tmp_path / "paper.pdf"),
                                                      web.url("/guide.pdf"), str(tmp_path / "missing.docx"),
                                                      "http://10.0.0.1/secret.pdf"]}, kit)
    assert ran is not None
    out = ran.text
    assert "| Ilse Marrow | 1921 |" in out
    assert 'title="Lighthouses"' in out and "lighthouses" in out
    assert "designed by Ilse Marrow" in out
    assert 'missing.docx" title="">\ncould not be parsed: no such file' in out
    assert "10.0.0.1 is a private address" in out
    outside = await REGISTRY.run("parse_file", {"files": ["/etc/hostname"]}, kit)
    assert outside is not None and "only files under" in outside.text


def test_parse_command(web: WebServer, home: Path, tmp_path: Path, run_cli: InProcess) -> None:
    (tmp_path / "a.md").write_text("# Title A\n\nBody text.")
    env = cli_env(home, DEEPRESEARCH_ALLOW_PRIVATE_NETWORK="127.0.0.1")
    done = run_cli(env, "parse", str(tmp_path / "a.md"), web.url("/people/ilse-marrow"))
    assert done.returncode == 0, done.stderr
    assert 'title="Title A"' in done.stdout and "née Åberg" in done.stdout
    failed = run_cli(env, "parse", str(tmp_path / "nope.pdf"))
    assert failed.returncode == 1 and "no such file" in failed.stderr
