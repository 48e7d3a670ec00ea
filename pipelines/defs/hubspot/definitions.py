"""HubSpot: the raw object tables, owners, edges, history and pipeline stages, with their checks beside them."""

from dagster import Definitions

from pipelines.defs.hubspot.assets import hubspot_merged_records, hubspot_raw_assets
from pipelines.defs.hubspot.checks import hubspot_raw_checks


def hubspot_definitions() -> Definitions:
    return Definitions(assets=[*hubspot_raw_assets, hubspot_merged_records], asset_checks=hubspot_raw_checks)
