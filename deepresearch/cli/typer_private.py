"""The click exceptions typer raises but does not publish: the one private part of typer the CLI uses.

typer (>= 0.22) vendors click as ``typer._click``. Of its exceptions it publishes only ``typer.BadParameter``,
and ``typer.TyperException``, the base of every click exception (a message and an exit code); the CLI also
tells apart a usage error (exit 2, with the command whose ``--help`` to suggest) and a group called with no
command (its help shown already). ``tests/test_private_api.py`` pins both, and pyproject.toml caps typer at
the version CI verified.
"""

from __future__ import annotations

from typer._click.exceptions import NoArgsIsHelpError, UsageError

__all__ = ["NoArgsIsHelpError", "UsageError"]
