"""``checks.run_all``: every suite of the tables a warehouse holds and the SLA audit, without Dagster."""

from __future__ import annotations

from collections.abc import Callable

import checks
from checks.run import every_suite
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.definitions import load_definitions
from tests.checks.test_sla import AS_OF, _landed


def test_run_all_checks_the_tables_present_audits_slas_and_the_handover(
    warehouse_factory: Callable[[], Warehouse],
) -> None:
    wh = warehouse_factory()
    _landed(wh)
    defs = load_definitions()
    run = checks.run_all(wh.engine, wh.schema, defs, AS_OF)
    expected = [s.name for s in every_suite(defs, AS_OF) if s.asset == CLOSED_LOOP_LEADS.name]
    assert [r.suite for r in run.suites] == expected and len(expected) == 5
    assert {r.suite: r.status for r in run.suites}[f"{CLOSED_LOOP_LEADS.name}__keys"] == "passed"
    assert run.sla is not None and {r.rule: r.breached for r in run.sla.rules}["first_touch"] == 2
    records = {r.check_name: r.status for r in run.records()}
    assert records["sla__ignored_leads"] == "failed"
    # Four SLA rules, ignored leads, the MQL commitment, and the two handover findings.
    assert len(records) == len(expected) + 6 + 2
    assert run.handover is not None and records["handover__reached_score_not_handed_over"] == "passed"
