"""HubSpot extraction against the sandbox with the real hubspot-api-client, on DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from connectors.hubspot.catalog import ASSOCIATION_PAIRS as PAIRS
from connectors.hubspot.catalog import OBJECT_TYPES
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.hubspot.conftest import advance, connect, sync_everything
from tests.hubspot.helpers import by_id, hubspot_requests, live_edges_in_sandbox, rows


def test_full_sync_lands_every_object_owner_edge_and_history(
    sandbox: Sandbox, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    conn = connect(sandbox, tmp_path)
    results = sync_everything(conn, wh, "full-1")
    counts = sandbox.info()["records"]["hubspot"]
    for object_type in OBJECT_TYPES:
        assert results[object_type].mode == "list"
        assert wh.row_count(f"raw_hubspot__{object_type}", deleted=False) == counts[object_type], object_type
        assert results[object_type].extracted == results[object_type].loaded + results[object_type].quarantined
    assert wh.row_count("raw_hubspot__owners", deleted=False) == counts["owners"]

    landed = {r["id"] for r in rows(wh, "raw_hubspot__associations", "NOT _is_deleted")}
    expected = set().union(*(live_edges_in_sandbox(sandbox, f, t) for f, t in PAIRS))
    assert expected and landed == expected

    # Lifecycle history: one row per change; every contact's current stage is among its history values.
    history = rows(wh, "raw_hubspot__contact_property_history")
    values = {(h["contact_id"], h["property"], h["value"]) for h in history}
    contacts = by_id(wh, "raw_hubspot__contacts")
    staged = [c for c in contacts.values() if c["lifecyclestage"]]
    assert staged and all((c["id"], "lifecyclestage", c["lifecyclestage"]) in values for c in staged)
    assert {h["source_type"] for h in history} - {None}

    # Deal pipeline stages: every dealstage value a deal carries is a known stage, won/lost told apart.
    stages = by_id(wh, "raw_hubspot__deal_pipeline_stages")
    assert {s["stage_id"] for s in stages.values()} >= {
        d["dealstage"] for d in by_id(wh, "raw_hubspot__deals").values()
    }
    won = stages["default:closedwon"]
    assert won["is_closed"] and won["probability"] == 1.0 and not stages["default:qualifiedtobuy"]["is_closed"]

    audits = rows(wh, "sync_runs", "sync_id = 'full-1'")
    assert {a["object"] for a in audits} >= set(OBJECT_TYPES) | {
        "owners",
        "deal_pipelines",
        "associations",
        "contact_property_history",
    }
    assert all(a["extracted"] == a["loaded"] + a["quarantined"] for a in audits)


def test_incremental_requests_only_changed_records_and_reflects_updates_and_archivals(
    sandbox: Sandbox, control: Control, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    conn = connect(sandbox, tmp_path)
    sync_everything(conn, wh, "s1")
    advance(control, 3600)
    modified = control.action("hubspot", "modify_random", type="contacts", n=7)
    modified_companies = control.action("hubspot", "modify_random", type="companies", n=3)
    archived = control.action("hubspot", "archive_random", type="contacts", n=2)
    archived_deals = control.action("hubspot", "archive_random", type="deals", n=1)
    advance(control, 5)
    control.reset_requests()

    results = sync_everything(conn, wh, "s2")

    changed = set(modified["ids"]) - set(archived["ids"])
    contacts = results["contacts"]
    assert contacts.mode == "search"
    assert contacts.extracted == len(changed) == contacts.source_count
    assert contacts.audit_difference == 0
    assert results["companies"].extracted == len(modified_companies["ids"])
    assert all(results[t].extracted == 0 for t in ("calls", "emails", "meetings", "notes", "tasks"))
    landed = by_id(wh, "raw_hubspot__contacts")
    current = {r["id"]: r for r in rows(wh, "raw_hubspot__contacts", "_sync_id = 's2' AND NOT _is_deleted")}
    assert set(current) == changed
    for object_id in changed:
        detail = sandbox.hubspot.store.get("contacts", int(object_id))
        assert landed[object_id]["hs_lead_status"] == detail["hs_lead_status"]
    assert all(landed[i]["_is_deleted"] for i in archived["ids"])
    assert by_id(wh, "raw_hubspot__deals")[archived_deals["ids"][0]]["_is_deleted"]
    assert wh.row_count("raw_hubspot__contacts", deleted=False) == sandbox.info()["records"]["hubspot"]["contacts"]

    # Only searches and the archived listings: no record list walked again.
    served = hubspot_requests(control.requests_served("hubspot"))
    listed = [r for r in served if r["route"] == "objects_list"]
    assert listed and all("archived=True" in r["target"] for r in listed)
    searches = [r for r in served if r["route"] == "search"]
    assert len(searches) == len(OBJECT_TYPES)  # one page each: every window holds fewer than 200 changes
    assert not [r for r in served if r["status"] == 429]
    # History was re-read for the changed contacts only (one batch of <= 50).
    history_reads = [r for r in served if r["route"] == "batch_read"]
    assert len(history_reads) == 1
    assert all(r["extracted"] == r["loaded"] + r["quarantined"] for r in rows(wh, "sync_runs", "sync_id = 's2'"))


def test_rerunning_the_same_window_is_idempotent(
    sandbox: Sandbox, control: Control, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    conn = connect(sandbox, tmp_path)
    sync_everything(conn, wh, "a", object_types=("contacts",))
    before = wh.row_count("raw_hubspot__contacts")
    edges = wh.row_count("raw_hubspot__associations")
    history = wh.row_count("raw_hubspot__contact_property_history")
    sync_everything(conn, wh, "b", object_types=("contacts",))
    assert wh.row_count("raw_hubspot__contacts") == before
    assert wh.row_count("raw_hubspot__associations") == edges
    assert wh.row_count("raw_hubspot__contact_property_history") == history
