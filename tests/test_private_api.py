"""Pins what the project expects of the dependencies' private names it uses (core/private_api.py)."""

from __future__ import annotations

import typer
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from core.private_api import click_exceptions, delta_snapshot


def test_a_delta_snapshot_holds_the_value_and_survives_the_serializer() -> None:
    snapshot = delta_snapshot(["a", "b"])
    assert snapshot.value == ["a", "b"]
    serde = JsonPlusSerializer()
    back = serde.loads_typed(serde.dumps_typed(snapshot))
    assert type(back) is type(snapshot) and back.value == ["a", "b"]  # the ancestor walk stops at this type
    assert hasattr(BaseCheckpointSaver, "get_delta_channel_history")


def test_typers_click_exceptions_are_the_ones_its_commands_raise() -> None:
    errors = click_exceptions()
    app = typer.Typer(add_completion=False)

    @app.command()
    def hello(count: int) -> None:
        """A command with one integer argument."""

    command = typer.main.get_command(app)
    try:
        command.main(args=["not-a-number"], standalone_mode=False)
    except errors.UsageError as exc:
        assert isinstance(exc, errors.ClickException) and exc.exit_code == 2
    else:
        raise AssertionError("a bad argument raised no UsageError")
    assert issubclass(errors.NoArgsIsHelpError, errors.UsageError)
