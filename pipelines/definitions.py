"""The one ``Definitions`` of crm-loop: every asset, check, resource, schedule and sensor, assembled here."""
from __future__ import annotations

from dagster import Definitions

from checks.harmonised_checks import canonical_checks, closed_loop_checks
from checks.raw_checks import hubspot_raw_checks, salesforce_raw_checks
from checks.resource import ChecksResource
from checks.sensors import digest_sensors
from checks.sla.asset_check import sla_checks
from pipelines.assets.canonical import canonical_tables
from pipelines.assets.closed_loop import closed_loop
from pipelines.assets.hubspot_raw import hubspot_raw_assets
from pipelines.assets.salesforce_raw import salesforce_raw_assets
from pipelines.assets.sla_snapshots import sla_daily_snapshots
from pipelines.definitions_resource import FunnelDefinitionsResource
from pipelines.jobs import full_resync_job, nightly_job, sla_snapshot_job
from pipelines.schedules import nightly_schedule, sla_snapshot_schedule
from pipelines.settings import hubspot_from_env, salesforce_from_env, warehouse_from_env


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
