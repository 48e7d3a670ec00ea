"""Daily SLA snapshots, one partition per day: backfill any date range from the Dagster UI or the CLI."""

from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DailyPartitionsDefinition,
    MaterializeResult,
    asset,
)

from connectors.warehouse.catalog.harmonised import CANONICAL_TABLES, SLA_DAILY_SNAPSHOTS
from pipelines.closed_loop.inputs import HISTORY_TABLES
from pipelines.defs.funnel import FunnelDefinitionsResource
from pipelines.defs.metadata import column_schema
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.settings import ScheduleSettings
from pipelines.defs.warehouse_cache import shared_warehouse


def sla_snapshot_asset(schedule: ScheduleSettings) -> AssetsDefinition:
    """The asset with its day partitions in the schedule's time zone, from the configured first day."""
    partitions = DailyPartitionsDefinition(start_date=schedule.snapshot_start, timezone=schedule.timezone)
    return asset(
        name=SLA_DAILY_SNAPSHOTS.name,
        group_name="closed_loop",
        kinds={"sql"},
        partitions_def=partitions,
        deps=[AssetKey(s.name) for s in CANONICAL_TABLES] + [AssetKey(t) for t in HISTORY_TABLES],
        description=SLA_DAILY_SNAPSHOTS.doc,
        metadata={
            "dagster/column_schema": column_schema(SLA_DAILY_SNAPSHOTS.columns),
            "primary_key": "snapshot_date, person_key",
        },
    )(_sla_daily_snapshots)


def _sla_daily_snapshots(
    context: AssetExecutionContext, warehouse: WarehouseResource, funnel_definitions: FunnelDefinitionsResource
) -> MaterializeResult:
    from pipelines.closed_loop.build import write_sla_snapshot  # the SQL models load with the step

    defs = funnel_definitions.load()
    rows, as_of = write_sla_snapshot(shared_warehouse(warehouse), defs, date.fromisoformat(context.partition_key))
    return MaterializeResult(
        metadata={"dagster/row_count": rows, "as_of": as_of.isoformat(), "definitions_hash": defs.content_hash}
    )
