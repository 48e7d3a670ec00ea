"""The one ``Definitions`` of crm-loop: every asset, check, resource, schedule and sensor, assembled here."""
from __future__ import annotations

from dagster import Definitions

from pipelines.assets.hubspot_raw import hubspot_raw_assets
from pipelines.assets.salesforce_raw import salesforce_raw_assets
from pipelines.jobs import full_resync_job, nightly_job
from pipelines.schedules import nightly_schedule
from pipelines.settings import hubspot_from_env, salesforce_from_env, warehouse_from_env


def build_definitions() -> Definitions:
    """Resources are configured from the environment as it is now (secrets stay ``EnvVar`` references)."""
    return Definitions(
        assets=[*salesforce_raw_assets, *hubspot_raw_assets],
        jobs=[nightly_job, full_resync_job],
        schedules=[nightly_schedule],
        resources={
            "salesforce": salesforce_from_env(),
            "hubspot": hubspot_from_env(),
            "warehouse": warehouse_from_env(),
        },
    )


defs = build_definitions()
