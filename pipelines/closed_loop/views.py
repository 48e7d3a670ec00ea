"""Analyst views over closed_loop_leads, in SQL that DuckDB and PostgreSQL both run unchanged.

Portable choices: CASE sums instead of FILTER, ``1.0 * a / NULLIF(b, 0)`` rates, months precomputed in the
calendar's zone (cohort_month, mql_month, closed_month) instead of engine-specific date functions, durations as
``EXTRACT(EPOCH FROM b - a)``, quantiles as ``percentile_cont(q) WITHIN GROUP (ORDER BY x)``. Every column is
cast to its catalog type: left to themselves the engines disagree (a rate is NUMERIC on PostgreSQL and DOUBLE on
DuckDB, a SUM of integers HUGEINT on DuckDB and BIGINT on PostgreSQL), and analysts' tools would see different
tables.

Person counts never count a possible duplicate twice: every view reads only the rows with ``counts_as_lead``
(``_counted``); funnel_totals also says how many it left out.
"""

from __future__ import annotations

import sqlalchemy as sa

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.catalog.views import (
    CYCLE_LENGTH,
    DISQUALIFICATION_BY_CAMPAIGN,
    FUNNEL_CONVERSION,
    FUNNEL_TOTALS,
    MARKETING_INFLUENCED,
    REVENUE_BY_CAMPAIGN,
    SLA_BY_OWNER,
    SLA_BY_TEAM,
    VIEWS,
    ViewSpec,
)
from connectors.warehouse.locking import ddl_lock, write_lock
from connectors.warehouse.schema import qualified
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.sql.context import SQL_TYPES


def count_where(condition: str) -> str:
    """Portable conditional count (no FILTER clause)."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


_UNKNOWN = "'(none)'"

# The rows every view counts: people identity resolution did not flag as a later duplicate of another (only an
# explicit false leaves a row out).
_COUNTED = "(SELECT * FROM {t} WHERE counts_as_lead IS NOT FALSE)"

# People reaching each stage: the funnel's counts, shared by the views that show them.
_STAGE_COUNTS = f"""
       COUNT(*) AS leads,
       {count_where("mql_at IS NOT NULL")} AS mqls,
       {count_where("accepted_at IS NOT NULL")} AS sals,
       {count_where("sql_at IS NOT NULL")} AS sqls,
       {count_where("opportunity_created_at IS NOT NULL")} AS opportunities,
       {count_where("won_at IS NOT NULL")} AS won,
       {count_where("lost_at IS NOT NULL")} AS lost,"""

_FUNNEL_CONVERSION_SQL = f"""
SELECT cohort_month,
       COALESCE(original_source, {_UNKNOWN}) AS original_source,
       COALESCE(campaign_key, {_UNKNOWN}) AS campaign_key,{_STAGE_COUNTS}
       {count_where("rejected_at IS NOT NULL")} AS disqualified,
       1.0 * {count_where("mql_at IS NOT NULL")} / NULLIF(COUNT(*), 0) AS lead_to_mql_rate,
       1.0 * {count_where("accepted_at IS NOT NULL")} / NULLIF({count_where("mql_at IS NOT NULL")}, 0) AS mql_to_sal_rate,
       1.0 * {count_where("sql_at IS NOT NULL")} / NULLIF({count_where("accepted_at IS NOT NULL")}, 0) AS sal_to_sql_rate,
       1.0 * {count_where("opportunity_created_at IS NOT NULL")} / NULLIF({count_where("sql_at IS NOT NULL")}, 0) AS sql_to_opportunity_rate,
       1.0 * {count_where("won_at IS NOT NULL")} / NULLIF({count_where("won_at IS NOT NULL OR lost_at IS NOT NULL")}, 0) AS win_rate,
       1.0 * {count_where("sql_at IS NOT NULL")} / NULLIF({count_where("mql_at IS NOT NULL")}, 0) AS mql_to_sql_rate,
       1.0 * {count_where("won_at IS NOT NULL")} / NULLIF(COUNT(*), 0) AS lead_to_customer_rate
FROM {_COUNTED} c
GROUP BY cohort_month, COALESCE(original_source, {_UNKNOWN}), COALESCE(campaign_key, {_UNKNOWN})
"""


def _sla_select(keys: str) -> str:
    return f"""
       {count_where("first_touch_sla_status <> 'not_applicable'")} AS mqls_audited,
       {count_where("first_touch_sla_status = 'met'")} AS first_touch_met,
       {count_where("first_touch_sla_status = 'breached'")} AS first_touch_breached,
       {count_where("first_touch_sla_status = 'pending'")} AS first_touch_pending,
       1.0 * {count_where("first_touch_sla_status = 'met'")} / NULLIF({count_where("first_touch_sla_status IN ('met', 'breached')")}, 0) AS first_touch_compliance,
       AVG(CASE WHEN first_touch_sla_status <> 'not_applicable' THEN business_minutes_to_first_touch END) AS avg_business_minutes_to_first_touch,
       {count_where("accept_reject_sla_status = 'met'")} AS accept_reject_met,
       {count_where("accept_reject_sla_status = 'breached'")} AS accept_reject_breached,
       {count_where("rejection_reason_sla_status = 'breached'")} AS rejections_without_reason,
       {count_where("contact_attempts_sla_status = 'breached'")} AS disqualified_too_few_attempts
FROM {_COUNTED} c
WHERE mql_at IS NOT NULL
GROUP BY {keys}
"""


_SLA_BY_OWNER_SQL = f"""
SELECT COALESCE(owner_key, {_UNKNOWN}) AS owner_key, MAX(owner_name) AS owner_name,
       COALESCE(MAX(owner_team), {_UNKNOWN}) AS owner_team,{_sla_select(f"COALESCE(owner_key, {_UNKNOWN})")}"""

_SLA_BY_TEAM_SQL = f"""
SELECT COALESCE(owner_team, {_UNKNOWN}) AS owner_team,{_sla_select(f"COALESCE(owner_team, {_UNKNOWN})")}"""

_DISQUALIFICATION_BY_CAMPAIGN_SQL = f"""
SELECT r.campaign_key, r.disqualification_reason, r.rejected_leads,
       1.0 * r.rejected_leads / NULLIF(c.total, 0) AS share_of_campaign_rejections
FROM (SELECT COALESCE(campaign_key, {_UNKNOWN}) AS campaign_key,
             COALESCE(disqualification_reason, {_UNKNOWN}) AS disqualification_reason, COUNT(*) AS rejected_leads
      FROM {_COUNTED} c WHERE rejected_at IS NOT NULL
      GROUP BY COALESCE(campaign_key, {_UNKNOWN}), COALESCE(disqualification_reason, {_UNKNOWN})) r
JOIN (SELECT COALESCE(campaign_key, {_UNKNOWN}) AS campaign_key, COUNT(*) AS total
      FROM {_COUNTED} c WHERE rejected_at IS NOT NULL GROUP BY COALESCE(campaign_key, {_UNKNOWN})) c
  ON c.campaign_key = r.campaign_key
"""

_FUNNEL_TOTALS_SQL = f"""
SELECT{_STAGE_COUNTS}
       COALESCE(SUM(CASE WHEN won_at IS NOT NULL THEN amount END), 0) AS revenue,
       {count_where("first_touch_sla_status = 'met'")} AS first_touch_met,
       {count_where("first_touch_sla_status = 'breached'")} AS first_touch_breached,
       {count_where("first_touch_sla_status = 'pending'")} AS first_touch_pending,
       {count_where("first_touch_sla_status = 'breached' AND first_touch_at IS NULL")} AS ignored_mqls,
       {count_where("accept_reject_sla_status = 'breached'")} AS accept_reject_breached,
       {count_where("rejection_reason_sla_status = 'breached'")} AS rejections_without_reason,
       {count_where("contact_attempts_sla_status = 'breached'")} AS disqualified_too_few_attempts,
       MAX(definitions_hash) AS definitions_hash,
       (SELECT COUNT(*) FROM {{t}} WHERE counts_as_lead = FALSE) AS duplicates_excluded
FROM {_COUNTED} c
"""


def _days(start: str, end: str) -> str:
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 86400.0"


_CYCLE_LENGTH_SQL = f"""
SELECT month, original_source, measure, COUNT(*) AS deals,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_days,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY days) AS p75_days
FROM (
    SELECT closed_month AS month, COALESCE(original_source, {_UNKNOWN}) AS original_source,
           'mql_to_won' AS measure, {_days("mql_at", "won_at")} AS days
    FROM {_COUNTED} c WHERE won_at IS NOT NULL AND mql_at IS NOT NULL
    UNION ALL
    SELECT closed_month, COALESCE(original_source, {_UNKNOWN}), 'opportunity_to_close',
           {_days("opportunity_created_at", "COALESCE(won_at, lost_at)")}
    FROM {_COUNTED} c WHERE opportunity_created_at IS NOT NULL AND (won_at IS NOT NULL OR lost_at IS NOT NULL)
) cycles
GROUP BY month, original_source, measure
"""


def _attributed(model: str) -> str:
    return (
        f"SELECT '{model}' AS attribution, COALESCE({model}_campaign_key, {_UNKNOWN}) AS campaign_key, "
        f"COALESCE(original_source, {_UNKNOWN}) AS original_source, opportunity_created_at, won_at, lost_at, amount "
        f"FROM {_COUNTED} c"
    )


_REVENUE_BY_CAMPAIGN_SQL = f"""
SELECT attribution, campaign_key, original_source, COUNT(*) AS leads,
       {count_where("opportunity_created_at IS NOT NULL")} AS opportunities,
       {count_where("won_at IS NOT NULL")} AS won,
       COALESCE(SUM(CASE WHEN opportunity_created_at IS NOT NULL AND won_at IS NULL AND lost_at IS NULL
                         THEN amount END), 0) AS pipeline_amount,
       COALESCE(SUM(CASE WHEN won_at IS NOT NULL THEN amount END), 0) AS revenue
FROM ({_attributed("first_touch")} UNION ALL {_attributed("last_touch")}) a
GROUP BY attribution, campaign_key, original_source
"""

_MARKETING_INFLUENCED_SQL = f"""
SELECT closed_month AS month, COUNT(*) AS won, COALESCE(SUM(amount), 0) AS revenue,
       {count_where("marketing_influenced")} AS influenced_won,
       COALESCE(SUM(CASE WHEN marketing_influenced THEN amount END), 0) AS influenced_revenue,
       1.0 * COALESCE(SUM(CASE WHEN marketing_influenced THEN amount END), 0) / NULLIF(SUM(amount), 0)
           AS influenced_share
FROM {_COUNTED} c
WHERE won_at IS NOT NULL
GROUP BY closed_month
"""

# Each catalog view's SELECT; {t} is the qualified closed_loop_leads table.
VIEW_SQL: dict[str, str] = {
    FUNNEL_CONVERSION.name: _FUNNEL_CONVERSION_SQL,
    SLA_BY_OWNER.name: _SLA_BY_OWNER_SQL,
    SLA_BY_TEAM.name: _SLA_BY_TEAM_SQL,
    DISQUALIFICATION_BY_CAMPAIGN.name: _DISQUALIFICATION_BY_CAMPAIGN_SQL,
    FUNNEL_TOTALS.name: _FUNNEL_TOTALS_SQL,
    CYCLE_LENGTH.name: _CYCLE_LENGTH_SQL,
    REVENUE_BY_CAMPAIGN.name: _REVENUE_BY_CAMPAIGN_SQL,
    MARKETING_INFLUENCED.name: _MARKETING_INFLUENCED_SQL,
}


def typed_select(view: ViewSpec, table: str) -> str:
    """The view's SELECT over ``table`` (the qualified closed_loop_leads), each column cast to its catalog type."""
    casts = ", ".join(f"CAST(v.{c.name} AS {SQL_TYPES[c.type]}) AS {c.name}" for c in view.columns)
    return f"SELECT {casts} FROM ({VIEW_SQL[view.name].format(t=table)}) v"


def create_views(wh: Warehouse) -> list[str]:
    """(Re)create every view; run after closed_loop_leads is written (a recreated table drops them on PostgreSQL)."""
    dialect = wh.engine.dialect
    with write_lock(wh.engine), wh.engine.begin() as conn:
        ddl_lock(conn, wh.schema)  # another run may be recreating them right now (PostgreSQL)
        for view in VIEWS:
            name = qualified(dialect, wh.schema, view.name)
            body = typed_select(view, qualified(dialect, wh.schema, CLOSED_LOOP_LEADS.name))
            # DROP + CREATE rather than CREATE OR REPLACE: PostgreSQL refuses to replace a view whose columns changed.
            conn.execute(sa.text(f"DROP VIEW IF EXISTS {name}"))
            conn.execute(sa.text(f"CREATE VIEW {name} AS {body}"))
    return [v.name for v in VIEWS]
