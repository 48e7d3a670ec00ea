"""The HubSpot raw assets materialise through Dagster against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import materialize

from connectors.warehouse.warehouse import Warehouse
from pipelines.defs.hubspot.assets import hubspot_raw_assets
from pipelines.defs.resources import HubSpotResource, WarehouseResource
from sandbox.server.app import Sandbox


def test_every_hubspot_asset_materialises_with_metadata(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))  # the shared pacer and tally live beside it
    info = sandbox.info()["hubspot"]
    url = f"duckdb:///{tmp_path}/wh.duckdb"
    result = materialize(
        hubspot_raw_assets,
        resources={
            "hubspot": HubSpotResource(
                access_token=info["access_token"],
                base_url=info["base_url"],
                portal_id=str(info["portal_id"]),
                ten_second_limit=190,
                lag_seconds=0,
            ),
            "warehouse": WarehouseResource(url=url),
        },
    )
    assert result.success
    events = [e.materialization for e in result.get_asset_materialization_events()]
    materialised = {m.asset_key.to_user_string(): m.metadata for m in events}
    assert len(materialised) == len(hubspot_raw_assets)
    contacts = materialised["raw_hubspot__contacts"]
    assert contacts["mode"].value == "list" and contacts["requests"].value >= 3
    assert contacts["extracted"].value == sandbox.info()["records"]["hubspot"]["contacts"]
    wh = Warehouse.from_url(url)
    try:
        assert wh.row_count("raw_hubspot__associations") > 0
    finally:
        wh.close()
