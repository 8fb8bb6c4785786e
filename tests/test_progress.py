"""What the terminal shows while a run works: a line per step, and what is going on right now."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from deepresearch.progress import RENDERERS, Activity, Progress
from state.events import (
    EVENTS,
    AgentDone,
    Answered,
    Decided,
    Event,
    PageRead,
    Planned,
    ReadFailed,
    Reviewed,
    Selected,
)
from tests.event_samples import every_event_class, sample


def test_the_activity_follows_the_steps() -> None:
    activity = Activity()
    steps: list[tuple[Event, str]] = [
        (Planned(round=1, goal="g", queries=["q"], review=True), "waiting for review"),
        (Reviewed(goal="g", queries=["q"]), "searching"),
        (Selected(pages=[{"title": "", "url": ""}] * 4, hits=4), "reading 0/4"),
        (PageRead(url="u", title="t", relevant=True), "reading 1/4"),
        (ReadFailed(url="u", error="e"), "reading 2/4"),
        (PageRead(url="u", title="t", relevant=True), "reading 3/4"),
        (PageRead(url="u", title="t", relevant=False), "writing the report"),
        (Decided(decision="plan", reason="r", round=1), "planning round 2"),
        (Decided(decision="answer", reason="r", round=2), "writing the answer")]
    for event, label in steps:
        activity.follow(event)
        assert activity.label == label, event


def test_a_spinner_with_the_elapsed_time_on_a_terminal_only() -> None:
    screen = io.StringIO()
    progress = Progress(Console(file=screen, force_terminal=True, width=80, color_system=None))
    progress.start("planning round 1")
    assert progress._live is not None
    progress.event(Answered(answer="1921"))
    assert progress._live is None and "planning round 1 · 0s" in screen.getvalue()
    assert "answer 1921" in screen.getvalue()
    piped = Progress(Console(file=io.StringIO(), force_terminal=False))
    piped.start("planning round 1")
    assert piped._live is None  # a pipe or a log file gets the lines, not the animation


def test_the_spinner_steps_aside_while_a_reviewer_types() -> None:
    progress = Progress(Console(file=io.StringIO(), force_terminal=True, width=80))
    progress.start("planning round 1")
    seen = []
    answer = progress.paused(lambda payload: seen.append(progress._live) or {"approve": True})({"round": 1})
    assert answer == {"approve": True} and seen == [None] and progress._live is not None
    progress.stop()


def test_no_answer_reads_the_same_everywhere_and_a_failed_last_step_is_said() -> None:
    screen = io.StringIO()
    progress = Progress(Console(file=screen, force_terminal=False, width=200, color_system=None))
    progress.event(AgentDone(agent=2, answer="", llm_calls=9))
    progress.event(Answered(answer="", error="the synthesis gave nothing usable (no JSON)"))
    shown = screen.getvalue()
    assert "agent 2 done · answer: not determined" in shown and "answer not determined" in shown
    assert "failed  the synthesis gave nothing usable (no JSON)" in shown


def test_every_event_class_has_a_kind_and_a_renderer() -> None:
    classes = every_event_class()
    assert len(classes) >= 14 and set(EVENTS.values()) == classes  # each registered under its kind
    assert len({cls.kind for cls in classes}) == len(classes)
    missing = sorted(cls.__name__ for cls in classes - set(RENDERERS))
    assert not missing, f"event classes without a renderer in deepresearch/progress.py: {missing}"


@pytest.mark.parametrize("cls", sorted(every_event_class(), key=lambda cls: cls.kind), ids=lambda cls: cls.kind)
def test_an_event_renders_the_same_typed_and_as_the_stream_carries_it(cls: type[Event]) -> None:
    event = sample(cls)
    shown = []
    for form in (event, event.to_json()):
        screen = io.StringIO()
        Progress(Console(file=screen, force_terminal=False, width=200, color_system=None)).event(form)
        shown.append(screen.getvalue())
    assert shown[0] and shown[0] == shown[1]
    assert "agent 7" in shown[0]  # a Heavy agent's lines say which agent
