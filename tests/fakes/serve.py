"""Serve the toy model on 127.0.0.1 and write its demo corpus: try the whole pipeline without a GPU.

    python -m tests.fakes.serve --port 8000 --corpus /tmp/demo-corpus

The toy model only knows the Glass Harbor question's chain of facts (see tests/conftest.py).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tests.conftest import QUESTION, glass_harbor, write_corpus
from tests.fakes.model_server import ModelServer
from tests.fakes.toy_model import ToyModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--corpus", type=Path, help="write the demo corpus to this (new) folder")
    args = parser.parse_args()
    if args.corpus:
        write_corpus(args.corpus)
        print(f"demo corpus written to {args.corpus}")
    with ModelServer(ToyModel(glass_harbor()), port=args.port) as server:
        print(f"toy model at {server.base_url}; try:\n  deepresearch run \"{QUESTION}\"", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
