"""GX suites as Dagster asset checks on the assets they guard, each writing its outcome to ``check_results``.

The set of checks is fixed when the code location loads (names, assets, severities); the suites themselves
are rebuilt at run time from the resource's definitions and ``as_of``, so a freshness window or an edited enum
applies without reloading. ERROR suites are blocking: a failure stops the downstream assets; WARN ones are not.
Suites are plain data until one is validated, so loading the code location never imports Great Expectations:
``checks.engine`` is imported by the first check step that runs.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from checks.model import Severity, Suite, SuiteResult
from pipelines.defs.quality.resource import ChecksResource
from pipelines.defs.resources import WarehouseResource
from pipelines.defs.warehouse_cache import shared_warehouse
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import FunnelDefinitions

SuiteFactory = Callable[[FunnelDefinitions, datetime, timedelta], list[Suite]]


def suite_checks(factory: SuiteFactory) -> list[AssetChecksDefinition]:
    """One asset check per suite the factory yields for the default definitions."""
    template = factory(load_definitions(), datetime.now(UTC), timedelta(hours=36))
    return [_check(factory, suite) for suite in template]


def _check(factory: SuiteFactory, template: Suite) -> AssetChecksDefinition:
    name = template.name

    @asset_check(
        asset=AssetKey(template.asset),
        name=name,
        blocking=template.severity is Severity.ERROR,
        description=f"[{template.severity.value}] {template.description or name}",
    )
    def _run(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource, checks: ChecksResource
    ) -> AssetCheckResult:
        # Great Expectations, SQLAlchemy and the history table load with the first check that runs.
        from checks.engine import validate
        from checks.history import CheckHistory, CheckRecord, RunStamp

        settings = checks.settings()
        suite = next(s for s in factory(settings.defs, settings.as_of, settings.max_age) if s.name == name)
        wh = shared_warehouse(warehouse)
        result = validate(wh.engine, wh.schema, suite)
        stamp = RunStamp(
            context.run.run_id,
            datetime.now(UTC),
            settings.as_of,
            settings.defs.version,
            settings.defs.content_sha256,
        )
        CheckHistory(wh.engine, wh.schema).record(stamp, [CheckRecord.from_suite(result)])
        if result.status != "passed":
            context.log.warning(
                f"{name}: {result.status} ({result.unexpected_count} offending rows) {result.error or ''}"
            )
        return check_result(result, settings.defs)

    return _run


def check_result(result: SuiteResult, defs: FunnelDefinitions) -> AssetCheckResult:
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
