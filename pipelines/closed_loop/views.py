"""Analyst views over closed_loop_leads, in SQL that DuckDB and PostgreSQL both run unchanged.

Portable choices: CASE sums instead of FILTER, ``1.0 * a / NULLIF(b, 0)`` rates, months precomputed in the
calendar's zone (cohort_month, mql_month) instead of engine-specific date functions.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from connectors.warehouse.locking import write_lock
from connectors.warehouse.spec import Column
from connectors.warehouse.warehouse import Warehouse
from pipelines.closed_loop.tables import CLOSED_LOOP_LEADS


@dataclass(frozen=True)
class View:
    name: str
    doc: str
    columns: tuple[Column, ...]
    select: str  # {t} is the qualified closed_loop_leads table

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _n(name: str, doc: str) -> Column:
    return Column(name, "integer", doc=doc)


def _rate(name: str, doc: str) -> Column:
    return Column(name, "float", doc=doc)


def count_where(condition: str) -> str:
    """Portable conditional count (no FILTER clause)."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


_UNKNOWN = "'(none)'"

FUNNEL_CONVERSION = View(
    name="funnel_conversion_by_month",
    doc="Grain: one row per cohort month (lead created, calendar zone) x original source x campaign. "
        "Key (cohort_month, original_source, campaign_key). Counts of leads reaching each stage and step rates.",
    columns=(
        Column("cohort_month", "date", doc="First day of the month the leads were created"),
        Column("original_source", "string", doc="closed_loop_leads.original_source ('(none)' when blank)"),
        Column("campaign_key", "string", doc="closed_loop_leads.campaign_key ('(none)' when blank)"),
        _n("leads", "People created in the cohort"), _n("mqls", "Reached MQL"), _n("sals", "Accepted by sales (SAL)"),
        _n("sqls", "Reached SQL"), _n("opportunities", "Reached opportunity"), _n("won", "Won"), _n("lost", "Lost"),
        _n("disqualified", "Disqualified or recycled"),
        _rate("lead_to_mql_rate", "mqls / leads"), _rate("mql_to_sal_rate", "sals / mqls"),
        _rate("sal_to_sql_rate", "sqls / sals"), _rate("sql_to_opportunity_rate", "opportunities / sqls"),
        _rate("win_rate", "won / (won + lost)"),
    ),
    select=f"""
SELECT cohort_month,
       COALESCE(original_source, {_UNKNOWN}) AS original_source,
       COALESCE(campaign_key, {_UNKNOWN}) AS campaign_key,
       COUNT(*) AS leads,
       {count_where("mql_at IS NOT NULL")} AS mqls,
       {count_where("accepted_at IS NOT NULL")} AS sals,
       {count_where("sql_at IS NOT NULL")} AS sqls,
       {count_where("opportunity_created_at IS NOT NULL")} AS opportunities,
       {count_where("won_at IS NOT NULL")} AS won,
       {count_where("lost_at IS NOT NULL")} AS lost,
       {count_where("rejected_at IS NOT NULL")} AS disqualified,
       1.0 * {count_where("mql_at IS NOT NULL")} / NULLIF(COUNT(*), 0) AS lead_to_mql_rate,
       1.0 * {count_where("accepted_at IS NOT NULL")} / NULLIF({count_where("mql_at IS NOT NULL")}, 0) AS mql_to_sal_rate,
       1.0 * {count_where("sql_at IS NOT NULL")} / NULLIF({count_where("accepted_at IS NOT NULL")}, 0) AS sal_to_sql_rate,
       1.0 * {count_where("opportunity_created_at IS NOT NULL")} / NULLIF({count_where("sql_at IS NOT NULL")}, 0) AS sql_to_opportunity_rate,
       1.0 * {count_where("won_at IS NOT NULL")} / NULLIF({count_where("won_at IS NOT NULL OR lost_at IS NOT NULL")}, 0) AS win_rate
FROM {{t}}
GROUP BY cohort_month, COALESCE(original_source, {_UNKNOWN}), COALESCE(campaign_key, {_UNKNOWN})
""",
)

_SLA_COLUMNS = (
    _n("mqls_audited", "MQLs the first-touch SLA applies to"),
    _n("first_touch_met", "First touch in time"), _n("first_touch_breached", "First touch late or missing past the deadline"),
    _n("first_touch_pending", "Not touched yet, deadline ahead"),
    _rate("first_touch_compliance", "met / (met + breached)"),
    _rate("avg_business_minutes_to_first_touch", "Mean business minutes MQL -> first touch (touched leads)"),
    _n("accept_reject_met", "Accepted or rejected in time"), _n("accept_reject_breached", "Decided late or not at all"),
    _n("rejections_without_reason", "Rejected without an agreed reason"),
    _n("disqualified_too_few_attempts", "Disqualified before the minimum contact attempts"),
)


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
FROM {{t}}
WHERE mql_at IS NOT NULL
GROUP BY {keys}
"""


SLA_BY_OWNER = View(
    name="sla_compliance_by_owner",
    doc="Grain: one row per owner responsible for MQLs (owner_key; '(none)' for unassigned leads) with their team. "
        "Key owner_key.",
    columns=(
        Column("owner_key", "string", doc="closed_loop_leads.owner_key ('(none)' when unassigned)"),
        Column("owner_name", "string", doc="Owner name"), Column("owner_team", "string", doc="Owner team ('(none)' when none)"),
        *_SLA_COLUMNS,
    ),
    select=f"""
SELECT COALESCE(owner_key, {_UNKNOWN}) AS owner_key, MAX(owner_name) AS owner_name,
       COALESCE(MAX(owner_team), {_UNKNOWN}) AS owner_team,{_sla_select(f"COALESCE(owner_key, {_UNKNOWN})")}""",
)

SLA_BY_TEAM = View(
    name="sla_compliance_by_team",
    doc="Grain: one row per owner team ('(none)' for leads without an owner on a team). Key owner_team.",
    columns=(Column("owner_team", "string", doc="Owner team ('(none)' when none)"), *_SLA_COLUMNS),
    select=f"""
SELECT COALESCE(owner_team, {_UNKNOWN}) AS owner_team,{_sla_select(f"COALESCE(owner_team, {_UNKNOWN})")}""",
)

DISQUALIFICATION_BY_CAMPAIGN = View(
    name="disqualification_reasons_by_campaign",
    doc="Grain: one row per campaign x disqualification reason among rejected leads (the feedback marketing "
        "needs). Key (campaign_key, disqualification_reason).",
    columns=(
        Column("campaign_key", "string", doc="closed_loop_leads.campaign_key ('(none)' when blank)"),
        Column("disqualification_reason", "string", doc="Agreed reason key, 'unmapped', or '(none)' when no reason was given"),
        _n("rejected_leads", "Leads disqualified or recycled with this reason"),
        _rate("share_of_campaign_rejections", "rejected_leads / all rejected leads of the campaign"),
    ),
    select=f"""
SELECT r.campaign_key, r.disqualification_reason, r.rejected_leads,
       1.0 * r.rejected_leads / NULLIF(c.total, 0) AS share_of_campaign_rejections
FROM (SELECT COALESCE(campaign_key, {_UNKNOWN}) AS campaign_key,
             COALESCE(disqualification_reason, {_UNKNOWN}) AS disqualification_reason, COUNT(*) AS rejected_leads
      FROM {{t}} WHERE rejected_at IS NOT NULL
      GROUP BY COALESCE(campaign_key, {_UNKNOWN}), COALESCE(disqualification_reason, {_UNKNOWN})) r
JOIN (SELECT COALESCE(campaign_key, {_UNKNOWN}) AS campaign_key, COUNT(*) AS total
      FROM {{t}} WHERE rejected_at IS NOT NULL GROUP BY COALESCE(campaign_key, {_UNKNOWN})) c
  ON c.campaign_key = r.campaign_key
""",
)

VIEWS: tuple[View, ...] = (FUNNEL_CONVERSION, SLA_BY_OWNER, SLA_BY_TEAM, DISQUALIFICATION_BY_CAMPAIGN)


def create_views(wh: Warehouse) -> list[str]:
    """(Re)create every view; run after closed_loop_leads is written (a recreated table drops them on PostgreSQL)."""
    preparer = wh.engine.dialect.identifier_preparer
    qualify = (lambda n: f"{preparer.quote(wh.schema)}.{preparer.quote(n)}") if wh.schema else preparer.quote
    with write_lock(wh.engine), wh.engine.begin() as conn:
        for view in VIEWS:
            body = view.select.format(t=qualify(CLOSED_LOOP_LEADS.name))
            # DROP + CREATE rather than CREATE OR REPLACE: PostgreSQL refuses to replace a view whose columns changed.
            conn.execute(sa.text(f"DROP VIEW IF EXISTS {qualify(view.name)}"))
            conn.execute(sa.text(f"CREATE VIEW {qualify(view.name)} AS {body}"))
    return [v.name for v in VIEWS]
