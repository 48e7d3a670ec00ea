"""Section 5: how long deals take: MQL to won and opportunity to close, median and 75th percentile by month."""

from __future__ import annotations

from pipelines.report import charts
from pipelines.report.model import Block, Column, Section
from pipelines.report.read import Reader, absent

CYCLE_LENGTH = "cycle_length_by_month"
MEASURES = (("mql_to_won", "MQL to won"), ("opportunity_to_close", "Opportunity to close"))


def cycles(r: Reader) -> Section:
    definition = (
        "Days from the MQL to the won deal, and from the opportunity's creation to its close (won or lost), by "
        "the month the deal closed: half of the deals took no longer than the median, three in four no longer "
        "than the 75th percentile."
    )
    if not r.has(CYCLE_LENGTH):
        return Section("cycles", "Cycle lengths", definition, [absent(CYCLE_LENGTH, "Cycle lengths")])
    blocks: list[Block] = []
    for measure, label in MEASURES:
        table = r.table(
            f"cycle_{measure}",
            f"{label} by month and source (last 12 months)",
            CYCLE_LENGTH,
            (
                Column("month", "Month", "month"),
                Column("original_source", "Source", "text"),
                Column("deals", "Deals"),
                Column("median_days", "Median", "days"),
                Column("p75_days", "75th percentile", "days"),
            ),
            "SELECT month, original_source, deals, median_days, p75_days FROM {v} "
            "WHERE measure = :measure AND month >= :since ORDER BY month, original_source",
            {"measure": measure, "since": r.since},
        )
        chart = charts.series_lines(
            f"cycle_{measure}_chart", f"{label}: median days", table, "month", "median_days", "original_source"
        )
        blocks += [chart, table]
    return Section("cycles", "Cycle lengths", definition, blocks)
