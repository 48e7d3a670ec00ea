"""The nightly job end to end through Dagster: sandbox → both CRMs → warehouse, on DuckDB and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.demo import sandbox_environment
from pipelines.runner import execute, write_report
from sandbox.server.app import Sandbox
from tests.conftest import PG_URL, dagster_home, postgres_reachable


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(seed=9, size=120, anchor=datetime(2026, 11, 2, 14, tzinfo=UTC), workdir=tmp_path / "sb") as box:
        yield box


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path}/wh.duckdb", ""
        return
    if not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    schema = f"job_{uuid.uuid4().hex[:10]}"
    yield PG_URL, schema
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def test_nightly_job_lands_both_crms(
    sandbox: Sandbox, warehouse: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, schema = warehouse
    for key, value in sandbox_environment(sandbox.info(), url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CRM_LOOP_WAREHOUSE_SCHEMA", schema)
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home(tmp_path / "dagster_home")))

    first = execute("crm_loop_nightly")
    assert first.success, first.failed_steps
    counts = sandbox.info()["records"]
    assert first.table_rows["raw_salesforce__lead"] >= counts["salesforce"]["Lead"]
    assert first.table_rows["raw_hubspot__contacts"] >= counts["hubspot"]["contacts"]
    assert first.table_rows["sync_runs"] >= 22

    # The leaders' report agrees with the table it summarises.
    summary = write_report(url, schema, tmp_path / "report.md", run_id=first.run_id)
    report = (tmp_path / "report.md").read_text()
    engine = sa.create_engine(url)
    table = f'"{schema}".closed_loop_leads' if schema else "closed_loop_leads"
    results = f'"{schema}".check_results' if schema else "check_results"
    with engine.connect() as conn:
        leads, mqls, breached = conn.execute(
            sa.text(
                f"SELECT COUNT(*), COUNT(mql_at), SUM(CASE WHEN first_touch_sla_status = 'breached' THEN 1 ELSE 0 END) FROM {table}"
            )
        ).one()
        checks = conn.execute(
            sa.text(f"SELECT COUNT(*) FROM {results} WHERE run_id = :r"), {"r": first.run_id}
        ).scalar_one()
        handover = conn.execute(
            sa.text(
                f"SELECT check_name FROM {results} WHERE run_id = :r AND check_name IN "
                "('handover__reached_score_not_handed_over', 'handover__handed_over_below_score')"
            ),
            {"r": first.run_id},
        ).all()
    engine.dispose()
    assert len(handover) == 2, "both handover findings recorded by the run's one reconciliation step"
    assert leads > 0 and mqls > 0
    assert f"funnel: {leads} leads -> {mqls} MQL" in summary and f"{breached} breached" in summary
    assert f"| {leads} | {mqls} |" in report
    for section in (
        "## Lead-handling SLA",
        "### By team",
        "## Marketing's MQL commitment",
        "## Why leads were disqualified",
    ):
        assert section in report
    assert f"of {checks} checks passed" in report and checks > 0

    # No secret in Dagster's storage: event logs, run config, captured compute logs (every file under DAGSTER_HOME).
    secrets = [sandbox.info()["salesforce"]["client_secret"], sandbox.info()["hubspot"]["access_token"]]
    stored = list((tmp_path / "dagster_home").rglob("*"))
    assert any(p.is_file() for p in stored), "Dagster stored the run under DAGSTER_HOME"
    for path in (p for p in stored if p.is_file()):
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, f"a secret leaked into {path}"

    # A second night is incremental: the same tables, no duplicates.
    second = execute("crm_loop_nightly")
    assert second.success
    for table in ("raw_salesforce__lead", "raw_hubspot__contacts", "raw_salesforce__task", "raw_hubspot__associations"):
        assert second.table_rows[table] == first.table_rows[table], table
