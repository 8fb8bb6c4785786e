"""`python -m deepresearch`, and the `deepresearch` command's entry point: how the process starts and ends.

The command's modules load inside ``main``: Ctrl-C while they load (a second or more on a busy machine) ends
the command as Ctrl-C does at any later moment, one line and exit 130, not a traceback of the cut import.
"""

import atexit
import gc
import sys


def main() -> None:
    """Load the command and run it."""
    # Python's last act before a process ends is a full collection over every object still alive: after
    # research, hundreds of thousands, seconds of CPU on a busy machine between the last line printed (Ctrl-C's
    # resume hint too) and the exit. Nothing left then needs collecting (the command closed what it opened):
    # frozen, they are out of its way. Registered before anything is loaded, this exit handler runs last.
    atexit.register(gc.freeze)
    try:
        from deepresearch.cli import main as command
    except KeyboardInterrupt:
        print("deepresearch: interrupted", file=sys.stderr)
        sys.exit(130)
    command()


if __name__ == "__main__":
    main()
