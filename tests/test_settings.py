"""Every setting is declared once: `--set` keys are the run context's fields, defaults live in one place, and
the toolbox cache key holds everything a toolbox is built from."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel, SecretStr

from core.errors import ConfigError
from core.limits import ParseLimits
from core.settings import Settings, WebSettings
from state.context import MAX_ROUNDS, Context
from tests.cli_helpers import InProcess, cli_env
from tools.model.llm import Endpoint
from tools.toolbox import ToolboxSpec, build

ENDPOINT_PARTS = ("main", "extraction", "agent")


def other_value(name: str, default: Any, annotation: Any) -> Any:
    """A valid value of a setting other than its default."""
    choices = get_args(annotation)
    if choices and all(isinstance(c, str) for c in choices):  # a Literal
        return next(c for c in choices if c != default)
    if isinstance(default, bool):
        return not default
    if isinstance(default, float):
        return default / 2 if default else 0.5
    if isinstance(default, int):
        return default + 1
    if isinstance(default, SecretStr):
        return SecretStr(default.get_secret_value() + "-other")
    if isinstance(default, Path):
        return default / "other"
    if name.endswith("url"):
        return "http://other.example:1/v1"
    if name == "allow_private_network":
        return "10.0.0.0/8"
    if name == "react_context":  # a policy, not free text
        return "keep_last:2"
    return f"{default}-other" if default else "other"


def changed(model: type[BaseModel], name: str) -> Any:
    info = model.model_fields[name]
    return other_value(name, info.get_default(call_default_factory=True), info.annotation)


def settings_with(**given: Any) -> Settings:
    """Settings at their declared defaults (the environment unread), but for ``given``."""
    return Settings.model_construct(**given)


def context_of(settings: Settings, **given: Any) -> Context:
    return Context.bind(settings).build(given)


# --- the `--set` keys are the context's fields --------------------------------------------------------------------


def test_every_context_field_is_a_set_key_and_every_set_key_a_field_studio_shows() -> None:
    keys = Context.run_settings()
    assert set(keys) == set(Context.model_json_schema()["properties"])  # the fields the Studio form shows
    for key in keys:  # each accepts its own default, written as on the command line
        info = Context.model_fields[key]
        default = info.get_default(call_default_factory=True)
        text = str(default).lower() if isinstance(default, bool) else str(default)
        as_given = getattr(Context.model_validate({key: default}), key)  # an empty extraction_model: the model
        assert Context.parse_assignments([f"{key}={text}"]) == {key: as_given}, key
    for unknown in ("started_at", "bound_settings", "no_such_setting"):
        with pytest.raises(ConfigError, match=r"^--set expects KEY=VALUE with KEY one of: model, base_url, "):
            Context.parse_assignments([f"{unknown}=1"])


def test_every_command_taking_set_names_every_key_in_its_help(home: Path, run_cli: InProcess) -> None:
    import typer

    from deepresearch.cli import app
    from deepresearch.cli.common import TakesRunSettings

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    taking = sorted(name for name, command in commands.items()
                    if any("--set" in getattr(param, "opts", ()) for param in command.params))
    assert taking == ["eval", "resume", "run"]
    for name in taking:
        assert isinstance(commands[name], TakesRunSettings), name
        shown = " ".join(run_cli({**cli_env(home), "COLUMNS": "400"}, name, "--help").stdout.split())
        assert all(f" {key}," in shown or f" {key} (" in shown for key in Context.run_settings()), name
    for name, command in commands.items():  # a default or bound the help names is filled in wherever shown
        if not hasattr(command, "commands"):
            assert "$" not in run_cli(cli_env(home), name, "--help").stdout, name


def test_the_help_says_the_contexts_defaults(home: Path, run_cli: InProcess) -> None:
    shown = " ".join(run_cli({**cli_env(home), "COLUMNS": "400"}, "run", "--help").stdout.split())
    fields = Context.model_fields
    assert f"(default {fields['max_rounds'].default}, at most {MAX_ROUNDS})" in shown
    assert f"(default {fields['heavy_agents'].default})" in shown and f"default: {fields['search'].default}" in shown


def test_every_run_setting_has_a_default_and_a_description() -> None:
    """As in LangGraph's react-agent template: Studio shows each field with its default and what it means."""
    for key in Context.run_settings():
        info = Context.model_fields[key]
        assert not info.is_required() and info.description, key


# --- a default is declared once -----------------------------------------------------------------------------------


def declared_default(cls: type) -> dict[str, ast.expr | None]:
    """Each field's default expression as written in the class body (None: no default, or a factory)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0]
    assert isinstance(body, ast.ClassDef)
    found: dict[str, ast.expr | None] = {}
    for stmt in body.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            value = stmt.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("Field", "field"):
                keyword = {k.arg: k.value for k in value.keywords}
                value = value.args[0] if value.args else keyword.get("default")
            found[stmt.target.id] = value
    return found


def is_literal(expr: ast.expr | None) -> bool:
    """Whether a default is a value written out, rather than taken from another declaration (a name)."""
    if expr is None:
        return False
    calls = {id(node.func) for node in ast.walk(expr) if isinstance(node, ast.Call)}
    return not any(isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in calls for node in ast.walk(expr))


# what the settings and the run context are turned into, with the class each part is an instance of
PARTS = {"main": Endpoint, "extraction": Endpoint, "agent": Endpoint, "web": WebSettings, "parsing": ParseLimits}


def parts(settings: Settings, **given: Any) -> dict[str, Any]:
    """The endpoints a run's toolbox calls, and the web and parsing limits, from these settings and context."""
    spec = ToolboxSpec.of(context_of(settings, **given))
    return {**{part: getattr(spec, part) for part in ENDPOINT_PARTS}, "web": settings.web,
            "parsing": settings.parsing}


def flows() -> set[tuple[type[BaseModel], str, str, str]]:
    """Which part fields each setting reaches: (Context or Settings, its field, part, the part's field).

    Found by changing one setting at a time from the defaults and building the parts again.
    """
    base = parts(settings_with())
    changes: list[tuple[type[BaseModel], str, dict[str, Any]]] = [
        (Context, name, parts(settings_with(), **{name: changed(Context, name)}))
        for name in Context.run_settings()]
    changes += [(Settings, name, parts(settings_with(**{name: changed(Settings, name)})))
                for name in Settings.model_fields]
    return {(source, name, part, target.name) for source, name, again in changes for part, obj in base.items()
            for target in dataclasses.fields(obj) if getattr(again[part], target.name) != getattr(obj, target.name)}


def test_no_default_is_declared_twice() -> None:
    """Where a setting's value flows into another declaration, at most one of the two writes the value out.

    Change-detector: writing ``temperature: float = 0.6`` in Endpoint, or 10.0 MB in Settings for
    WebSettings' 10,000,000 bytes, fails here: take the default from the one declaration instead.
    """
    found = flows()
    assert {(Context, "temperature", "main", "temperature"), (Settings, "request_timeout", "main", "timeout"),
            (Settings, "max_page_mb", "web", "max_page_bytes")} <= found  # the search finds what it looks for
    base = parts(settings_with())
    twice = set()
    for source, name, part, field_name in found:
        target = PARTS[part]
        value = getattr(base[part], field_name)
        declared = next(f for f in dataclasses.fields(target) if f.name == field_name).default
        if (is_literal(declared_default(source)[name]) and is_literal(declared_default(target)[field_name])
                and value == declared and value not in ("", None)):
            twice.add(f"{source.__name__}.{name} and {target.__name__}.{field_name} both declare {value!r}")
    assert sorted(twice) == []


def test_an_endpoint_built_from_defaults_is_the_default_endpoint() -> None:
    spec = ToolboxSpec.of(context_of(settings_with()))
    assert spec.main == Endpoint(spec.main.base_url, spec.main.model, capabilities_file=spec.main.capabilities_file)


def test_the_bound_contexts_endpoint_defaults_are_the_settings() -> None:
    given = {"model": "served", "base_url": "http://elsewhere.example:1/v1", "structured_output": "text"}
    bound = context_of(settings_with(**given))
    assert {name: getattr(bound, name) for name in given} == given
    assert Context().model == Settings.model_fields["model"].default  # unbound: where the settings start


# --- the toolbox cache key ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("part", ENDPOINT_PARTS)
@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Endpoint)])
def test_the_toolbox_key_changes_when_any_endpoint_field_changes(part: str, name: str) -> None:
    spec = ToolboxSpec.of(context_of(settings_with()))
    endpoint = getattr(spec, part)
    value = getattr(endpoint, name)
    other = {"structured_output": "text", "output_limit": "max_tokens"}.get(name) or other_value(name, value, None)
    moved = dataclasses.replace(spec, **{part: dataclasses.replace(endpoint, **{name: other})})
    assert moved != spec and {spec: "cached"}.get(moved) is None


async def built(spec: ToolboxSpec) -> tuple[Any, ...]:
    """What a toolbox built from ``spec`` calls: its endpoints and search backend (its clients closed)."""
    box = build(spec)
    await box.clients.api.aclose()
    await box.clients.pages.aclose()
    return box.endpoint, box.extraction, box.agent, type(box.search)


async def test_a_context_setting_that_changes_a_toolbox_changes_its_key(home: Path) -> None:
    """The same key means the same toolbox: a setting the key missed would be served another run's toolbox."""
    settings = settings_with(home=home)
    base = ToolboxSpec.of(context_of(settings))
    expected = await built(base)
    keyed = []
    for name in Context.run_settings():
        spec = ToolboxSpec.of(context_of(settings, **{name: changed(Context, name)}))
        if spec == base:
            assert await built(spec) == expected, name
        else:
            assert {base: "cached"}.get(spec) is None
            keyed.append(name)
    assert {"model", "base_url", "extraction_model", "structured_output", "search", "temperature",
            "max_output_tokens", "react_temperature", "presence_penalty"} <= set(keyed)
