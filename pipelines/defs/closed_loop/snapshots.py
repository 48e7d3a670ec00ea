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
    # pandas and the builders load with the step, not the code location.
    from pipelines.closed_loop.build import read_canonical
    from pipelines.closed_loop.closed_loop import build_closed_loop
    from pipelines.closed_loop.raw import read_tables
    from pipelines.closed_loop.snapshots import end_of_day, snapshot
    from pipelines.closed_loop.write import replace_slice

    defs = funnel_definitions.load()
    day = date.fromisoformat(context.partition_key)
    as_of = end_of_day(day, defs.sla.calendar.timezone)
    wh = shared_warehouse(warehouse)
    built = build_closed_loop(read_canonical(wh), read_tables(wh, HISTORY_TABLES), defs, as_of)
    rows = replace_slice(wh, SLA_DAILY_SNAPSHOTS, snapshot(built, day, as_of), "snapshot_date", day)
    return MaterializeResult(
        metadata={"dagster/row_count": rows, "as_of": as_of.isoformat(), "definitions_hash": defs.content_hash}
    )
