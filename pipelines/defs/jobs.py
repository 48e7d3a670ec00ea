"""Jobs: the nightly incremental sync of everything, an ad-hoc full resync of the raw CRM tables, and the daily
SLA snapshot (partitioned by day, as its asset is)."""

from __future__ import annotations

from dataclasses import dataclass

from dagster import AssetsDefinition, AssetSelection, define_asset_job, in_process_executor

from pipelines.defs.hubspot.assets import hubspot_object_assets
from pipelines.defs.salesforce.assets import salesforce_raw_assets

RAW_GROUPS = ("salesforce_raw", "hubspot_raw")
NIGHTLY = "crm_loop_nightly"
FULL_RESYNC = "crm_loop_full_resync"
SLA_SNAPSHOT = "crm_loop_sla_snapshot"
# The jobs that read the CRMs: their runs need both CRMs' credentials, checked before the first step.
EXTRACTION_JOBS = frozenset({NIGHTLY, FULL_RESYNC})


@dataclass(frozen=True)
class CrmLoopJobs:
    # define_asset_job's result type is not exported by Dagster; these are resolved by Definitions.
    nightly: object
    full_resync: object
    sla_snapshot: object

    def all(self) -> list[object]:
        return [self.nightly, self.full_resync, self.sla_snapshot]


def _full_refresh_config(assets: list[AssetsDefinition]) -> dict[str, object]:
    return {"ops": {a.op.name: {"config": {"full_refresh": True}} for a in assets}}


def crm_loop_jobs(sla_snapshots: AssetsDefinition) -> CrmLoopJobs:
    # The embedded DuckDB file admits one writing process: run every step in one process, one at a time.
    # PostgreSQL deployments may swap in the multiprocess executor (README, "Scaling out").
    return CrmLoopJobs(
        nightly=define_asset_job(
            NIGHTLY,
            # The daily snapshots are partitioned by day: they run in their own job (and backfill by date range).
            selection=AssetSelection.all() - AssetSelection.assets(sla_snapshots),
            executor_def=in_process_executor,
            description="Incremental sync of both CRMs, then every derived table, check and alert.",
        ),
        full_resync=define_asset_job(
            FULL_RESYNC,
            selection=AssetSelection.groups(*RAW_GROUPS),
            executor_def=in_process_executor,
            # Owners, edges and history have no cursor to reset: they are re-read whole or per record anyway.
            config=_full_refresh_config([*salesforce_raw_assets, *hubspot_object_assets]),
            description="Re-extract every CRM object from scratch, ignoring cursors (derived tables follow nightly).",
        ),
        sla_snapshot=define_asset_job(
            SLA_SNAPSHOT,
            selection=AssetSelection.assets(sla_snapshots),
            executor_def=in_process_executor,
            description="The SLA outcomes of one day's MQLs as they stood at the end of that day; backfill any range.",
        ),
    )
