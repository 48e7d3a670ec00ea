"""The full association re-read runs on HubSpot's clock: association-only changes (no last-modified date moves)
wait for it, as documented, and land at the first run after it is due, however little time passed here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.hubspot.associations import (
    FULL_REREAD_AT,
    STREAM,
    AssociationSyncConfig,
    AssociationSyncResult,
    full_reread_due,
    sync_associations,
)
from connectors.hubspot.catalog import SOURCE
from connectors.hubspot.sync import sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.hubspot.conftest import CONFIG, advance, connect
from tests.hubspot.helpers import live_edges_in_sandbox, rows

PAIR = ("contacts", "companies")
KEY = "contacts>companies"
EVERY = AssociationSyncConfig(full_every=timedelta(hours=24))


def _run(sandbox: Sandbox, tmp_path: Path, wh: Warehouse, sync_id: str) -> AssociationSyncResult:
    """One nightly run of the two types and their edges, on a new connection as each Dagster step opens one."""
    conn = connect(sandbox, tmp_path)
    for object_type in PAIR:
        sync_object(conn, wh, object_type, CONFIG, sync_id=sync_id)
    return sync_associations(connect(sandbox, tmp_path), wh, EVERY, sync_id=sync_id, pairs=[PAIR])


def _landed(wh: Warehouse) -> set[str]:
    where = "NOT _is_deleted AND from_type = 'contacts' AND to_type = 'companies'"
    return {r["id"] for r in rows(wh, "raw_hubspot__associations", where)}


def _full_reread_at(wh: Warehouse) -> datetime:
    state = wh.get_state(SOURCE, STREAM) or {}
    return datetime.fromisoformat(state["pairs"][KEY][FULL_REREAD_AT])


def test_association_only_changes_land_at_the_first_run_after_the_cadence_on_the_source_clock(
    sandbox: Sandbox, control: Control, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    first = _run(sandbox, tmp_path, wh, "s1")
    assert first.full_refresh == [KEY]
    assert _landed(wh) == live_edges_in_sandbox(sandbox, *PAIR)
    # The cursor is the portal's time (the sandbox's clock starts a month before this machine's), not ours.
    reread_at = _full_reread_at(wh)
    assert abs(reread_at - sandbox.ctx.clock.now()) < timedelta(minutes=1)
    assert datetime.now(UTC) - reread_at > timedelta(days=1)
    assert rows(wh, "sync_runs", "sync_id = 's1' AND object = 'associations'")[0]["cursor_after"] == (
        reread_at.isoformat()
    )

    added = control.action("hubspot", "associate_quietly", from_type="contacts", to_type="companies", n=3)["added"]
    removed = control.action(
        "hubspot", "associate_quietly", from_type="contacts", to_type="companies", n=1, remove=True
    )["removed"]
    assert added and removed
    expected = live_edges_in_sandbox(sandbox, *PAIR)

    # Before the cadence: no record moved, so nothing is re-read and the quiet changes wait (the documented
    # trade-off: an association-only change lands up to `full_every` late).
    advance(control, 23 * 3600)
    early = _run(sandbox, tmp_path, wh, "s2")
    assert (early.full_refresh, early.records_read) == ([], 0)
    assert _landed(wh) != expected
    assert not any(e.startswith(f"contacts:{a}>companies:{b}#") for a, b in added for e in _landed(wh))
    assert _full_reread_at(wh) == reread_at

    # Past the cadence on the portal's clock (seconds later on ours): every edge is re-read.
    advance(control, 3600)
    due = _run(sandbox, tmp_path, wh, "s3")
    assert due.full_refresh == [KEY]
    assert _landed(wh) == expected
    assert all(any(e.startswith(f"contacts:{a}>companies:{b}#") for e in _landed(wh)) for a, b in added)
    assert due.removed == len(removed)
    assert _full_reread_at(wh) - reread_at >= EVERY.full_every


def test_a_portal_clock_that_went_back_rereads_rather_than_waits() -> None:
    last = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    day = timedelta(hours=24)
    assert full_reread_due(None, last, day)
    assert not full_reread_due(last, last + timedelta(hours=23), day)
    assert full_reread_due(last, last + day, day)
    assert full_reread_due(last, last, timedelta(0))  # zero: every run
    assert not full_reread_due(last, last - timedelta(seconds=2), day)  # servers' Date headers differ a little
    assert full_reread_due(last, last - timedelta(days=30), day)
