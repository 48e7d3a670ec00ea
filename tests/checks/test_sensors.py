"""The run-status sensors after real Dagster runs on a real (SQLite) instance, evaluated with Dagster's sensor
test helpers, delivering to a local webhook receiver: a successful run's digest carries its checks' counts; a
run that failed before any check ran still alerts, with the failure; runs whose starter sent the digest itself
(tagged ``crm_loop/digest``) are left alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dagster import (
    AssetSelection,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    SensorDefinition,
    SkipReason,
    asset,
    build_run_status_sensor_context,
    define_asset_job,
    in_process_executor,
)

from checks.model import Severity, Suite
from checks.suites.common import email_expectation, keys_suite, live_rows
from connectors.salesforce.catalog import raw_table_name
from pipelines.defs.alerts.sensors import DIGEST_TAG, digest_sensors
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.quality.suite_checks import suite_checks
from pipelines.defs.resources import SalesforceResource, WarehouseResource
from pipelines.defs.salesforce.assets import salesforce_raw_assets
from pipelines.funnel.model import FunnelDefinitions
from sandbox.server.app import Sandbox
from tests.checks.helpers import AS_OF, land
from tests.checks.receivers import http_receiver

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


@dataclass
class Setup:
    instance: DagsterInstance
    defs: Definitions
    on_success: SensorDefinition
    on_failure: SensorDefinition
    received: list[tuple[str, Any]]

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
            dagster_run=self.instance.get_run_by_id(result.run_id),
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
            yield Setup(instance, defs, on_success, on_failure, received)
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
    assert digest["counts"] == {"checks": 2, "passed": 1, "failed": 1}
    assert [(f["check_name"], f["severity"], f["unexpected_count"], f["sample_ids"]) for f in digest["failing"]] == [
        ("raw_contacts__values", "WARN", 1, ["C1"])
    ]
    assert digest["escalation"] is False


def test_run_failing_before_any_check_alerts_with_the_failure(setup: Setup) -> None:
    result = setup.execute("salesforce_users")
    assert not result.success and result.get_asset_check_evaluations() == []
    assert setup.evaluate(setup.on_failure, result) is None
    assert len(setup.received) == 1
    _, digest = setup.received[0]
    assert digest["run_id"] == result.run_id and digest["counts"] == {"checks": 0} and digest["failing"] == []
    failure = digest["run_failure"]
    assert failure.startswith(f"{USERS}:"), failure
    assert "SalesforceAuthError" in failure and "invalid_client" in failure, failure


def test_runs_that_sent_their_own_digest_are_skipped(setup: Setup) -> None:
    succeeded = setup.execute("contacts", **{DIGEST_TAG: "cli"})
    failed = setup.execute("salesforce_users", **{DIGEST_TAG: "cli"})
    assert succeeded.success and not failed.success
    skipped = setup.evaluate(setup.on_success, succeeded)
    assert isinstance(skipped, SkipReason) and "sent its digest" in (skipped.skip_message or "")
    assert setup.evaluate(setup.on_failure, failed) is None
    assert setup.received == []


def test_a_later_run_is_judged_on_its_own_checks(setup: Setup) -> None:
    first, second = setup.execute("contacts"), setup.execute("contacts")
    for result in (first, second):
        setup.evaluate(setup.on_success, result)
    assert [d["run_id"] for _, d in setup.received] == [first.run_id, second.run_id]
    assert all(d["counts"] == {"checks": 2, "passed": 1, "failed": 1} for _, d in setup.received)
