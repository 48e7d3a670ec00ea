"""canonical_owners, canonical_accounts and canonical_opportunities as SQL equal the pandas reference builders,
row by row and column by column, on DuckDB and PostgreSQL, on the edge cases the sandbox does not plant
(firmographics, HubSpot teams, account numbers and domains, opportunity people and stages). Whole sandboxes are
test_equivalence's."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACCOUNTS,
    CANONICAL_OPPORTUNITIES,
    CANONICAL_OWNERS,
)
from connectors.warehouse.spec import TableSpec
from pipelines.closed_loop.accounts import build_accounts, firmographics_row
from pipelines.closed_loop.opportunities import build_opportunities
from pipelines.closed_loop.owners import build_owners
from pipelines.closed_loop.raw import Frames
from pipelines.closed_loop.sql.accounts import accounts_sql
from pipelines.closed_loop.sql.context import SqlContext
from pipelines.closed_loop.sql.firmographics import create_firmographic_maps, firmographic_columns
from pipelines.closed_loop.sql.opportunities import opportunities_sql
from pipelines.closed_loop.sql.owners import owners_sql
from pipelines.closed_loop.write import to_rows
from pipelines.funnel.definitions import load_definitions
from pipelines.funnel.model import FunnelDefinitions
from tests.conftest import PG_URL, postgres_reachable


def assert_same_rows(spec: TableSpec, expected: pd.DataFrame, actual: pd.DataFrame) -> int:
    """Both frames normalised to the spec's Python types and compared cell by cell; returns the row count."""
    want, got = to_rows(expected, spec), to_rows(actual, spec)
    assert [tuple(r[k] for k in spec.primary_key) for r in got] == [tuple(r[k] for k in spec.primary_key) for r in want]
    for w, g in zip(want, got):
        for column in spec.column_names:
            a, b = w[column], g[column]
            if isinstance(a, float) and isinstance(b, float):
                assert math.isclose(a, b, rel_tol=0, abs_tol=1e-6), (column, w, g)
            else:
                assert a == b, (column, a, b, w)
    return len(want)


@pytest.fixture(scope="module")
def defs() -> FunnelDefinitions:
    return load_definitions()


@pytest.fixture(params=["duckdb", "postgres"])
def engine_schema(request: pytest.FixtureRequest) -> Iterator[tuple[sa.Engine, str | None]]:
    if request.param == "duckdb":
        engine = sa.create_engine("duckdb:///:memory:")
        yield engine, None
        engine.dispose()
        return
    if not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    engine = sa.create_engine(PG_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield engine, schema
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


FIRMS: list[tuple[Any, ...]] = [
    ("  technology ", 300, 3.0e7, "united states"),
    ("Technology", 300, 1.0e7, "US"),
    ("COMPUTER_SOFTWARE", 60, None, " gb "),
    ("technology", None, 3.0e7, "US"),
    (None, 25, None, None),
    ("", 19, 1.0, ""),
    ("Unknown Industry", 20, None, "Narnia"),
    ("healthcare", 10000, 5.0, "FR"),
    ("healthcare", 10001, 5.0, "FR"),
]


def test_firmographics_match_reference_rule(
    engine_schema: tuple[sa.Engine, str | None], defs: FunnelDefinitions
) -> None:
    engine, schema = engine_schema
    with engine.begin() as conn:
        ctx = SqlContext(conn, schema)
        create_firmographic_maps(ctx, defs)
        rows = [(i, *firm) for i, firm in enumerate(FIRMS)]
        columns: dict[str, Any] = {
            "n": "integer",
            "industry": "text",
            "employees": "integer",
            "revenue": "float",
            "country": "text",
        }
        ctx.values("h1_firms", columns, rows)
        # A NaN revenue (a float column's missing value once in pandas) must not satisfy tier A's minimum.
        ctx.execute(
            f"INSERT INTO h1_firms VALUES ({len(FIRMS)}, 'technology', 300, CAST('NaN' AS DOUBLE PRECISION), 'US')"
        )
        joins, firm = firmographic_columns(
            ctx,
            defs,
            prefix="a",
            industry="f.industry",
            employees="f.employees",
            revenue="f.revenue",
            country="f.country",
        )
        # The same maps joined twice under another prefix: the aliases must not clash.
        joins_b, firm_b = firmographic_columns(
            ctx,
            defs,
            prefix="b",
            industry="f.industry",
            employees="f.employees",
            revenue="f.revenue",
            country="f.country",
        )
        got = ctx.rows(
            f"SELECT f.n, {firm['industry_canonical']}, {firm['country_code']}, {firm['icp_tier']}, "
            f"{firm_b['icp_tier']} "
            f"FROM h1_firms f{joins}{joins_b} ORDER BY f.n"
        )
    firms = [*FIRMS, ("technology", 300, math.nan, "US")]
    want = [firmographics_row(ind, emp, rev, cty, defs) for ind, emp, rev, cty in firms]
    assert want[-1]["icp_tier"] == "B"
    assert [(w["industry_canonical"], w["country_code"], w["icp_tier"], w["icp_tier"]) for w in want] == [
        g[1:] for g in got
    ]
    assert {w["icp_tier"] for w in want} == {"A", "B", "C", None}


def test_hubspot_owner_teams_and_matching(engine_schema: tuple[sa.Engine, str | None]) -> None:
    """Primary team (any truthy "primary") else the first, empty/absent teams, e-mail matching across CRMs
    (Salesforce's first User decides team and activity), malformed e-mails never match."""
    engine, schema = engine_schema
    teams = [
        [{"id": "1", "name": "First"}, {"id": "2", "name": " Primary ", "primary": True}],
        [],
        [{"id": "1", "name": "First", "primary": False}, {"id": "2", "name": "Second"}],
        None,
        [{"id": "1", "name": "Solo", "primary": True}],
        [{"id": "1", "name": "Both", "primary": True}],
        [
            {"id": "1", "name": "Zero", "primary": 0},
            {"id": "2", "name": "Empty", "primary": ""},
            {"name": "One", "primary": 1},
        ],
    ]
    owners = pd.DataFrame(
        {
            "id": ["11", "12", "13", "14", "15", "16", "17"],
            "email": ["a@x.com", "B@X.COM ", "c@x.com", "bad@", None, "e@x.com", " "],
            "first_name": ["A", None, "C", "D", None, "E", None],
            "last_name": ["Aa", "Bb", None, None, None, "Ee", None],
            "archived": [False, True, False, None, False, False, False],
            "_is_deleted": [False, False, False, False, True, False, None],
            "teams": [None if t is None else json.dumps(t) for t in teams],
        }
    )
    users = pd.DataFrame(
        {
            "id": ["005B", "005A", "005C"],
            "email": ["b@x.com", "e@x.com", "E@x.com"],
            "name": [None, "Eve", None],
            "firstname": ["Bo", None, None],
            "lastname": [None, None, None],
            "team__c": [None, None, "Sales"],
            "isactive": [True, False, True],
            "title": ["AE", None, None],
            "_is_deleted": [False, False, False],
        }
    )
    json_type = "JSONB" if engine.dialect.name == "postgresql" else "JSON"
    with engine.begin() as conn:
        users.to_sql("raw_salesforce__user", conn, schema=schema, index=False)
        owners.to_sql("raw_hubspot__owners", conn, schema=schema, index=False)
        table = f'"{schema}".raw_hubspot__owners' if schema else "raw_hubspot__owners"
        conn.exec_driver_sql(
            f"ALTER TABLE {table} ALTER COLUMN teams TYPE {json_type} USING CAST(teams AS {json_type})"
        )
        ctx = SqlContext(conn, schema)
        result = conn.exec_driver_sql(owners_sql(ctx))
        actual = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    expected = build_owners(Frames({"raw_salesforce__user": users, "raw_hubspot__owners": owners}))
    assert assert_same_rows(CANONICAL_OWNERS, expected, actual) == 10
    team = {r["source_id"]: r["team"] for r in to_rows(actual, CANONICAL_OWNERS)}
    # Salesforce first: a matched User without Team__c leaves the owner without a team.
    assert [team[i] for i in ("11", "12", "13", "14", "15", "16", "17", "005C")] == [
        "Primary",
        None,
        "First",
        None,
        "Solo",
        None,
        "One",
        None,
    ]


def _write(conn: sa.Connection, schema: str | None, tables: dict[str, pd.DataFrame]) -> Frames:
    for name, frame in tables.items():
        frame.to_sql(name, conn, schema=schema, index=False)
    return Frames(tables)


def _run(conn: sa.Connection, sql: str) -> pd.DataFrame:
    result = conn.exec_driver_sql(sql)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def test_accounts_domains_numbers_and_links(
    engine_schema: tuple[sa.Engine, str | None], defs: FunnelDefinitions
) -> None:
    engine, schema = engine_schema
    accounts = pd.DataFrame(
        {
            "id": ["001B", "001A", "001C"],
            "name": [" Acme ", "", None],
            "website": ["HTTP://WWW.Acme.COM/about", "https://", " acme.org "],
            "industry": ["Technology", None, "Banking"],
            "numberofemployees": ["250.7", "1,200", " "],
            "annualrevenue": ["3e7", "abc", "12.5"],
            "billingcountry": ["USA", "Germany", None],
        }
    )
    companies = pd.DataFrame(
        {
            "id": ["901", "900"],
            "domain": ["www.beta.io", None],
            "industry": ["COMPUTER_SOFTWARE", "unknown"],
            "numberofemployees": [75.0, None],
            "annualrevenue": [None, 1.0],
            "country": ["us", "FR"],
            "salesforceaccountid": ["001B", " "],
            "created_at": pd.to_datetime(["2026-01-01 10:00", "2026-01-02 10:00"]),
            "createdate": pd.to_datetime(pd.Series([None, "2026-01-03 10:00"])),
            "_is_deleted": [None, True],
        }
    )
    with engine.begin() as conn:
        raw = _write(conn, schema, {"raw_salesforce__account": accounts, "raw_hubspot__companies": companies})
        actual = _run(conn, accounts_sql(SqlContext(conn, schema), defs))
    assert assert_same_rows(CANONICAL_ACCOUNTS, build_accounts(raw, defs), actual) == 5
    domains = {r["source_id"]: r["domain"] for r in to_rows(actual, CANONICAL_ACCOUNTS)}
    assert (domains["001B"], domains["001A"], domains["001C"], domains["901"]) == (
        "acme.com",
        None,
        "acme.org",
        "beta.io",
    )


def test_opportunities_people_edges_and_stages(
    engine_schema: tuple[sa.Engine, str | None], defs: FunnelDefinitions
) -> None:
    """Converted Lead before Contact; a deal's first contact record by (length, id), deleted edges ignored, else
    its linked Opportunity's person; a found record without person_key (an all-deleted identity group) gives no
    person; first company by (length, id); unmapped and absent stages."""
    engine, schema = engine_schema
    sf_stage = next(iter(defs.stages.salesforce_opportunity_stages))
    hs_stage = next(iter(defs.stages.hubspot_deal_stages))
    people = pd.DataFrame(
        {
            "source_system": ["salesforce", "salesforce", "salesforce", "hubspot", "hubspot", "hubspot", "hubspot"],
            "source_object": ["lead", "lead", "contact", "contact", "contact", "contact", "contact"],
            "source_id": ["00Q1", "00Q2", "0031", "10", "9", "8", "7"],
            "person_key": ["P-lead", None, "P-contact", "P-10", "P-9", None, "P-7"],
            "converted_opportunity_id": ["0061", "0064", None, None, None, None, None],
        }
    )
    opportunities = pd.DataFrame(
        {
            "id": ["0061", "0062", "0063", "0064"],
            "contactid": ["0031", "0031", None, "0031"],
            "stagename": [sf_stage, "Nowhere", None, sf_stage],
            "isclosed": [True, False, None, False],
            "amount": [100.5, None, 3.0, 1.0],
            "closedate": ["2026-03-01", None, "2026-04-01T10:00:00", None],
            "_is_deleted": [False, True, None, False],
        }
    )
    deals = pd.DataFrame(
        {
            "id": ["501", "502", "503", "504"],
            "dealstage": [hs_stage, None, "unknown", hs_stage],
            "salesforceopportunityid": [None, "0062", "0061", None],
            "archived": [False, True, None, False],
            "created_at": pd.to_datetime(pd.Series(["2026-01-01", "2026-01-02", None, None])),
        }
    )
    edges = pd.DataFrame(
        {
            "from_type": ["deals"] * 8 + ["contacts"],
            "from_id": ["501", "501", "501", "503", "502", "503", "501", "501", "504"],
            "to_type": [
                "contacts",
                "contacts",
                "contacts",
                "contacts",
                "companies",
                "companies",
                "companies",
                "companies",
                "deals",
            ],
            "to_id": ["10", "9", "7", "8", "77", "5", "100", "99", "501"],
            "_is_deleted": [False, False, True, False, False, True, False, False, False],
        }
    )
    with engine.begin() as conn:
        raw = _write(
            conn,
            schema,
            {
                "raw_salesforce__opportunity": opportunities,
                "raw_hubspot__deals": deals,
                "raw_hubspot__associations": edges,
                "h1_people": people,
            },
        )
        ctx = SqlContext(conn, schema)
        actual = _run(conn, opportunities_sql(ctx, defs, ctx.table("h1_people")))
    expected = build_opportunities(raw, people, defs)
    assert assert_same_rows(CANONICAL_OPPORTUNITIES, expected, actual) == 8
    person = {
        r["source_id"]: (r["person_key"], r["account_source_id"]) for r in to_rows(actual, CANONICAL_OPPORTUNITIES)
    }
    assert [person[i] for i in ("0061", "0062", "0064", "501", "502", "503", "504")] == [
        ("P-lead", None),
        ("P-contact", None),
        (None, None),
        ("P-9", "99"),
        ("P-contact", "77"),
        (None, None),
        (None, None),
    ]
