"""The run-status sensors after real Dagster runs on a real (SQLite) instance, evaluated with Dagster's sensor
test helpers, delivering to local receivers: the sensors run by default; a schedule tick, its run and the
sensors' next ticks (as the daemon would) deliver exactly one digest; a successful run's digest carries its
checks' counts, the same counts the run summary and the report show; a run that failed before any check ran still
alerts, with the failure; runs whose starter sent the digest itself (tagged ``crm_loop/digest``) are left alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import (
    AssetSelection,
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    ExecuteInProcessResult,
    ScheduleDefinition,
    SensorDefinition,
    asset,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    define_asset_job,
    in_process_executor,
)

from checks.model import Severity, Suite
from checks.suites.common import email_expectation, keys_suite, live_rows
from connectors.salesforce.catalog import raw_table_name
from pipelines.defs.alerts.sensors import DIGEST_TAG, check_tally, digest_sensors
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.quality.suite_checks import suite_checks
from pipelines.defs.resources import SalesforceResource, WarehouseResource
from pipelines.defs.salesforce.assets import salesforce_raw_assets
from pipelines.funnel.model import FunnelDefinitions
from pipelines.report import data_quality
from sandbox.server.app import Sandbox
from tests.checks.helpers import AS_OF, land
from tests.checks.receivers import http_receiver, smtp_receiver

ALERT_ENV = (
    "CRM_LOOP_SLACK_WEBHOOK_URL",
    "CRM_LOOP_SMTP_HOST",
    "CRM_LOOP_ALERT_FILE",
    "CRM_LOOP_ALERT_CHANNELS",
    "CRM_LOOP_DAGSTER_URL",
)
USERS = raw_table_name("User")


@asset
def raw_contacts(warehouse: WarehouseResource) -> None:
    wh = warehouse.open()
    try:
        land(wh, "raw_contacts", [{"id": "C1", "email": "broken@"}, {"id": "C2", "email": "ok@x.io"}], audit=False)
    finally:
        wh.close()


def _suites(defs: FunnelDefinitions, *_: Any) -> list[Suite]:
    return [
        keys_suite("raw_contacts"),
        Suite(
            "raw_contacts__values",
            "raw_contacts",
            Severity.WARN,
            live_rows("raw_contacts", "id", "email"),
            (email_expectation(),),
        ),
    ]


contacts_job = define_asset_job(
    "contacts", selection=AssetSelection.assets(raw_contacts), executor_def=in_process_executor
)
users_job = define_asset_job(
    "salesforce_users", selection=AssetSelection.assets(USERS), executor_def=in_process_executor
)
nightly = ScheduleDefinition(
    name="contacts_nightly",
    job=contacts_job,
    cron_schedule="0 2 * * *",
    execution_timezone="America/New_York",
    default_status=DefaultScheduleStatus.RUNNING,
)


@dataclass
class Setup:
    instance: DagsterInstance
    defs: Definitions
    on_success: SensorDefinition
    on_failure: SensorDefinition
    received: list[tuple[str, Any]]
    warehouse: WarehouseResource
    url: str  # the local HTTP receiver

    def execute(self, job: str, **tags: str) -> ExecuteInProcessResult:
        return self.defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, tags=tags, raise_on_error=False
        )

    def evaluate(self, sensor: SensorDefinition, result: ExecuteInProcessResult) -> Any:
        event = result.get_run_success_event() if result.success else result.get_run_failure_event()
        context = build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=self.instance,
            dagster_event=event,
            dagster_run=result.dagster_run,
        )
        return sensor(context.for_run_failure() if sensor is self.on_failure else context)


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))  # the API budget's files live under it
    for name in ALERT_ENV:
        monkeypatch.delenv(name, raising=False)
    warehouse = WarehouseResource(url=f"duckdb:///{tmp_path}/wh.duckdb")
    sandbox = Sandbox(seed=1, size=10, anchor=AS_OF, workdir=tmp_path / "sandbox")
    with http_receiver() as (url, received), sandbox as box:
        monkeypatch.setenv("CRM_LOOP_ALERT_WEBHOOK_URL", f"{url}/digest")
        sf = box.info()["salesforce"]
        on_success, on_failure = digest_sensors([contacts_job, users_job], warehouse)
        defs = Definitions(
            assets=[raw_contacts, *salesforce_raw_assets],
            asset_checks=suite_checks(_suites),
            jobs=[contacts_job, users_job],
            schedules=[nightly],
            sensors=[on_success, on_failure],
            resources={
                "warehouse": warehouse,
                "checks": ChecksResource(as_of=AS_OF.isoformat()),
                "salesforce": SalesforceResource(
                    token_url=sf["token_url"],
                    client_id=sf["client_id"],
                    client_secret="not-the-secret",
                    ca_bundle=sf["ca_bundle"],
                ),
            },
        )
        (tmp_path / "instance").mkdir()
        (tmp_path / "instance" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
        instance = DagsterInstance.local_temp(str(tmp_path / "instance"))
        try:
            yield Setup(instance, defs, on_success, on_failure, received, warehouse, url)
        finally:
            instance.dispose()


def test_successful_run_sends_one_digest_with_its_counts(setup: Setup) -> None:
    result = setup.execute("contacts")
    assert result.success
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()} == {
        "raw_contacts__keys": True,
        "raw_contacts__values": False,
    }
    assert setup.evaluate(setup.on_success, result) is None
    assert len(setup.received) == 1
    path, digest = setup.received[0]
    assert path == "/digest" and digest["run_id"] == result.run_id and digest["run_failure"] is None
    assert digest["counts"] == {"checks": 2, "passed": 1, "failed": 0, "error": 0, "warn": 1}
    assert [(f["check_name"], f["severity"], f["unexpected_count"], f["sample_ids"]) for f in digest["failing"]] == [
        ("raw_contacts__values", "WARN", 1, ["C1"])
    ]
    assert digest["escalation"] is False

    # One definition of an outcome: the digest, the run summary's function and the report count alike.
    summary = check_tally(result.run_id, setup.warehouse)
    assert (summary.passed, summary.warn, summary.failed, summary.total) == (1, 1, 0, 2)
    assert digest["title"] == f"crm-loop: {summary.summary()} (run {result.run_id.split('-')[0]})"
    engine = sa.create_engine(setup.warehouse.url)
    try:
        with engine.connect() as conn:
            section = data_quality(conn, None, result.run_id)
    finally:
        engine.dispose()
    assert "## Data quality: 1 of 2 checks passed" in section and f"{summary.summary()}." in section


def test_run_failing_before_any_check_alerts_with_the_failure(setup: Setup) -> None:
    result = setup.execute("salesforce_users")
    assert not result.success and result.get_asset_check_evaluations() == []
    assert setup.evaluate(setup.on_failure, result) is None
    assert len(setup.received) == 1
    _, digest = setup.received[0]
    assert digest["run_id"] == result.run_id and digest["counts"]["checks"] == 0 and digest["failing"] == []
    failure = digest["run_failure"]
    assert failure.startswith(f"{USERS}:"), failure
    assert "SalesforceAuthError" in failure and "invalid_client" in failure, failure


def test_runs_that_sent_their_own_digest_are_skipped(setup: Setup) -> None:
    succeeded = setup.execute("contacts", **{DIGEST_TAG: "cli"})
    failed = setup.execute("salesforce_users", **{DIGEST_TAG: "cli"})
    assert succeeded.success and not failed.success
    assert setup.evaluate(setup.on_success, succeeded) is None
    assert setup.evaluate(setup.on_failure, failed) is None
    assert setup.received == []


def test_a_later_run_is_judged_on_its_own_checks(setup: Setup) -> None:
    first, second = setup.execute("contacts"), setup.execute("contacts")
    for result in (first, second):
        setup.evaluate(setup.on_success, result)
    assert [d["run_id"] for _, d in setup.received] == [first.run_id, second.run_id]
    assert all(d["counts"]["checks"] == 2 and d["counts"]["warn"] == 1 for _, d in setup.received)


def test_a_scheduled_run_alerts_through_the_sensors_once(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's path, tick by tick: the sensors start (they run by default), the schedule ticks, its run
    ends, the sensors tick again and deliver one digest per channel; a run that ``crm-loop sync`` started (and
    sent its own digest for) ends meanwhile and gets nothing from the sensors; later ticks send nothing more."""
    assert {s.default_status for s in (setup.on_success, setup.on_failure)} == {DefaultSensorStatus.RUNNING}
    with smtp_receiver() as (port, inbox):
        monkeypatch.setenv("CRM_LOOP_SLACK_WEBHOOK_URL", f"{setup.url}/slack")
        monkeypatch.setenv("CRM_LOOP_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CRM_LOOP_SMTP_PORT", str(port))
        monkeypatch.setenv("CRM_LOOP_SMTP_TO", "revops@example.com")
        monkeypatch.setenv("CRM_LOOP_ALERT_CHANNELS", "slack,webhook,email")
        cursors: dict[str, str | None] = {}

        def tick() -> None:
            for sensor in (setup.on_success, setup.on_failure):
                context = build_sensor_context(instance=setup.instance, cursor=cursors.get(sensor.name))
                cursors[sensor.name] = sensor.evaluate_tick(context).cursor

        tick()  # the daemon's first tick of a new sensor starts from now: earlier runs are not alerted
        schedule = setup.defs.resolve_schedule_def("contacts_nightly")
        (request,) = (
            schedule.evaluate_tick(
                build_schedule_context(instance=setup.instance, scheduled_execution_time=datetime(2026, 11, 3, 2, 0))
            ).run_requests
            or []
        )
        scheduled = setup.defs.resolve_job_def(request.job_name or "contacts").execute_in_process(
            instance=setup.instance,
            run_config=request.run_config,
            tags={**request.tags, "dagster/schedule_name": schedule.name},
        )
        by_cli = setup.execute("contacts", **{DIGEST_TAG: "cli"})
        assert scheduled.success and by_cli.success
        tick()
        tick()
    by_path = {path: body for path, body in setup.received}
    assert sorted(path for path, _ in setup.received) == ["/digest", "/slack"], "one digest per channel"
    assert by_path["/digest"]["run_id"] == scheduled.run_id
    assert by_path["/slack"]["blocks"][0]["type"] == "header"
    assert len(inbox) == 1 and scheduled.run_id.split("-")[0] in inbox[0]["Subject"]
