"""lead_sla_sql equals the pandas reference (leads.closed_loop_row) on DuckDB and PostgreSQL under policies and
audit instants test_equivalence does not use (its whole-path comparison covers the repository definitions), and
the calendar tables it relies on equal BusinessCalendar on random instants across DST changes and holidays."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.spec import TableSpec
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.bundles import bundles
from pipelines.closed_loop.closed_loop import build_closed_loop
from pipelines.closed_loop.inputs import HISTORY_TABLES
from pipelines.closed_loop.leads import journey_of
from pipelines.closed_loop.raw import read_tables
from pipelines.closed_loop.sql.calendar import (
    SEGMENTS,
    clock,
    clock_join,
    create_calendar,
    deadline_at,
    deadline_join,
)
from pipelines.closed_loop.sql.context import SqlContext, Want, literal
from pipelines.closed_loop.sql.lead_sla import lead_sla_sql
from pipelines.closed_loop.sql.members import create_members
from pipelines.closed_loop.write import to_rows
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.definitions import DEFAULT_PATH, load_definitions
from pipelines.funnel.model import (
    FUNNEL_STAGES,
    STAGES,
    AcceptRejectPolicy,
    Duration,
    FirstTouchClock,
    FirstTouchPolicy,
    FunnelDefinitions,
    MqlSource,
)
from tests.closed_loop.conftest import ANCHOR
from tests.closed_loop.sql.conftest import read_canonical

COLUMNS = (
    "person_key",
    "created_at",
    "cohort_month",
    "mql_at",
    "mql_month",
    "mql_inferred",
    "first_touch_at",
    "accepted_at",
    "rejected_at",
    "sql_at",
    "opportunity_created_at",
    "won_at",
    "lost_at",
    "outcome",
    "disqualification_reason",
    "disqualification_reason_raw",
    "contact_attempts",
    "contact_attempts_required",
    "business_minutes_to_first_touch",
    "first_touch_clock_from",
    "first_touch_clock_at",
    "first_touch_sla_status",
    "first_touch_due_at",
    "accept_reject_sla_status",
    "accept_reject_due_at",
    "rejection_reason_sla_status",
    "contact_attempts_sla_status",
    "current_stage",
    "has_stage_regression",
    "regression_from_stage",
    "regression_to_stage",
    "regressed_at",
    "unmapped_values",
    "has_identity_conflict",
)
SPEC = TableSpec(
    name="lead_sla",
    doc="The lead_sla columns of closed_loop_leads",
    primary_key=("person_key",),
    columns=tuple(c for c in CLOSED_LOOP_LEADS.columns if c.name in COLUMNS),
)
DEFAULTS = load_definitions(DEFAULT_PATH)


def _naive(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def journeys_table(wh: Warehouse, defs: FunnelDefinitions, as_of: datetime) -> pa.Table:
    """The ``journeys`` relation from the reference journey_of (what the journey SQL will produce)."""
    rows: list[dict[str, Any]] = []
    for b in bundles(read_canonical(wh), read_tables(wh, HISTORY_TABLES), as_of):
        j = journey_of(b, defs, as_of)
        last = j.regressions[-1] if j.regressions else None
        row: dict[str, Any] = {"person_key": b.person_key}
        row.update({f"{s}_at": _naive(j.reached_at(s)) for s in STAGES})
        row.update({f"{s}_inferred": (s in j.reached and j.reached[s].inferred) or None for s in FUNNEL_STAGES})
        row.update(
            current_stage=j.current,
            regression_from_stage=last.from_stage if last else None,
            regression_to_stage=last.to_stage if last else None,
            regressed_at=_naive(last.at) if last else None,
            unmapped_values=",".join(j.unmapped) or None,
        )
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=pa.schema(list(_journey_columns().items())))


def _journey_columns() -> dict[str, pa.DataType]:
    columns: dict[str, pa.DataType] = {"person_key": pa.string()}
    columns.update({f"{s}_at": pa.timestamp("us") for s in STAGES})
    columns.update({f"{s}_inferred": pa.bool_() for s in FUNNEL_STAGES})
    columns.update({c: pa.string() for c in ("current_stage", "regression_from_stage", "regression_to_stage")})
    columns.update(regressed_at=pa.timestamp("us"), unmapped_values=pa.string())
    return columns


def _want(kind: pa.DataType) -> Want:
    return "timestamp" if pa.types.is_timestamp(kind) else "boolean" if pa.types.is_boolean(kind) else "text"


def scores_table(wh: Warehouse, defs: FunnelDefinitions, as_of: datetime) -> pa.Table:
    """The ``scores`` relation from the reference (what the lead-facts SQL produces, held equal elsewhere)."""
    frame = build_closed_loop(read_canonical(wh), read_tables(wh, HISTORY_TABLES), defs, as_of)
    reached = [None if pd.isna(t) else _naive(pd.Timestamp(t).to_pydatetime()) for t in frame["score_mql_at"]]
    return pa.table(
        {
            "person_key": pa.array(frame["person_key"], pa.string()),
            "score_mql_at": pa.array(reached, pa.timestamp("us")),
        }
    )


def sql_rows(wh: Warehouse, defs: FunnelDefinitions, as_of: datetime) -> list[dict[str, Any]]:
    journeys = journeys_table(wh, defs, as_of)
    scores = scores_table(wh, defs, as_of)
    with wh.engine.begin() as conn:
        ctx = SqlContext(conn, wh.schema)
        create_members(ctx, as_of)
        ctx.load_arrow("test_journeys", journeys, {n: _want(t) for n, t in _journey_columns().items()})
        ctx.load_arrow("test_scores", scores, {"person_key": "text", "score_mql_at": "timestamp"})
        select = lead_sla_sql(ctx, defs, as_of, "test_journeys", "test_scores")
        result = conn.exec_driver_sql(select)
        names = list(result.keys())
        records = [dict(zip(names, r)) for r in result.fetchall()]
    return to_rows(pd.DataFrame(records, columns=names), SPEC)


def reference_rows(wh: Warehouse, defs: FunnelDefinitions, as_of: datetime) -> list[dict[str, Any]]:
    frame = build_closed_loop(read_canonical(wh), read_tables(wh, HISTORY_TABLES), defs, as_of)
    return to_rows(frame[list(COLUMNS)], SPEC)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, abs_tol=1e-6)
    return bool(a == b)


def differences(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    """Every (person, column) that differs, plus people on one side only."""
    want = {r["person_key"]: r for r in expected}
    got = {r["person_key"]: r for r in actual}
    out = [f"only in reference: {k}" for k in want.keys() - got.keys()]
    out += [f"only in SQL: {k}" for k in got.keys() - want.keys()]
    for key in sorted(want.keys() & got.keys()):
        out += [
            f"{key}.{c}: reference {want[key][c]!r}, SQL {got[key][c]!r}"
            for c in COLUMNS
            if not _same(want[key][c], got[key][c])
        ]
    return out


def assert_equal(wh: Warehouse, defs: FunnelDefinitions, as_of: datetime) -> int:
    expected = reference_rows(wh, defs, as_of)
    actual = sql_rows(wh, defs, as_of)
    assert expected, "the sample has people"
    problems = differences(expected, actual)
    assert not problems, "\n".join(problems[:40])
    return len(expected)


def _variant(
    defs: FunnelDefinitions, clock: FirstTouchClock, restart: bool, mql_source: MqlSource = "crm"
) -> FunnelDefinitions:
    """Every other branch: a zero-minute and a calendar first-touch target, the other clocks, a business
    accept/reject deadline without a reason requirement, exempt reasons for the attempts rule, the SLA clocks
    run from the score's MQL or the earlier MQL."""
    sla = replace(
        defs.sla,
        mql_source=mql_source,
        first_touch=FirstTouchPolicy(Duration(0, "business_minutes"), Duration(90, "calendar_minutes"), clock, restart),
        accept_reject=AcceptRejectPolicy(Duration(30, "business_hours"), reason_required=False),
        disqualification=replace(
            defs.sla.disqualification, exempt_reasons=frozenset({"competitor", "no_need"}), min_attempts=1
        ),
    )
    return replace(defs, sla=sla)


# --- equality with the reference ---------------------------------------------------------------------------
def test_duckdb_equals_reference_other_policies_and_instant(canonical_duckdb: Warehouse) -> None:
    defs = _variant(DEFAULTS, "assignment", restart=True, mql_source="earliest")
    assert assert_equal(canonical_duckdb, defs, ANCHOR - timedelta(days=40, hours=5, minutes=7)) > 100


def test_postgres_equals_reference_other_policies_and_instant(canonical_postgres: Warehouse) -> None:
    assert (
        assert_equal(
            canonical_postgres,
            _variant(DEFAULTS, "mql", restart=False, mql_source="score"),
            ANCHOR - timedelta(days=3, minutes=11),
        )
        > 50
    )


# --- the calendar tables against BusinessCalendar -----------------------------------------------------------
FIRST = datetime(2025, 12, 1)
LAST = datetime(2027, 4, 30)
CALENDARS = {
    "new_york": BusinessCalendar.from_spec(DEFAULTS.sla.calendar),
    # Split days, a window to midnight and a zone with other DST dates.
    "berlin": BusinessCalendar(
        "Europe/Berlin",
        [
            [(time(8), time(12)), (time(13), time(17, 30))],
            [(time(8), time(12)), (time(13), time(17, 30))],
            [(time(22), time(0))],
            [(time(0), time(0))],
            [(time(9), time(15))],
            [],
            [],
        ],
        "DE",
        extra_holidays=[datetime(2026, 3, 30).date()],
    ),
}
instants = st.datetimes(min_value=FIRST + timedelta(days=1), max_value=datetime(2026, 12, 31)).map(
    lambda t: t.replace(microsecond=0)
)
# DST changes and holidays drawn often: instants within a day of them.
edges = st.sampled_from(
    [
        datetime(2026, 3, 8, 6, 59),
        datetime(2026, 3, 29, 1, 0),
        datetime(2026, 10, 25, 1, 0),
        datetime(2026, 11, 1, 5, 30),
        datetime(2026, 12, 24, 13, 0),
        datetime(2026, 12, 31, 21, 59),
        datetime(2026, 11, 26, 14, 0),
        datetime(2026, 3, 30, 6, 0),
    ]
).flatmap(lambda t: st.integers(-1500, 1500).map(lambda m: t + timedelta(minutes=m)))
any_instant = st.one_of(instants, edges)


@pytest.fixture(scope="module")
def calendars() -> Iterator[dict[str, sa.Connection]]:
    conns = {}
    engines = []
    for name, calendar in CALENDARS.items():
        engine = sa.create_engine("duckdb:///:memory:")
        engines.append(engine)
        conn = engine.connect()
        create_calendar(SqlContext(conn, None), calendar, FIRST, LAST)
        conns[name] = conn
    yield conns
    for conn in conns.values():
        conn.close()
    for engine in engines:
        engine.dispose()


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(CALENDARS)), start=any_instant, end=any_instant, minutes=st.floats(0.5, 4000))
def test_calendar_tables_match_business_calendar(
    calendars: dict[str, sa.Connection], name: str, start: datetime, end: datetime, minutes: float
) -> None:
    calendar, ctx = CALENDARS[name], SqlContext(calendars[name], None)
    minutes = round(minutes, 2)
    a, b = literal(start), literal(end)
    target = f"({clock(ctx, 's', a)} + {minutes!r})"
    query = (
        f"SELECT {clock(ctx, 'e', b)} - {clock(ctx, 's', a)}, s.is_open, {deadline_at(ctx, 'd', target)} "
        f"FROM (SELECT 1 AS one) x {clock_join('s', a)} {clock_join('e', b)} {deadline_join('d', target)}"
    )
    between, is_open, due = ctx.rows(query)[0]
    assert math.isclose(between, calendar.business_minutes_between(_aware(start), _aware(end)), abs_tol=1e-6)
    assert is_open == calendar.is_open(_aware(start))
    expected = calendar.add_business_minutes(_aware(start), minutes).astimezone(UTC).replace(tzinfo=None)
    assert abs((due - expected).total_seconds()) < 1e-5


def test_calendar_segments_give_local_days(calendars: dict[str, sa.Connection]) -> None:
    ctx = SqlContext(calendars["new_york"], None)
    tz = CALENDARS["new_york"].tz
    probes = [datetime(2026, 11, 1, 3, 59, 59), datetime(2026, 11, 1, 4, 0), datetime(2026, 3, 8, 4, 59)]
    for t in probes:
        got = ctx.scalar(f"SELECT s.local_date FROM (SELECT 1 AS one) x {clock_join('s', literal(t))}")
        assert got == _aware(t).astimezone(tz).date()
    assert ctx.scalar(f"SELECT COUNT(*) FROM {SEGMENTS} WHERE seg_to <= seg_from") == 0
