"""Section 4: the closed loop for marketing: revenue and pipeline by campaign and source (the attribution the
views define), the revenue marketing touched, why sales disqualified leads, and the leads sent back to nurture."""

from __future__ import annotations

from connectors.warehouse.catalog.harmonised import CLOSED_LOOP_LEADS
from connectors.warehouse.catalog.views import DISQUALIFICATION_BY_CAMPAIGN
from pipelines.report import charts
from pipelines.report.model import Block, Column, Section
from pipelines.report.read import Reader, absent

REVENUE_BY_CAMPAIGN = "revenue_by_campaign"
INFLUENCED_REVENUE = "marketing_influenced_revenue"
# A campaign's reason with fewer leads, or a smaller share of its rejections, is folded into "other".
MIN_LEADS, MIN_SHARE = 3, 0.10
# Campaigns with fewer rejected leads are shown together, as one row group.
MIN_CAMPAIGN = 15
OTHER_CAMPAIGNS = "other campaigns"
NO_REASON = "no reason given"

_MONEY_COLUMNS = (
    Column("leads", "Leads"),
    Column("opportunities", "Opportunities"),
    Column("won", "Won"),
    Column("pipeline_amount", "Pipeline", "money"),
    Column("revenue", "Revenue", "money"),
)
_MONEY_SUMS = (
    "SUM(leads) AS leads, SUM(opportunities) AS opportunities, SUM(won) AS won, "
    "SUM(pipeline_amount) AS pipeline_amount, SUM(revenue) AS revenue"
)
_ATTRIBUTION = "CASE attribution WHEN 'first_touch' THEN 'first touch' WHEN 'last_touch' THEN 'last touch' END"
_REASON = f"CASE WHEN disqualification_reason = '(none)' THEN '{NO_REASON}' ELSE disqualification_reason END"


def _revenue(r: Reader) -> list[Block]:
    if not r.has(REVENUE_BY_CAMPAIGN):
        return [absent(REVENUE_BY_CAMPAIGN, "Revenue and pipeline by campaign and source")]
    blocks: list[Block] = []
    for key, label in (("campaign_key", "Campaign"), ("original_source", "Source")):
        table = r.table(
            f"revenue_by_{key}",
            f"Revenue and pipeline by {label.lower()}, first- and last-touch attribution",
            REVENUE_BY_CAMPAIGN,
            (Column(key, label, "text"), Column("attribution", "Attribution", "text"), *_MONEY_COLUMNS),
            f"SELECT {key}, {_ATTRIBUTION} AS attribution, {_MONEY_SUMS} FROM {{v}} GROUP BY {key}, attribution "
            f"ORDER BY SUM(SUM(revenue)) OVER (PARTITION BY {key}) DESC, {key}, attribution",
        )
        chart = charts.bars(
            f"revenue_by_{key}_chart",
            f"Revenue by {label.lower()} (those with revenue)",
            table,
            key,
            "revenue",
            group_by="attribution",
            only_nonzero=True,
        )
        blocks += [chart, table] if any(row[-1] for row in table.rows) else [table]  # [-1]: revenue
    return blocks


def _influenced(r: Reader) -> list[Block]:
    if not r.has(INFLUENCED_REVENUE):
        return [absent(INFLUENCED_REVENUE, "Marketing-influenced revenue")]
    table = r.table(
        "influenced_revenue",
        "Won revenue by month and the share marketing influenced (last 12 months)",
        INFLUENCED_REVENUE,
        (
            Column("month", "Month", "month"),
            Column("won", "Won deals"),
            Column("revenue", "Revenue", "money"),
            Column("influenced_won", "Influenced deals"),
            Column("influenced_revenue", "Influenced revenue", "money"),
            Column("influenced_share", "Influenced share", "rate"),
        ),
        "SELECT month, won, revenue, influenced_won, influenced_revenue, influenced_share FROM {v} "
        "WHERE month >= :since ORDER BY month",
        {"since": r.since},
    )
    lines = {"revenue": "Revenue", "influenced_revenue": "Influenced revenue"}
    return [
        charts.lines("influenced_revenue_chart", "Won revenue by month", table, "month", lines, kind="money"),
        table,
    ]


def _disqualification(r: Reader) -> list[Block]:
    overall = r.table(
        "disqualification_reasons",
        "Why leads were disqualified or recycled",
        DISQUALIFICATION_BY_CAMPAIGN.name,
        (
            Column("reason", "Reason", "text"),
            Column("rejected_leads", "Leads"),
            Column("share", "Share", "rate"),
        ),
        f"SELECT {_REASON} AS reason, SUM(rejected_leads) AS rejected_leads, "
        "1.0 * SUM(rejected_leads) / NULLIF((SELECT SUM(rejected_leads) FROM {v}), 0) AS share "
        "FROM {v} GROUP BY disqualification_reason ORDER BY SUM(rejected_leads) DESC, reason",
    )
    by_campaign = r.table(
        "disqualification_by_campaign",
        f"Reasons by campaign (campaigns under {MIN_CAMPAIGN} rejected leads together; within a larger campaign, "
        f'reasons under {MIN_LEADS} leads or {MIN_SHARE:.0%} of its rejections folded into "other")',
        DISQUALIFICATION_BY_CAMPAIGN.name,
        (
            Column("campaign_key", "Campaign", "text"),
            Column("reason", "Reason", "text"),
            Column("rejected_leads", "Leads"),
            Column("share", "Share of the campaign's", "rate"),
        ),
        f"""SELECT campaign_key, reason, SUM(rejected_leads) AS rejected_leads, 1.0 * SUM(rejected_leads) / MAX(total) AS share
            FROM (SELECT CASE WHEN total >= {MIN_CAMPAIGN} THEN campaign_key ELSE '{OTHER_CAMPAIGNS}' END AS campaign_key,
                         CASE WHEN total >= {MIN_CAMPAIGN} THEN total ELSE other_total END AS total,
                         rejected_leads,
                         CASE WHEN total < {MIN_CAMPAIGN} OR (rejected_leads >= {MIN_LEADS}
                                   AND share_of_campaign_rejections >= {MIN_SHARE})
                              THEN {_REASON} ELSE 'other' END AS reason
                  FROM (SELECT campaign_key, disqualification_reason, rejected_leads, share_of_campaign_rejections,
                               SUM(rejected_leads) OVER (PARTITION BY campaign_key) AS total
                        FROM {{v}}) c
                  CROSS JOIN (SELECT SUM(rejected_leads) AS other_total
                              FROM (SELECT rejected_leads, SUM(rejected_leads) OVER (PARTITION BY campaign_key) AS total
                                    FROM {{v}}) s
                              WHERE total < {MIN_CAMPAIGN}) o) x
            GROUP BY campaign_key, reason
            ORDER BY CASE WHEN campaign_key = '{OTHER_CAMPAIGNS}' THEN 1 ELSE 0 END, MAX(total) DESC, campaign_key,
                     CASE WHEN reason = 'other' THEN 1 ELSE 0 END, SUM(rejected_leads) DESC, reason""",
    )
    chart = charts.bars("disqualification_chart", "Why leads were disqualified", overall, "reason", "rejected_leads")
    return [chart, overall, by_campaign]


def _recycled(r: Reader) -> Block:
    return r.table(
        "recycled_by_source",
        "Leads recycled to marketing (sent back to nurture), by source",
        CLOSED_LOOP_LEADS.name,
        (
            Column("original_source", "Source", "text"),
            Column("recycled", "Recycled leads"),
            Column("share_of_rejected", "Share of the source's rejected leads", "rate"),
        ),
        "SELECT COALESCE(original_source, '(none)') AS original_source, "
        "SUM(CASE WHEN outcome = 'recycled' THEN 1 ELSE 0 END) AS recycled, "
        "1.0 * SUM(CASE WHEN outcome = 'recycled' THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0) AS share_of_rejected "
        "FROM {t} WHERE rejected_at IS NOT NULL GROUP BY COALESCE(original_source, '(none)') "
        "HAVING SUM(CASE WHEN outcome = 'recycled' THEN 1 ELSE 0 END) > 0 ORDER BY recycled DESC, original_source",
    )


def marketing(r: Reader) -> Section:
    return Section(
        "marketing",
        "Closed loop for marketing",
        "Revenue is the amount of won deals and pipeline that of open opportunities, credited wholly to one "
        "campaign per lead: the first it responded to (first touch) or the last before it became an MQL (last "
        "touch); influenced revenue is won where a campaign touched the lead before its opportunity; "
        "disqualification reasons are those sales recorded when rejecting or recycling a lead.",
        [*_revenue(r), *_influenced(r), *_disqualification(r), _recycled(r)],
    )
