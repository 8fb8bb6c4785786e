"""The install and the layers: every import is declared, settings are read only at the edge, and the
light commands start without loading the heavy libraries."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.cli_helpers import ROOT, cli_env

PACKAGES = ["core", "state", "prompts", "tools", "nodes", "graphs", "checkpoints", "deepresearch"]
HEAVY = ("langgraph", "langchain_core", "langchain_openai", "openai", "trafilatura", "pypdf", "docx", "ddgs",
         "sqlite_utils")


def sources(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports, at module level or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_distribution_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # the dependencies, and the extras a feature names (pyarrow for Parquet, imported only when asked for)
    optional = [dep for name, deps in project["optional-dependencies"].items() if name != "dev" for dep in deps]
    declared = {normalize(re.split(r"[\[<>=!~ ;]", dep)[0]) for dep in [*project["dependencies"], *optional]}
    owners = packages_distributions()
    missing = {}
    for path in sources(*PACKAGES):
        for module in imported_modules(path) - set(sys.stdlib_module_names) - set(PACKAGES) - {"__future__"}:
            dists = {normalize(d) for d in owners.get(module, [module])}
            if not dists & declared:
                missing[module] = str(path.relative_to(ROOT))
    assert not missing, f"imported but not declared in pyproject.toml dependencies: {missing}"


def test_only_the_edge_reads_the_environment() -> None:
    """Below the CLI and server, settings arrive as arguments; core.settings is the one reader."""
    readers = [str(p.relative_to(ROOT)) for p in sources(*PACKAGES[:-1])
               if p != ROOT / "core" / "settings.py"
               and re.search(r"os\.environ|os\.getenv|getenv\(|load_settings\(|Settings\(\)", p.read_text())]
    assert readers == []


def loaded_by(args: list[str], env: dict[str, str]) -> list[str]:
    """Heavy libraries a command loaded, run in a fresh interpreter."""
    script = ("import json, sys\nfrom deepresearch.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
              f"    pass\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))), "
              "file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    return list(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_and_threads_do_not_load_the_research_stack(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    assert loaded_by(["--help"], env) == []
    assert loaded_by(["--version"], env) == []
    assert loaded_by(["threads"], env) == []


def test_a_wheel_ships_every_package(tmp_path: Path) -> None:
    """Built from a copy of the sources, the wheel holds every module of every package and sub-package."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                           str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [wheel] = (tmp_path / "dist").glob("*.whl")
    shipped = {name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")}
    assert {str(p.relative_to(ROOT)) for p in sources(*PACKAGES)} == shipped
