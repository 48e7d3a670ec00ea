"""lead_facts_sql equals the pandas reference (``leads.closed_loop_row`` over ``bundles``) on every per-person
column of closed_loop_leads, row by row and column by column, with edge cases the sandbox does not plant (on a
copy of the shared canonical sandbox) and the scoring expressions on both engines. Whole sandboxes as built are
test_equivalence's."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.bundles import bundles
from pipelines.closed_loop.closed_loop import build_closed_loop
from pipelines.closed_loop.inputs import HISTORY_TABLES
from pipelines.closed_loop.leads import journey_of
from pipelines.closed_loop.raw import read_tables
from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.closed_loop.sql.lead_facts import lead_facts_sql
from pipelines.closed_loop.sql.members import create_deals, create_members
from pipelines.closed_loop.sql.scoring import EngagementSql, band_sql, engagement_sql, fit_sql, total_sql
from pipelines.closed_loop.values import naive_utc
from pipelines.closed_loop.write import to_rows
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import FunnelDefinitions
from pipelines.funnel.scoring import Engagement, PersonFacts, lead_score
from tests.closed_loop.sql.conftest import read_canonical

AS_OF = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
FACT_COLUMNS = (
    "person_key",
    "hubspot_contact_id",
    "salesforce_lead_id",
    "salesforce_contact_id",
    "salesforce_opportunity_id",
    "hubspot_deal_id",
    "hubspot_company_id",
    "salesforce_account_id",
    "email",
    "email_other_crm",
    "email_is_valid",
    "company_name",
    "industry",
    "icp_tier",
    "lead_score",
    "score_band",
    "score_at_mql",
    "score_mql_at",
    "crm_score",
    "original_source",
    "campaign_key",
    "first_touch_campaign_key",
    "last_touch_campaign_key",
    "marketing_influenced",
    "counts_as_lead",
    "closed_month",
    "owner_key",
    "owner_name",
    "owner_team",
    "owner_status",
    "assigned_at",
    "amount",
    "last_updated_at",
    "definitions_hash",
)
Row = dict[str, Any]


def _rows(frame: pd.DataFrame) -> list[Row]:
    """The fact columns of closed_loop_leads rows, as the spec's Python types, in person_key order."""
    full = to_rows(frame.reindex(columns=CLOSED_LOOP_LEADS.column_names), CLOSED_LOOP_LEADS)
    return [{c: r[c] for c in FACT_COLUMNS} for r in full]


def reference_and_sql(wh: Warehouse, defs: FunnelDefinitions) -> tuple[list[Row], list[Row]]:
    """(reference rows, SQL rows) of the warehouse's canonical tables; the SQL reads the reference's stage
    instants (``journey_of``) as its ``journeys`` relation."""
    canonical = read_canonical(wh)
    raw = read_tables(wh, HISTORY_TABLES)
    expected = build_closed_loop(canonical, raw, defs, AS_OF)
    stages = {"mql_at": "mql", "opportunity_at": "opportunity", "won_at": "won", "lost_at": "lost"}
    reached = [(b.person_key, journey_of(b, defs, AS_OF)) for b in bundles(canonical, raw, AS_OF)]
    journeys = pa.table(
        {
            "person_key": pa.array([p for p, _ in reached], pa.string()),
            **{
                column: pa.array([naive_utc(j.reached_at(stage)) for _, j in reached], pa.timestamp("us"))
                for column, stage in stages.items()
            },
        }
    )
    with wh.engine.begin() as conn:
        ctx = SqlContext(conn, wh.schema)
        ctx.load_arrow("test_journeys", journeys, {"person_key": "text", **dict.fromkeys(stages, "timestamp")})
        create_members(ctx, AS_OF)
        create_deals(ctx)
        result = conn.exec_driver_sql(lead_facts_sql(ctx, defs, AS_OF, "test_journeys"))
        actual = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    assert set(actual.columns) == set(FACT_COLUMNS)
    return _rows(expected), _rows(actual)


def assert_same(expected: list[Row], actual: list[Row]) -> None:
    assert [r["person_key"] for r in actual] == [r["person_key"] for r in expected]
    for want, got in zip(expected, actual):
        for column in FACT_COLUMNS:
            a, b = want[column], got[column]
            if isinstance(a, float) and isinstance(b, float):
                assert math.isclose(a, b, rel_tol=0, abs_tol=1e-6), (column, want, got)
            else:
                assert a == b, (column, a, b, want["person_key"])


@pytest.fixture(scope="module")
def defs() -> FunnelDefinitions:
    return load_definitions()


def test_edge_cases_equal_reference(canonical_duckdb: Warehouse, defs: FunnelDefinitions) -> None:
    """Cases the sandbox leaves out: title keywords inside words or split by several spaces, accounts with no
    employee count (the person's is used), owners gone from the CRM or on no team, a contact linked to a
    Lead that is not the earliest, zero page views, demo requests and replies after as_of."""
    with canonical_duckdb.engine.begin() as conn:
        run = conn.exec_driver_sql
        people = "SELECT person_key FROM canonical_people WHERE person_key IS NOT NULL AND NOT is_deleted"
        run(f"UPDATE canonical_people SET title = 'MVP of sales ops' WHERE person_key IN ({people} LIMIT 20)")
        run("UPDATE canonical_people SET title = 'Head    of  Growth' WHERE title LIKE '%Director%'")
        run("UPDATE canonical_people SET title = 'chief-of-staff' WHERE title LIKE '%Manager%'")
        run("UPDATE canonical_accounts SET employees = 0 WHERE source_system = 'hubspot' AND employees < 300")
        run(
            "DELETE FROM canonical_owners WHERE source_system = 'salesforce' AND source_id IN "
            "(SELECT MIN(source_id) FROM canonical_owners WHERE source_system = 'salesforce')"
        )
        run(
            "UPDATE canonical_owners SET team = NULL WHERE source_system = 'hubspot' AND source_id IN "
            "(SELECT MAX(source_id) FROM canonical_owners WHERE source_system = 'hubspot')"
        )
        run("UPDATE canonical_people SET page_views = 0 WHERE page_views < 5")
        run("UPDATE canonical_people SET demo_requested = TRUE, webinar_attended = TRUE WHERE page_views > 20")
        run("UPDATE canonical_people SET last_reply_at = TIMESTAMP '2026-12-01 00:00:00' WHERE form_fills = 1")
        # A second, later Lead for some people, which their HubSpot contact links to.
        run(
            """
            INSERT INTO canonical_people
            SELECT 'salesforce', 'lead', 'L2' || source_id, person_key, email, email_normalized, email_is_valid,
                   first_name, last_name, 'VP Marketing', company_name, country, 'Banking', 5000, annual_revenue,
                   owner_source_id, NULL, NULL, lead_status, 'Partner', 'late-campaign', NULL, 7, mql_at,
                   disqualification_reason_raw, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   FALSE, NULL, NULL, NULL, NULL, created_at + INTERVAL 30 DAY, updated_at, FALSE
            FROM canonical_people
            WHERE source_object = 'lead' AND NOT is_deleted AND person_key IS NOT NULL AND source_id LIKE '%5EAA'
            """
        )
        run(
            "UPDATE canonical_people SET linked_salesforce_lead_id = 'L2' || linked_salesforce_lead_id "
            "WHERE source_system = 'hubspot' AND linked_salesforce_lead_id LIKE '%5EAA'"
        )
        # More campaign memberships: a second campaign a day before (first touch) or after (last touch, when
        # still before the MQL) each membership, one at the same instant (a tie) and a deleted one.
        run(
            """
            INSERT INTO raw_salesforce__campaignmember (id, campaignid, leadid, contactid, createddate, _sync_id,
                                                       _extracted_at, _is_deleted)
            SELECT id || shift, campaignid_new, leadid, contactid, createddate + shift_days * INTERVAL 1 DAY, _sync_id,
                   _extracted_at, shift = 'D'
            FROM raw_salesforce__campaignmember
            CROSS JOIN (VALUES ('B', -1, '7015g0000000002AAA'), ('A', 1, '7015g0000000003AAA'),
                               ('T', 0, '7015g0000000001AAA'), ('D', -2, '7015g0000000004AAA'))
                 AS s(shift, shift_days, campaignid_new)
            """
        )
    expected, actual = reference_and_sql(canonical_duckdb, defs)
    assert_same(expected, actual)
    assert any(r["salesforce_lead_id"] and r["salesforce_lead_id"].startswith("L2") for r in expected)
    assert {r["owner_status"] for r in expected} == {"assigned", "unassigned", "inactive"}
    # Some people reached the agreed score (score_mql_at), some never did.
    assert len({r["score_mql_at"] is None for r in expected}) == 2
    # First and last touch differ for some; some opportunities were influenced, some not.
    assert any(r["first_touch_campaign_key"] != r["last_touch_campaign_key"] for r in expected)
    assert {r["marketing_influenced"] for r in expected} == {None, True, False}


TITLES = (
    None,
    "VP of Sales",
    "MVP",
    "Head   of Growth",
    "head\tof marketing",
    "Vice  President, Ops",
    "Director/Lead",
    "Senior manager",
    "Intern",
    "Chief-of-staff",
    "CEO.",
    "Founding engineer",
)
EMPLOYEES = (None, 0, 1, 49, 50, 199, 200, 999, 1000)
INDUSTRIES = (None, "technology", "media", "retail")
AGES_DAYS = (None, 0.0, 1.5, 30.0, 400.0, -2.0)  # negative: after as_of, not knowable yet


def test_score_expressions_equal_lead_score(
    warehouse_factory: Callable[[], Warehouse], defs: FunnelDefinitions
) -> None:
    """The scoring SQL on both engines against ``scoring.lead_score`` for titles, sizes, industries and
    engagement ages around the rules' edges (whole words, several spaces, caps, fading, future actions)."""
    cases = []
    for i, title in enumerate(TITLES * 3):
        employees = EMPLOYEES[i % len(EMPLOYEES)]
        industry = INDUSTRIES[i % len(INDUSTRIES)]
        age = AGES_DAYS[i % len(AGES_DAYS)]
        at = None if age is None else AS_OF - timedelta(days=age)
        views = (0, 3, 40)[i % 3]
        cases.append((i, title, employees, industry, at, views))
    wh = warehouse_factory()
    with wh.engine.begin() as conn:
        ctx = SqlContext(conn, wh.schema)
        ctx.values(
            "test_facts",
            {
                "id": "integer",
                "title": "text",
                "employees": "integer",
                "industry": "text",
                "acted_at": "timestamp",
                "views": "integer",
            },
            [(i, t, e, ind, naive_utc(at), v) for i, t, e, ind, at, v in cases],
        )
        engagements = {
            "page_view": EngagementSql("CASE WHEN views <> 0 THEN acted_at END", "views"),
            "demo_request": EngagementSql("acted_at"),
            "email_reply": EngagementSql("acted_at"),
        }
        fit = fit_sql(ctx, defs, title="title", employees="employees", industry="industry")
        total = total_sql(ctx, fit, engagement_sql(ctx, defs, engagements, literal(naive_utc(AS_OF))))
        got = ctx.rows(f"SELECT id, {total}, {band_sql(defs, total)} FROM test_facts ORDER BY id")
    assert len(got) == len(cases)
    for (i, title, employees, industry, at, views), (gid, score, band) in zip(cases, got):
        actions = [] if at is None else [Engagement("demo_request", at), Engagement("email_reply", at)]
        if at is not None and views:
            actions.append(Engagement("page_view", at, views))
        want = lead_score(PersonFacts(title, employees, industry), actions, AS_OF, defs)
        assert gid == i
        assert math.isclose(score, want.total, rel_tol=0, abs_tol=1e-6), (title, employees, industry, at, views)
        assert band == want.band
