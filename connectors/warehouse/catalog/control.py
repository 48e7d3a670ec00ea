"""The landing layer's own tables: durable cursors, quarantined values and the per-sync audit trail."""

from __future__ import annotations

from connectors.warehouse.spec import Column, TableSpec, required

SYNC_STATE = TableSpec(
    name="sync_state",
    doc="Grain: one row per (source, object): the cursor the next incremental sync resumes from. Written in the "
    "same transaction as the rows it covers.",
    primary_key=("source", "object"),
    columns=(
        required("source", "string", "salesforce | hubspot"),
        required("object", "string", "Salesforce object or HubSpot object type / stream"),
        # JSON as text, not a JSON column: the extractor's cursor dict must come back byte-for-byte the same on
        # both engines (JSONB would reorder keys and normalise numbers).
        required("state", "string", "The cursor as JSON text (window bounds, resume point, Bulk job and locator)"),
        required("updated_at", "timestamp", "When the cursor last moved (UTC)"),
        Column("sync_id", "string", doc="The sync (Dagster run) that last moved it"),
    ),
)

QUARANTINE = TableSpec(
    name="quarantine",
    doc="Grain: one row per (sync_id, source, object, record_id, field): a value that failed coercion, so its "
    "record was not loaded by that sync. Re-quarantining the same key in the same sync overwrites it.",
    primary_key=("sync_id", "source", "object", "record_id", "field"),
    columns=(
        required("sync_id", "string", "The sync that met the value"),
        required("source", "string", "salesforce | hubspot"),
        required("object", "string", "Salesforce object or HubSpot object type"),
        required("record_id", "string", "The record's id in its CRM"),
        required("field", "string", "The field whose value did not fit"),
        Column("raw_value", "string", doc="The value as received (truncated when huge)"),
        required("reason", "string", "Why it did not fit, in words"),
        required("quarantined_at", "timestamp", "When (UTC)"),
    ),
)

SYNC_RUNS = TableSpec(
    name="sync_runs",
    doc="Grain: one row per (sync_id, source, object): the audit of one sync of one object; extracted = loaded + "
    "quarantined. Re-recording the same key (running -> success) overwrites it.",
    primary_key=("sync_id", "source", "object"),
    columns=(
        required("sync_id", "string", "The sync (Dagster run id)"),
        required("source", "string", "salesforce | hubspot"),
        required("object", "string", "Salesforce object or HubSpot object type / stream"),
        required("started_at", "timestamp", "UTC"),
        Column("finished_at", "timestamp", doc="UTC; null while running"),
        required("mode", "string", "rest | bulk | list | search: how the window was read"),
        required("extracted", "integer", "Records received"),
        required("loaded", "integer", "Records written to the raw table"),
        required("quarantined", "integer", "Records held back in quarantine"),
        required("deleted", "integer", "Records newly flagged deleted"),
        required("requests", "integer", "API requests made"),
        Column("cursor_before", "string", doc="Cursor at the start"),
        Column("cursor_after", "string", doc="Cursor at the end"),
        Column("source_count", "integer", doc="The source's own count for the window, where it gives one"),
        required("status", "string", "running | success | failed"),
        Column("error", "string", doc="Why it failed or stopped"),
    ),
)

CONTROL_TABLES: tuple[TableSpec, ...] = (SYNC_STATE, QUARANTINE, SYNC_RUNS)
