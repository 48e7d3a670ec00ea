"""The nightly job's Salesforce steps share one access token per run, and an unchanged re-run costs one queryAll
page per object plus one global describe (answered 304) for the run, counted by the sandbox."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.salesforce.catalog import OBJECTS
from pipelines.demo import sandbox_environment
from pipelines.runner import execute
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.conftest import dagster_home


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(seed=9, size=120, anchor=datetime(2026, 11, 2, 14, tzinfo=UTC), workdir=tmp_path / "sb") as box:
        yield box


def test_a_nightly_run_asks_for_one_token_and_an_unchanged_rerun_one_page_per_object(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in sandbox_environment(sandbox.info(), f"duckdb:///{tmp_path}/wh.duckdb").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home(tmp_path / "dagster_home")))
    control = Control(sandbox.control_url)

    control.reset_requests()
    first = execute("crm_loop_nightly")
    assert first.success, first.failed_steps
    assert Counter(r["route"] for r in control.requests_served("salesforce"))["oauth_token"] == 1

    control.advance_clock(60)
    control.reset_requests()
    again = execute("crm_loop_nightly")
    assert again.success, again.failed_steps
    routes = Counter(r["route"] for r in control.requests_served("salesforce"))
    assert routes == {"oauth_token": 1, "describe_global": 1, "query_all": len(OBJECTS)}, routes
