"""`python -m deepresearch`, and the `deepresearch` command's entry point: how the process starts and ends.

The command's modules load inside ``main``: Ctrl-C while they load (a second or more on a busy machine) ends
the command as Ctrl-C does at any later moment, one line and exit 130, not a traceback of the cut import.
"""

import atexit
import gc
import os
import sys
import threading


def main() -> None:
    """Load the command, run it, and end the process as soon as it is done."""
    # Python's last act before a process ends is a full collection over every object still alive: after
    # research, hundreds of thousands, 2.5 s of a busy machine between the last line printed and the exit
    # (benchmarks/startup.py). Nothing left then needs collecting (the command closed what it opened): frozen,
    # they are out of its way. Registered before anything is loaded, this exit handler runs last.
    atexit.register(gc.freeze)
    try:
        from deepresearch.cli import main as command
    except KeyboardInterrupt:
        print("deepresearch: interrupted", file=sys.stderr)
        end(130)
    try:
        command()
    except SystemExit as exc:
        if exc.code is not None and not isinstance(exc.code, int):
            raise  # a message for Python to print
        end(exc.code or 0)


def end(code: int) -> None:
    """End the process with ``code`` once the exit handlers ran, without the interpreter's teardown.

    After its exit handlers, Python frees every module, and every object in them, one at a time: a tenth of a
    second of a busy machine, for memory the operating system takes back at once. Not while a thread of the
    command still runs: Python's own exit waits for it.
    """
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    from deepresearch.atexit_private import run_exit_handlers

    run_exit_handlers()  # parser workers stopped, log handlers flushed, and the collector's objects frozen
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`deepresearch show X | head`): as Python itself ends then
            code = code or 120
    os._exit(code)


if __name__ == "__main__":
    main()
