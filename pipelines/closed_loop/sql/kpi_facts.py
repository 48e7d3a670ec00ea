"""The per-person columns of closed_loop_leads the leaders' KPI views group and filter by, as set-based SQL.

The reference is ``leads._attribution``, ``bundles._campaign_memberships`` / ``_duplicates`` and ``leads._month``:
  - campaign memberships (``kpi_memberships``): live CampaignMembers of the person's live Leads (LeadId) and
    Contacts (ContactId) at their CreatedDate, keyed by the Campaign's HubSpot_Campaign__c, else its name, else
    its Id; and each live HubSpot contact's crm_loop_campaign at the contact's creation;
  - first / last touch: the earliest / latest membership at or before the MQL (``as_of`` when never an MQL or
    the MQL lies after it), ties to the alphabetically first key; influenced: any membership before the
    opportunity's creation;
  - counts_as_lead: false for every person of a shared_email conflict but its earliest created;
  - closed_month: the calendar-zone month of the close, through ``kpi_local_months`` (one row per UTC month:
    the one local month start that falls inside it), an equality join whatever the number of people.

Temp tables made here start with ``kpi_``; the caller has created ``members`` (``members.create_members``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from connectors.salesforce import catalog as salesforce
from connectors.warehouse.catalog.harmonised import IDENTITY_CONFLICTS
from pipelines.closed_loop.sql.context import SqlContext, literal
from pipelines.closed_loop.sql.members import MEMBERS

MEMBERSHIPS = "kpi_memberships"
LOCAL_MONTHS = "kpi_local_months"
KPI_FACTS = "kpi_facts"


def create_kpi_facts(ctx: SqlContext, as_of: datetime, journeys: str, timezone: str) -> str:
    """Temp table ``kpi_facts``: one row per person of ``members`` with first_touch_campaign_key,
    last_touch_campaign_key, marketing_influenced, counts_as_lead and closed_month. ``journeys``: one row per
    person (person_key, mql_at, opportunity_at, won_at, lost_at; naive UTC); ``as_of`` aware."""
    _create_memberships(ctx)
    _create_local_months(ctx, journeys, ZoneInfo(timezone))
    now = literal(as_of.astimezone(UTC).replace(tzinfo=None))
    cutoff = f"CASE WHEN j.mql_at IS NOT NULL AND j.mql_at <= {now} THEN j.mql_at ELSE {now} END"
    key = ctx.sortable("e.campaign_key")
    touches = f"""
        SELECT person_key,
               MAX(CASE WHEN first_rn = 1 THEN campaign_key END) AS first_touch_campaign_key,
               MAX(CASE WHEN last_rn = 1 THEN campaign_key END) AS last_touch_campaign_key
        FROM (
            SELECT e.person_key, e.campaign_key,
                   ROW_NUMBER() OVER (PARTITION BY e.person_key ORDER BY e.at, {key}) AS first_rn,
                   ROW_NUMBER() OVER (PARTITION BY e.person_key ORDER BY e.at DESC, {key}) AS last_rn
            FROM {MEMBERSHIPS} e
            LEFT JOIN {journeys} j ON j.person_key = e.person_key
            WHERE e.at <= {cutoff}
        ) ranked
        GROUP BY person_key
    """
    influenced = f"""
        SELECT e.person_key FROM {MEMBERSHIPS} e JOIN {journeys} j ON j.person_key = e.person_key
        WHERE e.at < j.opportunity_at GROUP BY e.person_key
    """
    closed = "COALESCE(j.won_at, j.lost_at)"
    return ctx.temp(
        KPI_FACTS,
        f"""
        SELECT p.person_key, t.first_touch_campaign_key, t.last_touch_campaign_key,
               CASE WHEN j.opportunity_at IS NOT NULL THEN i.person_key IS NOT NULL END AS marketing_influenced,
               d.person_key IS NULL AS counts_as_lead,
               CASE WHEN {closed} >= lm.starts_at THEN lm.month_after ELSE lm.month_before END AS closed_month
        FROM (SELECT person_key FROM {MEMBERS} GROUP BY person_key) p
        LEFT JOIN {journeys} j ON j.person_key = p.person_key
        LEFT JOIN ({touches}) t ON t.person_key = p.person_key
        LEFT JOIN ({influenced}) i ON i.person_key = p.person_key
        LEFT JOIN ({_duplicates(ctx)}) d ON d.person_key = p.person_key
        LEFT JOIN {LOCAL_MONTHS} lm ON lm.utc_month = CAST(DATE_TRUNC('month', {closed}) AS DATE)
        """,
    )


def _create_memberships(ctx: SqlContext) -> None:
    """``kpi_memberships`` (person_key, at, campaign_key): every dated campaign membership of a person."""
    members = ctx.raw(
        salesforce.raw_table_name("CampaignMember"),
        {
            "campaignid": "text",
            "leadid": "text",
            "contactid": "text",
            "createddate": "timestamp",
            "_is_deleted": "boolean",
        },
    )
    campaigns = ctx.raw(
        salesforce.raw_table_name("Campaign"), {"id": "text", "hubspot_campaign__c": "text", "name": "text"}
    )
    live = f"""
        SELECT cm.leadid, cm.contactid, cm.createddate AS at,
               COALESCE(c.hubspot_campaign__c, c.name, cm.campaignid) AS campaign_key
        FROM {members} cm LEFT JOIN {campaigns} c ON c.id = cm.campaignid
        WHERE NOT COALESCE(cm._is_deleted, FALSE) AND cm.campaignid IS NOT NULL AND cm.createddate IS NOT NULL
    """
    ctx.temp(
        MEMBERSHIPS,
        f"""
        SELECT m.person_key, s.at, s.campaign_key
        FROM ({live}) s JOIN {MEMBERS} m ON m.kind = 'salesforce_lead' AND m.source_id = s.leadid
        UNION ALL
        SELECT m.person_key, s.at, s.campaign_key
        FROM ({live}) s JOIN {MEMBERS} m ON m.kind = 'salesforce_contact' AND m.source_id = s.contactid
        UNION ALL
        SELECT person_key, created_at, campaign_key FROM {MEMBERS}
        WHERE kind = 'hubspot_contact' AND campaign_key IS NOT NULL AND campaign_key <> '' AND created_at IS NOT NULL
        """,
    )


def _duplicates(ctx: SqlContext) -> str:
    """People of a shared_email conflict other than its earliest created (first creation over the person's
    live records, unknown last; then person_key)."""
    if not ctx.has_table(IDENTITY_CONFLICTS.name):
        return "SELECT CAST(NULL AS VARCHAR) AS person_key WHERE 1 = 0"
    split = f"""
        SELECT conflict_key, {ctx.split_list("person_keys")} AS person_key
        FROM {ctx.table(IDENTITY_CONFLICTS.name)} WHERE kind = 'shared_email'
    """
    return f"""
        SELECT DISTINCT person_key FROM (
            SELECT s.person_key,
                   ROW_NUMBER() OVER (
                       PARTITION BY s.conflict_key ORDER BY c.created_at NULLS LAST, {ctx.sortable("s.person_key")}
                   ) AS rn
            FROM ({split}) s
            JOIN (SELECT person_key, MIN(created_at) AS created_at FROM {MEMBERS} GROUP BY person_key) c
              ON c.person_key = s.person_key
        ) ranked
        WHERE rn > 1
    """


def _create_local_months(ctx: SqlContext, journeys: str, tz: ZoneInfo) -> None:
    """``kpi_local_months`` (utc_month, starts_at, month_before, month_after) for every UTC month a close falls
    in: a zone's offset is under a day, so each UTC month holds exactly one local month start (``starts_at``,
    naive UTC); instants of the UTC month before it are in ``month_before``, the others in ``month_after``."""
    low, high = ctx.rows(f"SELECT MIN(COALESCE(won_at, lost_at)), MAX(COALESCE(won_at, lost_at)) FROM {journeys}")[0]
    rows = []
    if low is not None and high is not None:
        month = low.date().replace(day=1)
        while month <= high.date():
            for local in (_shift(month, -1), month, _shift(month, 1)):
                starts = datetime.combine(local, time(0), tz).astimezone(UTC).replace(tzinfo=None)
                if month <= starts.date() < _shift(month, 1):
                    rows.append((month, starts, _shift(local, -1), local))
            month = _shift(month, 1)
    ctx.values(
        LOCAL_MONTHS,
        {"utc_month": "date", "starts_at": "timestamp", "month_before": "date", "month_after": "date"},
        rows,
    )


def _shift(month: date, months: int) -> date:
    """The first day of the month ``months`` after ``month``'s."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
