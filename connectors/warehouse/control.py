"""The landing layer's own tables: durable cursors, quarantined values and the per-sync audit trail."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

SYNC_STATE = "sync_state"
QUARANTINE = "quarantine"
SYNC_RUNS = "sync_runs"
CONTROL_TABLES: tuple[str, ...] = (SYNC_STATE, QUARANTINE, SYNC_RUNS)

# Naive UTC, like every timestamp the landing layer writes (see logical_types.sql_type).
_Timestamp = sa.DateTime(timezone=False)


@dataclass(frozen=True)
class ControlTables:
    sync_state: sa.Table
    quarantine: sa.Table
    sync_runs: sa.Table


def control_tables(metadata: sa.MetaData) -> ControlTables:
    sync_state = sa.Table(
        SYNC_STATE,
        metadata,
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("object", sa.Text(), primary_key=True),
        # JSON as text, not a JSON column: the extractor's cursor dict must come back byte-for-byte the same
        # on both engines (JSONB would reorder keys and normalise numbers).
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", _Timestamp, nullable=False),
        sa.Column("sync_id", sa.Text(), nullable=True),
        comment="One row per (source, object): the cursor the next incremental sync resumes from. "
        "Written in the same transaction as the rows it covers.",
    )
    quarantine = sa.Table(
        QUARANTINE,
        metadata,
        sa.Column("sync_id", sa.Text(), primary_key=True),
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("object", sa.Text(), primary_key=True),
        sa.Column("record_id", sa.Text(), primary_key=True),
        sa.Column("field", sa.Text(), primary_key=True),
        sa.Column("raw_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("quarantined_at", _Timestamp, nullable=False),
        comment="One row per (sync_id, source, object, record_id, field): a value that failed coercion, so its "
        "record was not loaded by that sync. Re-quarantining the same key in the same sync overwrites it.",
    )
    sync_runs = sa.Table(
        SYNC_RUNS,
        metadata,
        sa.Column("sync_id", sa.Text(), primary_key=True),
        sa.Column("source", sa.Text(), primary_key=True),
        sa.Column("object", sa.Text(), primary_key=True),
        sa.Column("started_at", _Timestamp, nullable=False),
        sa.Column("finished_at", _Timestamp, nullable=True),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("extracted", sa.BigInteger(), nullable=False),
        sa.Column("loaded", sa.BigInteger(), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("cursor_before", sa.Text(), nullable=True),
        sa.Column("cursor_after", sa.Text(), nullable=True),
        sa.Column("source_count", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        comment="One row per (sync_id, source, object): the audit of one sync of one object; "
        "extracted = loaded + quarantined. Re-recording the same key (running -> success) overwrites it.",
    )
    return ControlTables(sync_state=sync_state, quarantine=quarantine, sync_runs=sync_runs)
