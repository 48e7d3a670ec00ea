"""The canonical tables' and closed_loop_leads' data-quality suites, as asset checks on those assets."""

from __future__ import annotations

from datetime import datetime, timedelta

from dagster import AssetChecksDefinition

from checks.model import Suite
from checks.suites.canonical import canonical_suites
from checks.suites.closed_loop import closed_loop_suites
from pipelines.defs.quality.suite_checks import suite_checks
from pipelines.funnel.model import FunnelDefinitions


def _canonical(defs: FunnelDefinitions, as_of: datetime, max_age: timedelta) -> list[Suite]:
    return canonical_suites(defs)


def _closed_loop(defs: FunnelDefinitions, as_of: datetime, max_age: timedelta) -> list[Suite]:
    return closed_loop_suites(defs)


canonical_checks: list[AssetChecksDefinition] = suite_checks(_canonical)
closed_loop_checks: list[AssetChecksDefinition] = suite_checks(_closed_loop)
