"""GX suites as Dagster asset checks on the assets they guard, each writing its outcome to ``check_results``.

The set of checks is fixed when the code location loads (names, assets, severities); the suites themselves
are rebuilt at run time from the resource's definitions and ``as_of``, so a freshness window or an edited enum
applies without reloading. ERROR suites are blocking: a failure stops the downstream assets; WARN ones are not.
Suites are plain data until one is validated, so loading the code location never imports Great Expectations:
``checks.engine`` is imported by the first check step that runs.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from checks.model import Severity, Suite, SuiteResult
from pipelines.defs.budget_stop import not_blocking, stopped_in_this_run
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import FunnelDefinitions

SuiteFactory = Callable[[FunnelDefinitions, datetime, timedelta], list[Suite]]


def suite_checks(factory: SuiteFactory) -> list[AssetChecksDefinition]:
    """One asset check per suite the factory yields for the default definitions, run in one step per asset:
    a step costs the run more (events, resources, bookkeeping) than most validations, and a run has a hundred
    suites on two dozen tables."""
    template = factory(load_definitions(), datetime.now(UTC), timedelta(hours=36))
    by_asset: dict[str, list[Suite]] = {}
    for suite in template:
        by_asset.setdefault(suite.asset, []).append(suite)
    return [_checks(factory, asset, suites) for asset, suites in by_asset.items()]


def _checks(factory: SuiteFactory, asset: str, templates: list[Suite]) -> AssetChecksDefinition:
    key = AssetKey(asset)
    specs = [
        AssetCheckSpec(
            t.name,
            asset=key,
            blocking=t.severity is Severity.ERROR,
            description=f"[{t.severity.value}] {t.description or t.name}",
        )
        for t in templates
    ]

    @multi_asset_check(specs=specs, name=f"{asset}__quality", can_subset=True)
    def _run(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource, checks: ChecksResource
    ) -> Iterator[AssetCheckResult]:
        # Great Expectations (when a suite needs it), SQLAlchemy and the history table load with the first check.
        from checks.engine import validate
        from checks.history import CheckHistory, CheckRecord, RunStamp

        settings = checks.settings()
        selected = {k.name for k in context.selected_asset_check_keys if k.asset_key == key}
        suites = [s for s in factory(settings.defs, settings.as_of, settings.max_age) if s.name in selected]
        wh = shared_warehouse(warehouse)
        stopped = stopped_in_this_run(context, key)
        stamp = RunStamp(
            context.run.run_id,
            datetime.now(UTC),
            settings.as_of,
            settings.defs.version,
            settings.defs.content_sha256,
        )
        results = [validate(wh.engine, wh.schema, suite) for suite in suites]
        # One write for the step's rows: each write is a transaction (and on DuckDB a checkpoint's worth of work).
        CheckHistory(wh.engine, wh.schema).record(stamp, [CheckRecord.from_suite(r) for r in results])
        for suite, result in zip(suites, results, strict=True):
            outcome = check_result(result, settings.defs, AssetCheckKey(key, suite.name))
            if result.status != "passed":
                # The run's summary already says the extraction stopped at the budget: no warning per check.
                (context.log.info if stopped else context.log.warning)(
                    f"{suite.name}: {result.status} ({result.unexpected_count} offending rows) {result.error or ''}"
                )
                if stopped:
                    outcome = not_blocking(outcome)
            yield outcome

    return _run


def check_result(result: SuiteResult, defs: FunnelDefinitions, key: AssetCheckKey) -> AssetCheckResult:
    failing = [
        {
            "expectation": o.expectation,
            "column": o.column,
            "unexpected_count": o.unexpected_count,
            **({"observed": o.observed} if o.observed else {}),
        }
        for o in result.failed
    ]
    return AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=result.status == "passed",
        severity=AssetCheckSeverity.ERROR if result.severity is Severity.ERROR else AssetCheckSeverity.WARN,
        metadata={
            "status": result.status,
            "rows_checked": result.rows,
            "failing_expectations": MetadataValue.json(failing),
            "unexpected_count": result.unexpected_count,
            "sample_ids": MetadataValue.json(list(result.sample_ids)),
            "definitions_hash": defs.content_hash,
            **({"error": MetadataValue.text(result.error)} if result.error else {}),
        },
    )
