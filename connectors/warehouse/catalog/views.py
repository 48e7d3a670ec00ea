"""The analyst views crm-loop creates over closed_loop_leads: names, grains and columns (their SQL is the
domain's, ``pipelines.closed_loop.views``)."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.warehouse.spec import Column


@dataclass(frozen=True)
class ViewSpec:
    name: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _n(name: str, doc: str) -> Column:
    return Column(name, "integer", doc=doc)


def _rate(name: str, doc: str) -> Column:
    return Column(name, "float", doc=doc)


FUNNEL_CONVERSION = ViewSpec(
    name="funnel_conversion_by_month",
    doc="Grain: one row per cohort month (lead created, calendar zone) x original source x campaign. "
    "Key (cohort_month, original_source, campaign_key). Counts of leads reaching each stage and step rates.",
    columns=(
        Column("cohort_month", "date", doc="First day of the month the leads were created"),
        Column("original_source", "string", doc="closed_loop_leads.original_source ('(none)' when blank)"),
        Column("campaign_key", "string", doc="closed_loop_leads.campaign_key ('(none)' when blank)"),
        _n("leads", "People created in the cohort"),
        _n("mqls", "Reached MQL"),
        _n("sals", "Accepted by sales (SAL)"),
        _n("sqls", "Reached SQL"),
        _n("opportunities", "Reached opportunity"),
        _n("won", "Won"),
        _n("lost", "Lost"),
        _n("disqualified", "Disqualified or recycled"),
        _rate("lead_to_mql_rate", "mqls / leads"),
        _rate("mql_to_sal_rate", "sals / mqls"),
        _rate("sal_to_sql_rate", "sqls / sals"),
        _rate("sql_to_opportunity_rate", "opportunities / sqls"),
        _rate("win_rate", "won / (won + lost)"),
    ),
)

_SLA_COLUMNS = (
    _n("mqls_audited", "MQLs the first-touch SLA applies to"),
    _n("first_touch_met", "First touch in time"),
    _n("first_touch_breached", "First touch late or missing past the deadline"),
    _n("first_touch_pending", "Not touched yet, deadline ahead"),
    _rate("first_touch_compliance", "met / (met + breached)"),
    _rate("avg_business_minutes_to_first_touch", "Mean business minutes MQL -> first touch (touched leads)"),
    _n("accept_reject_met", "Accepted or rejected in time"),
    _n("accept_reject_breached", "Decided late or not at all"),
    _n("rejections_without_reason", "Rejected without an agreed reason"),
    _n("disqualified_too_few_attempts", "Disqualified before the minimum contact attempts"),
)

SLA_BY_OWNER = ViewSpec(
    name="sla_compliance_by_owner",
    doc="Grain: one row per owner responsible for MQLs (owner_key; '(none)' for unassigned leads) with their team. "
    "Key owner_key.",
    columns=(
        Column("owner_key", "string", doc="closed_loop_leads.owner_key ('(none)' when unassigned)"),
        Column("owner_name", "string", doc="Owner name"),
        Column("owner_team", "string", doc="Owner team ('(none)' when none)"),
        *_SLA_COLUMNS,
    ),
)

SLA_BY_TEAM = ViewSpec(
    name="sla_compliance_by_team",
    doc="Grain: one row per owner team ('(none)' for leads without an owner on a team). Key owner_team.",
    columns=(Column("owner_team", "string", doc="Owner team ('(none)' when none)"), *_SLA_COLUMNS),
)

DISQUALIFICATION_BY_CAMPAIGN = ViewSpec(
    name="disqualification_reasons_by_campaign",
    doc="Grain: one row per campaign x disqualification reason among rejected leads (the feedback marketing "
    "needs). Key (campaign_key, disqualification_reason).",
    columns=(
        Column("campaign_key", "string", doc="closed_loop_leads.campaign_key ('(none)' when blank)"),
        Column(
            "disqualification_reason",
            "string",
            doc="Agreed reason key, 'unmapped', or '(none)' when no reason was given",
        ),
        _n("rejected_leads", "Leads disqualified or recycled with this reason"),
        _rate("share_of_campaign_rejections", "rejected_leads / all rejected leads of the campaign"),
    ),
)

FUNNEL_TOTALS = ViewSpec(
    name="funnel_totals",
    doc="Grain: one row: the whole funnel and the SLA outcomes over every person in closed_loop_leads (the "
    "leaders' report headline). No key.",
    columns=(
        _n("leads", "People (rows of closed_loop_leads)"),
        _n("mqls", "Reached MQL"),
        _n("sals", "Accepted by sales (SAL)"),
        _n("sqls", "Reached SQL"),
        _n("opportunities", "Reached opportunity"),
        _n("won", "Won"),
        _n("lost", "Lost"),
        Column("revenue", "float", doc="Sum of amount over won leads"),
        _n("first_touch_met", "First touch in time"),
        _n("first_touch_breached", "First touch late or missing past the deadline"),
        _n("first_touch_pending", "Not touched yet, deadline ahead"),
        _n("ignored_mqls", "MQLs never touched, past their deadline"),
        _n("accept_reject_breached", "Accept/reject decided late or not at all"),
        _n("rejections_without_reason", "Rejected without an agreed reason"),
        _n("disqualified_too_few_attempts", "Disqualified before the minimum contact attempts"),
        Column("definitions_hash", "string", doc="Newest definitions hash among the rows"),
    ),
)

VIEWS: tuple[ViewSpec, ...] = (
    FUNNEL_CONVERSION,
    SLA_BY_OWNER,
    SLA_BY_TEAM,
    DISQUALIFICATION_BY_CAMPAIGN,
    FUNNEL_TOTALS,
)
