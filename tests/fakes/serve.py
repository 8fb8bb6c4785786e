"""Serve the toy model on 127.0.0.1 and write its demo corpus: try the whole pipeline without a GPU.

    python -m tests.fakes.serve --port 8000 --corpus /tmp/demo-corpus
    python -m tests.fakes.serve --port 8000 --offline-benchmark

The toy model only knows the Glass Harbor question's chain of facts (see tests/conftest.py), or with
``--offline-benchmark`` the fact chains of the bundled offline benchmark's questions.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tests.conftest import QUESTION, glass_harbor, write_corpus
from tests.fakes.model_server import ModelServer
from tests.fakes.offline_model import Benchmark
from tests.fakes.toy_model import ToyModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--corpus", type=Path, help="write the demo corpus to this (new) folder")
    parser.add_argument("--offline-benchmark", action="store_true",
                        help="know the bundled offline benchmark's questions instead (benchmarks/offline)")
    parser.add_argument("--notes", action="store_true",
                        help="the offline benchmark's model writes down what it found before each ReAct call")
    parser.add_argument("--context", type=int, default=131072,
                        help="the context it serves, in tokens; a longer prompt is refused as llama.cpp refuses it")
    args = parser.parse_args()
    if args.corpus:
        write_corpus(args.corpus)
        print(f"demo corpus written to {args.corpus}")
    brain = Benchmark(args.notes) if args.offline_benchmark else ToyModel(glass_harbor())
    hint = ("deepresearch ingest benchmarks/offline/corpus\n  deepresearch eval benchmarks/offline/questions.jsonl"
            if args.offline_benchmark else f'deepresearch run "{QUESTION}"')
    small = args.context < 131072  # then it says its context and refuses what is over it, as llama.cpp's server
    with ModelServer(brain, port=args.port, max_model_len=args.context,
                     flavour="llamacpp" if small else "vllm") as server:
        print(f"toy model at {server.base_url}; try:\n  {hint}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
