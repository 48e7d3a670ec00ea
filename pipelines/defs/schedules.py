"""The nightly schedule and the morning snapshot: cron and time zone from the settings, so RevOps can move
them without a deploy."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, ScheduleDefinition, build_schedule_from_partitioned_job

from pipelines.defs.jobs import CrmLoopJobs
from pipelines.defs.settings import ScheduleSettings


def crm_loop_schedules(jobs: CrmLoopJobs, settings: ScheduleSettings) -> list[ScheduleDefinition]:
    nightly = ScheduleDefinition(
        name="crm_loop_nightly_schedule",
        job=jobs.nightly,  # type: ignore[arg-type]
        cron_schedule=settings.nightly_cron,
        execution_timezone=settings.timezone,
        default_status=DefaultScheduleStatus.RUNNING,
        description="Incremental sync of both CRMs and every derived table, check and alert, once a night.",
    )
    # Each morning, after the nightly sync, snapshot the day that just ended.
    snapshot = build_schedule_from_partitioned_job(
        jobs.sla_snapshot,  # type: ignore[arg-type]
        name="crm_loop_sla_snapshot_schedule",
        hour_of_day=6,
        default_status=DefaultScheduleStatus.RUNNING,
        description="Each morning, the SLA snapshot of the day that just ended.",
    )
    return [nightly, snapshot]  # type: ignore[list-item]
