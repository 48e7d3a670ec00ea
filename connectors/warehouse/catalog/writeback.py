"""The write-back audit: every field crm-loop planned to write into a CRM, and what became of it."""

from __future__ import annotations

from connectors.warehouse.spec import Column, TableSpec, required

WRITEBACK_AUDIT = TableSpec(
    name="writeback_audit",
    doc="Grain: one row per (run_id, system, object, record_id, field) that differed from what crm-loop wants it to "
    "hold: the diff of a dry run, or the outcome of an applied write. The latest 'written' row of a field is "
    "crm-loop's last write of it, the reference for telling a person's later edit (conflict) from crm-loop's own.",
    primary_key=("run_id", "system", "object", "record_id", "field"),
    columns=(
        required("run_id", "string", "The write-back run"),
        required("system", "string", "hubspot | salesforce"),
        required("object", "string", "contacts (HubSpot), Lead or Contact (Salesforce)"),
        required("record_id", "string", "The record's id in its CRM"),
        required("field", "string", "The CRM field (a name the definitions file's writeback section lists)"),
        Column("old_value", "string", doc="The CRM's value when read, normalised as written (null = empty)"),
        Column("new_value", "string", doc="The value crm-loop wants (null = empty)"),
        required("mode", "string", "dry_run | apply"),
        required(
            "result",
            "string",
            "planned (dry run) | written | failed | conflict (a person changed it after crm-loop's last write; "
            "left alone) | missing (no such live record) | skipped (the API budget ran out first)",
        ),
        Column("error", "string", doc="Why it failed, was skipped or conflicts, in the CRM's words where it gave any"),
        required("recorded_at", "timestamp", "When (the CRM's clock for writes, UTC)"),
    ),
)
