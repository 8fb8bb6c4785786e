"""The documentation's links hold: every relative link in README.md and docs/*.md reaches a file that exists,
and a link with an anchor reaches a heading of that file, as GitHub renders the Markdown (no site generator).
Every page of docs/ is reachable from the README, and the README keeps the commands CI runs."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~)")
INLINE_CODE = re.compile(r"(`+).*?\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\".*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto: ...


def prose_lines(text: str) -> list[str]:
    """The lines of a Markdown file outside fenced code blocks, inline code spans blanked out."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(INLINE_CODE.sub("", line))
    return lines


def links(page: Path) -> list[str]:
    """Every link target of a page: inline links, images and reference definitions."""
    targets = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        targets += LINK.findall(line)
        reference = REFERENCE.match(line)
        if reference:
            targets.append(reference.group(1))
    return targets


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its words
    text = "".join(c for c in text.lower() if c in " -" or unicodedata.category(c)[0] in "LMN" or c == "_")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a page, repeated headings numbered as GitHub numbers them."""
    seen: dict[str, int] = {}
    result = set()
    for line in prose_lines(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def relative_links() -> list[tuple[Path, str]]:
    """(page, target) for every link of the documentation that is not to another site."""
    return [(page, target) for page in PAGES for target in links(page) if not EXTERNAL.match(target)]


def test_the_documentation_has_relative_links_to_check() -> None:
    """The checks below see the README's links into docs/ (a parser that found none would pass anything)."""
    found = {target for page, target in relative_links() if page.name == "README.md"}
    assert any(target.startswith("docs/") for target in found), found


@pytest.mark.parametrize(("page", "target"), relative_links(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_every_relative_link_resolves(page: Path, target: str) -> None:
    """A relative link names a file of the repository, and its anchor, if any, a heading of that file."""
    path, _, anchor = target.partition("#")
    resolved = (page.parent / unquote(path)).resolve() if path else page
    assert resolved.exists(), f"{page.relative_to(ROOT)}: {target} -> no such file"
    assert resolved.is_relative_to(ROOT), f"{page.relative_to(ROOT)}: {target} leaves the repository"
    if anchor:
        assert resolved.suffix == ".md", f"{page.relative_to(ROOT)}: {target}: an anchor into a non-Markdown file"
        assert unquote(anchor) in anchors(resolved), f"{page.relative_to(ROOT)}: {target} -> no such heading"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    """No page of docs/ is an orphan: the README's reading list reaches each one."""
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(ROOT / "README.md")}
    orphans = [page.name for page in PAGES[1:] if page.resolve() not in linked]
    assert not orphans, f"docs pages the README does not link: {orphans}"


def test_the_readme_keeps_the_checks_ci_runs() -> None:
    """The README shows the test command and the checks `.ci/run` runs, so a newcomer runs what CI runs."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in ("ruff check .", "mypy", "lint-imports", "pytest"):
        assert command in ci, f".ci/run no longer runs {command!r}: update this test and the README together"
        assert command in readme, f"the README does not show {command!r}, which CI runs"


def test_every_setting_is_documented() -> None:
    """Every environment variable the settings read and every run setting `--set` takes has its row."""
    from core.settings import Settings
    from state.context import Context

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    variables = [str(field.validation_alias) for field in Settings.model_fields.values()]
    run_settings = Context.run_settings()
    assert len(variables) > 20 and len(run_settings) > 20  # the names were found at all
    missing = [name for name in [*variables, *run_settings] if f"`{name}`" not in page]
    assert not missing, f"docs/configuration.md does not name: {missing}"
