"""The one ``Definitions`` of crm-loop: every asset, check, resource, schedule and sensor, assembled here."""
from __future__ import annotations

from dagster import Definitions

from pipelines.assets.salesforce_raw import salesforce_raw_assets
from pipelines.settings import salesforce_from_env, warehouse_from_env

defs = Definitions(
    assets=[*salesforce_raw_assets],
    resources={
        "salesforce": salesforce_from_env(),
        "warehouse": warehouse_from_env(),
    },
)
