"""`python -m deepresearch`, and the `deepresearch` command's entry point.

The command's modules load inside ``main``: Ctrl-C while they load (a second or more on a busy machine) ends
the command as Ctrl-C does at any later moment, one line and exit 130, not a traceback of the cut import.
"""

import sys


def main() -> None:
    """Load the command and run it."""
    try:
        from deepresearch.cli import main as command
    except KeyboardInterrupt:
        print("deepresearch: interrupted", file=sys.stderr)
        sys.exit(130)
    command()


if __name__ == "__main__":
    main()
