"""The handover reconciliation (the shared score against the CRMs' MQLs) as two WARN asset checks on
``closed_loop_leads``, evaluated in one step: both findings come from one reconciliation."""

from collections.abc import Iterator
from datetime import UTC, datetime

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from checks.handover import DETAIL_GROUPS, RULES, reconcile
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse

_LEADS = AssetKey(CLOSED_LOOP_LEADS.name)
_PREFIX = "handover_"


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            f"{_PREFIX}{name}",
            asset=_LEADS,
            blocking=False,
            description=f"[WARN] {text} (counts by original source and campaign)",
        )
        for name, text in RULES.items()
    ],
    name="closed_loop_leads__handover",
    can_subset=True,
)
def handover_check(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource, checks: ChecksResource
) -> Iterator[AssetCheckResult]:
    from checks.history import CheckHistory, RunStamp

    settings = checks.settings()
    wh = shared_warehouse(warehouse)
    handover = reconcile(wh.engine, wh.schema, settings.defs)
    selected = {k.name.removeprefix(_PREFIX) for k in context.selected_asset_check_keys}
    findings = [f for f in handover.findings if f.name in selected]
    stamp = RunStamp(
        context.run.run_id, datetime.now(UTC), settings.as_of, settings.defs.version, settings.defs.content_sha256
    )
    CheckHistory(wh.engine, wh.schema).record(stamp, [f.record(handover.leads) for f in findings])
    for finding in findings:
        table = "\n".join(
            ["| source | campaign | leads |", "|---|---|---|"]
            + [
                f"| {g.source or '-'} | {g.campaign or '-'} | {g.leads} |"
                for g in finding.by_source_campaign[:DETAIL_GROUPS]
            ]
        )
        yield AssetCheckResult(
            asset_key=_LEADS,
            check_name=f"{_PREFIX}{finding.name}",
            passed=finding.count == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "leads": finding.count,
                "by_source_campaign": MetadataValue.md(table),
                "sample_ids": MetadataValue.json(list(finding.sample_ids)),
                "threshold": float(settings.defs.lead_score.mql_threshold),
            },
        )


handover_checks: list[AssetChecksDefinition] = [handover_check]
