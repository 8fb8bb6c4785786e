"""The private part of Python's ``atexit`` this project relies on, in one place.

``atexit._run_exitfuncs`` is not documented, so a Python release may change it: ``tests/test_exit.py`` pins what
the process exit expects of it, so such a release fails there, by name.
"""

from __future__ import annotations


def run_exit_handlers() -> None:
    """Run every ``atexit`` handler now, last registered first, as the interpreter does at exit (then none is left).

    For a process that ends itself with ``os._exit`` after its handlers ran.
    """
    import atexit

    atexit._run_exitfuncs()  # type: ignore[attr-defined]
