"""The raw tables' asset checks, as lists for ``pipelines/definitions.py``."""
from __future__ import annotations

from datetime import datetime, timedelta

from dagster import AssetChecksDefinition

from pipelines.defs.quality.suite_checks import suite_checks
from checks.model import Suite
from checks.suites.hubspot import hubspot_suites
from checks.suites.salesforce import salesforce_suites
from connectors.hubspot.catalog import OBJECT_TYPES
from connectors.salesforce.catalog import OBJECTS as SALESFORCE_OBJECTS
from pipelines.funnel.model import Definitions


def _salesforce(defs: Definitions, as_of: datetime, max_age: timedelta) -> list[Suite]:
    return salesforce_suites(SALESFORCE_OBJECTS, defs, as_of, max_age)


def _hubspot(defs: Definitions, as_of: datetime, max_age: timedelta) -> list[Suite]:
    return hubspot_suites(tuple(OBJECT_TYPES), defs, as_of, max_age)


salesforce_raw_checks: list[AssetChecksDefinition] = suite_checks(_salesforce)
hubspot_raw_checks: list[AssetChecksDefinition] = suite_checks(_hubspot)
