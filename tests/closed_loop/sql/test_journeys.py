"""journeys_sql against the reference (``leads.journey_of`` over ``bundles``), row by row, on DuckDB and PostgreSQL:
hand-made records for the rules' edge cases and random histories with many ties (whole sandboxes are compared
through the closed loop in ``test_equivalence``)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACCOUNTS,
    CANONICAL_ACTIVITIES,
    CANONICAL_OPPORTUNITIES,
    CANONICAL_OWNERS,
    CANONICAL_PEOPLE,
    CLOSED_LOOP_LEADS,
    IDENTITY_CONFLICTS,
)
from connectors.warehouse.spec import Column, TableSpec
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.build import write_closed_loop
from pipelines.closed_loop.bundles import bundles
from pipelines.closed_loop.inputs import HISTORY_TABLES
from pipelines.closed_loop.leads import journey_of
from pipelines.closed_loop.raw import read_tables
from pipelines.closed_loop.sql.context import SqlContext
from pipelines.closed_loop.sql.journeys import JOURNEY_COLUMNS, journeys_sql
from pipelines.closed_loop.sql.members import create_deals, create_members
from pipelines.closed_loop.values import naive_utc
from pipelines.closed_loop.write import read_table, replace_table, to_rows
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import FUNNEL_STAGES, STAGES, FunnelDefinitions
from tests.closed_loop.sql.conftest import read_canonical

SPEC = TableSpec("journeys", [Column(n, t) for n, t in JOURNEY_COLUMNS.items()], "person_key")
DEFS = load_definitions()


def reference_rows(wh: Warehouse, defs: FunnelDefinitions, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """What the pandas reference derives for every person (who existed at ``as_of``)."""
    out = []
    for b in bundles(read_canonical(wh), read_tables(wh, HISTORY_TABLES), as_of):
        j = journey_of(b, defs, as_of)
        last = j.regressions[-1] if j.regressions else None
        out.append(
            {
                "person_key": b.person_key,
                **{f"{s}_at": naive_utc(j.reached_at(s)) for s in STAGES},
                **{f"{s}_inferred": s in j.inferred for s in FUNNEL_STAGES},
                "current_stage": j.current,
                "regression_from_stage": last.from_stage if last else None,
                "regression_to_stage": last.to_stage if last else None,
                "regressed_at": naive_utc(last.at) if last else None,
                "unmapped_values": ",".join(j.unmapped) or None,
            }
        )
    return to_rows(pd.DataFrame(out, columns=list(JOURNEY_COLUMNS)), SPEC)


def sql_rows(wh: Warehouse, defs: FunnelDefinitions, as_of: datetime | None = None) -> list[dict[str, Any]]:
    with wh.engine.begin() as conn:
        ctx = SqlContext(conn, wh.schema)
        create_members(ctx, as_of)
        create_deals(ctx)
        frame = pd.read_sql(sa.text(journeys_sql(ctx, defs, as_of)), conn)
    return to_rows(frame, SPEC)


def assert_same(wh: Warehouse, defs: FunnelDefinitions = DEFS, as_of: datetime | None = None) -> int:
    expected, actual = reference_rows(wh, defs, as_of), sql_rows(wh, defs, as_of)
    assert [r["person_key"] for r in actual] == [r["person_key"] for r in expected]
    for want, got in zip(expected, actual, strict=True):
        for column in JOURNEY_COLUMNS:
            assert got[column] == want[column], (want["person_key"], column, want[column], got[column])
    return len(expected)


# --- hand-made cases ---------------------------------------------------------------------------------------
T0 = datetime(2026, 3, 2, 9, 0)


def at(hours: float) -> datetime:
    return T0 + pd.Timedelta(hours=hours).to_pytimedelta()


def person(system: str, obj: str, source_id: str, key: str | None, **values: Any) -> dict[str, Any]:
    row = dict.fromkeys(CANONICAL_PEOPLE.column_names)
    row.update(source_system=system, source_object=obj, source_id=source_id, person_key=key, is_deleted=False)
    row.update(values)
    return row


def deal(system: str, source_id: str, key: str, **values: Any) -> dict[str, Any]:
    row = dict.fromkeys(CANONICAL_OPPORTUNITIES.column_names)
    row.update(source_system=system, source_id=source_id, person_key=key, is_deleted=False)
    row.update(values)
    return row


def hs_history(rows: Sequence[tuple[str, str, str, str | None, datetime]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"id": i, "contact_id": c, "property": p, "value": v, "changed_at": t, "_is_deleted": False}
            for i, c, p, v, t in rows
        ]
    )


def sf_history(key: str, rows: Sequence[tuple[str, str, str, str | None, str | None, datetime]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"id": i, key: r, "field": f, "oldvalue": o, "newvalue": n, "createddate": t, "_is_deleted": False}
            for i, r, f, o, n, t in rows
        ]
    )


CASES_PEOPLE = [
    # p1: HubSpot lifecycle SQL -> lead regression, lead status CONNECTED, dates backfilled at the MQL instant.
    person("hubspot", "contact", "11", "p1", created_at=at(0), updated_at=at(50)),
    person("hubspot", "contact", "101", "p1", created_at=at(0)),  # not the lowest id: ignored
    # p2: no status history: the contact's lead status holds since updated_at (fallback); an unmapped value.
    person("hubspot", "contact", "12", "p2", lead_status="UNQUALIFIED", updated_at=at(30), created_at=at(0)),
    # p3: Salesforce lead converted without history (ConvertedDate, local midnight), with an Opportunity.
    person(
        "salesforce",
        "lead",
        "00Q3",
        "p3",
        created_at=at(-100),
        lead_status="Closed - Converted",
        is_converted=True,
        converted_date=date(2026, 3, 10),
        updated_at=at(300),
        mql_at=at(-10),
    ),
    # p4: lead with Status history (initial status from OldValue), leadConverted row, exit then re-entry.
    person("salesforce", "lead", "00Q4", "p4", created_at=at(0), lead_status="Qualified", updated_at=at(99)),
    person("salesforce", "lead", "00Q4b", "p4", created_at=at(1), lead_status="Bogus", updated_at=at(2)),
    # p5: HubSpot deals only (no Opportunity): closed won deal dated at its close date (local midnight).
    person("hubspot", "contact", "15", "p5", created_at=at(0)),
    # p6: a deal AND an Opportunity: the deal is ignored; closed Opportunity without won in history.
    person("salesforce", "contact", "0036", "p6", created_at=at(0)),
    # p7: ties at one instant: disqualified (lead status) and lifecycle sql; exits sort last.
    person("hubspot", "contact", "17", "p7", created_at=at(0)),
    # p8: replay where another signal cannot move the stage back but the setter can, then others move forward.
    person("hubspot", "contact", "18", "p8", created_at=at(0)),
    person("salesforce", "lead", "00Q8", "p8", created_at=at(0.5), lead_status="Working - Contacted"),
    # p9: nothing observable at all.
    person("salesforce", "contact", "0039", "p9", created_at=None),
    # deleted record: not a member
    person("salesforce", "lead", "00QX", None, created_at=at(0), is_deleted=True),
]

CASES_DEALS = [
    deal("salesforce", "0063", "p3", created_at=at(200), stage_raw="Closed Won", is_closed=True, is_won=True),
    deal("hubspot", "905", "p5", created_at=at(10), stage_raw="closedwon", is_closed=True, close_date=date(2026, 3, 5)),
    deal("hubspot", "906", "p5", created_at=at(5), stage_raw="weird", is_closed=False),
    deal("hubspot", "907", "p6", created_at=at(5), stage_raw="closedwon", is_closed=True),
    deal(
        "salesforce",
        "0066",
        "p6",
        created_at=at(20),
        stage_raw="Qualification",
        is_closed=True,
        is_won=False,
        close_date=date(2026, 4, 1),
    ),
]

HS_HISTORY = [
    ("h01", "11", "lifecyclestage", "subscriber", at(0)),
    ("h02", "11", "lifecyclestage", "salesqualifiedlead", at(5)),
    ("h03", "11", "lifecyclestage", "lead", at(7)),
    ("h04", "11", "hs_lead_status", "CONNECTED", at(6)),
    ("h05", "11", "hs_lead_status", "ATTEMPTED_TO_CONTACT", at(4)),
    ("h06", "11", "lifecyclestage", "  ", at(8)),  # blank: says nothing
    ("h07", "12", "lifecyclestage", "marketingqualifiedlead", at(1)),
    ("h08", "12", "lifecyclestage", "mystery", at(2)),
    ("h09", "12", "lifecyclestage", "mystery", at(3)),  # repeated unmapped: listed once
    ("h10", "17", "hs_lead_status", "UNQUALIFIED", at(4)),
    ("h11", "17", "lifecyclestage", "salesqualifiedlead", at(4)),
    ("h12", "17", "lifecyclestage", "lead", at(4)),
    ("h13", "18", "lifecyclestage", "salesqualifiedlead", at(2)),
    ("h14", "18", "lifecyclestage", "marketingqualifiedlead", at(3)),
    ("h15", "18", "lifecyclestage", "opportunity", at(6)),
    ("h16", "18", "lifecyclestage", "lead", at(8)),
    ("h17", "18", "hs_lead_status", "BAD_TIMING", at(9)),
    ("h18", "18", "lifecyclestage", "salesqualifiedlead", at(10)),
    ("h19", "18", "lifecyclestage", "lead", at(11)),
    ("h20", "15", "lifecyclestage", "opportunity", at(12)),
    ("h21", "18", "lifecyclestage", "lead", at(13)),  # another signal set the stage: cannot move it back
]

LEAD_HISTORY = [
    ("L1", "00Q4", "Status", "Open - Not Contacted", "Working - Contacted", at(3)),
    ("L2", "00Q4", "Status", "Working - Contacted", "Nurturing", at(5)),
    ("L3", "00Q4", "Status", "Nurturing", "Qualified", at(7)),
    ("L4", "00Q4", "leadConverted", None, None, at(7)),
    ("L5", "00Q4", "Owner", "a", "b", at(1)),
    ("L6", "00Q4b", "Owner", "a", "b", at(1.5)),  # history without Status: status holds since creation
    ("L7", "00Q8", "Status", "New", "Working - Contacted", at(2.5)),
    ("L8", "00Q8", "Status", "Working - Contacted", "Contacted", at(7)),
    ("L9", "00Q8", "Status", "Contacted", "Working - Contacted", at(12)),
]

OPP_HISTORY = [
    ("O1", "0066", "Qualification", at(20)),
    ("O2", "0066", "Closed Won", at(30)),
    ("O3", "0066", "Qualification", at(40)),  # reopened: a regression; closed lost later, never in history
]


def write_cases(wh: Warehouse) -> None:
    contacts = pd.DataFrame(
        [
            {"id": "11", "hs_lifecyclestage_marketingqualifiedlead_date": at(5), "hs_lifecyclestage_lead_date": at(1)},
            {"id": "12", "hs_lifecyclestage_marketingqualifiedlead_date": None, "hs_lifecyclestage_lead_date": at(0)},
            {"id": "18", "hs_lifecyclestage_marketingqualifiedlead_date": at(2), "hs_lifecyclestage_lead_date": None},
        ]
    )
    write_tables(wh, CASES_PEOPLE, CASES_DEALS, contacts, HS_HISTORY, LEAD_HISTORY, OPP_HISTORY)


def write_tables(
    wh: Warehouse,
    people: list[dict[str, Any]],
    opportunities: list[dict[str, Any]],
    contacts: pd.DataFrame,
    hs: Sequence[tuple[str, str, str, str | None, datetime]],
    leads: Sequence[tuple[str, str, str, str | None, str | None, datetime]],
    opps: Sequence[tuple[str, str, str, datetime]],
) -> None:
    replace_table(wh, CANONICAL_PEOPLE, pd.DataFrame(people, columns=CANONICAL_PEOPLE.column_names))
    replace_table(
        wh, CANONICAL_OPPORTUNITIES, pd.DataFrame(opportunities, columns=CANONICAL_OPPORTUNITIES.column_names)
    )
    opp_history = pd.DataFrame(
        [{"id": i, "opportunityid": o, "stagename": s, "createddate": t, "_is_deleted": False} for i, o, s, t in opps]
    )
    with wh.engine.begin() as conn:
        for name, frame in (
            ("raw_hubspot__contacts", contacts),
            ("raw_hubspot__contact_property_history", hs_history(hs)),
            ("raw_salesforce__leadhistory", sf_history("leadid", leads)),
            ("raw_salesforce__opportunityhistory", opp_history),
        ):
            frame.to_sql(name, conn, schema=wh.schema, index=False)


@pytest.fixture
def cases(warehouse: Warehouse) -> Warehouse:
    write_cases(warehouse)
    return warehouse


def test_hand_made_cases_match_reference(cases: Warehouse) -> None:
    assert assert_same(cases) == 9
    rows = {r["person_key"]: r for r in sql_rows(cases, DEFS)}
    # The cases exercise what they claim to (the reference agreeing is checked above).
    assert rows["p1"]["regression_from_stage"] == "sql" and rows["p1"]["regression_to_stage"] == "lead"
    assert rows["p1"]["mql_inferred"] and rows["p1"]["mql_at"] == rows["p1"]["sql_at"]  # backfilled date
    assert rows["p2"]["unmapped_values"] == "hubspot.lifecyclestage=mystery"
    assert rows["p2"]["current_stage"] == "disqualified"
    assert rows["p3"]["sql_at"] == datetime(2026, 3, 10, 4, 0)  # midnight in New York, as UTC
    assert rows["p4"]["current_stage"] == "sql" and rows["p4"]["recycled_at"] == at(5)
    assert "salesforce.Lead.Status=Bogus" in (rows["p4"]["unmapped_values"] or "")
    # A deal's close date is a day in the calendar's zone, as an Opportunity's: midnight in New York (EST).
    assert rows["p5"]["won_at"] == datetime(2026, 3, 5, 5, 0) and rows["p5"]["opportunity_at"] == at(5)
    assert rows["p5"]["unmapped_values"] == "hubspot.dealstage=weird"
    assert rows["p6"]["lost_at"] == datetime(2026, 4, 1, 4, 0) and rows["p6"]["regression_from_stage"] == "won"
    assert rows["p7"]["current_stage"] == "disqualified"
    assert rows["p8"]["current_stage"] == "sal" and rows["p8"]["recycled_at"] == at(9)
    assert rows["p9"]["current_stage"] is None and rows["p9"]["lead_at"] is None


def test_past_as_of_shows_the_world_as_of_then(cases: Warehouse) -> None:
    """At a past ``as_of`` (T0 + 6 h) stage observations after it have not happened and people created after it
    do not exist: the reference and the SQL agree, and the closed loop the pipeline writes shows it."""
    as_of = at(6).replace(tzinfo=UTC)
    assert assert_same(cases, as_of=as_of) == 9  # everyone was created by then
    rows = {r["person_key"]: r for r in sql_rows(cases, DEFS, as_of)}
    # p1: created T0, lifecycle SQL at T0 + 5 h, lead at T0 + 7 h (after as_of): no regression yet, still SQL.
    assert rows["p1"]["current_stage"] == "sql" and rows["p1"]["regression_from_stage"] is None
    # p4: the Lead's "Nurturing" (T0 + 5 h) stands; its conversion at T0 + 7 h is not known yet.
    assert rows["p4"]["current_stage"] == "recycled" and rows["p4"]["sql_at"] is None
    # p8: only what happened by T0 + 6 h: SQL at T0 + 2 h, opportunity at T0 + 6 h exactly (at as_of counts).
    assert rows["p8"]["opportunity_at"] == at(6) and rows["p8"]["recycled_at"] is None
    # The pipeline, on both warehouses (the people above replaced, their history kept): a person created before
    # as_of whose MQL lies after it has no MQL yet, one created after as_of is absent.
    people = [
        person("hubspot", "contact", "21", "early", created_at=at(0), updated_at=at(0)),
        person("hubspot", "contact", "22", "late", created_at=at(7), updated_at=at(7)),
    ]
    history = [
        ("k1", "21", "lifecyclestage", "lead", at(0)),
        ("k2", "21", "lifecyclestage", "marketingqualifiedlead", at(8)),
        ("k3", "22", "lifecyclestage", "marketingqualifiedlead", at(7)),
    ]
    for spec in (CANONICAL_ACTIVITIES, CANONICAL_ACCOUNTS, CANONICAL_OWNERS, IDENTITY_CONFLICTS):
        replace_table(cases, spec, pd.DataFrame(columns=spec.column_names))
    replace_table(cases, CANONICAL_PEOPLE, pd.DataFrame(people, columns=CANONICAL_PEOPLE.column_names))
    replace_table(cases, CANONICAL_OPPORTUNITIES, pd.DataFrame(columns=CANONICAL_OPPORTUNITIES.column_names))
    with cases.engine.begin() as conn:
        hs_history(history).to_sql(
            "raw_hubspot__contact_property_history", conn, schema=cases.schema, index=False, if_exists="append"
        )
    write_closed_loop(cases, DEFS, as_of)
    then = {r["person_key"]: r for r in to_rows(read_table(cases, CLOSED_LOOP_LEADS), CLOSED_LOOP_LEADS)}
    assert list(then) == ["early"]
    assert then["early"]["mql_at"] is None and then["early"]["current_stage"] == "lead"
    write_closed_loop(cases, DEFS, at(9).replace(tzinfo=UTC))
    later = {r["person_key"]: r for r in to_rows(read_table(cases, CLOSED_LOOP_LEADS), CLOSED_LOOP_LEADS)}
    assert sorted(later) == ["early", "late"] and later["early"]["mql_at"] == at(8)
    assert later["late"]["mql_at"] == at(7)


def write_random(wh: Warehouse, people: int, seed: int) -> None:
    """Random histories on a coarse clock (many ties), for the replay and first-reach rules at large."""
    rng = random.Random(seed)
    lifecycle = [*DEFS.stages.hubspot_lifecycle, "odd"]
    lead_status = [*DEFS.stages.hubspot_lead_status, "ODD"]
    sf_status = [*DEFS.stages.salesforce_lead_status, "Odd"]
    opp_stages = [*DEFS.stages.salesforce_opportunity_stages, "closedwon"]

    def when() -> datetime:
        return at(rng.randrange(12) * 24)

    persons: list[dict[str, Any]] = []
    opps: list[dict[str, Any]] = []
    hs: list[tuple[str, str, str, str | None, datetime]] = []
    lh: list[tuple[str, str, str, str | None, str | None, datetime]] = []
    oh: list[tuple[str, str, str, datetime]] = []
    for i in range(people):
        key = f"r{i}"
        persons.append(person("hubspot", "contact", str(i), key, created_at=when(), updated_at=when()))
        for k in range(6):
            prop = rng.choice(["lifecyclestage", "hs_lead_status"])
            value = rng.choice(lifecycle if prop == "lifecyclestage" else lead_status)
            hs.append((f"h{i}_{k}", str(i), prop, value, when()))
        if i % 3:
            lead = f"00Q{i}"
            persons.append(person("salesforce", "lead", lead, key, created_at=when(), lead_status="New"))
            lh += [
                (f"L{i}_{k}", lead, "Status", rng.choice(sf_status), rng.choice(sf_status), when()) for k in range(3)
            ]
        if i % 4 == 0:
            opps.append(deal("salesforce", f"006{i}", key, created_at=when(), is_closed=True, is_won=bool(i % 8)))
            oh += [(f"O{i}_{k}", f"006{i}", rng.choice(opp_stages), when()) for k in range(2)]
    write_tables(wh, persons, opps, pd.DataFrame([{"id": str(i)} for i in range(people)]), hs, lh, oh)


def test_random_histories_match_reference(tmp_path: Path) -> None:
    wh = Warehouse.from_url(f"duckdb:///{tmp_path}/random.duckdb")
    try:
        write_random(wh, 300, seed=7)
        assert assert_same(wh) == 300
        # Half-way through the histories: people created later left out, later observations not yet made.
        assert 0 < assert_same(wh, as_of=at(6 * 24).replace(tzinfo=UTC)) < 300
    finally:
        wh.close()
