"""Jobs: the nightly incremental sync of everything, and an ad-hoc full resync of the raw CRM tables."""
from dagster import AssetSelection, AssetsDefinition, define_asset_job, in_process_executor

from pipelines.defs.hubspot.assets import hubspot_object_assets
from pipelines.defs.salesforce.assets import salesforce_raw_assets
from pipelines.defs.closed_loop.snapshots import sla_daily_snapshots

RAW_GROUPS = ("salesforce_raw", "hubspot_raw")


def _full_refresh_config(assets: list[AssetsDefinition]) -> dict[str, object]:
    return {"ops": {a.op.name: {"config": {"full_refresh": True}} for a in assets}}


# The embedded DuckDB file admits one writing process: run every step in one process, one at a time.
# PostgreSQL deployments may swap in the multiprocess executor (README, "Scaling out").
nightly_job = define_asset_job(
    "crm_loop_nightly",
    # The daily snapshots are partitioned by day: they run in their own job (and backfill by date range).
    selection=AssetSelection.all() - AssetSelection.assets(sla_daily_snapshots),
    executor_def=in_process_executor,
    description="Incremental sync of both CRMs, then every derived table, check and alert.",
)

full_resync_job = define_asset_job(
    "crm_loop_full_resync",
    selection=AssetSelection.groups(*RAW_GROUPS),
    executor_def=in_process_executor,
    # Owners, edges and history have no cursor to reset: they are re-read whole or per record anyway.
    config=_full_refresh_config([*salesforce_raw_assets, *hubspot_object_assets]),
    description="Re-extract every CRM object from scratch, ignoring cursors (derived tables follow nightly).",
)

sla_snapshot_job = define_asset_job(
    "crm_loop_sla_snapshot",
    selection=AssetSelection.assets(sla_daily_snapshots),  # partitioned by day, as its asset is
    executor_def=in_process_executor,
    description="The SLA outcomes of one day's MQLs as they stood at the end of that day; backfill any range.",
)
