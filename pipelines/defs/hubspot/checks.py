"""The raw HubSpot tables' data-quality suites, as asset checks on those tables."""

from __future__ import annotations

from datetime import datetime, timedelta

from dagster import AssetChecksDefinition

from checks.model import Suite
from checks.suites.hubspot import hubspot_suites
from connectors.hubspot.catalog import OBJECT_TYPES
from pipelines.defs.quality.suite_checks import suite_checks
from pipelines.funnel.model import FunnelDefinitions


def _suites(defs: FunnelDefinitions, as_of: datetime, max_age: timedelta) -> list[Suite]:
    return hubspot_suites(OBJECT_TYPES, defs, as_of, max_age)


hubspot_raw_checks: list[AssetChecksDefinition] = suite_checks(_suites)
