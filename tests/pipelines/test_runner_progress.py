"""The runner's progress: step events read incrementally through the event-log cursor; on a terminal a status
line (loading, the running step, rows so far, rate), else one line per finished asset step with its rows and
seconds and the check steps summarised. The CLI is run as a subprocess (its stdout is a pipe, as under cron)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import (
    AssetCheckResult,
    DagsterEventType,
    DagsterInstance,
    Failure,
    MaterializeResult,
    asset,
    asset_check,
    materialize,
)

from connectors.hubspot.catalog import OBJECT_TYPES
from connectors.salesforce.catalog import OBJECTS
from pipelines.demo import sandbox_environment
from pipelines.runner import StepEvent, StepProgress, _follow, read_step_events
from sandbox.server.app import Sandbox
from tests.conftest import dagster_home

START, SUCCESS, FAILURE, SKIPPED, MATERIALIZED = (
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED,
    DagsterEventType.ASSET_MATERIALIZATION,
)
CLI = Path(sys.executable).with_name("crm-loop")
OWN_PREFIXES = ("CRM_LOOP_", "SALESFORCE_", "HUBSPOT_")


@asset
def first() -> None:
    return None


@asset(deps=[first])
def counted() -> MaterializeResult:
    return MaterializeResult(metadata={"dagster/row_count": 7})


@asset(deps=[counted])
def broken() -> None:
    raise Failure("planted")


@asset_check(asset=first)
def first_is_fine() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


def test_one_line_per_finished_asset_step_with_rows_and_seconds() -> None:
    progress = StepProgress(total=4, asset_steps=frozenset({"a", "b", "d"}))
    assert progress.status(5.0) == "loading the job's code and connecting (4 steps)…"
    assert progress.apply(StepEvent("a", START, 10.0)) is None
    assert progress.apply(StepEvent("b", START, 11.0)) is None
    assert progress.apply(StepEvent("a", MATERIALIZED, 12.0, rows=1200)) is None
    assert progress.apply(StepEvent("a", SUCCESS, 12.5)) == "[1/4] ok a 1,200 rows 2.5s"
    assert progress.apply(StepEvent("a", SUCCESS, 13.0)) is None, "a step finishes once"
    assert progress.status(14.0) == "[1/4] · running b 0:03 · 1,200 rows so far, 300 rows/s · elapsed 0:04"
    assert progress.apply(StepEvent("b", FAILURE, 14.0)) == "[2/4] FAILED b 3.0s", "a failure always shows"
    assert progress.apply(StepEvent("c", START, 15.0)) is None
    assert progress.apply(StepEvent("c", SUCCESS, 15.5)) is None, "a check-only step is counted, not listed"
    assert progress.apply(StepEvent("d", SKIPPED, 16.0)) == "[4/4] skipped d"
    assert progress.apply(StepEvent("e", FAILURE, 16.5)) == "[5/4] FAILED e", "a failed check step shows too"
    assert progress.checks_line == "check steps: 2 finished, 1 failed"


def test_a_step_stopped_at_the_api_budget_says_so() -> None:
    progress = StepProgress(total=1)
    progress.apply(StepEvent("raw_x", START, 1.0))
    progress.apply(StepEvent("raw_x", MATERIALIZED, 2.0, budget_stop=True))
    assert progress.apply(StepEvent("raw_x", SUCCESS, 2.0)) == "[1/1] stopped at the API budget: raw_x 1.0s"


@pytest.fixture(scope="module")
def run() -> tuple[DagsterInstance, str]:
    instance = DagsterInstance.ephemeral()
    result = materialize([first, counted, broken, first_is_fine], instance=instance, raise_on_error=False)
    return instance, result.run_id


def test_step_events_are_read_from_the_cursor_on(run: tuple[DagsterInstance, str]) -> None:
    instance, run_id = run
    events, cursor = read_step_events(instance, run_id, None)
    finished = [(e.step_key, e.event_type) for e in events if e.event_type in (SUCCESS, FAILURE)]
    assert ("broken", FAILURE) in finished and ("first", SUCCESS) in finished
    assert [(e.step_key, e.rows) for e in events if e.event_type is MATERIALIZED] == [("first", None), ("counted", 7)]
    assert read_step_events(instance, run_id, cursor) == ([], cursor), "nothing new after the cursor"


def test_without_a_terminal_only_asset_steps_get_a_line(
    run: tuple[DagsterInstance, str], capsys: pytest.CaptureFixture[str]
) -> None:
    instance, run_id = run
    done = threading.Event()
    done.set()
    _follow(instance, run_id, StepProgress(4, frozenset({"first", "counted", "broken"})), done, interactive=False)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 1)[1].rsplit(" ", 1)[0] for line in lines[:-1]] == [
        "ok first",
        "ok counted 7 rows",
        "FAILED broken",
    ]
    assert lines[-1] == "check steps: 1 finished"


def test_on_a_terminal_the_status_line_is_rewritten_in_place(
    run: tuple[DagsterInstance, str], capsys: pytest.CaptureFixture[str]
) -> None:
    instance, run_id = run
    done = threading.Event()
    done.set()
    _follow(instance, run_id, StepProgress(4, frozenset({"first", "counted", "broken"})), done, interactive=True)
    out = capsys.readouterr().out
    assert out.startswith("\r\x1b[2K[1/4] ok first") and out.endswith("check steps: 1 finished\n")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(seed=4, size=30, anchor=datetime(2026, 11, 2, 14, tzinfo=UTC), workdir=tmp_path / "sb") as box:
        yield box


def test_sync_under_cron_prints_one_line_per_asset(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env |= sandbox_environment(sandbox.info(), f"duckdb:///{tmp_path}/wh.duckdb")
    env["DAGSTER_HOME"] = str(dagster_home(tmp_path / "dagster_home"))
    run = subprocess.run(
        [str(CLI), "sync", "--full-resync"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode in (0, 1), run.stderr[-3000:]
    progress = [line for line in run.stdout.splitlines() if line.startswith("[")]
    assert "\r" not in run.stdout and "\x1b" not in run.stdout, "no terminal control codes in a log"
    line = re.compile(r"\[\d+/\d+\] (ok|FAILED|skipped) (\S+)( [\d,]+ rows)?( \d+\.\ds)?$")
    assert all(line.match(p) for p in progress), progress
    steps = [line.match(p).group(2) for p in progress]  # type: ignore[union-attr]
    assert len(steps) == len(set(steps)), "one line per step"
    # The raw tables' steps (the full resync: no derived table to wait for), and no check step in the list.
    assert {"raw_salesforce__lead", "raw_hubspot__contacts", "raw_hubspot__owners"} <= set(steps)
    assert len(steps) == len(OBJECTS) + len(OBJECT_TYPES) + 4, steps  # + owners, stages, edges, history
    assert not [s for s in steps if s.endswith("__quality")], steps
    lead = next(p for p in progress if " raw_salesforce__lead " in p)
    assert lead.split()[3] == str(sandbox.info()["records"]["salesforce"]["Lead"]) and lead.split()[4] == "rows"
    summaries = [line for line in run.stdout.splitlines() if line.startswith("check steps: ")]
    assert len(summaries) == 1, run.stdout
