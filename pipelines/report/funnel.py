"""Section 2: the funnel with its conversion rates, as a whole, by month (the last twelve) and by source."""

from __future__ import annotations

from connectors.warehouse.catalog.views import FUNNEL_CONVERSION, FUNNEL_TOTALS
from pipelines.report import charts
from pipelines.report.model import Block, Column, Section
from pipelines.report.read import Reader

STAGES = (
    ("leads", "Lead"),
    ("mqls", "MQL"),
    ("sals", "SAL (accepted)"),
    ("sqls", "SQL"),
    ("opportunities", "Opportunity"),
    ("won", "Won"),
)
# Each stage against the previous one (the funnel's steps), as rates of the summed counts.
_STEPS = " UNION ALL ".join(
    f"SELECT {i} AS n, '{label}' AS stage, {column} AS people, "
    + (f"1.0 * {column} / NULLIF({STAGES[i - 1][0]}, 0)" if i else "CAST(NULL AS DOUBLE PRECISION)")
    + " AS step_rate, "
    + (f"1.0 * {column} / NULLIF(leads, 0)" if i else "1.0")
    + " AS share_of_leads FROM {v}"
    for i, (column, label) in enumerate(STAGES)
)
_STAGES_SQL = f"SELECT stage, people, step_rate, share_of_leads FROM ({_STEPS}) s ORDER BY n"

_SUMS = ", ".join(f"SUM({c}) AS {c}" for c, _ in STAGES)
_RATES = """,
       1.0 * SUM(mqls) / NULLIF(SUM(leads), 0) AS lead_to_mql_rate,
       1.0 * SUM(sals) / NULLIF(SUM(mqls), 0) AS mql_to_sal_rate,
       1.0 * SUM(sqls) / NULLIF(SUM(sals), 0) AS sal_to_sql_rate,
       1.0 * SUM(sqls) / NULLIF(SUM(mqls), 0) AS mql_to_sql_rate,
       1.0 * SUM(opportunities) / NULLIF(SUM(sqls), 0) AS sql_to_opportunity_rate,
       1.0 * SUM(won) / NULLIF(SUM(won) + SUM(lost), 0) AS win_rate,
       1.0 * SUM(won) / NULLIF(SUM(leads), 0) AS lead_to_customer_rate"""
_COUNT_COLUMNS = tuple(Column(c, label) for c, label in STAGES)
_RATE_COLUMNS = (
    Column("lead_to_mql_rate", "Lead→MQL", "rate"),
    Column("mql_to_sal_rate", "MQL→SAL", "rate"),
    Column("sal_to_sql_rate", "SAL→SQL", "rate"),
    Column("mql_to_sql_rate", "MQL→SQL", "rate"),
    Column("sql_to_opportunity_rate", "SQL→Opp.", "rate"),
    Column("win_rate", "Win rate", "rate"),
    Column("lead_to_customer_rate", "Lead→customer", "rate"),
)
TREND_LINES = {
    "lead_to_mql_rate": "Lead→MQL",
    "mql_to_sal_rate": "MQL→SAL",
    "mql_to_sql_rate": "MQL→SQL",
    "win_rate": "Win rate",
}


def funnel(r: Reader) -> Section:
    stages = r.table(
        "funnel_stages",
        "The funnel: people reaching each stage",
        FUNNEL_TOTALS.name,
        (
            Column("stage", "Stage", "text"),
            Column("people", "People"),
            Column("step_rate", "From the previous stage", "rate"),
            Column("share_of_leads", "Share of leads", "rate"),
        ),
        _STAGES_SQL,
    )
    by_month = r.table(
        "funnel_by_month",
        "By month the leads were created (last 12 months)",
        FUNNEL_CONVERSION.name,
        (Column("cohort_month", "Month", "month"), *_COUNT_COLUMNS, *_RATE_COLUMNS),
        f"SELECT cohort_month, {_SUMS}{_RATES} FROM {{v}} WHERE cohort_month >= :since "
        "GROUP BY cohort_month ORDER BY cohort_month",
        {"since": r.since},
    )
    by_source = r.table(
        "funnel_by_source",
        "By original source (all time)",
        FUNNEL_CONVERSION.name,
        (Column("original_source", "Source", "text"), *_COUNT_COLUMNS, *_RATE_COLUMNS),
        f"SELECT original_source, {_SUMS}{_RATES} FROM {{v}} GROUP BY original_source "
        "ORDER BY SUM(leads) DESC, original_source",
    )
    blocks: list[Block] = [
        charts.bars("funnel_stages_chart", "People reaching each stage", stages, "stage", "people"),
        stages,
        charts.lines("funnel_trend_chart", "Conversion by month", by_month, "cohort_month", TREND_LINES),
        by_month,
        charts.bars(
            "funnel_source_chart", "Lead→customer rate by source", by_source, "original_source", "lead_to_customer_rate"
        ),
        by_source,
    ]
    definition = (
        "Each rate is the people who reached a stage divided by those who reached the stage before it (win rate: "
        "won over won plus lost), counted once per person across both CRMs"
    )
    if r.has(FUNNEL_TOTALS.name, "duplicates_excluded"):
        dupes = r.table(
            "funnel_duplicates",
            "Duplicate records excluded",
            FUNNEL_TOTALS.name,
            (Column("duplicates_excluded", "Duplicate records merged into one person"),),
            "SELECT duplicates_excluded FROM {v}",
            cards=True,
        )
        blocks.insert(0, dupes)
        definition += ", duplicate records merged into one person"
    return Section("funnel", "Funnel and conversion", definition + ".", blocks)
