"""Run-status sensors: every monitored run that ends sends one digest of its checks; a run that failed
(a step error, or a blocking check that stopped it) always sends one, with the failure, through the same
channels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from dagster import (
    DagsterRunStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    SensorDefinition,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
)

from checks.alerts.config import alert_config_from_env
from pipelines.defs.resources import WarehouseResource
from pipelines.funnel.definitions import load_definitions

if TYPE_CHECKING:
    from checks.alerts.dispatch import DispatchReport

# Runs started by ``crm-loop demo``/``sync`` send their own digest; the sensors leave those alone.
DIGEST_TAG = "crm_loop/digest"


class ErrorInfo(Protocol):
    """What the sensor reads of Dagster's serialisable error (its class is not part of Dagster's public API)."""

    @property
    def message(self) -> str: ...
    @property
    def cls_name(self) -> str | None: ...
    @property
    def cause(self) -> ErrorInfo | None: ...


def digest_for_run(run_id: str, warehouse: WarehouseResource, run_failure: str | None = None) -> DispatchReport:
    # The alert channels and the check history (SQLAlchemy, pandas) load when a run ends, not with the sensors.
    from checks.alerts.dispatch import send_run_digest

    config = alert_config_from_env(load_definitions().sla.escalation)
    # Outside a run, EnvVar-backed fields are still unresolved: resolve them against the environment now.
    wh = warehouse.process_config_and_initialize().open()
    try:
        return send_run_digest(wh.engine, wh.schema, run_id, config, run_failure=run_failure)
    finally:
        wh.close()


def _root_cause(error: ErrorInfo) -> str:
    # Dagster wraps the step's exception ("Error occurred while executing op ..."); the innermost cause says
    # what actually went wrong (a refused login, a lost connection).
    while error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines()
    return lines[0] if lines else error.cls_name or "failed"


def _failure_summary(context: RunFailureSensorContext) -> str:
    steps = []
    for event in context.get_step_failure_events():
        error = event.event_specific_data.error if event.event_specific_data else None  # type: ignore[union-attr]
        steps.append(f"{event.step_key}: {_root_cause(error) if error else 'failed'}")
    return "; ".join(steps) or (context.failure_event.message or "the run failed")


def _log_failed(context: RunStatusSensorContext, report: DispatchReport) -> None:
    for delivery in report.failed:
        context.log.error(f"digest not delivered to {delivery.channel}: {delivery.error}")


def digest_sensors(jobs: Sequence[Any], warehouse: WarehouseResource) -> list[SensorDefinition]:
    """``jobs``: what ``define_asset_job`` returns (a type Dagster does not export)."""

    @run_status_sensor(
        run_status=DagsterRunStatus.SUCCESS,
        monitored_jobs=jobs,
        name="check_digest_on_success",
        description="Sends the digest of a finished nightly or resync run's checks to the alert channels.",
    )
    def on_success(context: RunStatusSensorContext) -> SkipReason | None:
        if DIGEST_TAG in context.dagster_run.tags:
            return SkipReason("the process that ran it sent its digest")
        report = digest_for_run(context.dagster_run.run_id, warehouse)
        if report.digest is None:
            return SkipReason("the run wrote no check results")
        _log_failed(context, report)
        return None

    @run_failure_sensor(
        monitored_jobs=jobs,
        name="alert_on_run_failure",
        description="Alerts the channels when a nightly or resync run fails, with its root cause.",
    )
    def on_failure(context: RunFailureSensorContext) -> None:
        if DIGEST_TAG in context.dagster_run.tags:
            return
        _log_failed(context, digest_for_run(context.dagster_run.run_id, warehouse, _failure_summary(context)))

    return [on_success, on_failure]
