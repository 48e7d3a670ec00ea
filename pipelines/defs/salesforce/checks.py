"""The raw Salesforce tables' data-quality suites, as asset checks on those tables."""

from __future__ import annotations

from datetime import datetime, timedelta

from dagster import AssetChecksDefinition

from checks.model import Suite
from checks.suites.salesforce import salesforce_suites
from connectors.salesforce.catalog import OBJECTS
from pipelines.defs.quality.suite_checks import suite_checks
from pipelines.funnel.model import FunnelDefinitions


def _suites(defs: FunnelDefinitions, as_of: datetime, max_age: timedelta) -> list[Suite]:
    return salesforce_suites(OBJECTS, defs, as_of, max_age)


salesforce_raw_checks: list[AssetChecksDefinition] = suite_checks(_suites)
