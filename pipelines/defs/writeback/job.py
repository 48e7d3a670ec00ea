"""Write-back as its own Dagster job, never part of the extraction: ``crm_loop_writeback`` runs one write-back
(a dry run unless configured ``apply: true``), and a sensor (off until switched on) starts an applying run after
each successful nightly build, so the CRMs get values from a complete, checked build.

No ``from __future__ import annotations``: Dagster reads the op's config and resource types from its signature."""

from typing import Any

from dagster import (
    Config,
    DagsterRunStatus,
    DefaultSensorStatus,
    Failure,
    OpExecutionContext,
    RunRequest,
    RunStatusSensorContext,
    SensorDefinition,
    in_process_executor,
    job,
    op,
    run_status_sensor,
)
from pydantic import Field

from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.resources import HubSpotResource, SalesforceResource, WarehouseResource

WRITEBACK = "crm_loop_writeback"


class WritebackConfig(Config):
    apply: bool = Field(default=False, description="Write the changed values; false = dry run (the diff is stored)")


@op(description="Plans, stores and (with apply) writes crm-loop's outcomes into the CRM fields the definitions list.")
def writeback_op(
    context: OpExecutionContext,
    config: WritebackConfig,
    warehouse: WarehouseResource,
    hubspot: HubSpotResource,
    salesforce: SalesforceResource,
    funnel_definitions: FunnelDefinitionsResource,
) -> None:
    # The CRM clients, SQLAlchemy and Arrow load with the step, not with the code location.
    from pipelines.defs.writeback.targets import open_targets
    from pipelines.writeback.run import run_writeback, summary_lines

    defs = funnel_definitions.load().writeback
    if defs is None or not defs.fields:
        context.log.info("the definitions file lists no writeback fields: nothing to write")
        return
    wh = warehouse.open()
    try:
        with open_targets(defs, hubspot, salesforce, context.run_id) as targets:
            outcome = run_writeback(wh, defs, targets, apply=config.apply, run_id=context.run_id)
    finally:
        wh.close()
    total = summary_lines(outcome)[len(outcome.changes)]  # the line after the per-field ones: the totals
    context.log.info(f"{total} (per field: writeback_audit where run_id = '{context.run_id}')")
    if outcome.budget_stopped:
        # Unlike an extraction, nothing downstream waits on this run: the stop is its outcome, shown as such.
        raise Failure(description=f"stopped at the API budget: {outcome.budget_stopped}")


@job(
    name=WRITEBACK,
    executor_def=in_process_executor,
    description="Writes crm-loop's outcomes back into HubSpot and Salesforce (dry run unless apply: true).",
)
def writeback_job() -> None:
    writeback_op()


def writeback_after_nightly(nightly: Any) -> SensorDefinition:
    """``nightly``: what ``define_asset_job`` returns (a type Dagster does not export)."""

    @run_status_sensor(
        run_status=DagsterRunStatus.SUCCESS,
        monitored_jobs=[nightly],
        request_job=writeback_job,
        name="writeback_after_nightly",
        # Writing into the CRMs is switched on deliberately, after RevOps reviewed a dry run.
        default_status=DefaultSensorStatus.STOPPED,
        description="Applies write-back after each successful nightly build (off until switched on).",
    )
    def after_nightly(context: RunStatusSensorContext) -> RunRequest:
        return RunRequest(
            run_key=context.dagster_run.run_id,
            run_config={"ops": {"writeback_op": {"config": {"apply": True}}}},
        )

    return after_nightly
