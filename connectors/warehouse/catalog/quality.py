"""The tables the data-quality and SLA audits write: check outcomes per run and SLA roll-ups per run."""

from __future__ import annotations

from connectors.warehouse.spec import Column, TableSpec, required

CHECK_RESULTS = TableSpec(
    name="check_results",
    doc="Grain: one row per (run_id, check_name): the outcome of one data-quality or SLA check in one run. A check "
    "re-run in the same Dagster run (a retry) overwrites its row.",
    primary_key=("run_id", "check_name"),
    columns=(
        required("run_id", "string", "Dagster run id"),
        required("check_name", "string", "The asset check's name"),
        required("asset", "string", "Asset key the check guards"),
        required("kind", "string", "quality | sla"),
        required("checked_at", "timestamp", "When the check ran (UTC)"),
        required("as_of", "timestamp", "The instant the data was judged at (UTC)"),
        required("status", "string", "passed | failed | error"),
        required("severity", "string", "ERROR (blocks downstream) | WARN"),
        required("rows_checked", "integer", "Rows the check read"),
        required("expectations", "integer", "Expectations evaluated"),
        required("failed_expectations", "integer", "Expectations that failed"),
        required("unexpected_count", "integer", "Offending rows, summed over failures"),
        required("sample_ids", "string", "JSON list: a sample of offending ids"),
        required("details", "string", "JSON: each failing expectation and its counts"),
        Column("error", "string", doc="Why the check could not run (status error)"),
        required("definitions_version", "string", "Version of the definitions file"),
        required("definitions_hash", "string", "SHA-256 of the definitions file content"),
    ),
)

SLA_COMPLIANCE = TableSpec(
    name="sla_compliance",
    doc="Grain: one row per (run_id, dimension, rule, member): SLA outcomes of the leads in that group at the run.",
    primary_key=("run_id", "dimension", "rule", "member"),
    columns=(
        required("run_id", "string", "Dagster run id"),
        required("dimension", "string", "owner | team | month"),
        required("rule", "string", "first_touch | accept_reject | rejection_reason | contact_attempts | ignored"),
        required("member", "string", "Owner key, team name or YYYY-MM; (none) if unknown"),
        required("checked_at", "timestamp", "When the audit ran (UTC)"),
        required("leads", "integer", "Leads the rule applies to"),
        required("met", "integer", "Met"),
        required("breached", "integer", "Breached"),
        required("pending", "integer", "Deadline still ahead"),
        Column("compliance", "float", doc="met / (met + breached); null when none decided"),
        required("definitions_hash", "string", "SHA-256 of the definitions file content"),
    ),
)

QUALITY_TABLES: tuple[TableSpec, ...] = (CHECK_RESULTS, SLA_COMPLIANCE)
