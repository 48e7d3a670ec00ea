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


_COUNTED = (
    "Leaves out the people whose closed_loop_leads.counts_as_lead is false (possible duplicates: the "
    "later-created people of a shared_email conflict), so no one is counted twice."
)
_NONE = "'(none)' when blank"

FUNNEL_CONVERSION = ViewSpec(
    name="funnel_conversion_by_month",
    doc="Grain: one row per cohort month (lead created, calendar zone) x original source x campaign. "
    "Key (cohort_month, original_source, campaign_key). Counts of leads reaching each stage and step rates. "
    + _COUNTED,
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
        _rate("mql_to_sql_rate", "sqls / mqls"),
        _rate("lead_to_customer_rate", "won / leads"),
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
    "Key owner_key. " + _COUNTED,
    columns=(
        Column("owner_key", "string", doc="closed_loop_leads.owner_key ('(none)' when unassigned)"),
        Column("owner_name", "string", doc="Owner name"),
        Column("owner_team", "string", doc="Owner team ('(none)' when none)"),
        *_SLA_COLUMNS,
    ),
)

SLA_BY_TEAM = ViewSpec(
    name="sla_compliance_by_team",
    doc="Grain: one row per owner team ('(none)' for leads without an owner on a team). Key owner_team. " + _COUNTED,
    columns=(Column("owner_team", "string", doc="Owner team ('(none)' when none)"), *_SLA_COLUMNS),
)

DISQUALIFICATION_BY_CAMPAIGN = ViewSpec(
    name="disqualification_reasons_by_campaign",
    doc="Grain: one row per campaign x disqualification reason among rejected leads (the feedback marketing "
    "needs). Key (campaign_key, disqualification_reason). " + _COUNTED,
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
    doc="Grain: one row: the whole funnel and the SLA outcomes over the people of closed_loop_leads (the "
    "leaders' report headline). No key. " + _COUNTED + " duplicates_excluded says how many were left out.",
    columns=(
        _n("leads", "People counted (rows of closed_loop_leads whose counts_as_lead is not false)"),
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
        _n("duplicates_excluded", "People not counted: rows whose counts_as_lead is false (possible duplicates)"),
    ),
)

CYCLE_LENGTH = ViewSpec(
    name="cycle_length_by_month",
    doc="Grain: one row per month of the end event (closed_loop_leads.closed_month: the close, calendar zone) x "
    "original source x measure. Key (month, original_source, measure). Sales-cycle length in days (elapsed "
    "calendar time / 86400 s): measure 'mql_to_won' = won_at - mql_at over won people with an MQL; "
    "'opportunity_to_close' = (won_at, else lost_at) - opportunity_created_at over closed people with an "
    "opportunity. Median and p75 are percentile_cont (interpolated). " + _COUNTED,
    columns=(
        Column("month", "date", doc="First day of the month the deal closed (closed_month)"),
        Column("original_source", "string", doc="closed_loop_leads.original_source (" + _NONE + ")"),
        Column("measure", "string", doc="mql_to_won | opportunity_to_close"),
        _n("deals", "People measured"),
        _rate("median_days", "percentile_cont(0.5) of the days"),
        _rate("p75_days", "percentile_cont(0.75) of the days"),
    ),
)

REVENUE_BY_CAMPAIGN = ViewSpec(
    name="revenue_by_campaign",
    doc="Grain: one row per attribution model x campaign x original source. Key (attribution, campaign_key, "
    "original_source). Each person is credited wholly to one campaign per model: 'first_touch' = "
    "closed_loop_leads.first_touch_campaign_key, 'last_touch' = last_touch_campaign_key (campaign memberships "
    "dated at or before the MQL; '(none)' = no membership by then), so each model's rows add up to the "
    "whole funnel. " + _COUNTED,
    columns=(
        Column("attribution", "string", doc="first_touch | last_touch"),
        Column("campaign_key", "string", doc="The attributed campaign (" + _NONE + ")"),
        Column("original_source", "string", doc="closed_loop_leads.original_source (" + _NONE + ")"),
        _n("leads", "People"),
        _n("opportunities", "Reached opportunity"),
        _n("won", "Won"),
        Column("pipeline_amount", "float", doc="Sum of amount over open opportunities (no won_at, no lost_at)"),
        Column("revenue", "float", doc="Sum of amount over won people"),
    ),
)

MARKETING_INFLUENCED = ViewSpec(
    name="marketing_influenced_revenue",
    doc="Grain: one row per month of the win (closed_loop_leads.closed_month, calendar zone) among won people. "
    "Key month. Influenced = closed_loop_leads.marketing_influenced: a campaign membership dated before the "
    "opportunity was created. " + _COUNTED,
    columns=(
        Column("month", "date", doc="First day of the month won (closed_month)"),
        _n("won", "People won"),
        Column("revenue", "float", doc="Sum of amount over them"),
        _n("influenced_won", "Of them, marketing influenced"),
        Column("influenced_revenue", "float", doc="Sum of amount over the influenced"),
        _rate("influenced_share", "influenced_revenue / revenue (null when revenue is 0)"),
    ),
)

VIEWS: tuple[ViewSpec, ...] = (
    FUNNEL_CONVERSION,
    SLA_BY_OWNER,
    SLA_BY_TEAM,
    DISQUALIFICATION_BY_CAMPAIGN,
    FUNNEL_TOTALS,
    CYCLE_LENGTH,
    REVENUE_BY_CAMPAIGN,
    MARKETING_INFLUENCED,
)
