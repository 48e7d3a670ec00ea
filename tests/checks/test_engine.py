"""``validate`` gives the same verdicts, counts and offending ids on DuckDB (pandas batch) and PostgreSQL (SQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from checks.engine import gx_expectation, validate
from checks.model import Severity, Suite, expect
from checks.suites.canonical import canonical_suites
from checks.suites.closed_loop import closed_loop_suites
from checks.suites.common import email_expectation, freshness_suite, keys_suite, reconciliation_suite, whole_table
from checks.suites.hubspot import hubspot_suites
from checks.suites.salesforce import salesforce_suites
from connectors.hubspot.catalog import OBJECT_TYPES
from connectors.salesforce.catalog import OBJECTS
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.definitions import load_definitions
from tests.checks.helpers import AS_OF, land


def test_keys_emails_and_pairs_on_both_engines(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    land(
        wh,
        "people",
        [
            {
                "id": "a",
                "email": "ann@example.com",
                "created": AS_OF - timedelta(days=3),
                "mql": AS_OF - timedelta(days=2),
            },
            {"id": "b", "email": "bob@example", "created": AS_OF - timedelta(days=3), "mql": AS_OF - timedelta(days=4)},
            {"id": "c", "email": None, "created": AS_OF, "mql": None},
        ],
        {"created": "timestamp", "mql": "timestamp"},
    )
    suite = Suite(
        "people__values",
        "people",
        Severity.WARN,
        whole_table("people"),
        (
            email_expectation(),
            expect(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                column_A="mql",
                column_B="created",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ),
    )
    result = validate(wh.engine, wh.schema, suite)
    assert result.status == "failed" and result.rows == 3, result.error
    assert [(o.expectation, o.unexpected_count, o.sample_ids) for o in result.failed] == [
        ("expect_column_values_to_match_regex", 1, ("b",)),
        ("expect_column_pair_values_a_to_be_greater_than_b", 1, ("b",)),
    ]
    assert validate(wh.engine, wh.schema, keys_suite("people")).status == "passed"


def test_freshness_and_reconciliation(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    land(wh, "leads", [{"id": "a", "modstamp": AS_OF - timedelta(hours=30)}], {"modstamp": "timestamp"})
    assert (
        validate(wh.engine, wh.schema, freshness_suite("leads", "modstamp", AS_OF, timedelta(hours=48))).status
        == "passed"
    )
    stale = validate(wh.engine, wh.schema, freshness_suite("leads", "modstamp", AS_OF, timedelta(hours=24)))
    assert stale.status == "failed" and stale.failed[0].observed is not None

    assert validate(wh.engine, wh.schema, reconciliation_suite("leads", "salesforce", "leads")).status == "passed"
    # SyncAudit refuses an unbalanced audit, so the broken row is written the way a buggy extractor would.
    row = {
        "sync_id": "s2",
        "source": "salesforce",
        "object": "leads",
        "mode": "rest",
        "status": "success",
        "started_at": AS_OF.replace(tzinfo=None) + timedelta(hours=1),
        "extracted": 10,
        "loaded": 7,
        "quarantined": 2,
        "deleted": 0,
        "requests": 1,
    }
    with wh.engine.begin() as conn:
        conn.execute(wh.control.sync_runs.insert().values(**row))
    lost = validate(wh.engine, wh.schema, reconciliation_suite("leads", "salesforce", "leads"))
    assert lost.status == "failed" and lost.sample_ids == ("s2",)
    never = validate(wh.engine, wh.schema, reconciliation_suite("leads", "salesforce", "Lead"))
    assert never.status == "failed", "an asset without any audit row cannot be reconciled"


def test_missing_table_is_an_error_not_a_crash(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    result = validate(wh.engine, wh.schema, keys_suite("nowhere"))
    assert result.status == "error" and "nowhere" in (result.error or "")


def test_every_production_expectation_builds_in_gx() -> None:
    """Suites hold expectations as data; a misspelt kind or argument must fail here, not in the nightly run."""
    defs = load_definitions()
    suites = [
        *salesforce_suites(OBJECTS, defs, AS_OF, timedelta(hours=36)),
        *hubspot_suites(OBJECT_TYPES, defs, AS_OF, timedelta(hours=36)),
        *canonical_suites(defs),
        *closed_loop_suites(defs),
    ]
    specs = [e for s in suites for e in s.expectations]
    assert len(specs) > 100
    assert [type(gx_expectation(e)).__name__ for e in specs] == [e.kind for e in specs]


def test_unknown_expectation_is_an_error_naming_it(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    land(wh, "people", [{"id": "a"}])
    suite = Suite("people__typo", "people", Severity.WARN, whole_table("people"), (expect("ExpectNoSuchThing"),))
    result = validate(wh.engine, wh.schema, suite)
    assert result.status == "error" and "'ExpectNoSuchThing'" in (result.error or "")


@pytest.mark.parametrize("warehouse_factory", ["postgres"], indirect=True)  # DuckDB never reaches GX's SQL engine
def test_postgres_summarises_only_what_the_counting_pass_cannot_settle(
    warehouse_factory: Callable[[], Warehouse],
) -> None:
    """On PostgreSQL row-wise checks that need every row are first only counted; the outcomes equal one SUMMARY
    validation of the whole suite: failures keep their counts and ids, ``mostly`` passes keep their offenders,
    aggregates keep their observed value."""
    wh = warehouse_factory()
    land(wh, "tags", [{"id": i, "tag": t} for i, t in (("a", "x"), ("b", "x"), ("c", None), ("d", "y"))])
    expectations = (
        expect("ExpectColumnValuesToBeUnique", column="id"),  # passes: settled by the count
        expect("ExpectColumnValuesToNotBeNull", column="tag"),  # fails: summarised with its id
        expect("ExpectColumnValuesToNotBeNull", column="tag", mostly=0.7),  # passes with an offender
        expect("ExpectColumnValuesToBeUnique", column="tag"),  # fails: two rows share "x"
        expect("ExpectTableRowCountToBeBetween", min_value=1, max_value=10),  # aggregate: observed value
    )
    suite = Suite("tags__values", "tags", Severity.WARN, whole_table("tags"), expectations)
    result = validate(wh.engine, wh.schema, suite)
    assert [(o.success, o.unexpected_count, sorted(o.sample_ids), o.observed) for o in result.outcomes] == [
        (True, 0, [], None),
        (False, 1, ["c"], None),
        (True, 1, ["c"], None),
        (False, 2, ["a", "b"], None),
        (True, 0, [], "4"),
    ]
