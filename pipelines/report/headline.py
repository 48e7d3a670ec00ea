"""Section 1: the headline a leader reads first: as of when, under which definitions, marketing's MQL commitment
and sales' SLA compliance, and the MQLs nobody touched."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from checks.sla.compliance import mql_commitment
from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.catalog.views import FUNNEL_TOTALS, SLA_BY_TEAM
from pipelines.funnel.business_time import BusinessCalendar
from pipelines.funnel.model import FunnelDefinitions
from pipelines.report.model import Column, Section, Table
from pipelines.report.read import Reader

# Days from the MQL to as_of, for the MQLs never touched past their deadline (funnel_totals.ignored_mqls).
IGNORED = "first_touch_sla_status = 'breached' AND first_touch_at IS NULL"
AGE_DAYS = "EXTRACT(EPOCH FROM (CAST(:as_of AS TIMESTAMP) - mql_at)) / 86400.0"

_HEADLINE_SQL = f"""
SELECT f.mqls,
       1.0 * f.first_touch_met / NULLIF(f.first_touch_met + f.first_touch_breached, 0) AS first_touch_compliance,
       (SELECT 1.0 * SUM(accept_reject_met) / NULLIF(SUM(accept_reject_met) + SUM(accept_reject_breached), 0)
        FROM {{{SLA_BY_TEAM.name}}}) AS accept_reject_compliance,
       f.ignored_mqls,
       (SELECT MAX({AGE_DAYS}) FROM {{t}} WHERE {IGNORED}) AS oldest_ignored_days,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {AGE_DAYS}) FROM {{t}} WHERE {IGNORED})
           AS median_ignored_days
FROM {{v}} f
"""


def _commitment(r: Reader, defs: FunnelDefinitions) -> Table:
    """Marketing's side of the deal per month: MQLs scoring at least the committed score vs the committed count
    (``checks.sla.compliance.mql_commitment``: counted in the warehouse, as the SLA check counts them)."""
    leads = sa.table(
        CLOSED_LOOP_LEADS.name,
        sa.column("mql_at"),
        sa.column("mql_inferred"),
        sa.column("score_at_mql"),
        schema=r.schema,
    )
    calendar = BusinessCalendar.from_spec(defs.sla.calendar)
    outcomes = mql_commitment(r.conn, leads, r.as_of, calendar, defs.sla.mql_commitment)
    rows = [(o.month, o.count, o.target, o.status) for o in outcomes if o.month >= r.since]
    columns = (
        Column("month", "Month", "month"),
        Column("count", f"MQLs scoring ≥ {defs.sla.mql_commitment.min_score:g}"),
        Column("target", "Committed"),
        Column("status", "Status", "text"),
    )
    return Table("mql_commitment", "Marketing's MQL commitment by month", CLOSED_LOOP_LEADS.name, columns, rows)


def headline(r: Reader, defs: FunnelDefinitions) -> Section:
    commitment = _commitment(r, defs)
    local = r.as_of.astimezone(ZoneInfo(defs.sla.calendar.timezone))  # months are the calendar's, as the SLA's
    this_month = date(local.year, local.month, 1)
    mqls_this_month = next((row[1] for row in commitment.rows if row[0] == this_month), 0)
    figures = r.table(
        "headline_figures",
        "Headline",
        FUNNEL_TOTALS.name,
        (
            Column("mqls", "MQLs (all time)"),
            Column("first_touch_compliance", "First touch in time", "rate"),
            Column("accept_reject_compliance", "Accepted or rejected in time", "rate"),
            Column("ignored_mqls", "MQLs never touched (past deadline)"),
            Column("oldest_ignored_days", "Oldest never-touched MQL", "days"),
            Column("median_ignored_days", "Median age of never-touched MQLs", "days"),
        ),
        _HEADLINE_SQL,
        {"as_of": r.as_of_naive},
        cards=True,
    )
    month = Table(
        "mqls_this_month",
        f"MQLs this month ({this_month:%B %Y}) against marketing's commitment",
        CLOSED_LOOP_LEADS.name,
        (
            Column("count", "MQLs this month"),
            Column("target", "Committed for the month"),
        ),
        [(mqls_this_month, defs.sla.mql_commitment.monthly_count)],
        cards=True,
    )
    return Section(
        "headline",
        "Headline",
        "Compliance is the share of MQLs handled within the agreed time among those whose deadline has passed or "
        "that were handled; a never-touched MQL is one nobody contacted by its first-touch deadline.",
        [month, figures, commitment],
    )
