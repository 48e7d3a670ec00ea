"""The one ``Definitions`` of crm-loop: each domain's definitions merged with the jobs, schedules, sensors and
the resources of this deployment (configured from the environment when the code location loads)."""

from __future__ import annotations

from collections.abc import Mapping

from dagster import Definitions

from pipelines.defs.alerts.sensors import digest_sensors
from pipelines.defs.closed_loop.definitions import closed_loop_definitions
from pipelines.defs.closed_loop.snapshots import sla_snapshot_asset
from pipelines.defs.hubspot.definitions import hubspot_definitions
from pipelines.defs.jobs import crm_loop_jobs
from pipelines.defs.metadata import annotate
from pipelines.defs.salesforce.definitions import salesforce_definitions
from pipelines.defs.schedules import crm_loop_schedules
from pipelines.defs.settings import ScheduleSettings, resources
from pipelines.defs.writeback.job import writeback_after_nightly, writeback_job
from pipelines.warehouse_settings import configured


def build_definitions(environ: Mapping[str, str] | None = None) -> Definitions:
    schedule = ScheduleSettings.from_env(environ)
    sla_snapshots = sla_snapshot_asset(schedule)
    jobs = crm_loop_jobs(sla_snapshots)
    deployment = resources(environ)
    merged = Definitions.merge(
        salesforce_definitions(),
        hubspot_definitions(),
        closed_loop_definitions(sla_snapshots),
        Definitions(
            jobs=[*jobs.all(), writeback_job],  # type: ignore[list-item]
            schedules=crm_loop_schedules(jobs, schedule),
            sensors=[
                *digest_sensors([jobs.nightly, jobs.full_resync], deployment["warehouse"]),  # type: ignore[arg-type]
                writeback_after_nightly(jobs.nightly),
            ],
            resources=deployment,
        ),
    )
    warehouse_url, _ = configured(environ)  # what the warehouse resource resolves to, named in each asset's kinds
    return annotate(merged, warehouse_url)


defs = build_definitions()
