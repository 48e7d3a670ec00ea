"""The handover reconciliation counted in the warehouse from closed_loop_leads rows (DuckDB and PostgreSQL):
leads that reached the agreed score but were never handed to sales, and CRM MQLs handed over below it, per
original source and campaign."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from checks.handover import SourceCampaign, reconcile
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.schema import table_for
from connectors.warehouse.warehouse import Warehouse
from pipelines.funnel.definitions import load_definitions

MQL = datetime(2026, 10, 5, 14, tzinfo=UTC)
REACHED = datetime(2026, 10, 1, 14, tzinfo=UTC)


def _lead(key: str, source: str, campaign: str | None, **values: object) -> dict[str, object]:
    row: dict[str, object] = {c: None for c in CLOSED_LOOP_LEADS.column_names}
    return {**row, "person_key": key, "original_source": source, "campaign_key": campaign, **values}


# Threshold 60 (the shipped definitions).
ROWS = [
    # Reached the score, no CRM MQL: marketing sat on them (two from one webinar, one organic).
    _lead("p1", "webinar", "c-webinar", score_mql_at=REACHED),
    _lead("p2", "webinar", "c-webinar", score_mql_at=REACHED),
    _lead("p3", "organic", None, score_mql_at=REACHED),
    # Handed over below the score (55 < 60); an inferred MQL is nobody's handover; exactly 60 meets it.
    _lead("p4", "paid", "c-ads", mql_at=MQL, mql_inferred=False, score_at_mql=55.0),
    _lead("p5", "paid", "c-ads", mql_at=MQL, mql_inferred=True, score_at_mql=10.0),
    _lead("p6", "paid", "c-ads", mql_at=MQL, mql_inferred=False, score_at_mql=60.0, score_mql_at=REACHED),
    # A CRM MQL without any score counts as below it; a lead that never reached either is clean.
    _lead("p7", "referral", None, mql_at=MQL, mql_inferred=False),
    _lead("p8", "organic", None),
]


def test_both_findings_with_counts_by_source_and_campaign(warehouse_factory: Callable[[], Warehouse]) -> None:
    wh = warehouse_factory()
    table = table_for(CLOSED_LOOP_LEADS, sa.MetaData(schema=wh.schema))
    with wh.engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), ROWS)

    result = reconcile(wh.engine, wh.schema, load_definitions(), sample_size=2)

    assert result.leads == len(ROWS)
    unhanded, below = result.findings
    assert unhanded.name == "reached_score_not_handed_over"
    assert unhanded.count == 3
    assert unhanded.by_source_campaign == [
        SourceCampaign("webinar", "c-webinar", 2),
        SourceCampaign("organic", None, 1),
    ]
    assert unhanded.sample_ids == ("p1", "p2")  # capped at the sample size, counts are not
    assert below.name == "handed_over_below_score"
    assert below.count == 2
    assert {(g.source, g.campaign, g.leads) for g in below.by_source_campaign} == {
        ("paid", "c-ads", 1),
        ("referral", None, 1),
    }
    assert below.sample_ids == ("p4", "p7")
    records = {r.check_name: r for r in result.records()}
    assert records["handover__reached_score_not_handed_over"].status == "failed"
    assert records["handover__handed_over_below_score"].unexpected_count == 2
