"""Run-status sensors: every monitored run that ends sends one digest of its checks; a run that failed
(a step error, or a blocking check that stopped it) always sends one, with the failure, through the same
channels. They run by default, as the schedules do: a scheduled run must alert someone without a click in the UI.

One digest per run: a run ends either in success or in failure (one sensor each), and runs whose starter sends
the digest itself (``crm-loop sync``, ``demo``: tagged ``DIGEST_TAG``) are skipped by both. A skipped run is
logged, not answered with a ``SkipReason``: a tick that handles several runs may not mix a ``SkipReason`` with
the others' results (Dagster fails the whole tick, and the daemon would retry it, sending the others' digests
again)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    SensorDefinition,
    run_failure_sensor,
    run_status_sensor,
)

from checks.alerts.config import alert_config_from_env
from pipelines.defs.resources import WarehouseResource
from pipelines.funnel.definitions import load_definitions

if TYPE_CHECKING:
    from checks.alerts.dispatch import DispatchReport
    from checks.model import Tally

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


def check_tally(run_id: str, warehouse: WarehouseResource) -> Tally:
    """The run's checks counted as its digest and the leaders' report count them (``checks.model.outcome``, one
    per ``check_results`` row): what a run summary prints so that one screen shows one set of numbers."""
    from checks.history import CheckHistory
    from checks.model import tally

    wh = warehouse.process_config_and_initialize().open()
    try:
        return tally(CheckHistory(wh.engine, wh.schema).for_run(run_id))
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
        default_status=DefaultSensorStatus.RUNNING,
        description="Sends the digest of a finished nightly or resync run's checks to the alert channels.",
    )
    def on_success(context: RunStatusSensorContext) -> None:
        if DIGEST_TAG in context.dagster_run.tags:
            context.log.info(f"run {context.dagster_run.run_id}: the process that ran it sent its digest")
            return
        report = digest_for_run(context.dagster_run.run_id, warehouse)
        if report.digest is None:
            context.log.info(f"run {context.dagster_run.run_id} wrote no check results: no digest")
            return
        _log_failed(context, report)

    @run_failure_sensor(
        monitored_jobs=jobs,
        name="alert_on_run_failure",
        default_status=DefaultSensorStatus.RUNNING,
        description="Alerts the channels when a nightly or resync run fails, with its root cause.",
    )
    def on_failure(context: RunFailureSensorContext) -> None:
        if DIGEST_TAG in context.dagster_run.tags:
            context.log.info(f"run {context.dagster_run.run_id}: the process that ran it sent its digest")
            return
        _log_failed(context, digest_for_run(context.dagster_run.run_id, warehouse, _failure_summary(context)))

    return [on_success, on_failure]
