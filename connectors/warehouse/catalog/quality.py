"""The tables the data-quality and SLA audits write: check outcomes per run and SLA roll-ups per run."""

from __future__ import annotations

from connectors.warehouse.spec import Column, TableSpec


def _required(name: str, type_: str, doc: str = "") -> Column:
    return Column(name, type_, doc=doc, nullable=False)  # type: ignore[arg-type]


CHECK_RESULTS = TableSpec(
    name="check_results",
    doc="Grain: one row per (run_id, check_name): the outcome of one data-quality or SLA check in one run. A check "
    "re-run in the same Dagster run (a retry) overwrites its row.",
    primary_key=("run_id", "check_name"),
    columns=(
        _required("run_id", "string", "Dagster run id"),
        _required("check_name", "string", "The asset check's name"),
        _required("asset", "string", "Asset key the check guards"),
        _required("kind", "string", "quality | sla"),
        _required("checked_at", "timestamp", "When the check ran (UTC)"),
        _required("as_of", "timestamp", "The instant the data was judged at (UTC)"),
        _required("status", "string", "passed | failed | error"),
        _required("severity", "string", "ERROR (blocks downstream) | WARN"),
        _required("rows_checked", "integer", "Rows the check read"),
        _required("expectations", "integer", "Expectations evaluated"),
        _required("failed_expectations", "integer", "Expectations that failed"),
        _required("unexpected_count", "integer", "Offending rows, summed over failures"),
        _required("sample_ids", "string", "JSON list: a sample of offending ids"),
        _required("details", "string", "JSON: each failing expectation and its counts"),
        Column("error", "string", doc="Why the check could not run (status error)"),
        _required("definitions_version", "string", "Version of the definitions file"),
        _required("definitions_hash", "string", "SHA-256 of the definitions file content"),
    ),
)

SLA_COMPLIANCE = TableSpec(
    name="sla_compliance",
    doc="Grain: one row per (run_id, dimension, rule, member): SLA outcomes of the leads in that group at the run.",
    primary_key=("run_id", "dimension", "rule", "member"),
    columns=(
        _required("run_id", "string", "Dagster run id"),
        _required("dimension", "string", "owner | team | month"),
        _required("rule", "string", "first_touch | accept_reject | rejection_reason | contact_attempts | ignored"),
        _required("member", "string", "Owner key, team name or YYYY-MM; (none) if unknown"),
        _required("checked_at", "timestamp", "When the audit ran (UTC)"),
        _required("leads", "integer", "Leads the rule applies to"),
        _required("met", "integer", "Met"),
        _required("breached", "integer", "Breached"),
        _required("pending", "integer", "Deadline still ahead"),
        Column("compliance", "float", doc="met / (met + breached); null when none decided"),
        _required("definitions_hash", "string", "SHA-256 of the definitions file content"),
    ),
)

QUALITY_TABLES: tuple[TableSpec, ...] = (CHECK_RESULTS, SLA_COMPLIANCE)
