"""What the terminal shows while a run works: a line per step, and what is going on right now."""

from __future__ import annotations

import io

from rich.console import Console

from deepresearch.progress import Activity, Progress


def test_the_activity_follows_the_steps() -> None:
    activity = Activity()
    steps = [({"event": "plan", "round": 1, "review": True}, "waiting for review"),
             ({"event": "review"}, "searching"),
             ({"event": "select", "pages": [{}, {}, {}, {}]}, "reading 0/4"),
             ({"event": "read"}, "reading 1/4"), ({"event": "read_failed"}, "reading 2/4"),
             ({"event": "read"}, "reading 3/4"), ({"event": "read"}, "writing the report"),
             ({"event": "decide", "decision": "plan", "round": 1}, "planning round 2"),
             ({"event": "decide", "decision": "answer", "round": 2}, "writing the answer")]
    for event, label in steps:
        activity.follow(event)
        assert activity.label == label, event


def test_a_spinner_with_the_elapsed_time_on_a_terminal_only() -> None:
    screen = io.StringIO()
    progress = Progress(Console(file=screen, force_terminal=True, width=80, color_system=None))
    progress.start("planning round 1")
    assert progress._live is not None
    progress.event({"event": "answer", "answer": "1921"})
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
    progress.event({"event": "agent_done", "agent": 2, "answer": "", "llm_calls": 9})
    progress.event({"event": "answer", "answer": "", "error": "the synthesis gave nothing usable (no JSON)"})
    shown = screen.getvalue()
    assert "agent 2 done · answer: not determined" in shown and "answer not determined" in shown
    assert "failed  the synthesis gave nothing usable (no JSON)" in shown
