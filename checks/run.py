"""Every check of a warehouse in one call, without Dagster: the benchmark's (and any script's) entry point.

It shares what the Dagster steps share: one GX context per process (``checks.engine``), one definitions object
and one engine handed in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from checks.engine import CHUNK_ROWS, validate
from checks.handover import Handover, reconcile
from checks.history import CheckRecord
from checks.live_tables import Catalog
from checks.model import SAMPLE_SIZE, Suite, SuiteResult
from checks.sla.evaluate import SlaAudit, audit
from checks.suites.canonical import canonical_suites
from checks.suites.closed_loop import closed_loop_suites
from checks.suites.hubspot import hubspot_suites
from checks.suites.salesforce import salesforce_suites
from connectors.hubspot.catalog import OBJECT_TYPES
from connectors.salesforce.catalog import OBJECTS
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from pipelines.funnel.model import FunnelDefinitions

MAX_AGE = timedelta(hours=36)  # the Dagster resource's default freshness window


@dataclass(frozen=True)
class CheckRun:
    suites: list[SuiteResult]
    sla: SlaAudit | None  # None when the warehouse has no closed_loop_leads
    handover: Handover | None  # likewise

    def records(self) -> list[CheckRecord]:
        """The ``check_results`` rows the Dagster checks would write for the same results."""
        return [
            *(CheckRecord.from_suite(r) for r in self.suites),
            *(self.sla.records() if self.sla else []),
            *(self.handover.records() if self.handover else []),
        ]


def every_suite(defs: FunnelDefinitions, as_of: datetime, max_age: timedelta = MAX_AGE) -> list[Suite]:
    """The suites the Dagster code location attaches as asset checks, raw and harmonised."""
    return [
        *salesforce_suites(OBJECTS, defs, as_of, max_age),
        *hubspot_suites(OBJECT_TYPES, defs, as_of, max_age),
        *canonical_suites(defs),
        *closed_loop_suites(defs),
    ]


def run_all(
    engine: sa.Engine,
    schema: str | None,
    defs: FunnelDefinitions,
    as_of: datetime,
    *,
    max_age: timedelta = MAX_AGE,
    sample_size: int = SAMPLE_SIZE,
    chunk_rows: int = CHUNK_ROWS,
    skip_absent: bool = True,
) -> CheckRun:
    """Validate every suite, audit the SLAs and reconcile the handover of the warehouse at ``engine``/``schema``,
    as of ``as_of``.

    ``skip_absent`` leaves out suites of tables the warehouse does not hold (a warehouse fed by one CRM, or not
    built yet), which Dagster would report as errors; every other failure to build a batch is still an error.
    """
    catalog = Catalog(engine, schema)
    suites = [s for s in every_suite(defs, as_of, max_age) if not skip_absent or catalog.exists(s.asset)]
    results = [validate(engine, schema, s, sample_size, chunk_rows) for s in suites]
    if not catalog.exists(CLOSED_LOOP_LEADS.name):
        return CheckRun(results, None, None)
    return CheckRun(
        results, audit(engine, schema, defs, as_of, sample_size), reconcile(engine, schema, defs, sample_size)
    )
