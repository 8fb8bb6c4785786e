"""The benchmarks' research task: a relay chain of couriers, one hop per document, answered by the toy model.

A question of h hops asks where the parcel is after h handovers; each hop is one document that names the
next town, so answering takes one round per hop. Calls are timed by the brain itself (start and end of
each, a latency of its own), and progress events by the recorder, so the same script measures any
version of the agent.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepresearch.progress import Progress

# 41 made-up towns: a chain longer than 15 rounds can walk
NAMES = [a + b for a in ("Arn", "Brev", "Cald", "Dun", "Esk", "Fal", "Gor", "Hal")
         for b in ("holt", "wick", "mere", "by", "sund")][:41]
WORDS = ("the harbour road winter market ferry timetable weather bridge lantern archive parish council "
         "fishing fleet tide warehouse railway station museum chapel").split()


def filler(seed: int, paragraphs: int = 12) -> str:
    rng = random.Random(seed)
    return "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(80)).capitalize() + "." for _ in range(paragraphs))


def relay_home(prefix: str, paragraphs: int = 12, guides: bool = False) -> Path:
    """A fresh work folder whose home (``DEEPRESEARCH_HOME``, set here) has the relay corpus ingested."""
    import os
    import tempfile

    from tools.corpus.store import Corpus

    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DEEPRESEARCH_HOME"] = str(work / "home")
    write_corpus(work / "corpus", paragraphs, guides)
    (work / "home").mkdir()
    Corpus(work / "home" / "corpus.db").ingest([work / "corpus"])
    return work


def write_corpus(folder: Path, paragraphs: int = 12, guides: bool = False) -> None:
    """One relay station per document, padded with filler so that pages are long.

    With ``guides``, each town also has a visitor guide that a search for its courier finds too, but that
    names no handover: a round then reads several pages, of which one moves the chain on.
    """
    folder.mkdir(parents=True)
    for i, here in enumerate(NAMES[:-1]):
        (folder / f"relay_{i:02d}_{here.lower()}.md").write_text(station(i, paragraphs))
        if guides:
            (folder / f"guide_{i:02d}_{here.lower()}.md").write_text(guide(i, paragraphs))


def station(i: int, paragraphs: int = 12) -> str:
    """The Markdown of relay station ``i``: the one document that names the next town."""
    here, there = NAMES[i], NAMES[i + 1]
    return (f"# Relay station {here}\n\n{filler(i, paragraphs)}\n\nThe courier from {here} hands the sealed "
            f"parcel to the relay at {there}. The handover takes place at dawn.\n\n{filler(100 + i, paragraphs)}\n")


def guide(i: int, paragraphs: int = 12) -> str:
    """The Markdown of town ``i``'s visitor guide: found by a search for its courier, naming no handover."""
    here = NAMES[i]
    return (f"# {here} visitor guide\n\nCouriers, relay riders and parcel carts pass through {here} every "
            f"week.\n\n{filler(200 + i, paragraphs)}\n")


def question(hops: int) -> str:
    return f"After {hops} handovers, in which town is the sealed parcel that leaves {NAMES[0]}?"


def scenario(hops: int = len(NAMES) - 1, notes: bool = False):  # type: ignore[no-untyped-def]
    """The toy model's chain for ``hops`` handovers (the answer is the last town); ``notes``: ReAct notes."""
    from tests.fakes.toy_model import Hop, Scenario

    chain = []
    for i in range(1, hops + 1):
        prev = NAMES[0] if i == 1 else f"{{s{i - 1}}}"
        fact = prev + rf" hands the sealed parcel to the relay at (?P<s{i}>[A-Z][a-z]+)"
        chain.append(Hop(f"relay {i}", fact, prev + " courier relay parcel"))
    return Scenario(hops=chain, answer=f"{{s{hops}}}", max_report_lines=1000, notes=notes)


@dataclass
class Call:
    """One model call as the brain served it."""

    role: str
    start: float
    end: float
    prompt_chars: int


class TimedBrain:
    """Wraps a brain: every call takes ``latency`` seconds and is recorded with its start and end."""

    def __init__(self, brain: Any, latency: float) -> None:
        self.brain = brain
        self.latency = latency
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def __call__(self, messages: list[dict[str, Any]]) -> tuple[str, Any]:
        start = time.perf_counter()
        role, reply = self.brain(messages)
        time.sleep(max(0.0, self.latency - (time.perf_counter() - start)))
        chars = sum(len(str(m.get("content", ""))) for m in messages)
        with self._lock:
            self.calls.append(Call(role, start, time.perf_counter(), chars))
        return role, reply


def waves(calls: list[Call]) -> int:
    """Sequential waves: groups of calls that overlapped in time (calls in different waves could not)."""
    count, reach = 0, float("-inf")
    for call in sorted(calls, key=lambda c: c.start):
        if call.start >= reach:
            count += 1
        reach = max(reach, call.end) if call.start < reach else call.end
    return count


class Clock(Progress):
    """Progress that keeps each event with the time it arrived."""

    def __init__(self) -> None:
        super().__init__(enabled=False)
        self.events: list[tuple[float, dict[str, Any]]] = []

    def event(self, ev: dict[str, Any]) -> None:
        self.events.append((time.perf_counter(), ev))

    def round_ends(self) -> list[float]:
        """When each round ended (its decision), in order."""
        return [t for t, ev in self.events if ev.get("event") == "decide"]


def by_round(calls: list[Call], ends: list[float]) -> dict[int, list[Call]]:
    """Calls grouped by the round they were made in (the answer's own call, if any, is round len(ends) + 1)."""
    grouped: dict[int, list[Call]] = {}
    for call in calls:
        r = 1 + sum(1 for end in ends if end <= call.start)
        grouped.setdefault(r, []).append(call)
    return grouped


def _serve(conn: Any, hops: int, latency: float, notes: bool, context: int) -> None:
    from tests.fakes.model_server import ModelServer
    from tests.fakes.toy_model import ToyModel

    brain = TimedBrain(ToyModel(scenario(hops, notes)), latency)
    with ModelServer(brain, max_model_len=context) as server:
        conn.send(server.base_url)
        conn.recv()  # until the run is over
    conn.send(brain.calls)


class RemoteModel:
    """The toy model served from a process of its own, as a real endpoint is: its work is not ours.

    ``with RemoteModel(hops, latency) as model: model.base_url``; ``model.calls`` once it is closed.
    ``notes``: the model writes what it found before each ReAct call; ``context``: the tokens it serves.
    """

    def __init__(self, hops: int, latency: float, notes: bool = False, context: int = 131072) -> None:
        import multiprocessing

        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(child, hops, latency, notes, context), daemon=True)
        self.base_url = ""
        self.calls: list[Call] = []

    def __enter__(self) -> RemoteModel:
        self._process.start()
        self.base_url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self.calls = self._conn.recv()
        self._process.join(10)
