"""An extraction step that meets the run's API budget ends as a materialization that says so, not as a failure.

The budget stop leaves the object's sync state at its last committed batch (the next run resumes there), so what
landed is sound, and the derived tables must still build from it: a failed step would make Dagster skip
everything downstream. The materialization carries ``BUDGET_STOP`` (the reason) and ``BUDGET_STOP_REQUESTS`` (what
the step spent before the stop: 0 when the budget was already gone and nothing was requested); the runner reads
them to report the run as stopped at the budget, one line per step, and to exit with its own code.

The blocking checks of such an asset do not block: its table is what the extraction had committed when the budget
ran out (possibly not yet created on a first run), and the next run resumes from there; a check that fails on it
is reported as a warning of this run rather than stopping every derived table.
"""

from __future__ import annotations

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
)

from connectors.api.budget import ApiBudgetExceeded

BUDGET_STOP = "crm_loop/api_budget_stop"
BUDGET_STOP_REQUESTS = "crm_loop/api_budget_stop_requests"


def stopped_at_budget(context: AssetExecutionContext, stop: ApiBudgetExceeded, requests: int) -> MaterializeResult:
    context.log.info(f"stopped at the API budget after {requests} requests: {stop}; resumes at the next run")
    return MaterializeResult(
        metadata={BUDGET_STOP: MetadataValue.text(str(stop)), BUDGET_STOP_REQUESTS: MetadataValue.int(requests)}
    )


def stopped_in_this_run(context: AssetCheckExecutionContext, asset: AssetKey) -> bool:
    """Whether ``asset``'s latest materialization is a budget stop of the run ``context`` belongs to."""
    entry = context.instance.get_latest_materialization_event(asset)
    materialization = entry.asset_materialization if entry is not None else None
    return (
        materialization is not None
        and entry is not None
        and entry.run_id == context.run.run_id
        and (BUDGET_STOP in materialization.metadata)
    )


def not_blocking(result: AssetCheckResult) -> AssetCheckResult:
    """``result`` as a warning: the check of a budget-stopped asset must not stop the derived tables."""
    if result.passed or result.severity is AssetCheckSeverity.WARN:
        return result
    return AssetCheckResult(
        asset_key=result.asset_key,
        check_name=result.check_name,
        passed=False,
        severity=AssetCheckSeverity.WARN,
        metadata={**result.metadata, BUDGET_STOP: MetadataValue.text("the extraction stopped at the API budget")},
        description=result.description,
    )
