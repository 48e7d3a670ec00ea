"""The post-extract stages as the warehouse runs them: canonical tables, then the closed loop and its views.

Each stage is one transaction on one connection: the SQL models (``pipelines.closed_loop.sql``) stage the raw
tables, build their intermediate temp tables and replace the catalog tables, so readers see the old tables or the
new ones and nothing row-by-row happens in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from connectors.warehouse.catalog.harmonised import (
    CANONICAL_ACCOUNTS,
    CANONICAL_ACTIVITIES,
    CANONICAL_OPPORTUNITIES,
    CANONICAL_OWNERS,
    CANONICAL_PEOPLE,
    CLOSED_LOOP_LEADS,
    IDENTITY_CONFLICTS,
    SLA_DAILY_SNAPSHOTS,
)
from connectors.warehouse.locking import write_lock
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.snapshots import end_of_day
from pipelines.closed_loop.sql.accounts import accounts_sql
from pipelines.closed_loop.sql.activities import activities_sql
from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.closed_loop.sql.identity import resolve_sql
from pipelines.closed_loop.sql.journeys import journeys_sql
from pipelines.closed_loop.sql.lead_facts import SCORES as LEAD_SCORES
from pipelines.closed_loop.sql.lead_facts import lead_facts_sql
from pipelines.closed_loop.sql.lead_sla import lead_sla_sql
from pipelines.closed_loop.sql.materialize import empty_select, replace_from
from pipelines.closed_loop.sql.members import create_deals, create_members
from pipelines.closed_loop.sql.opportunities import opportunities_sql
from pipelines.closed_loop.sql.owners import owners_sql
from pipelines.closed_loop.sql.people import people_sql
from pipelines.closed_loop.views import create_views
from pipelines.funnel.model import FunnelDefinitions

# DuckDB would take up to 80% of the machine's memory; bounded, it spills intermediate tables to its temp
# directory instead. Measured at 1M leads / 10M activities: peak RSS 2.3 GB instead of 7.8 GB, for about 10 s
# more in the closed-loop stage.
DUCKDB_MEMORY_LIMIT = "2GB"
# PostgreSQL JIT-compiles any statement its planner costs high, and the models' long generated expressions (score,
# firmographics, touches) take it seconds per statement to compile for little gain: at 100k people it spent 10 s
# compiling the score table alone, and the closed loop took 48 s with JIT against 29 s without.
POSTGRES_SESSION = "SET LOCAL jit = off"


@contextmanager
def _session(wh: Warehouse) -> Iterator[SqlContext]:
    with write_lock(wh.engine), wh.engine.begin() as conn:
        if conn.dialect.name == "duckdb":
            conn.exec_driver_sql(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        else:
            conn.exec_driver_sql(POSTGRES_SESSION)
        yield SqlContext(conn, wh.schema)


def write_canonical(wh: Warehouse, defs: FunnelDefinitions) -> dict[str, int]:
    """Rebuild every canonical table from the raw tables; rows written per table."""
    with _session(wh) as ctx:
        people, conflicts = resolve_sql(ctx, ctx.temp("stg_people", people_sql(ctx)))
        counts = {
            CANONICAL_OWNERS.name: replace_from(ctx, CANONICAL_OWNERS, owners_sql(ctx)),
            CANONICAL_ACCOUNTS.name: replace_from(ctx, CANONICAL_ACCOUNTS, accounts_sql(ctx, defs)),
            CANONICAL_PEOPLE.name: replace_from(ctx, CANONICAL_PEOPLE, people),
            IDENTITY_CONFLICTS.name: replace_from(ctx, IDENTITY_CONFLICTS, conflicts),
        }
        resolved = ctx.table(CANONICAL_PEOPLE.name)
        counts[CANONICAL_OPPORTUNITIES.name] = replace_from(
            ctx, CANONICAL_OPPORTUNITIES, opportunities_sql(ctx, defs, resolved)
        )
        counts[CANONICAL_ACTIVITIES.name] = replace_from(ctx, CANONICAL_ACTIVITIES, activities_sql(ctx, defs, resolved))
    return counts


@dataclass(frozen=True)
class ClosedLoopResult:
    rows: int
    as_of: datetime | None
    views: list[str]


def data_as_of(ctx: SqlContext) -> datetime | None:
    """The latest instant the data itself shows (a record change or an activity): the default audit instant,
    so rebuilding from the same raw data always audits at the same moment."""
    latest = ctx.scalar(
        f"""
        SELECT MAX(t) FROM (
            SELECT MAX(updated_at) AS t FROM {ctx.table(CANONICAL_PEOPLE.name)}
            UNION ALL SELECT MAX(updated_at) FROM {ctx.table(CANONICAL_OPPORTUNITIES.name)}
            UNION ALL SELECT MAX(updated_at) FROM {ctx.table(CANONICAL_ACTIVITIES.name)}
            UNION ALL SELECT MAX(occurred_at) FROM {ctx.table(CANONICAL_ACTIVITIES.name)}
        ) stamps
        """
    )
    return None if latest is None else latest.replace(tzinfo=UTC)


def closed_loop_select(ctx: SqlContext, defs: FunnelDefinitions, as_of: datetime) -> str:
    """One row per resolved person who existed at ``as_of``, judged then: the journey, the lead's facts and its SLA outcomes
    built as temp tables, joined on person_key."""
    create_members(ctx, as_of)
    create_deals(ctx)
    journeys = ctx.temp("cl_journeys", journeys_sql(ctx, defs, as_of))
    # The lead facts are read once, by the final join: on DuckDB they stay a query, where writing them out would
    # cost a copy of a million wide rows. The SLA models need only the score's MQL instant (``lf_scores``).
    parts = {
        "f": ctx.once("cl_facts", lead_facts_sql(ctx, defs, as_of, journeys)),
        "s": ctx.temp("cl_sla", lead_sla_sql(ctx, defs, as_of, journeys, LEAD_SCORES)),
    }
    owner: dict[str, str] = {}
    for alias, relation in parts.items():
        for column in ctx.columns(f"{relation} {alias}"):
            owner.setdefault(column, alias)
    missing = [c for c in CLOSED_LOOP_LEADS.column_names if c not in owner]
    if missing:
        raise RuntimeError(f"closed-loop models lack columns {missing}")
    columns = ", ".join(f"{owner[c]}.{c}" for c in CLOSED_LOOP_LEADS.column_names)
    return f"SELECT {columns} FROM {parts['f']} f JOIN {parts['s']} s ON s.person_key = f.person_key"


def write_closed_loop(wh: Warehouse, defs: FunnelDefinitions, as_of: datetime | None = None) -> ClosedLoopResult:
    """Rebuild closed_loop_leads from the canonical tables (audited at ``as_of``, default: the latest instant
    the data shows) and recreate the analyst views."""
    with _session(wh) as ctx:
        audit_at = as_of or data_as_of(ctx)
        # No instant in the data means no people either: an empty table.
        select = closed_loop_select(ctx, defs, audit_at) if audit_at is not None else empty_select(CLOSED_LOOP_LEADS)
        rows = replace_from(ctx, CLOSED_LOOP_LEADS, select)
    return ClosedLoopResult(rows, audit_at, create_views(wh))


def write_sla_snapshot(wh: Warehouse, defs: FunnelDefinitions, day: date) -> tuple[int, datetime]:
    """Replace one day's SLA snapshot: the people who were MQLs by the end of ``day`` (calendar zone), judged
    as of that instant; (rows, as_of)."""
    as_of = end_of_day(day, defs.sla.calendar.timezone)
    cutoff = literal(as_of.astimezone(UTC).replace(tzinfo=None))
    with _session(wh) as ctx:
        leads = closed_loop_select(ctx, defs, as_of)
        columns = ", ".join(f"c.{n}" for n in SLA_DAILY_SNAPSHOTS.column_names if n != "snapshot_date")
        select = f"SELECT {literal(day)} AS snapshot_date, {columns} FROM ({leads}) c WHERE c.mql_at < {cutoff}"
        rows = replace_from(ctx, SLA_DAILY_SNAPSHOTS, select, where=f"snapshot_date = {literal(day)}")
    return rows, as_of
