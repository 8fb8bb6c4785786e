"""The private names of dependencies this project relies on, in one place.

Each is private to its library, so an upgrade may rename or change it without notice:
`tests/test_private_api.py` pins what the project expects of each, so such an upgrade fails there, by name.
They are imported when first used: importing this module loads neither library.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def delta_snapshot(value: Any) -> Any:
    """LangGraph's snapshot of a DeltaChannel's whole value (``_DeltaSnapshot``).

    A checkpoint holding one rebuilds the channel from it, without replaying older writes (what pruning needs).
    """
    from langgraph.checkpoint.serde.types import _DeltaSnapshot

    return _DeltaSnapshot(value)


def click_exceptions() -> ModuleType:
    """Click's exceptions as typer raises them: typer >= 0.22 vendors click as ``typer._click``."""
    from typer._click import exceptions

    return exceptions


def run_exit_handlers() -> None:
    """Run every ``atexit`` handler now, last registered first, as the interpreter does at exit (then none is left).

    ``atexit._run_exitfuncs``: for a process that ends itself with ``os._exit`` after its handlers ran.
    """
    import atexit

    atexit._run_exitfuncs()  # type: ignore[attr-defined]
