"""The runner's progress: step events read incrementally through the event-log cursor, one line per finished
step when stdout is not a terminal."""

from __future__ import annotations

import threading

import pytest
from dagster import DagsterEventType, DagsterInstance, Failure, job, op

from pipelines.runner import StepProgress, _follow, read_step_events


@op
def first() -> int:
    return 1


@op
def second(value: int) -> int:
    return value + 1


@op
def broken(value: int) -> None:
    raise Failure("planted")


@job
def three_steps() -> None:
    broken(second(first()))


def test_progress_counts_finished_steps_once_and_names_the_running_one() -> None:
    progress = StepProgress(total=3)
    assert progress.apply("a", DagsterEventType.STEP_START, 10.0) is None
    assert progress.apply("b", DagsterEventType.STEP_START, 11.0) is None
    assert progress.label == "running a (+1)"
    assert progress.apply("a", DagsterEventType.STEP_SUCCESS, 12.5) == "[1/3] ok a 2.5s"
    assert progress.apply("a", DagsterEventType.STEP_SUCCESS, 13.0) is None, "a step finishes once"
    assert progress.apply("b", DagsterEventType.STEP_FAILURE, 14.0) == "[2/3] FAILED b 3.0s"
    assert progress.apply("c", DagsterEventType.STEP_SKIPPED, 15.0) == "[3/3] skipped c"
    assert progress.label == "running"


def test_step_events_are_read_from_the_cursor_on() -> None:
    instance = DagsterInstance.ephemeral()
    result = three_steps.execute_in_process(instance=instance, raise_on_error=False)
    events, cursor = read_step_events(instance, result.run_id, None)
    kinds = [(step, kind) for step, kind, _ in events]
    assert kinds == [
        ("first", DagsterEventType.STEP_START),
        ("first", DagsterEventType.STEP_SUCCESS),
        ("second", DagsterEventType.STEP_START),
        ("second", DagsterEventType.STEP_SUCCESS),
        ("broken", DagsterEventType.STEP_START),
        ("broken", DagsterEventType.STEP_FAILURE),
    ]
    assert read_step_events(instance, result.run_id, cursor) == ([], cursor), "nothing new after the cursor"


def test_without_a_terminal_each_finished_step_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    instance = DagsterInstance.ephemeral()
    result = three_steps.execute_in_process(instance=instance, raise_on_error=False)
    done = threading.Event()
    done.set()
    _follow(instance, result.run_id, 3, done, interactive=False)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ")[:3] for line in lines] == [
        ["[1/3]", "ok", "first"],
        ["[2/3]", "ok", "second"],
        ["[3/3]", "FAILED", "broken"],
    ]
