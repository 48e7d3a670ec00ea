"""The harmonised side: canonical tables, closed_loop_leads and its views, the daily SLA snapshots, the quality
and SLA checks on them, and the leaders' report."""

from dagster import AssetsDefinition, Definitions

from pipelines.defs.closed_loop.assets import closed_loop
from pipelines.defs.closed_loop.canonical import canonical_tables
from pipelines.defs.closed_loop.checks import canonical_checks, closed_loop_checks
from pipelines.defs.closed_loop.handover_check import handover_checks
from pipelines.defs.closed_loop.report_asset import leaders_report
from pipelines.defs.closed_loop.sla_check import sla_checks


def closed_loop_definitions(sla_snapshots: AssetsDefinition) -> Definitions:
    return Definitions(
        assets=[canonical_tables, closed_loop, sla_snapshots, leaders_report],
        asset_checks=[*canonical_checks, *closed_loop_checks, *sla_checks, *handover_checks],
    )
