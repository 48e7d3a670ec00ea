"""``crm-loop sql`` and ``crm-loop report`` as an analyst runs them: the installed command, as a subprocess, on a
small DuckDB warehouse and a PostgreSQL schema holding the production views over a hand-made closed_loop_leads.

The leads: team east has 2 first touches met and 1 breached (compliance 2/3, a fraction with no short decimal),
team west 1 met, and one MQL without an owner team is pending (its compliance is NULL).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connectors.errors import UserError
from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACTIVITIES,
    CANONICAL_OPPORTUNITIES,
    CANONICAL_PEOPLE,
    CLOSED_LOOP_LEADS,
    IDENTITY_CONFLICTS,
)
from connectors.warehouse.locking import write_lock
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.sql.context import SQL_TYPES, SqlContext, literal
from pipelines.closed_loop.sql.materialize import empty_select, replace_from
from pipelines.closed_loop.views import create_views
from pipelines.sql_output import render
from tests.closed_loop.conftest import drop_schema
from tests.conftest import postgres_reachable

CRM_LOOP = str(Path(sys.executable).with_name("crm-loop"))
PLAIN_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"  # no driver named, as people write it
MQL_AT = datetime(2026, 10, 5, 9, 0)


def _lead(key: str, team: str | None, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "person_key": key,
        "email": f"{key}@example.com",
        "owner_key": f"owner-{team}" if team else None,
        "owner_name": f"Rep {team}" if team else None,
        "owner_team": team,
        "created_at": datetime(2026, 10, 1, 12, 0),
        "cohort_month": date(2026, 10, 1),
        "mql_at": MQL_AT,
        "mql_month": date(2026, 10, 1),
        "mql_inferred": False,
        "score_at_mql": 80.0,
        "first_touch_sla_status": status,
        "current_stage": "mql",
        "last_updated_at": datetime(2026, 10, 20, 12, 0),
        "definitions_hash": "test-hash",
        **extra,
    }


LEADS = [
    _lead("p1", "east", "met", business_minutes_to_first_touch=10.0),
    _lead("p2", "east", "met", business_minutes_to_first_touch=20.0),
    _lead("p3", "east", "breached", business_minutes_to_first_touch=700.0),
    _lead("p4", "west", "met", business_minutes_to_first_touch=5.0),
    _lead("p5", None, "pending"),
]
TEAMS = "SELECT owner_team, mqls_audited, first_touch_compliance FROM sla_compliance_by_team ORDER BY owner_team"
TEAMS_TABLE = [
    "owner_team  mqls_audited  first_touch_compliance",
    "----------  ------------  ----------------------",
    "(none)                 1                    NULL",
    "east                   3                  0.6667",
    "west                   1                  1.0000",
    "(3 rows)",
]


def build(wh: Warehouse) -> None:
    """closed_loop_leads with LEADS (every other column NULL), no identity conflicts, empty canonical tables
    (the report reads the build's default as_of from them), and the views over them."""

    def row(lead: Mapping[str, Any]) -> str:
        return ", ".join(f"CAST({literal(lead.get(c.name))} AS {SQL_TYPES[c.type]}) AS {c.name}" for c in columns)

    columns = CLOSED_LOOP_LEADS.columns
    with write_lock(wh.engine), wh.engine.begin() as conn:
        ctx = SqlContext(conn, wh.schema)
        replace_from(ctx, CLOSED_LOOP_LEADS, " UNION ALL ".join(f"SELECT {row(lead)}" for lead in LEADS))
        for spec in (IDENTITY_CONFLICTS, CANONICAL_PEOPLE, CANONICAL_OPPORTUNITIES, CANONICAL_ACTIVITIES):
            replace_from(ctx, spec, empty_select(spec))
    create_views(wh)


@pytest.fixture(scope="module")
def duckdb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli_sql") / "warehouse.duckdb"
    wh = Warehouse.from_url(f"duckdb:///{path}")
    try:
        build(wh)
    finally:
        wh.close()  # released: the commands under test open it from other processes
    return path


@pytest.fixture(scope="module")
def postgres_schema() -> Iterator[str]:
    if not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    wh = Warehouse.from_url(PLAIN_PG_URL.replace("postgresql://", "postgresql+psycopg2://"), schema=schema)
    try:
        build(wh)
        yield schema
    finally:
        wh.close()
        drop_schema(schema)


@pytest.fixture
def private_duckdb(duckdb_file: Path, tmp_path: Path) -> Path:
    """A copy of the DuckDB warehouse that this test alone opens."""
    return Path(shutil.copy(duckdb_file, tmp_path / "warehouse.duckdb"))


def crm_loop(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command, with no warehouse settings but ``env``'s."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CRM_LOOP_")}
    return subprocess.run(
        [CRM_LOOP, *args], capture_output=True, text=True, env={**base, **(env or {})}, timeout=120, check=False
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("crm-loop: "), result.stderr
    return lines[0]


def test_the_table_format_aligns_rounds_and_shows_null_the_same_on_both_engines(
    duckdb_file: Path, postgres_schema: str
) -> None:
    on_duckdb = crm_loop("sql", TEAMS, "--warehouse", f"duckdb:///{duckdb_file}")
    on_postgres = crm_loop("sql", TEAMS, "--warehouse", PLAIN_PG_URL, "--schema", postgres_schema)
    assert on_duckdb.returncode == 0, on_duckdb.stderr
    assert on_postgres.returncode == 0, on_postgres.stderr
    assert on_duckdb.stdout.splitlines() == TEAMS_TABLE
    assert on_postgres.stdout == on_duckdb.stdout


def test_csv_and_json_keep_full_precision_and_nulls(duckdb_file: Path) -> None:
    url = f"duckdb:///{duckdb_file}"
    as_csv = crm_loop("sql", TEAMS, "--warehouse", url, "--format", "csv")
    as_json = crm_loop("sql", TEAMS, "--warehouse", url, "--format", "json")
    assert as_csv.returncode == as_json.returncode == 0, (as_csv.stderr, as_json.stderr)
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["owner_team", "mqls_audited", "first_touch_compliance"],
        ["(none)", "1", ""],
        ["east", "3", repr(2 / 3)],
        ["west", "1", "1.0"],
    ]
    assert json.loads(as_json.stdout) == [
        {"owner_team": "(none)", "mqls_audited": 1, "first_touch_compliance": None},
        {"owner_team": "east", "mqls_audited": 3, "first_touch_compliance": 2 / 3},
        {"owner_team": "west", "mqls_audited": 1, "first_touch_compliance": 1.0},
    ]


def test_sql_reads_the_warehouse_settings_sync_uses(postgres_schema: str) -> None:
    env = {"CRM_LOOP_WAREHOUSE_URL": PLAIN_PG_URL, "CRM_LOOP_WAREHOUSE_SCHEMA": postgres_schema}
    result = crm_loop("sql", "SELECT COUNT(*) AS leads FROM closed_loop_leads", "--format", "csv", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["leads", str(len(LEADS))]


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_an_unknown_table_or_column_is_one_line_with_the_close_names(
    engine: str, duckdb_file: Path, postgres_schema: str
) -> None:
    where = (
        ["--warehouse", f"duckdb:///{duckdb_file}"]
        if engine == "duckdb"
        else ["--warehouse", PLAIN_PG_URL, "--schema", postgres_schema]
    )
    table = one_line_error(crm_loop("sql", "SELECT * FROM sla_compliance_by_tem", *where))
    assert "no table or view sla_compliance_by_tem" in table and "sla_compliance_by_team" in table.split(";")[1]
    column = one_line_error(crm_loop("sql", "SELECT owner_tem FROM sla_compliance_by_team", *where))
    assert "no column owner_tem" in column and "sla_compliance_by_team.owner_team" in column


def test_debug_shows_the_traceback(duckdb_file: Path) -> None:
    result = crm_loop("--debug", "sql", "SELECT * FROM nowhere", "--warehouse", f"duckdb:///{duckdb_file}")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "nowhere" in result.stderr


def test_a_warehouse_locked_by_a_running_job_is_one_line_naming_it(private_duckdb: Path) -> None:
    writer = duckdb.connect(str(private_duckdb))  # what a running job holds: a read-write connection
    try:
        line = one_line_error(crm_loop("sql", "SELECT 1", "--warehouse", f"duckdb:///{private_duckdb}"))
    finally:
        writer.close()
    assert line == (
        f"crm-loop: the warehouse {private_duckdb.resolve()} is being written by a running job (pid {os.getpid()}); "
        "try again when it finishes"
    )


def test_a_query_that_writes_is_refused(duckdb_file: Path) -> None:
    url = f"duckdb:///{duckdb_file}"
    line = one_line_error(crm_loop("sql", "CREATE TABLE scratch (a INTEGER)", "--warehouse", url))
    assert "opened read-only here, the query tried to write" in line


@pytest.mark.parametrize("command", ["sql", "report"])
def test_a_mistyped_duckdb_path_is_one_line_and_creates_nothing(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "vra" / "warehouse.duckdb"
    args = ["SELECT 1"] if command == "sql" else []
    line = one_line_error(crm_loop(command, *args, "--warehouse", f"duckdb:///{missing}"))
    assert f"no DuckDB warehouse at {missing}" in line
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_schema_is_one_line(duckdb_file: Path) -> None:
    line = one_line_error(
        crm_loop("sql", "SELECT 1", "--warehouse", f"duckdb:///{duckdb_file}", "--schema", "analytcs")
    )
    assert "has no schema 'analytcs'" in line and "information_schema.schemata" in line


def test_report_on_postgres_from_the_settings_prints_rates_as_percentages(postgres_schema: str, tmp_path: Path) -> None:
    env = {"CRM_LOOP_WAREHOUSE_URL": PLAIN_PG_URL, "CRM_LOOP_WAREHOUSE_SCHEMA": postgres_schema}
    output = tmp_path / "report.md"
    result = crm_loop("report", "--output", str(output), env=env)
    assert result.returncode == 0, result.stderr
    assert f"report for sales and marketing leaders: {output}" in result.stdout
    report = output.read_text()
    assert "67%" in report  # east's first-touch compliance, 2/3
    assert not re.search(r"\d\.\d{5,}", report), "a number printed unrounded"


def test_report_writes_beside_a_duckdb_warehouse_and_needs_the_views(private_duckdb: Path) -> None:
    url = f"duckdb:///{private_duckdb}"
    result = crm_loop("report", "--warehouse", url)
    assert result.returncode == 0, result.stderr
    assert (private_duckdb.parent / "report.md").is_file()
    with duckdb.connect(str(private_duckdb)) as conn:
        conn.execute("DROP VIEW funnel_totals")
    line = one_line_error(crm_loop("report", "--warehouse", url))
    assert "no table or view funnel_totals" in line and "crm-loop sync" in line


def test_the_table_shows_each_value_kind_plainly() -> None:
    """Values as the drivers return them: PostgreSQL's SUM is a whole Decimal, text may hold a line break."""
    rows = [(Decimal("12"), Decimal("2.50"), True, "two\nlines", datetime(2026, 10, 5, 9, 30), 1234.5678)]
    assert list(render(["n", "d", "b", "t", "at", "f"], rows, "table")) == [
        " n     d  b     t           at                         f",
        "--  ----  ----  ----------  -------------------  -------",
        "12  2.50  true  two\\nlines  2026-10-05 09:30:00  1234.57",
        "(1 row)",
    ]
    with pytest.raises(UserError, match="distinct column names; alias n"):
        list(render(["n", "n"], [(1, 2)], "json"))
