"""Salesforce: one raw-table asset per catalogued object, with its data-quality checks beside it."""

from dagster import Definitions

from pipelines.defs.salesforce.assets import salesforce_raw_assets
from pipelines.defs.salesforce.checks import salesforce_raw_checks


def salesforce_definitions() -> Definitions:
    return Definitions(assets=salesforce_raw_assets, asset_checks=salesforce_raw_checks)
