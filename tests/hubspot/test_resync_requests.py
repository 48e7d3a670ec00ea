"""What an unchanged HubSpot re-sync costs, counted by the sandbox: the archived listing and one search per object
type, the property list read from sync_state; a property configured after the list was cached is still found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from connectors.hubspot.catalog import OBJECT_TYPES, SOURCE
from connectors.hubspot.sync import sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.hubspot.conftest import CONFIG, advance, connect


def test_unchanged_resync_costs_two_requests_per_object_type(
    sandbox: Sandbox, control: Control, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    for object_type in OBJECT_TYPES:
        sync_object(connect(sandbox, tmp_path), wh, object_type, CONFIG, sync_id="s1")
    advance(control, 5)  # past the lookback, as a night later would be
    control.reset_requests()
    # A connection per type, as each Dagster step opens its own: none may need a request of its own for the clock.
    for object_type in OBJECT_TYPES:
        sync_object(connect(sandbox, tmp_path), wh, object_type, CONFIG, sync_id="s2")
    served = control.requests_served("hubspot")
    routes = Counter(r["route"] for r in served)
    assert routes == {"objects_list": len(OBJECT_TYPES), "search": len(OBJECT_TYPES)}, routes
    assert all("archived=true" in r["target"].lower() for r in served if r["route"] == "objects_list")


def test_the_property_list_is_reread_at_its_cadence_or_when_a_configured_property_is_missing(
    sandbox: Sandbox, control: Control, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    wh = warehouse_factory()
    sync_object(connect(sandbox, tmp_path), wh, "contacts", CONFIG, sync_id="s1")
    control.reset_requests()
    sync_object(
        connect(sandbox, tmp_path), wh, "contacts", replace(CONFIG, properties_every=CONFIG.lookback * 0), sync_id="s2"
    )
    assert Counter(r["route"] for r in control.requests_served("hubspot"))["properties_list"] == 1

    # As if "jobtitle" had been created in HubSpot after the list was cached.
    state = dict(wh.get_state(SOURCE, "contacts") or {})
    cached = state["properties"]
    state["properties"] = {**cached, "definitions": [d for d in cached["definitions"] if d["name"] != "jobtitle"]}
    with wh.batch() as b:
        b.save_state(SOURCE, "contacts", state, sync_id="s2")
    control.reset_requests()
    result = sync_object(
        connect(sandbox, tmp_path), wh, "contacts", replace(CONFIG, include=("jobtitle",)), sync_id="s3"
    )
    assert Counter(r["route"] for r in control.requests_served("hubspot"))["properties_list"] == 1
    assert "jobtitle" in {c.name for c in result.columns}
