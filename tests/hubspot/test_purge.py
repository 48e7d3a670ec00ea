"""A permanently deleted (GDPR) contact takes its property history with it: the history rows are flagged deleted
when the contact is, with the contact's deletion time, and nobody else's history moves (archived contacts alike)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from connectors.hubspot.history import sync_contact_history
from connectors.hubspot.sync import sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.hubspot.conftest import CONFIG, advance, connect
from tests.hubspot.helpers import by_id, rows

HISTORY = "raw_hubspot__contact_property_history"


def test_purged_contacts_property_history_is_flagged_deleted_like_the_contacts(
    sandbox: Sandbox, control: Control, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    conn = connect(sandbox, tmp_path)
    sync_object(conn, wh, "contacts", CONFIG, sync_id="s1")
    sync_contact_history(conn, wh, sync_id="s1")
    before = {h["id"]: h for h in rows(wh, HISTORY)}
    assert not any(h["_is_deleted"] for h in before.values())

    purged = set(control.action("hubspot", "purge_random", type="contacts", n=3)["ids"])
    assert len(purged) == 3
    # An archived contact is flagged deleted too, from the archived listing: its history follows the same rule.
    archived = set(control.action("hubspot", "archive_random", type="contacts", n=1)["ids"])
    theirs = {i for i, h in before.items() if h["contact_id"] in purged | archived}
    assert {before[i]["contact_id"] for i in theirs} == purged | archived, "every one had history to flag"
    advance(control, 3600)
    # An id reconciliation on every run finds the purge at once (it is weekly by default).
    found = sync_object(conn, wh, "contacts", replace(CONFIG, reconcile_every=timedelta(0)), sync_id="s2")
    assert found.purged == 3
    result = sync_contact_history(conn, wh, sync_id="s2")

    assert result.deleted == len(theirs)
    contacts = by_id(wh, "raw_hubspot__contacts")
    after = by_id(wh, HISTORY)
    assert after.keys() == before.keys()  # flagged, never removed
    for history_id, row in after.items():
        if history_id in theirs:
            assert row["_is_deleted"] and row["_sync_id"] == "s2"
            assert row["_deleted_at"] == contacts[row["contact_id"]]["_deleted_at"]
        else:
            assert not row["_is_deleted"]
    audit = rows(wh, "sync_runs", "sync_id = 's2' AND object = 'contact_property_history'")[0]
    assert audit["deleted"] == len(theirs)

    # Flagged once: the next run finds nothing more to flag.
    assert sync_contact_history(conn, wh, sync_id="s3").deleted == 0
