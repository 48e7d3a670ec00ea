"""The nightly schedule: cron and time zone from the environment, so RevOps can move it without a deploy."""
import os

from dagster import DefaultScheduleStatus, ScheduleDefinition, build_schedule_from_partitioned_job

from pipelines.defs.jobs import nightly_job, sla_snapshot_job

nightly_schedule = ScheduleDefinition(
    name="crm_loop_nightly_schedule",
    job=nightly_job,
    cron_schedule=os.environ.get("CRM_LOOP_NIGHTLY_CRON", "0 2 * * *"),
    execution_timezone=os.environ.get("CRM_LOOP_TIMEZONE", "America/New_York"),
    default_status=DefaultScheduleStatus.RUNNING,
    description="Incremental sync of both CRMs and every derived table, check and alert, once a night.",
)

# Each morning, after the nightly sync, snapshot the day that just ended.
sla_snapshot_schedule = build_schedule_from_partitioned_job(
    sla_snapshot_job, name="crm_loop_sla_snapshot_schedule", hour_of_day=6,
    default_status=DefaultScheduleStatus.RUNNING,
)
