"""Reaching the run's API budget ends the extraction cleanly: the CLI as a subprocess against the sandbox, whose
Salesforce org allows so few requests a day that a run's share (25%) is spent in the first objects. That the next
run resumes each object where the stop left it is tested on the connector (tests/salesforce/
test_resume_and_budget.py); a whole second run here would double the time for nothing new."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.salesforce.catalog import OBJECTS, raw_table_name
from pipelines.demo import sandbox_environment
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.conftest import dagster_home

CLI = Path(sys.executable).with_name("crm-loop")
OWN_PREFIXES = ("CRM_LOOP_", "SALESFORCE_", "HUBSPOT_")
EXIT_BUDGET_STOP = 3


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(seed=9, size=60, anchor=datetime(2026, 11, 2, 14, tzinfo=UTC), workdir=tmp_path / "sb") as box:
        yield box


def sync(sandbox: Sandbox, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env |= sandbox_environment(sandbox.info(), f"duckdb:///{tmp_path}/wh.duckdb")
    env["DAGSTER_HOME"] = str(dagster_home(tmp_path / "dagster_home"))
    return subprocess.run([str(CLI), "sync"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)


def rows(tmp_path: Path, table: str) -> int:
    engine = sa.create_engine(f"duckdb:///{tmp_path}/wh.duckdb")
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_budget_stop_skips_the_rest_and_builds_what_landed(sandbox: Sandbox, tmp_path: Path) -> None:
    Control(sandbox.control_url).faults(sf_daily_api_limit=40)  # a run may use 25%: 10 requests
    run = sync(sandbox, tmp_path)
    assert run.returncode == EXIT_BUDGET_STOP, (run.stdout[-3000:], run.stderr[-3000:])
    lines = run.stdout.splitlines()
    assert any(line.endswith(": stopped at the API budget, resumes at the next run") for line in lines)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert not any("FAILED" in line for line in lines), run.stdout[-3000:]
    # Each Salesforce step the budget ended: one progress line, one summary line; every other step ran whole.
    stopped = {line.split()[1] for line in lines if line.strip().startswith(("skipped raw_", "stopped raw_"))}
    progress = {line.split()[-2] for line in lines if "] stopped at the API budget: " in line}
    assert stopped and stopped == progress, (stopped, progress)
    assert all(step.startswith("raw_salesforce__") for step in stopped)
    # Nothing else about them: their own checks do not warn one by one (checks of other tables still may).
    own_checks = tuple(f" - {step}_{step}__" for step in stopped)  # a check's step key: <asset>_<check name>
    assert not [line for line in run.stderr.splitlines() if any(key in line for key in own_checks)], run.stderr
    counts = sandbox.info()["records"]
    for object_name in OBJECTS:
        if raw_table_name(object_name) not in stopped:
            assert rows(tmp_path, raw_table_name(object_name)) == counts["salesforce"][object_name], object_name
    # The derived tables were built from what landed (HubSpot in full).
    assert rows(tmp_path, "raw_hubspot__contacts") == counts["hubspot"]["contacts"]
    assert rows(tmp_path, "closed_loop_leads") >= counts["hubspot"]["contacts"]
