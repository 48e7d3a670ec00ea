"""Section 6: the run's data-quality findings in words a leader understands, one line per failing check linking
to its detail (where the technical names live). Counted by ``checks.model.outcome``, as the digest counts them."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from checks.model import outcome, tally
from connectors.warehouse.catalog.quality import CHECK_RESULTS
from connectors.warehouse.schema import qualified
from pipelines.report.model import Block, Column, Note, Section, Table
from pipelines.report.read import Reader

# Check names are ``<table>__<finding>``; the table's plain name and what the finding means.
_SUBJECTS = {
    "raw_salesforce__lead": "Salesforce leads",
    "raw_salesforce__contact": "Salesforce contacts",
    "raw_salesforce__opportunity": "Salesforce opportunities",
    "raw_salesforce__task": "Salesforce tasks",
    "raw_salesforce__event": "Salesforce events",
    "raw_hubspot__contacts": "HubSpot contacts",
    "raw_hubspot__deals": "HubSpot deals",
    "raw_hubspot__associations": "HubSpot links between records",
    "raw_hubspot__contact_property_history": "HubSpot contact histories",
    "canonical_people": "people (both CRMs combined)",
    "canonical_activities": "sales activities",
    "canonical_opportunities": "opportunities",
    "canonical_accounts": "accounts",
    "canonical_owners": "sales reps",
    "closed_loop_leads": "leads in the funnel",
    "identity_conflicts": "people",
}
_FINDINGS = {
    "duplicates": "share an e-mail address with another record (possible duplicates)",
    "values": "have a malformed or unexpected value (e.g. an invalid e-mail address)",
    "owners": "have no active sales owner",
    "orphans": "are not linked to any known person",
    "unmatched_across_crms": "exist in only one of the two CRMs",
    "stage_regressions": "moved back to an earlier funnel stage",
    "stage_order": "reached funnel stages out of order",
    "keys": "have a missing or repeated id",
    "reconciliation": "do not add up to the CRM's own count",
    "freshness": "have not been updated recently (the sync may be stale)",
    "open": "have CRM records that conflict and need a decision",
}
_SLA = {
    "sla__first_touch": "MQLs were not contacted in time",
    "sla__accept_reject": "MQLs were not accepted or rejected in time",
    "sla__rejection_reason": "leads were rejected without an agreed reason",
    "sla__contact_attempts": "leads were disqualified before the minimum contact attempts",
    "sla__ignored_leads": "MQLs were never contacted at all",
    "sla__mql_commitment": "months fell short of marketing's MQL commitment",
}
_VERDICT = {"failed": "blocks the reports downstream", "error": "could not be checked", "warn": "warning"}


def plain(check_name: str, count: int) -> str:
    """E.g. ``28 people (both CRMs combined) have a malformed or unexpected value …``."""
    if check_name in _SLA:
        return f"{count:,} {_SLA[check_name]}"
    table, _, finding = check_name.rpartition("__")
    if finding.startswith("orphan_") or finding.startswith("dangling_"):
        finding = "orphans"
    subject = _SUBJECTS.get(table, table.replace("raw_", "").replace("__", " ").replace("_", " "))
    what = _FINDINGS.get(finding, f"failed the {finding.replace('_', ' ')} check")
    return f"{count:,} {subject} {what}"


def check_rows(conn: sa.Connection, schema: str | None, run_id: str) -> Sequence[sa.RowMapping]:
    return (
        conn.execute(
            sa.text(
                "SELECT check_name, asset, status, severity, unexpected_count, details "
                f"FROM {qualified(conn.dialect, schema, CHECK_RESULTS.name)} WHERE run_id = :run "
                "ORDER BY severity, check_name"
            ),
            {"run": run_id},
        )
        .mappings()
        .all()
    )


def latest_run(r: Reader) -> str | None:
    """The newest run that recorded checks (the report shows that run's findings when given none)."""
    if not r.has(CHECK_RESULTS.name):
        return None
    run: str | None = r.conn.execute(
        sa.text(f"SELECT run_id FROM {r.name(CHECK_RESULTS.name)} ORDER BY checked_at DESC, run_id LIMIT 1")
    ).scalar()
    return run


def quality(r: Reader, run_id: str | None) -> Section:
    definition = (
        "Automatic checks on the data behind this page; a finding means some of its numbers may be off by "
        "the records named, not that the numbers are wrong."
    )
    if run_id is None or not r.has(CHECK_RESULTS.name):
        return Section("quality", "Data quality", definition, [Note("No data-quality checks recorded yet.")])
    rows = check_rows(r.conn, r.schema, run_id)
    counts = tally(rows)
    failing = [row for row in rows if row["status"] != "passed"]
    summary = Table(
        "quality_summary",
        f"{counts.passed} of {counts.total} checks passed",
        CHECK_RESULTS.name,
        (Column("finding", "Finding", "text"), Column("outcome", "Outcome", "text"), Column("rows", "Records")),
        [
            (plain(str(row["check_name"]), int(row["unexpected_count"] or 0)), _VERDICT[o], row["unexpected_count"])
            for row in failing
            for o in [outcome(str(row["status"]), str(row["severity"]))]
        ],
        row_links=[anchor(str(row["check_name"])) for row in failing],
    )
    detail = Table(
        "quality_detail",
        "Detail (technical names, for the data team)",
        CHECK_RESULTS.name,
        (
            Column("check_name", "Check", "text"),
            Column("asset", "Table", "text"),
            Column("severity", "Severity", "text"),
            Column("unexpected_count", "Offending rows"),
            Column("details", "Details", "text"),
        ),
        [(r["check_name"], r["asset"], r["severity"], r["unexpected_count"], r["details"]) for r in failing],
        row_ids=[anchor(str(row["check_name"])) for row in failing],
    )
    blocks: list[Block] = [Note(counts.summary() + ".")]
    if failing:
        blocks += [summary, detail]
    return Section("quality", "Data quality", definition, blocks)


def anchor(check_name: str) -> str:
    """The detail row's id: check names are identifiers already (letters, digits, underscores)."""
    return "dq-" + check_name
