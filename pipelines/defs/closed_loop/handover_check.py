"""The handover reconciliation (the shared score against the CRMs' MQLs) as two WARN asset checks on
``closed_loop_leads``."""

from datetime import UTC, datetime

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from checks.handover import DETAIL_GROUPS, RULES, reconcile
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse


def _handover_check(name: str) -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey(CLOSED_LOOP_LEADS.name),
        name=f"handover_{name}",
        blocking=False,
        description=f"[WARN] {RULES[name]} (counts by original source and campaign)",
    )
    def check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource, checks: ChecksResource
    ) -> AssetCheckResult:
        from checks.history import CheckHistory, RunStamp

        settings = checks.settings()
        wh = shared_warehouse(warehouse)
        handover = reconcile(wh.engine, wh.schema, settings.defs)
        finding = next(f for f in handover.findings if f.name == name)
        stamp = RunStamp(
            context.run.run_id, datetime.now(UTC), settings.as_of, settings.defs.version, settings.defs.content_sha256
        )
        CheckHistory(wh.engine, wh.schema).record(stamp, [finding.record(handover.leads)])
        table = "\n".join(
            ["| source | campaign | leads |", "|---|---|---|"]
            + [
                f"| {g.source or '-'} | {g.campaign or '-'} | {g.leads} |"
                for g in finding.by_source_campaign[:DETAIL_GROUPS]
            ]
        )
        return AssetCheckResult(
            passed=finding.count == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "leads": finding.count,
                "by_source_campaign": MetadataValue.md(table),
                "sample_ids": MetadataValue.json(list(finding.sample_ids)),
                "threshold": float(settings.defs.lead_score.mql_threshold),
            },
        )

    return check


handover_checks: list[AssetChecksDefinition] = [_handover_check(name) for name in RULES]
