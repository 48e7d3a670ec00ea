"""The leaders' KPI views on hand-made closed_loop_leads rows, on both engines, against figures computed by hand.

Cohort January 2026, source 'ads', campaign 'A' unless said (days are elapsed calendar days):
  - p1: MQL 01-01, SQL, opportunity 01-10, won 02-09 (MQL->won 39, opportunity->close 30), 100, first touch
    'A', last touch 'B', influenced;
  - p2: MQL 01-02, opportunity 01-20, lost 02-04 12:00 (opportunity->close 15.5), 50, 'A'/'A';
  - p3: MQL 01-03, SQL, opportunity 01-05, won 02-14 (MQL->won 42, opportunity->close 40), 300, no campaign;
  - p4: MQL 01-10, SQL, opportunity 01-12 still open, 70, 'B'/'B', influenced;
  - p5: a duplicate (counts_as_lead false): MQL, won 1000 in February; every view leaves it out;
  - p6: no source, no campaign, never an MQL;
  - p7: cohort February, source 'web', 'B'/'B': MQL 02-01, opportunity 02-10, won 03-01 06:00 (MQL->won
    28.25, opportunity->close 19.25), 200.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.locking import write_lock
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.closed_loop.sql.materialize import empty_select, replace_from
from pipelines.closed_loop.views import create_views

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
COLUMNS = (
    "person_key",
    "counts_as_lead",
    "cohort_month",
    "original_source",
    "campaign_key",
    "first_touch_campaign_key",
    "last_touch_campaign_key",
    "marketing_influenced",
    "mql_at",
    "sql_at",
    "opportunity_created_at",
    "won_at",
    "lost_at",
    "closed_month",
    "amount",
    "owner_team",
    "first_touch_sla_status",
)


def d(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour)


ROWS = [
    ("p1", True, JAN, "ads", "A", "A", "B", True, d(1, 1), d(1, 5), d(1, 10), d(2, 9), None, FEB, 100.0, "T", "met"),
    ("p2", True, JAN, "ads", "A", "A", "A", False, d(1, 2), None, d(1, 20), None, d(2, 4, 12), FEB, 50.0, None, None),
    ("p3", True, JAN, "ads", "A", None, None, False, d(1, 3), d(1, 4), d(1, 5), d(2, 14), None, FEB, 300.0, None, None),
    ("p4", True, JAN, "ads", "A", "B", "B", True, d(1, 10), d(1, 11), d(1, 12), None, None, None, 70.0, None, None),
    (
        "p5",
        False,
        JAN,
        "ads",
        "A",
        "A",
        "A",
        True,
        d(1, 1),
        d(1, 2),
        d(1, 2),
        d(2, 10),
        None,
        FEB,
        1000.0,
        "T",
        "breached",
    ),
    ("p6", True, JAN, None, None, None, None, None, None, None, None, None, None, None, None, None, None),
    ("p7", True, FEB, "web", "B", "B", "B", False, d(2, 1), None, d(2, 10), d(3, 1, 6), None, MAR, 200.0, None, None),
]


def _views(wh: Warehouse) -> None:
    with write_lock(wh.engine), wh.engine.begin() as conn:
        ctx = SqlContext(conn, wh.schema)
        replace_from(ctx, CLOSED_LOOP_LEADS, empty_select(CLOSED_LOOP_LEADS))
        values = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in ROWS)
        ctx.execute(f"INSERT INTO {ctx.table(CLOSED_LOOP_LEADS.name)} ({', '.join(COLUMNS)}) VALUES {values}")
    create_views(wh)


def _read(wh: Warehouse, view: str, columns: str, keys: int = 1) -> list[tuple[Any, ...]]:
    """The view's rows ordered by their first ``keys`` columns in Python (PostgreSQL's collation would order
    '(none)' by its letters)."""
    with wh.engine.connect() as conn:
        ctx = SqlContext(conn, wh.schema)
        rows = [tuple(r) for r in ctx.rows(f"SELECT {columns} FROM {ctx.table(view)}")]
    return sorted(rows, key=lambda r: tuple(str(v) for v in r[:keys]))


@pytest.fixture
def views(warehouse: Warehouse) -> Warehouse:
    _views(warehouse)
    return warehouse


def test_conversion_rates_and_totals_count_no_duplicate(views: Warehouse) -> None:
    assert _read(
        views,
        "funnel_conversion_by_month",
        "cohort_month, original_source, campaign_key, leads, mqls, sqls, won, mql_to_sql_rate, lead_to_customer_rate",
        2,
    ) == [
        (JAN, "(none)", "(none)", 1, 0, 0, 0, None, 0.0),
        (JAN, "ads", "A", 4, 4, 3, 2, 0.75, 0.5),
        (FEB, "web", "B", 1, 1, 0, 1, 0.0, 1.0),
    ]
    assert _read(views, "funnel_totals", "leads, mqls, opportunities, won, revenue, duplicates_excluded") == [
        (6, 5, 5, 3, 600.0, 1)
    ]
    # The SLA views count no duplicate either: p5's breach is not team T's.
    assert _read(
        views, "sla_compliance_by_team", "owner_team, mqls_audited, first_touch_met, first_touch_breached"
    ) == [("(none)", 0, 0, 0), ("T", 1, 1, 0)]


def test_cycle_length_median_and_p75(views: Warehouse) -> None:
    rows = _read(views, "cycle_length_by_month", "month, original_source, measure, deals, median_days, p75_days", 3)
    assert [r[:4] for r in rows] == [
        (FEB, "ads", "mql_to_won", 2),
        (FEB, "ads", "opportunity_to_close", 3),
        (MAR, "web", "mql_to_won", 1),
        (MAR, "web", "opportunity_to_close", 1),
    ]
    # 39 and 42: median 40.5, p75 39 + 0.75 * 3; 15.5, 30, 40: median 30, p75 30 + 0.5 * 10.
    assert [r[4:] for r in rows] == [
        pytest.approx((40.5, 41.25)),
        pytest.approx((30.0, 35.0)),
        pytest.approx((28.25, 28.25)),
        pytest.approx((19.25, 19.25)),
    ]


def test_revenue_by_campaign_first_and_last_touch(views: Warehouse) -> None:
    assert _read(
        views,
        "revenue_by_campaign",
        "attribution, campaign_key, original_source, leads, opportunities, won, pipeline_amount, revenue",
        3,
    ) == [
        ("first_touch", "(none)", "(none)", 1, 0, 0, 0.0, 0.0),
        ("first_touch", "(none)", "ads", 1, 1, 1, 0.0, 300.0),
        ("first_touch", "A", "ads", 2, 2, 1, 0.0, 100.0),
        ("first_touch", "B", "ads", 1, 1, 0, 70.0, 0.0),
        ("first_touch", "B", "web", 1, 1, 1, 0.0, 200.0),
        ("last_touch", "(none)", "(none)", 1, 0, 0, 0.0, 0.0),
        ("last_touch", "(none)", "ads", 1, 1, 1, 0.0, 300.0),
        ("last_touch", "A", "ads", 1, 1, 0, 0.0, 0.0),
        ("last_touch", "B", "ads", 2, 2, 1, 70.0, 100.0),
        ("last_touch", "B", "web", 1, 1, 1, 0.0, 200.0),
    ]


def test_marketing_influenced_revenue(views: Warehouse) -> None:
    assert _read(
        views,
        "marketing_influenced_revenue",
        "month, won, revenue, influenced_won, influenced_revenue, influenced_share",
    ) == [(FEB, 2, 400.0, 1, 100.0, 0.25), (MAR, 1, 200.0, 0, 0.0, 0.0)]
