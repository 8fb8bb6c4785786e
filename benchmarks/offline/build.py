"""Write the offline benchmark's corpus and questions from its fact chains (benchmarks/offline/world.py).

    python -m benchmarks.offline.build
    deepresearch ingest benchmarks/offline/corpus
    deepresearch eval benchmarks/offline/questions.jsonl --k 3 --out runs/offline
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.offline.world import documents, questions

HERE = Path(__file__).parent


def build(target: Path = HERE) -> None:
    """The corpus folder and questions.jsonl, exactly as committed."""
    corpus = target / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in documents().items():
        (corpus / name).write_text(text, encoding="utf-8")
    lines = [json.dumps(q, ensure_ascii=False) for q in questions()]
    (target / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    build()
    print(f"{len(documents())} documents in {HERE / 'corpus'}, {len(questions())} questions in "
          f"{HERE / 'questions.jsonl'}")
