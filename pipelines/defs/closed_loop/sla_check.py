"""The SLA audit as a (non-blocking, WARN) asset check on ``closed_loop_leads``."""

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

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse


@asset_check(
    asset=AssetKey(CLOSED_LOOP_LEADS.name),
    name="sla_compliance",
    blocking=False,
    description="[WARN] SLA compliance per lead, owner, team and month; ignored leads; monthly MQL commitment",
)
def sla_compliance_check(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource, checks: ChecksResource
) -> AssetCheckResult:
    # The audit (pandas, SQLAlchemy) loads with the check step, not the code location; it counts in the warehouse.
    from checks.history import CheckHistory, RunStamp
    from checks.sla.evaluate import audit
    from checks.sla.store import SlaStore

    settings = checks.settings()
    wh = shared_warehouse(warehouse)
    result = audit(wh.engine, wh.schema, settings.defs, settings.as_of)
    now = datetime.now(UTC)
    CheckHistory(wh.engine, wh.schema).record(
        RunStamp(context.run.run_id, now, settings.as_of, settings.defs.version, settings.defs.content_sha256),
        result.records(),
    )
    SlaStore(wh.engine, wh.schema).record(context.run.run_id, now, settings.defs.content_sha256, result.rollups)
    breached = {r.rule: r.breached for r in result.rules}
    teams = result.rollups[result.rollups["dimension"] == "team"]
    return AssetCheckResult(
        passed=not any(breached.values()) and result.ignored_count == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "breached_by_rule": MetadataValue.json(breached),
            "ignored_leads": result.ignored_count,
            "oldest_ignored_days": result.oldest_ignored_days or 0.0,
            "sample_ids": MetadataValue.json(result.ignored["person_key"].astype(str).head(10).tolist()),
            "by_team": MetadataValue.md(teams.to_markdown(index=False) if len(teams) else "(no leads)"),
            "mql_commitment": MetadataValue.json(
                [
                    {"month": c.month.isoformat(), "count": c.count, "target": c.target, "status": c.status}
                    for c in result.commitment
                ]
            ),
            "definitions_hash": settings.defs.content_hash,
        },
    )


sla_checks: list[AssetChecksDefinition] = [sla_compliance_check]
