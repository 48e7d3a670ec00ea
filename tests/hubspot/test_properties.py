"""Property selection: all by default, include/exclude, types, and never a query string too long for HubSpot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from connectors.hubspot.properties import chunk_for_query, fetch_properties, select_properties
from connectors.hubspot.sync import sync_object
from connectors.warehouse.warehouse import Warehouse
from sandbox.control import Control
from sandbox.server.app import Sandbox
from tests.hubspot.conftest import CONFIG, connect
from tests.hubspot.helpers import hubspot_requests, rows


def test_all_properties_by_default_custom_included_with_landing_types(sandbox: Sandbox, tmp_path: Path) -> None:
    conn = connect(sandbox, tmp_path)
    definitions = fetch_properties(conn, "contacts")
    selection = select_properties("contacts", definitions)
    assert set(selection.names) == {d["name"] for d in definitions}
    assert "demo_requested" in selection.names  # a custom (hubspotDefined false) property
    types = {c.name: c.type for c in selection.spec().columns}
    assert (types["lastmodifieddate"], types["hubspotscore"], types["demo_requested"], types["hs_object_id"]) == (
        "timestamp",
        "float",
        "boolean",
        "integer",
    )
    narrowed = select_properties("contacts", definitions, include=["email"], exclude=[])
    assert set(narrowed.names) == {"email", "lastmodifieddate", "hs_object_id"}
    assert "email" not in select_properties("contacts", definitions, exclude=["email"]).names


def test_property_chunks_keep_every_list_url_short_and_land_the_same_rows(
    sandbox: Sandbox, control: Control, tmp_path: Path, warehouse_factory: Callable[[], Warehouse]
) -> None:
    budget = 300
    conn = connect(sandbox, tmp_path)
    names = select_properties("contacts", fetch_properties(conn, "contacts")).names
    chunks = chunk_for_query(names, budget)
    assert len(chunks) > 1 and sorted(n for c in chunks for n in c) == sorted(names)
    whole, chunked = warehouse_factory(), warehouse_factory()
    sync_object(conn, whole, "contacts", CONFIG, sync_id="x")
    control.reset_requests()
    sync_object(conn, chunked, "contacts", replace(CONFIG, query_budget=budget), sync_id="x")
    lists = [
        r
        for r in hubspot_requests(control.requests_served("hubspot"))
        if r["route"] == "objects_list" and "archived=True" not in r["target"]
    ]
    pages = -(-sandbox.info()["records"]["hubspot"]["contacts"] // 100)
    assert len(lists) == pages * len(chunks)
    assert max(len(r["target"].split("?", 1)[1]) for r in lists) < budget + 100  # limit/after/archived on top
    strip = lambda rs: sorted(({k: v for k, v in r.items() if k != "_extracted_at"} for r in rs), key=lambda r: r["id"])  # noqa: E731
    assert strip(rows(chunked, "raw_hubspot__contacts")) == strip(rows(whole, "raw_hubspot__contacts"))
