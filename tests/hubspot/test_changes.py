"""Merges, quiet association changes and bad values, as the HubSpot sandbox plants them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from connectors.hubspot.associations import AssociationSyncConfig, sync_associations
from connectors.hubspot.sync import sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.hubspot.conftest import CONFIG, advance, connect, sync_everything
from tests.hubspot.helpers import by_id, live_edges_in_sandbox, rows


def test_merges_and_association_only_changes_are_picked_up(
    sandbox: Sandbox, control: Control, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    conn = connect(sandbox, tmp_path)
    sync_everything(conn, wh, "s1", object_types=("contacts", "companies", "deals"))
    advance(control, 3600)
    merged = control.action("hubspot", "merge", type="contacts", n=2)["pairs"]
    added = control.action("hubspot", "associate_quietly", from_type="contacts", to_type="companies", n=3)["added"]
    removed = control.action(
        "hubspot", "associate_quietly", from_type="contacts", to_type="companies", n=1, remove=True
    )["removed"]
    advance(control, 5)

    # A schedule that re-reads edges only for changed records misses the quiet changes...
    sync_object(conn, wh, "contacts", CONFIG, sync_id="s2")
    partial = sync_associations(conn, wh, AssociationSyncConfig(full_every=CONFIG.lookback * 10**6), sync_id="s2")
    assert partial.full_refresh == []
    # ...the periodic full refresh catches them.
    sync_associations(conn, wh, AssociationSyncConfig(full_every=CONFIG.lookback * 0), sync_id="s3")

    contacts = by_id(wh, "raw_hubspot__contacts")
    merges = by_id(wh, "raw_hubspot__merged_records")
    for pair in merged:
        assert contacts[pair["merged"]]["_is_deleted"]
        assert not contacts[pair["survivor"]]["_is_deleted"]
        assert pair["merged"] in contacts[pair["survivor"]]["hs_merged_object_ids"].split(";")
        assert merges[f"contacts:{pair['merged']}"]["survivor_id"] == pair["survivor"]
    live = {
        r["id"]
        for r in rows(
            wh, "raw_hubspot__associations", "NOT _is_deleted AND from_type = 'contacts' AND to_type = 'companies'"
        )
    }
    assert live == live_edges_in_sandbox(sandbox, "contacts", "companies")
    assert all(
        any(e.startswith(f"contacts:{a}>companies:{b}#") for e in live)
        for a, b in added
        if a not in {p["merged"] for p in merged}
    )
    assert not any(e.startswith(f"contacts:{a}>companies:{b}#") for a, b in removed for e in live)


def test_a_bad_value_is_quarantined_and_extracted_equals_loaded_plus_quarantined(
    sandbox: Sandbox, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    # A number property holding text, as a portal's calculated properties sometimes do: planted in the store,
    # since the sandbox's own API refuses to write it.
    with sandbox.ctx.db.transaction() as db:
        db.execute("UPDATE hs_contacts SET hubspotscore = 'twelve' WHERE id = (SELECT MIN(id) FROM hs_contacts)")
    bad_id = str(sandbox.ctx.db.scalar("SELECT MIN(id) FROM hs_contacts"))
    wh = warehouse_factory()
    result = sync_object(connect(sandbox, tmp_path), wh, "contacts", CONFIG, sync_id="q1")

    assert result.quarantined == 1
    assert result.extracted == result.loaded + 1 == sandbox.info()["records"]["hubspot"]["contacts"]
    quarantine = rows(wh, "quarantine", "sync_id = 'q1'")
    assert [(q["object"], q["record_id"], q["field"], q["raw_value"]) for q in quarantine] == [
        ("contacts", bad_id, "hubspotscore", "twelve")
    ]
    assert bad_id not in by_id(wh, "raw_hubspot__contacts")
    audit = rows(wh, "sync_runs", "sync_id = 'q1'")[0]
    assert (audit["extracted"], audit["loaded"], audit["quarantined"]) == (result.extracted, result.loaded, 1)


def test_permanently_deleted_records_are_found_by_the_periodic_id_reconciliation(
    sandbox: Sandbox, control: Control, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    conn = connect(sandbox, tmp_path)
    first = sync_object(conn, wh, "contacts", CONFIG, sync_id="s1")
    assert first.purged == 0, "a first sync has nothing to reconcile"
    purged = control.action("hubspot", "purge_random", type="contacts", n=3)["ids"]
    advance(control, 3600)
    # Not due yet: a GDPR delete leaves no archived record and no search hit, so it stays unseen...
    assert sync_object(conn, wh, "contacts", CONFIG, sync_id="s2").purged == 0
    assert not any(by_id(wh, "raw_hubspot__contacts")[i]["_is_deleted"] for i in purged)
    # ...until the weekly id reconciliation.
    advance(control, 8 * 86_400)
    third = sync_object(conn, wh, "contacts", CONFIG, sync_id="s3")
    assert third.purged == 3
    contacts = by_id(wh, "raw_hubspot__contacts")
    assert all(contacts[i]["_is_deleted"] for i in purged)
    live = sum(1 for c in contacts.values() if not c["_is_deleted"])
    assert live == sandbox.info()["records"]["hubspot"]["contacts"]
