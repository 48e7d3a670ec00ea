"""The one ``Definitions`` of crm-loop: every asset, check, resource, schedule and sensor, assembled here."""
from __future__ import annotations

from dagster import Definitions

from pipelines.defs.quality.harmonised_checks import canonical_checks, closed_loop_checks
from pipelines.defs.quality.raw_checks import hubspot_raw_checks, salesforce_raw_checks
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.alerts.sensors import digest_sensors
from pipelines.defs.quality.sla_check import sla_checks
from pipelines.defs.closed_loop.canonical import canonical_tables
from pipelines.defs.closed_loop.assets import closed_loop
from pipelines.defs.hubspot.assets import hubspot_raw_assets
from pipelines.defs.salesforce.assets import salesforce_raw_assets
from pipelines.defs.closed_loop.snapshots import sla_daily_snapshots
from pipelines.defs.funnel_resource import FunnelDefinitionsResource
from pipelines.defs.jobs import full_resync_job, nightly_job, sla_snapshot_job
from pipelines.defs.schedules import nightly_schedule, sla_snapshot_schedule
from pipelines.defs.settings import hubspot_from_env, salesforce_from_env, warehouse_from_env


def build_definitions() -> Definitions:
    """Resources are configured from the environment as it is now (secrets stay ``EnvVar`` references)."""
    warehouse = warehouse_from_env()
    return Definitions(
        assets=[*salesforce_raw_assets, *hubspot_raw_assets, canonical_tables, closed_loop, sla_daily_snapshots],
        asset_checks=[*salesforce_raw_checks, *hubspot_raw_checks, *canonical_checks, *closed_loop_checks, *sla_checks],
        jobs=[nightly_job, full_resync_job, sla_snapshot_job],
        schedules=[nightly_schedule, sla_snapshot_schedule],
        sensors=digest_sensors([nightly_job, full_resync_job], warehouse),
        resources={
            "salesforce": salesforce_from_env(),
            "hubspot": hubspot_from_env(),
            "warehouse": warehouse,
            "funnel_definitions": FunnelDefinitionsResource(),
            "checks": ChecksResource(),
        },
    )


defs = build_definitions()
