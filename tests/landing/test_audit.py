"""The sync_runs audit trail and its invariant extracted = loaded + quarantined."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from connectors.warehouse import Column, SyncAudit, TableSpec, Warehouse, split_records

STARTED = datetime(2026, 1, 20, 8, 0, tzinfo=UTC)


def test_invariant_is_enforced() -> None:
    with pytest.raises(ValueError, match="invariant"):
        SyncAudit("s1", "hubspot", "contacts", "search", STARTED, "success", extracted=10, loaded=8, quarantined=1)
    with pytest.raises(ValueError, match="negative"):
        SyncAudit("s1", "hubspot", "contacts", "search", STARTED, "success", extracted=-1, loaded=-1)
    with pytest.raises(ValueError, match="mode"):
        SyncAudit("s1", "hubspot", "contacts", "graphql", STARTED, "success")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        SyncAudit("s1", "hubspot", "contacts", "list", STARTED, "done")  # type: ignore[arg-type]


def test_record_sync_follows_a_run_from_running_to_success(warehouse: Warehouse) -> None:
    """Counts come from the same split/batch the data went through, so the invariant holds by construction."""
    spec = TableSpec("hs_contact", [Column("id", "string"), Column("age", "integer")], "id")
    warehouse.ensure_table(spec)
    key = ("s-42", "hubspot", "contacts")
    warehouse.record_sync(SyncAudit(*key, "search", STARTED, "running", cursor_before="1768473000000"))
    raw = [{"id": "1", "age": "30"}, {"id": "2", "age": "old"}, {"id": "3", "age": ""}]
    split = split_records(spec, raw, sync_id=key[0], source=key[1], object=key[2])
    with warehouse.batch() as b:
        loaded = b.upsert(spec, split.rows, sync_id=key[0], extracted_at=STARTED)
        b.quarantine(split.quarantine)
        deleted = b.mark_deleted(spec, ["1"], deleted_at=STARTED, sync_id=key[0])
    finished = datetime(2026, 1, 20, 3, 5, tzinfo=timezone(timedelta(hours=-5)))
    warehouse.record_sync(
        SyncAudit(
            *key,
            mode="search",
            started_at=STARTED,
            finished_at=finished,
            status="success",
            extracted=len(raw),
            loaded=loaded,
            quarantined=split.quarantined_records,
            deleted=deleted,
            requests=2,
            cursor_before="1768473000000",
            cursor_after="1768476600000",
            source_count=3,
        )
    )
    runs = warehouse.control.sync_runs
    with warehouse.engine.connect() as conn:
        stored = [dict(r._mapping) for r in conn.execute(sa.select(runs))]
    assert len(stored) == 1  # re-recording the same (sync_id, source, object) overwrote the "running" row
    row = stored[0]
    assert row["status"] == "success" and row["mode"] == "search"
    assert (row["extracted"], row["loaded"], row["quarantined"], row["deleted"]) == (3, 2, 1, 1)
    assert row["extracted"] == row["loaded"] + row["quarantined"]
    assert row["started_at"] == datetime(2026, 1, 20, 8, 0)
    assert row["finished_at"] == datetime(2026, 1, 20, 8, 5)  # stored as naive UTC
    assert (row["cursor_before"], row["cursor_after"], row["source_count"]) == ("1768473000000", "1768476600000", 3)
    assert row["requests"] == 2 and row["error"] is None
